"""A whole body that is base64 (padded, unpadded, URL-safe, wrapped in lines) or hex is peeled, whatever its type."""

from __future__ import annotations

import base64
import json

import pytest

from scanner.dynamic.decode import peel_body

DOC = json.dumps({"device_id": "C8F9E604-F01A-4BD9-95C6-8E5357DF265D", "event": "open"}).encode()
PROTOBUF = b"\x0a\x24" + b"C8F9E604-F01A-4BD9-95C6-8E5357DF265D" + b"\x10\x01"


@pytest.mark.parametrize("body", [
    base64.b64encode(DOC),  # padded: once taken for the form "name="
    base64.b64encode(DOC + b" "),
    base64.b64encode(DOC + b"  ").rstrip(b"="),
    base64.urlsafe_b64encode(DOC),
    base64.encodebytes(DOC),  # MIME line breaks every 76 characters
    DOC.hex().encode(),
])
@pytest.mark.parametrize("content_type", ["application/octet-stream", "application/x-www-form-urlencoded", "text/plain", ""])
def test_whole_encoded_json_body_is_peeled(body: bytes, content_type: str) -> None:
    layers = peel_body(body, content_type).layers
    decoded = [layer for layer in layers if layer.text.lstrip().startswith("{")]
    assert decoded, [layer.text[:30] for layer in layers]
    assert ("device_id", "C8F9E604-F01A-4BD9-95C6-8E5357DF265D") in decoded[0].pairs
    assert decoded[0].encodings[-1] in ("base64", "hex")


def test_whole_base64_protobuf_and_form_bodies() -> None:
    layers = peel_body(base64.b64encode(PROTOBUF), "application/octet-stream").layers
    assert any(("1", "C8F9E604-F01A-4BD9-95C6-8E5357DF265D") in layer.pairs and "protobuf" in layer.encodings
               for layer in layers)
    layers = peel_body(base64.b64encode(b"a=1&imei=490154203237518"), "application/octet-stream").layers
    assert any(("imei", "490154203237518") in layer.pairs for layer in layers)


def test_a_form_with_padded_values_stays_a_form_and_garbage_stays_raw() -> None:
    layers = peel_body(b"token=abcdefghijklmnopqrstu=&x=1", "application/x-www-form-urlencoded").layers
    assert ("x", "1") in layers[0].pairs
    raw = base64.b64encode(bytes(range(200, 256)) * 2)  # decodes to no text and no protobuf
    layers = peel_body(raw, "application/octet-stream").layers
    assert [layer.encodings for layer in layers] == [()]  # kept as sent
