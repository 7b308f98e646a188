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
import math
import re
import zlib
from dataclasses import dataclass, field
from email.headerregistry import BaseHeader, HeaderRegistry
from email.parser import BytesParser
from email.policy import HTTP
from urllib.parse import unquote

import brotli
import zstandard

from scanner.dynamic.memo import MISSING, BoundedMemo

log = logging.getLogger(__name__)

MAX_DEPTH = 5  # nested encodings deeper than this are not how real SDKs send data
MAX_LAYERS = 48  # per body: bounds the work a hostile body can cause
MAX_DECODED = 8 * 1024 * 1024  # decompression output cap (zip-bomb guard)
MAX_SCAN = 2 * 1024 * 1024  # bytes of one body that are looked at

Pairs = tuple[tuple[str, str], ...]


# Not frozen, though nothing may change a layer (memos share them between flows): a frozen dataclass sets each field
# through object.__setattr__, and peeling makes a layer for every text it finds. Hashed by its fields all the same.
@dataclass(slots=True, unsafe_hash=True)
class Layer:
    text: str
    encodings: tuple[str, ...]
    pairs: Pairs = ()
    key: str | None = None  # the key the whole layer was found under (a form field holding base64 …)
    # The parsed JSON document of a JSON layer: protocol fields with a dotted path walk it instead of parsing again.
    doc: object = field(default=None, compare=False, repr=False)
    # A form's text URL-decoded, whose pairs are the very pairs of the form it decodes: scanned as text (a value
    # escaped in the form shows only here), but what its pairs say was said by the form's layer already.
    echo: bool = field(default=False, compare=False, repr=False)


@dataclass
class Peeled:
    layers: list[Layer] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


_B64_TOKEN = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}")
# Hex tokens are whole runs of an even count (20 or more) of hex digits. Matching runs greedily finds
# the same ones as a look-behind would, without trying the look-behind at every position.
_HEX_RUN = re.compile(r"[0-9A-Fa-f]{20,}")
_PCT = re.compile(r"%[0-9A-Fa-f]{2}")
_PCT_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
# A form: a name, "=", then anything without whitespace. Spelt as fields ([^=&\s]*=?[^&\s]* after each
# "&"), the same language made `re` backtrack exponentially on a long form with a space near its end.
_FORM = re.compile(r"^[^=&\s]+=\S*$")
_XML_LEAF = re.compile(r"<([A-Za-z_][\w.:-]*)[^<>]*>([^<>]{1,4096})</\1>")
_XML_ATTR = re.compile(r"([A-Za-z_][\w.:-]*)=\"([^\"]{1,4096})\"")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ALL_HEX = re.compile(r"[0-9A-Fa-f]+")
_JSON = json.JSONDecoder()  # json.loads without its wrapper; the same decoder it uses by default
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


class _HeaderClasses(HeaderRegistry):
    """email's header registry, making each kind of header class once instead of once per header parsed.

    Every class the stock registry makes is a reference cycle that only the cycle collector frees, and
    `divulge traffic` pauses the collector while it analyses (see gcpause).
    """

    def __init__(self) -> None:
        super().__init__()
        self._made: dict[str, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        made = self._made.get(name.lower())
        if made is None:
            made = super().__getitem__(name)
            if len(self._made) < 256:  # part headers name themselves: keep only the first few
                self._made[name.lower()] = made
        return made


_MULTIPART_POLICY = HTTP.clone(header_factory=_HeaderClasses())


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
    if not text or _CONTROL.search(text):
        return None
    return text


def _json_leaves(value: object, key: str = "") -> list[tuple[str, str]]:
    """(key, text) of every scalar in a parsed JSON document; non-strings as json.dumps writes them."""
    leaves: list[tuple[str, str]] = []
    stack: list[tuple[str, object]] = [(key, value)]
    while stack:
        k, v = stack.pop()
        if isinstance(v, str):
            leaves.append((k, v))
        elif isinstance(v, dict):
            stack.extend(v.items())  # JSON object keys are always strings
        elif isinstance(v, list):
            stack.extend([(k, cv) for cv in v])
        else:
            leaves.append((k, _json_scalar(v)))
    return leaves


def _json_scalar(value: object) -> str:
    # json.dumps goes through the whole encoder for one number; these are the texts it would write.
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if type(value) is int:
        return int.__repr__(value)
    if type(value) is float and math.isfinite(value):
        return float.__repr__(value)
    return json.dumps(value)


def _unquote(text: str) -> str:
    """urllib.parse.unquote(text), in a few C calls for ASCII text rather than a Python loop per escape."""
    if "%" not in text:
        return text
    if not text.isascii():
        return unquote(text)
    parts = _PCT_ESCAPE.split(text)  # literal, hex digits, literal, hex digits, ..., literal
    if len(parts) == 1:
        return text
    parts[1::2] = bytes.fromhex("".join(parts[1::2])).decode("latin-1")
    return "".join(parts).encode("latin-1").decode("utf-8", "replace")


def _form_pairs(form: str) -> list[tuple[str, str]]:
    """What parse_qsl(form, keep_blank_values=True) gives, without its per-field overhead."""
    pairs: list[tuple[str, str]] = []
    for field_text in form.split("&"):
        if not field_text:
            continue
        name, _, value = field_text.partition("=")
        if "+" in name:
            name = name.replace("+", " ")
        if "%" in name:
            name = _unquote(name)
        if "+" in value:
            value = value.replace("+", " ")
        if "%" in value:
            value = _unquote(value)
        pairs.append((name, value))
    return pairs


def _looks_encoded(value: str) -> bool:
    """Worth peeling further: JSON in a string, base64/hex blobs, URL-encoding."""
    if len(value) < 8:
        return False
    head = value[0] if not value[0].isspace() else value.lstrip()[:1]
    # A hex token (20+ hex digits) is also a base64 token: one search answers for both.
    return head in "{[" or "%" in value or "=" in value or (len(value) >= 16 and bool(_B64_TOKEN.search(value)))


class Peeler:
    """Turns one body / query / header into layers; one instance per flow part, not thread-shared."""

    def __init__(self, memo: BoundedMemo | None = None) -> None:
        self.layers: list[Layer] = []
        self.warnings: list[str] = []
        self._seen: set[str] = set()
        self._memo = memo if memo is not None else BoundedMemo()

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
        for coding in reversed([c for c in content_encoding.split(",") if c.strip()] if content_encoding else []):
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
            msg = BytesParser(policy=_MULTIPART_POLICY).parsebytes(b"Content-Type: " + content_type.encode("latin-1")
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
        document: object = None
        is_form: bool | None = None  # known once the form pattern was tried
        form: Pairs = ()
        # _whole_base64's own first test, made here: nearly every text fails it.
        whole = _whole_base64(stripped) if len(stripped) >= 16 and (stripped[-1] == "=" or "\n" in stripped) else None
        if whole is not None:
            # A whole body in base64 (padded "…=" looks like the form "name=", and MIME wraps lines), whatever
            # its content type: the layer is kept as sent and what it decodes to is peeled like any body.
            if self._emit(Layer(text, encodings, pairs, key)):
                blob = self._blob("base64", whole)
                if blob is not None:
                    self._decoded(blob, encodings + ("base64",), key, depth)
            return
        if stripped[:1] in "{[":
            try:
                # `stripped` has no whitespace around it, so the document must end where the text does.
                doc, end = _JSON.raw_decode(stripped)
                if end != len(stripped):
                    doc = None
            except ValueError:
                doc = None
            if isinstance(doc, (dict, list)):
                leaves = _json_leaves(doc)
                pairs = pairs + tuple(leaves)
                nested = [(k, v) for k, v in leaves if len(v) >= 8 and _looks_encoded(v)]
                parsed = True
                document = doc
        elif (is_form := _FORM.match(stripped) is not None) and len(stripped) < MAX_SCAN:
            form = tuple(_form_pairs(stripped))
            if form:
                pairs = pairs + form
                nested = [(k, v) for k, v in form if len(v) >= 8 and _looks_encoded(v)]
                parsed = True
        elif "<" in stripped and ">" in stripped:
            pairs = pairs + tuple((m.group(1), m.group(2)) for m in _XML_LEAF.finditer(stripped)) \
                + tuple((m.group(1), m.group(2)) for m in _XML_ATTR.finditer(stripped))
        if not self._emit(Layer(text, encodings, pairs, key, document)):
            return
        for k, value in nested:
            self._nested(value, encodings, k, depth + 1)
        # Parsed JSON/form leaves were unwrapped one by one above: the whole text needs no token sweep.
        self._unwrap(text, encodings, key, depth, stripped, tokens=not parsed, is_form=is_form, form=form)

    def _nested(self, value: str, encodings: tuple[str, ...], key: str, depth: int) -> None:
        """One leaf of a parsed JSON document or form: replayed from the memo when it was peeled before.

        Leaves repeat across flows (the same ids, the same embedded JSON), and what peeling one adds depends
        on its arguments alone, except through `_emit`: a layer already seen, or the layer cap, stops it.
        Replaying the recorded layers is therefore exact when none of them was seen before and all fit
        under the cap. When all of them were seen, peeling would only try texts among them (a refused
        layer only cuts work short) and add nothing. Otherwise the leaf is peeled again here.
        """
        memo_key = ("leaf", value, encodings, key, depth)
        layers: tuple[Layer, ...] = self._memo.get(memo_key)
        if layers is MISSING:
            fresh = Peeler(self._memo)
            fresh._leaf(value, encodings, key, depth)
            layers = tuple(fresh.layers)
            # A layer holds its text about twice: as text and in its key/value pairs.
            self._memo.put(memo_key, layers, len(value) + 2 * sum(len(layer.text) for layer in layers))
        if not layers:
            return
        texts = [layer.text for layer in layers]
        if self._seen.isdisjoint(texts):
            if len(self.layers) + len(layers) <= MAX_LAYERS:
                self._seen.update(texts)
                self.layers.extend(layers)
                return
        elif self._seen.issuperset(texts):
            return
        self._leaf(value, encodings, key, depth)

    def _leaf(self, value: str, encodings: tuple[str, ...], key: str, depth: int) -> None:
        if value.lstrip()[:1] in "{[":
            self._text(value, encodings + ("json-string",), key, depth, ())
        else:
            # The leaf's own text is already in this layer: only what it decodes to is new.
            self._unwrap(value, encodings, key, depth)

    def _unwrap(self, text: str, encodings: tuple[str, ...], key: str | None, depth: int,
                stripped: str | None = None, tokens: bool = True, is_form: bool | None = None,
                form: Pairs = ()) -> None:
        pct = "%" in text and _PCT.search(text) is not None
        if pct or "+" in text:
            if is_form is None:
                is_form = _FORM.match(text.strip() if stripped is None else stripped) is not None
            if pct or is_form:
                decoded = _unquote(text.replace("+", " ") if is_form else text)
                if decoded != text:
                    if not (form and self._echo(decoded, text, encodings, key, depth, form)):
                        self._text(decoded, encodings + ("url",), key, depth + 1, ())
        if tokens and len(text) >= 16:
            self._tokens(text, encodings, key, depth)

    def _echo(self, decoded: str, text: str, encodings: tuple[str, ...], key: str | None, depth: int,
              form: Pairs) -> bool:
        """The decoded form as an echo layer, when peeling it would parse the same pairs again (and so add
        nothing but its text: its values were peeled as the form's). False when it is more than that.

        The pairs are the same when decoding made no new "&" or "=" (the fields split alike) and left nothing to
        decode (no "%" or "+"): each field of the decoded text is then the decoded field, as the form's pairs are."""
        if depth >= MAX_DEPTH or "%" in decoded or "+" in decoded or decoded.count("&") != text.count("&") \
                or decoded.count("=") != text.count("="):
            return False
        # _FORM admits no white space at all, so the decoded text is its own stripped text, as the form's was.
        if decoded[:1] in "{[" or _FORM.fullmatch(decoded) is None or _whole_base64(decoded) is not None:
            return False
        self._emit(Layer(decoded, encodings + ("url",), form, key, echo=True))
        return True

    def _tokens(self, text: str, encodings: tuple[str, ...], key: str | None, depth: int) -> None:
        for match in _HEX_RUN.finditer(text) if _may_hold_hex_run(text) else ():
            token = match.group(0)
            if len(token) % 2 or len(token) in (32, 40, 64) or token.isdigit():
                continue  # odd runs hold no bytes; digests and long numbers hold nothing to peel
            blob = self._blob("hex", token)
            if blob is not None:
                self._decoded(blob, encodings + ("hex",), key, depth)
        for match in _B64_TOKEN.finditer(text):
            token = match.group(0)
            if token.isdigit() or _ALL_HEX.fullmatch(token) or token.isalpha():
                continue
            blob = self._blob("base64", token)
            if blob is not None:
                self._decoded(blob, encodings + ("base64",), key, depth)

    def _blob(self, coding: str, token: str) -> _Blob | None:
        # Apps send the same ids and blobs in flow after flow; what a token holds depends on it alone.
        memo_key = (coding, token)
        blob: _Blob | None = self._memo.get(memo_key)
        if blob is MISSING:
            raw = binascii.unhexlify(token) if coding == "hex" else _b64(token)
            blob = None if raw is None else _Blob.of(raw)
            self._memo.put(memo_key, blob, len(token) + (blob.chars if blob is not None else 0))
        return blob

    def _decoded(self, blob: _Blob, encodings: tuple[str, ...], key: str | None, depth: int) -> None:
        if blob.coding is not None:
            encodings = encodings + (blob.coding,)
        if blob.text is not None:
            self._text(blob.text, encodings, key, depth + 1, ())
        elif blob.leaves:
            self._emit(Layer(blob.leaves_text, encodings + ("protobuf",), blob.leaves, key))


@dataclass(frozen=True, slots=True)
class _Blob:
    """What decoded token bytes hold: text (after sniffed decompression), protobuf leaves, or nothing usable."""

    coding: str | None
    text: str | None
    leaves: Pairs = ()  # only when at least one leaf is text
    leaves_text: str = ""

    @property
    def chars(self) -> int:
        return len(self.text or "") + 2 * len(self.leaves_text)

    @staticmethod
    def of(raw: bytes) -> _Blob:
        coding = None
        sniffed = _sniff_compressed(raw)
        if sniffed is not None:
            raw, coding = sniffed
        text = _as_text(raw)
        if text is not None:
            return _Blob(coding, text)
        try:
            leaves = protobuf_leaves(raw)
        except ValueError:
            return _Blob(coding, None)
        # A random digest parses as protobuf by chance now and then; require at least one text leaf.
        if any(not v.isdigit() for _, v in leaves):
            return _Blob(coding, None, tuple(leaves), "\n".join(v for _, v in leaves))
        return _Blob(coding, None)


# Possessive: a long text that is not one token fails at its first other character, without giving the run back
# one character at a time to try the padding there.
_WHOLE_B64 = re.compile(r"[A-Za-z0-9+/]{16,}+={0,2}+|[A-Za-z0-9_-]{16,}+={0,2}+")
_B64_LINE_BREAKS = re.compile(r"\r?\n")


def _whole_base64(stripped: str) -> str | None:
    """The base64 token a whole text is (line breaks taken out), when it is one that is padded or wrapped.

    Unpadded single-line tokens are left to the token sweep, which finds them already; these two forms are what
    it missed: a padded token parsed as a form field, and a token cut into lines."""
    if len(stripped) < 16 or not (stripped.endswith("=") or "\n" in stripped):
        return None
    token = _B64_LINE_BREAKS.sub("", stripped) if "\n" in stripped else stripped
    if not _WHOLE_B64.fullmatch(token) or token.isdigit() or token.isalpha():
        return None
    return token


def _may_hold_hex_run(text: str) -> bool:
    """False only when `text` has no run of 20 hex digits.

    `re` tries _HEX_RUN at every character, which is slow on the long base64 texts where most hex runs
    are short; marking hex digits in one translate and searching for the run is several times faster.
    Characters beyond Latin-1 become "?", which is no hex digit either.
    """
    return _HEX_RUN_MARK in text.encode("latin-1", "replace").translate(_HEX_MARKS)


_HEX_MARKS = bytes(0x78 if chr(i) in "0123456789abcdefABCDEF" else 0x2E for i in range(256))  # x / .
_HEX_RUN_MARK = b"x" * 20


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
