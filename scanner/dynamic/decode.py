"""Peeling the layers apps wrap data in: compression, URL-encoding, base64, hex, JSON in strings, protobuf.

Every layer that comes out is text to scan plus the list of encodings that had to be undone to reach it,
and the key/value leaves found in it (for "which key was it under" and for shape detectors that need keys).
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import logging
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from urllib.parse import parse_qsl, unquote, unquote_plus

import brotli
import zstandard

log = logging.getLogger(__name__)

MAX_DEPTH = 5  # nested encodings deeper than this are not how real SDKs send data
MAX_LAYERS = 48  # per body: bounds the work a hostile body can cause
MAX_DECODED = 8 * 1024 * 1024  # decompression output cap (zip-bomb guard)
MAX_SCAN = 2 * 1024 * 1024  # bytes of one body that are looked at

Pairs = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Layer:
    text: str
    encodings: tuple[str, ...]
    pairs: Pairs = ()
    key: str | None = None  # the key the whole layer was found under (a form field holding base64 …)


@dataclass
class Peeled:
    layers: list[Layer] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


_B64_TOKEN = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}")
_HEX_TOKEN = re.compile(r"(?<![0-9A-Fa-f])(?:[0-9A-Fa-f]{2}){10,}(?![0-9A-Fa-f])")
_PCT = re.compile(r"%[0-9A-Fa-f]{2}")
_FORM = re.compile(r"^[^=&\s]+=[^&\s]*(?:&[^=&\s]*=?[^&\s]*)*$")
_XML_LEAF = re.compile(r"<([A-Za-z_][\w.:-]*)[^<>]*>([^<>]{1,4096})</\1>")
_XML_ATTR = re.compile(r"([A-Za-z_][\w.:-]*)=\"([^\"]{1,4096})\"")
_PRINTABLE = re.compile(r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*")
_ALL_HEX = re.compile(r"[0-9A-Fa-f]+")
_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


# --------------------------------------------------------------------------------------------
# bytes -> bytes: compression
# --------------------------------------------------------------------------------------------


def _inflate(data: bytes, wbits: int) -> bytes:
    d = zlib.decompressobj(wbits)
    out = d.decompress(data, MAX_DECODED)
    if d.unconsumed_tail:
        raise ValueError("decompressed size over the limit")
    return out


def decompress(data: bytes, coding: str) -> bytes:
    """Undo one Content-Encoding; raises ValueError when the data is not in that coding."""
    coding = coding.strip().lower()
    try:
        if coding in ("gzip", "x-gzip"):
            if not data.startswith(_GZIP_MAGIC):
                raise ValueError("no gzip header")
            return _inflate(data, 16 + zlib.MAX_WBITS)
        if coding == "deflate":
            try:
                return _inflate(data, zlib.MAX_WBITS)
            except zlib.error:
                return _inflate(data, -zlib.MAX_WBITS)  # raw deflate, as some servers and SDKs send it
        if coding == "br":
            return bytes(brotli.decompress(data))
        if coding == "zstd":
            return bytes(zstandard.ZstdDecompressor().decompress(data, max_output_size=MAX_DECODED))
        if coding in ("identity", ""):
            return data
    except (zlib.error, gzip.BadGzipFile, brotli.error, zstandard.ZstdError, EOFError) as exc:
        raise ValueError(str(exc) or type(exc).__name__) from None
    raise ValueError(f"unknown content-encoding {coding!r}")


def _sniff_compressed(data: bytes) -> tuple[bytes, str] | None:
    """Compressed payloads without a header saying so (inside base64, or a body sent as octet-stream)."""
    for magic, coding in ((_GZIP_MAGIC, "gzip"), (_ZSTD_MAGIC, "zstd")):
        if data.startswith(magic):
            try:
                return decompress(data, coding), coding
            except ValueError:
                return None
    if len(data) > 2 and data[0] == 0x78 and (data[0] * 256 + data[1]) % 31 == 0:
        try:
            return _inflate(data, zlib.MAX_WBITS), "deflate"
        except (zlib.error, ValueError):
            return None
    return None


# --------------------------------------------------------------------------------------------
# protobuf without a schema
# --------------------------------------------------------------------------------------------


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise ValueError("bad varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def protobuf_leaves(buf: bytes, prefix: str = "", depth: int = 0) -> list[tuple[str, str]]:
    """(field path, value) for every string and integer in a protobuf message; ValueError if it is not one.

    Without a schema a length-delimited field is a nested message when it parses as one, else a string
    when it is printable UTF-8; fixed-width fields are skipped (doubles are rarely identifiers).
    """
    if depth > 8:
        raise ValueError("too deep")
    leaves: list[tuple[str, str]] = []
    pos = 0
    while pos < len(buf):
        tag, pos = _varint(buf, pos)
        number, wire = tag >> 3, tag & 7
        if number == 0:
            raise ValueError("field number 0")
        path = f"{prefix}{number}"
        if wire == 0:
            value, pos = _varint(buf, pos)
            leaves.append((path, str(value)))
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        elif wire == 2:
            length, pos = _varint(buf, pos)
            chunk = buf[pos:pos + length]
            if len(chunk) != length:
                raise ValueError("truncated field")
            pos += length
            try:
                nested = protobuf_leaves(chunk, path + ".", depth + 1) if chunk else []
            except ValueError:
                nested = []
            if nested:
                leaves.extend(nested)
            else:
                text = _as_text(chunk)
                if text is not None:
                    leaves.append((path, text))
        else:
            raise ValueError(f"wire type {wire}")
        if pos > len(buf):
            raise ValueError("truncated")
    return leaves


# --------------------------------------------------------------------------------------------
# text
# --------------------------------------------------------------------------------------------


def _as_text(data: bytes) -> str | None:
    """UTF-8 text that is mostly printable, else None."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not text:
        return None
    printable = _PRINTABLE.match(text)
    return text if printable and printable.end() == len(text) else None


def _json_leaves(value: object, key: str = "") -> Iterator[tuple[str, object]]:
    stack: list[tuple[str, object]] = [(key, value)]
    while stack:
        k, v = stack.pop()
        if isinstance(v, dict):
            stack.extend((str(ck), cv) for ck, cv in v.items())
        elif isinstance(v, list):
            stack.extend((k, cv) for cv in v)
        else:
            yield k, v


def _looks_encoded(value: str) -> bool:
    """Worth peeling further: JSON in a string, base64/hex blobs, URL-encoding."""
    if len(value) < 8:
        return False
    head = value.lstrip()[:1]
    return (head in "{[" or "%" in value or "=" in value
            or (len(value) >= 16 and bool(_B64_TOKEN.search(value) or _HEX_TOKEN.search(value))))


class Peeler:
    """Turns one body / query / header into layers; one instance per flow part, not thread-shared."""

    def __init__(self) -> None:
        self.layers: list[Layer] = []
        self.warnings: list[str] = []
        self._seen: set[str] = set()

    def _emit(self, layer: Layer) -> bool:
        if len(self.layers) >= MAX_LAYERS or layer.text in self._seen:
            return False
        self._seen.add(layer.text)
        self.layers.append(layer)
        return True

    # -- entry points ------------------------------------------------------------------------

    def body(self, data: bytes, content_type: str = "", content_encoding: str = "",
             encodings: tuple[str, ...] = (), key: str | None = None) -> None:
        data = data[:MAX_SCAN] if len(data) > MAX_SCAN else data
        for coding in reversed([c for c in content_encoding.split(",") if c.strip()]):
            try:
                data = decompress(data, coding)
                encodings = encodings + (coding.strip().lower(),)
            except ValueError as exc:
                # Analyse what is there: a wrong header must not hide the body.
                self.warnings.append(f"body claims Content-Encoding {coding.strip()} but is not ({exc}); "
                                     "analysed as sent")
                break
        self._bytes(data, content_type.lower(), encodings, key, 0)

    def text(self, text: str, encodings: tuple[str, ...] = (), key: str | None = None,
             pairs: Pairs = ()) -> None:
        self._text(text, encodings, key, 0, pairs)

    # -- recursion ---------------------------------------------------------------------------

    def _bytes(self, data: bytes, content_type: str, encodings: tuple[str, ...], key: str | None,
               depth: int) -> None:
        if not data or depth > MAX_DEPTH:
            return
        if "multipart/" in content_type and "boundary=" in content_type:
            if self._multipart(data, content_type, encodings, depth):
                return
        sniffed = _sniff_compressed(data)
        if sniffed is not None:
            data, coding = sniffed
            encodings = encodings + (coding,)
        text = _as_text(data)
        if text is not None:
            self._text(text, encodings, key, depth, ())
            return
        try:
            leaves = protobuf_leaves(data)
        except ValueError:
            leaves = []
        if leaves:
            pairs = tuple(leaves)
            self._emit(Layer("\n".join(v for _, v in leaves), encodings + ("protobuf",), pairs, key))
            for path, value in leaves:
                if _looks_encoded(value):
                    self._text(value, encodings + ("protobuf",), path, depth + 1, ())
        # Binary bodies still carry ASCII identifiers verbatim; latin-1 maps bytes 1:1.
        self._emit(Layer(data.decode("latin-1"), encodings + ("binary",), (), key))

    def _multipart(self, data: bytes, content_type: str, encodings: tuple[str, ...], depth: int) -> bool:
        try:
            msg = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode("latin-1")
                                                      + b"\r\n\r\n" + data)
        except Exception:  # the stdlib parser raises many types on garbage; fall back to plain text
            log.debug("multipart parse failed", exc_info=True)
            return False
        if not msg.is_multipart():
            return False
        found = False
        for part in msg.iter_parts():
            payload = part.get_payload(decode=True)
            if not isinstance(payload, bytes):
                continue
            found = True
            name = part.get_param("name", header="content-disposition")
            self._bytes(payload, part.get_content_type(), encodings + ("multipart",),
                        str(name) if name else None, depth + 1)
        return found

    def _text(self, text: str, encodings: tuple[str, ...], key: str | None, depth: int, pairs: Pairs) -> None:
        if depth > MAX_DEPTH or not text:
            return
        stripped = text.strip()
        nested: list[tuple[str, str]] = []
        parsed = False
        if stripped[:1] in "{[":
            try:
                doc = json.loads(stripped)
            except ValueError:
                doc = None
            if isinstance(doc, (dict, list)):
                leaves = [(k, v if isinstance(v, str) else json.dumps(v)) for k, v in _json_leaves(doc)]
                pairs = pairs + tuple(leaves)
                nested = [(k, v) for k, v in leaves if _looks_encoded(v)]
                parsed = True
        elif _FORM.match(stripped) and len(stripped) < MAX_SCAN:
            form = parse_qsl(stripped, keep_blank_values=True)
            if form:
                pairs = pairs + tuple(form)
                nested = [(k, v) for k, v in form if _looks_encoded(v)]
                parsed = True
        elif "<" in stripped and ">" in stripped:
            pairs = pairs + tuple((m.group(1), m.group(2)) for m in _XML_LEAF.finditer(stripped)) \
                + tuple((m.group(1), m.group(2)) for m in _XML_ATTR.finditer(stripped))
        if not self._emit(Layer(text, encodings, pairs, key)):
            return
        for k, value in nested:
            if value.lstrip()[:1] in "{[":
                self._text(value, encodings + ("json-string",), k, depth + 1, ())
            else:
                # The leaf's own text is already in this layer: only what it decodes to is new.
                self._unwrap(value, encodings, k, depth + 1)
        # Parsed JSON/form leaves were unwrapped one by one above: the whole text needs no token sweep.
        self._unwrap(text, encodings, key, depth, stripped, tokens=not parsed)

    def _unwrap(self, text: str, encodings: tuple[str, ...], key: str | None, depth: int,
                stripped: str | None = None, tokens: bool = True) -> None:
        stripped = text.strip() if stripped is None else stripped
        if _PCT.search(text) or ("+" in text and _FORM.match(stripped)):
            decoded = unquote_plus(text) if _FORM.match(stripped) else unquote(text)
            if decoded != text:
                self._text(decoded, encodings + ("url",), key, depth + 1, ())
        if tokens and len(text) >= 16:
            self._tokens(text, encodings, key, depth)

    def _tokens(self, text: str, encodings: tuple[str, ...], key: str | None, depth: int) -> None:
        for match in _HEX_TOKEN.finditer(text):
            token = match.group(0)
            if len(token) in (32, 40, 64) or token.isdigit():
                continue  # digests and long numbers: nothing inside to peel
            self._decoded(binascii.unhexlify(token), encodings + ("hex",), key, depth)
        for match in _B64_TOKEN.finditer(text):
            token = match.group(0)
            if token.isdigit() or _ALL_HEX.fullmatch(token) or token.isalpha():
                continue
            raw = _b64(token)
            if raw is not None:
                self._decoded(raw, encodings + ("base64",), key, depth)

    def _decoded(self, raw: bytes, encodings: tuple[str, ...], key: str | None, depth: int) -> None:
        sniffed = _sniff_compressed(raw)
        if sniffed is not None:
            raw, coding = sniffed
            encodings = encodings + (coding,)
        text = _as_text(raw)
        if text is not None:
            self._text(text, encodings, key, depth + 1, ())
            return
        try:
            leaves = protobuf_leaves(raw)
        except ValueError:
            return
        # A random digest parses as protobuf by chance now and then; require at least one text leaf.
        if any(not v.isdigit() for _, v in leaves):
            self._emit(Layer("\n".join(v for _, v in leaves), encodings + ("protobuf",), tuple(leaves), key))


def _b64(token: str) -> bytes | None:
    body = token.rstrip("=")
    padded = body + "=" * (-len(body) % 4)
    try:
        if "-" in body or "_" in body:
            return base64.urlsafe_b64decode(padded)
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        return None


def peel_body(data: bytes, content_type: str = "", content_encoding: str = "") -> Peeled:
    peeler = Peeler()
    peeler.body(data, content_type, content_encoding)
    return Peeled(peeler.layers, peeler.warnings)


def peel_text(text: str, pairs: Pairs = ()) -> Peeled:
    peeler = Peeler()
    peeler.text(text, pairs=pairs)
    return Peeled(peeler.layers, peeler.warnings)
