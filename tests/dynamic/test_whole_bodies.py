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


def test_a_decoded_form_that_splits_alike_is_an_echo_scanned_but_not_read_twice() -> None:
    # "%40" hides the e-mail from the form's raw text; the decoded text shows it, and its pairs are the form's.
    body = b"email=jane.doe%40example.com&events=%5B%7B%22n%22%3A1%7D%5D&adid=38400000-8cf0-11bd-b23e-10b96e40000d"
    layers = peel_body(body, "application/x-www-form-urlencoded").layers
    echoes = [layer for layer in layers if layer.echo]
    assert len(echoes) == 1 and "jane.doe@example.com" in echoes[0].text
    assert echoes[0].pairs == layers[0].pairs and echoes[0].encodings == ("url",)
    assert not layers[0].echo


@pytest.mark.parametrize("body", [
    b"q=a%26b%3Dc&x=1",  # decoding makes new fields: the decoded text is a form of its own
    b"q=100%2525&x=1",  # decoding leaves an escape to decode again
    b"q=two%20words&x=1",  # decoding makes a text with a space: no form at all
])
def test_a_decoded_form_that_is_more_than_its_form_is_peeled_in_full(body: bytes) -> None:
    layers = peel_body(body, "application/x-www-form-urlencoded").layers
    assert not any(layer.echo for layer in layers)
    assert any("url" in layer.encodings for layer in layers)
