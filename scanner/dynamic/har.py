"""HAR 1.2 captures as Charles, Chrome, HTTP Toolkit, Proxyman and mitmproxy export them."""

from __future__ import annotations

import base64
import binascii
import codecs
import functools
import io
import json
import math
import re
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import SplitResult, urlencode, urlsplit

from scanner.dynamic.readers import CaptureContents, CaptureFormat, CaptureReader, FlowRecord, WsMessage
from scanner.errors import BadCapture
from scanner.gcpause import gc_paused


def _time(text: Any) -> float:
    """HAR's ISO 8601 time; what some exporters write instead (HTTP dates, epoch numbers) is read too.

    A time without an offset is taken as UTC, so that a capture reads the same on every machine."""
    if isinstance(text, str):
        try:
            when = datetime.fromisoformat(text)
        except ValueError:
            pass
        else:
            return (when if when.tzinfo is not None else when.replace(tzinfo=UTC)).timestamp()
        try:
            return parsedate_to_datetime(text).timestamp()  # "Wed, 01 May 2024 08:00:03 GMT"
        except (TypeError, ValueError, IndexError):
            pass
        try:
            text = float(text)
        except ValueError:
            raise ValueError(f"unreadable startedDateTime {text[:40]!r}") from None
    if isinstance(text, (int, float)) and not isinstance(text, bool) and math.isfinite(text) and text > 0:
        return text / 1000 if text > 1e11 else float(text)  # epoch milliseconds or seconds
    raise ValueError(f"unreadable startedDateTime {str(text)[:40]!r}")


def _body(post: dict[str, Any] | None) -> bytes:
    if not post:
        return b""
    text = post.get("text")
    if text is None and post.get("params"):
        return urlencode([(p.get("name", ""), p.get("value", "")) for p in post["params"]]).encode()
    if not isinstance(text, str):
        return b""
    # Not in HAR 1.2 for requests, but HTTP Toolkit / Proxyman mark binary bodies this way.
    if post.get("encoding") == "base64" or post.get("_encoding") == "base64":
        try:
            return base64.b64decode(text)
        except (binascii.Error, ValueError):
            return text.encode("utf-8", "surrogateescape")
    return text.encode("utf-8", "surrogateescape")


def _ws_messages(entry: dict[str, Any], warnings: list[str]) -> tuple[WsMessage, ...]:
    """Sent frames of Chrome DevTools' `_webSocketMessages`; a bad frame is skipped, not the whole entry."""
    messages = []
    for number, raw in enumerate(entry.get("_webSocketMessages") or []):
        try:
            if raw.get("type") != "send":
                continue
            data = raw.get("data", "")
            is_text = raw.get("opcode", 1) == 1
            content = data.encode("utf-8", "surrogateescape") if is_text else base64.b64decode(data or "",
                                                                                             validate=True)
            messages.append(WsMessage(float(raw.get("time", 0.0)), content, is_text))
        except (AttributeError, TypeError, ValueError) as exc:  # binascii.Error is a ValueError
            warnings.append(f"WebSocket frame {number} skipped: {type(exc).__name__}: {exc}")
    return tuple(messages)


def record_from_entry(entry: dict[str, Any], index: int, source: str, shared: dict[Any, Any],
                      warnings: list[str], previous_time: float | None = None) -> FlowRecord:
    """One HAR entry as a FlowRecord; equal header sets become one tuple through `shared`.

    Raises KeyError, TypeError, ValueError or AttributeError for an entry that cannot be read; problems with
    parts of it (a bad WebSocket frame, a missing or unreadable time when an earlier entry gives one) go to
    `warnings` and the rest is kept."""
    request = entry["request"]
    url = urlsplit(request["url"])
    headers = tuple([(str(h["name"]), str(h["value"])) for h in request.get("headers") or []])
    if request.get("cookies") and not any(k.lower() == "cookie" for k, _ in headers):
        cookie = "; ".join(f"{c['name']}={c.get('value', '')}" for c in request["cookies"])
        headers += (("Cookie", cookie),)
    # Entries repeat a few header sets; one tuple for each keeps memory and the collector's work small.
    headers = shared.setdefault(headers, headers)
    path = url.path or "/"
    if url.query:
        path += "?" + url.query
    frame_warnings: list[str] = []
    # Nearly no entry has WebSocket frames: the look-up alone decides.
    messages = _ws_messages(entry, frame_warnings) if entry.get("_webSocketMessages") else ()
    scheme = url.scheme.lower()
    if messages and scheme in ("http", "https"):
        scheme = "wss" if scheme == "https" else "ws"
    response = entry.get("response")
    status = response.get("status") if response else None
    flow_id = str(entry.get("_id") or entry.get("_flowId") or f"har-{index}")
    try:
        when = _time(entry["startedDateTime"])
    except (KeyError, ValueError) as exc:
        if previous_time is None:
            raise
        # Its personal data still counts: placed right after the entry before it.
        reason = "no startedDateTime" if isinstance(exc, KeyError) else str(exc)
        frame_warnings.append(f"{reason}; placed at the time of the entry before it")
        when = previous_time
    method = str(request.get("method", "GET")).upper()
    host, port = _host_port(url.scheme.lower(), url.netloc)
    if not host:
        raise ValueError(f"URL without a host: {str(request['url'])[:80]!r}")
    if frame_warnings:
        warnings.extend(f"{source}: entry {index}: {w}" for w in frame_warnings)  # only for an entry kept
    # Positional, in FlowRecord's field order: keywords cost a third more, for every entry of a capture.
    return FlowRecord(
        flow_id, when, method, scheme, host, port, path, str(request.get("httpVersion") or "HTTP/1.1"), headers,
        _body(request.get("postData")), True,  # body_decoded: HAR stores bodies after Content-Encoding was undone
        int(status) if isinstance(status, (int, float)) and status > 0 else None, messages, source,
    )


@functools.lru_cache(maxsize=1024)
def _host_port(scheme: str, netloc: str) -> tuple[str, int]:
    # Parsing the authority is a good part of reading an entry, and a capture talks to few hosts.
    # A bad port raises ValueError, which is not cached: every entry with it is skipped alike.
    parts = SplitResult(scheme, netloc, "", "", "")
    return (parts.hostname or "").lower(), parts.port or {"http": 80, "ws": 80}.get(scheme, 443)


# A HAR is read entry by entry: memory holds one entry's parsed JSON at a time, not the whole document (a day-long
# capture with bodies is several GB). Inflating a .zhar is streamed too, and capped so a zlib bomb ends.
MAX_INFLATED_BYTES = 16 * 1024 * 1024 * 1024
# Where the streaming parser fails, the file is parsed once more with json for the exact line and column,
# when it is small enough for that to be cheap; larger files get the streaming parser's reason alone.
_REPARSE_FOR_POSITION = 64 * 1024 * 1024
_CHUNK = 1024 * 1024
_PIECE = 256 * 1024  # of a HAR read at a time
_LOW = 64 * 1024  # left in the buffer when the next piece is read in before an entry


class _Inflating(io.RawIOBase):
    """A zlib stream as a readable file, inflated a bounded piece at a time as it is read."""

    def __init__(self, raw: BinaryIO, path: Path) -> None:
        self._raw, self._path = raw, path
        self._inflater = zlib.decompressobj()
        self._pending = b""
        self._out = 0

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        # The compressed file underneath is ours to close: the reader only ever sees this wrapper.
        self._raw.close()
        super().close()

    def readinto(self, buffer: Any) -> int:
        try:
            while not self._pending:
                # Input the last call's output limit left over comes first (zlib's documented way to bound it).
                compressed = self._inflater.unconsumed_tail or self._raw.read(_CHUNK)
                if not compressed or self._inflater.eof:
                    self._pending = self._inflater.flush()
                    if not self._pending:
                        return 0
                    break
                self._pending = self._inflater.decompress(compressed, _CHUNK * 4)
        except zlib.error as exc:
            raise BadCapture(f"compressed HAR cannot be inflated ({exc})", path=str(self._path)) from None
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        self._out += size
        if self._out > MAX_INFLATED_BYTES:
            raise BadCapture(f"compressed HAR inflates to over {MAX_INFLATED_BYTES >> 30} GiB", path=str(self._path))
        return size


def _open_har(path: Path) -> BinaryIO:
    try:
        raw = open(path, "rb")
    except OSError as exc:
        raise BadCapture(f"cannot read: {exc.strerror or exc}", path=str(path)) from None
    stream: BinaryIO = raw
    if path.suffix.lower() == ".zhar" or raw.peek(1)[:1] == b"\x78":
        stream = io.BufferedReader(_Inflating(raw, path), _CHUNK)  # type: ignore[arg-type]
    if stream.peek(3)[:3] == b"\xef\xbb\xbf":  # type: ignore[attr-defined]
        stream.read(3)  # the BOM some Windows exporters write; JSON itself has none
    return stream


def _load_whole(path: Path) -> Any:
    """The whole document with json (for the exact position of a syntax error)."""
    try:
        blob = path.read_bytes()
    except OSError as exc:
        raise BadCapture(f"cannot read: {exc.strerror or exc}", path=str(path)) from None
    if path.suffix.lower() == ".zhar" or blob[:1] == b"\x78":
        try:
            blob = zlib.decompress(blob)
        except zlib.error as exc:
            raise BadCapture(f"compressed HAR cannot be inflated ({exc})", path=str(path)) from None
    try:
        return json.loads(blob.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise BadCapture("not a HAR file: not UTF-8 text", path=str(path)) from None
    except json.JSONDecodeError as exc:
        raise BadCapture(f"not a HAR file: invalid JSON ({exc.msg}, column {exc.colno})", path=str(path),
                         line=exc.lineno) from None
    except RecursionError:
        raise BadCapture("not a HAR file: JSON nested too deeply", path=str(path)) from None


def _syntax_error(path: Path, exc: Exception) -> BadCapture:
    try:
        small = path.stat().st_size <= _REPARSE_FOR_POSITION
    except OSError:
        small = False
    if small:
        try:
            _load_whole(path)
        except BadCapture as precise:
            return precise
    if isinstance(exc, UnicodeDecodeError):
        return BadCapture("not a HAR file: not UTF-8 text", path=str(path))
    reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc.args[0] if exc.args else exc)
    if isinstance(exc.args[0] if exc.args else None, bytes):
        reason = exc.args[0].decode("utf-8", "replace")
    reason = reason.strip().splitlines()[0] if reason.strip() else type(exc).__name__
    return BadCapture(f"not a HAR file: invalid JSON ({reason})", path=str(path))


_COMMA = re.compile(r"[ \t\n\r]*,[ \t\n\r]*")


class _JsonStream:
    """A JSON text read a piece at a time, whole values taken out of it with the C decoder (`raw_decode`).

    ijson would build the same values event by event in Python calls; decoding each entry in one C call is about three
    times as fast, and memory stays bounded by the largest entry plus one piece of the file, as with ijson."""

    _DECODER = json.JSONDecoder(strict=False)  # raw control characters in strings, as some exporters write them
    _scan = staticmethod(_DECODER.scan_once)  # type: ignore[attr-defined]  # raw_decode without its Python frame

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        self.buf = ""
        self.pos = 0
        self.eof = False

    def _more(self, at_least: int = _PIECE) -> bool:
        if self.eof:
            return False
        raw = self._stream.read(max(at_least, _PIECE))
        self.eof = not raw
        text = self._utf8.decode(raw, final=self.eof)
        self.buf = self.buf[self.pos:] + text  # what was consumed goes: the buffer never holds more than one value
        self.pos = 0
        return bool(text) or not self.eof

    def char(self) -> str:
        """The next character that is not white space, consumed ("" at the end of the text)."""
        while True:
            buf, pos = self.buf, self.pos
            while pos < len(buf) and buf[pos] in " \t\n\r":
                pos += 1
            self.pos = pos
            if pos < len(buf):
                self.pos = pos + 1
                return buf[pos]
            if not self._more():
                return ""

    def value(self) -> Any:
        if not self.char():  # raw_decode wants the value to start right there
            raise json.JSONDecodeError("Expecting value", self.buf, self.pos)
        self.pos -= 1
        while True:
            pending = len(self.buf) - self.pos
            try:
                found, end = self._DECODER.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                # Cut off by the end of the piece (not wrong where it stands): read as much again and retry, so a
                # large entry costs a few retries, not one per piece.
                cut = exc.pos >= len(self.buf) - 6 or exc.msg.startswith("Unterminated string")
                if cut and self._more(2 * pending):
                    continue
                raise
            if end == len(self.buf) and self._more(2 * pending):
                continue  # a number or literal at the very end may go on in the next piece
            self.pos = end
            return found

    def items(self) -> Iterator[Any]:
        """The items of the array whose "[" was just read.

        The usual next item (a comma, then a whole value inside the piece at hand) is decoded right where it stands,
        with one C scan; anything else (the end of the piece, the closing bracket, an error) takes the careful way,
        _delimiter then value. The buffer is topped up before an item rather than after the item fails at the end of
        the piece: the decoder's error counts the lines of the whole buffer, which costs more than reading the entry."""
        if _opens(self, "]"):
            return
        scan, comma = self._scan, _COMMA.match
        yield self.value()
        while True:
            if len(self.buf) - self.pos < _LOW and not self.eof:
                self._more()
            buf = self.buf
            m = comma(buf, self.pos)
            if m is not None:
                try:
                    found, end = scan(buf, m.end())
                except (StopIteration, json.JSONDecodeError):
                    pass  # cut off by the end of the piece, or wrong: value() tells which, with the position
                else:
                    if end < len(buf):  # a value at the very end may go on in the next piece
                        self.pos = end
                        yield found
                        continue
            if not _delimiter(self, "]"):
                return
            yield self.value()

    def expect(self, char: str) -> None:
        got = self.char()
        if got != char:
            raise json.JSONDecodeError(f"Expecting {char!r}", self.buf, max(self.pos - 1, 0))


def _delimiter(text: _JsonStream, closing: str) -> bool:
    """After a member or item: True for ',', False for the closing bracket, else a syntax error."""
    sep = text.char()
    if sep == closing:
        return False
    if sep != ",":
        raise json.JSONDecodeError("Expecting ',' delimiter", text.buf, max(text.pos - 1, 0))
    return True


def _members(text: _JsonStream) -> Iterator[str]:
    """The keys of the object whose "{" was just read; the caller reads each value before the next key."""
    if _opens(text, "}"):
        return
    while True:
        key = text.value()
        text.expect(":")
        yield key
        if not _delimiter(text, "}"):
            return


def _opens(text: _JsonStream, bracket: str) -> bool:
    """Whether the next character is `bracket` (then consumed; else nothing is)."""
    found = text.char()
    if found == bracket:
        return True
    if found:
        text.pos -= 1
    return False


def _har_entries(stream: BinaryIO) -> Iterator[Any]:
    """The items of log.entries (keys in any order; the other members are read and dropped)."""
    text = _JsonStream(stream)
    first = text.char()
    if first != "{":
        if first and first in '["-0123456789tfn':
            text.pos -= 1
            text.value()  # JSON, but not an object: no HAR (garbage raises as invalid JSON)
            raise _NoEntries
        raise json.JSONDecodeError("Expecting value", text.buf, max(text.pos - 1, 0))
    found = False
    for key in _members(text):
        if key == "log" and _opens(text, "{"):
            for member in _members(text):
                if member == "entries" and _opens(text, "["):
                    found = True
                    yield from text.items()
                else:
                    text.value()
        else:
            text.value()
    if text.char():
        raise json.JSONDecodeError("Extra data", text.buf, text.pos - 1)
    if not found:
        raise _NoEntries


class _NoEntries(Exception):
    """The document is JSON but has no log.entries list."""


def iter_har_entries(path: Path) -> Iterator[Any]:
    """The items of log.entries, one parsed entry at a time; BadCapture when the file is not a HAR.

    A syntax error after some entries raises too (the file is damaged, as when it was read whole): what the
    entries before it said is not kept, so a capture reads the same whether it is streamed or not."""
    with _open_har(path) as stream:
        try:
            yield from _har_entries(stream)
        except _NoEntries:
            raise BadCapture("not a HAR file: no log.entries list", path=str(path)) from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise _syntax_error(path, exc) from None
        except RecursionError:
            raise BadCapture("not a HAR file: JSON nested too deeply", path=str(path)) from None


def load_har(path: Path) -> dict[str, Any]:
    """The whole HAR as one document (small files, tests); `divulge traffic` streams with iter_har_entries."""
    har = _load_whole(path)
    if not isinstance(har, dict) or not isinstance(har.get("log"), dict) \
            or not isinstance(har["log"].get("entries"), list):
        raise BadCapture("not a HAR file: no log.entries list", path=str(path))
    return har


class HarReader(CaptureReader):
    format = CaptureFormat.HAR

    def read(self) -> CaptureContents:
        contents = CaptureContents()
        source = str(self.path)
        shared: dict[Any, Any] = {}
        bad = 0
        with gc_paused():  # parsed entries hold no reference cycle; the records are long-lived
            for index, entry in enumerate(iter_har_entries(self.path)):
                try:
                    previous = contents.records[-1].time if contents.records else None
                    contents.records.append(record_from_entry(entry, index, source, shared, contents.warnings,
                                                              previous))
                except (KeyError, TypeError, ValueError, AttributeError) as exc:
                    bad += 1
                    if bad <= 20:  # one line per bad entry is useful; thousands are not
                        reason = (f"missing field {exc}" if isinstance(exc, KeyError)
                                  else f"{type(exc).__name__}: {exc}")
                        contents.warnings.append(f"{self.path}: entry {index} skipped: {reason}")
        if bad > 20:
            contents.warnings.append(f"{self.path}: {bad - 20} more bad entries skipped")
        return contents
