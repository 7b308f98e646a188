"""mitmproxy flow files: reading them (tolerating a truncated tail) and mitmproxy flows -> FlowRecords."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from mitmproxy import http, io, version
from mitmproxy.flow import Flow
from mitmproxy.io import compat, tnetstring

from scanner.dynamic.readers import CaptureContents, CaptureFormat, CaptureReader, FlowRecord, WsMessage
from scanner.errors import BadCapture

log = logging.getLogger(__name__)


def record_from_flow(flow: http.HTTPFlow, source: str = "") -> FlowRecord:
    """The request side of a mitmproxy HTTP flow, with client WebSocket messages when there are any."""
    req = flow.request
    messages: tuple[WsMessage, ...] = ()
    scheme = req.scheme
    if flow.websocket is not None:
        messages = tuple(WsMessage(m.timestamp, _bytes(m.content), m.is_text) for m in flow.websocket.messages
                         if m.from_client)
        scheme = "wss" if scheme == "https" else "ws"
    return FlowRecord(
        id=flow.id,
        time=req.timestamp_start,
        method=req.method,
        scheme=scheme,
        host=req.pretty_host,
        port=req.port,
        path=req.path,
        http_version=req.http_version,
        headers=tuple((k, v) for k, v in req.headers.items(multi=True)),
        # raw_content keeps the Content-Encoding as sent, so a body that lies about it is noticed.
        body=req.raw_content or b"",
        status=flow.response.status_code if flow.response is not None else None,
        ws_messages=messages,
        source=source,
    )


def _bytes(content: bytes | str) -> bytes:
    # Flow files of format 7 (mitmproxy 4/5) store WebSocket text messages as str, and the migration keeps them.
    return content.encode("utf-8", "surrogateescape") if isinstance(content, str) else content


# What mitmproxy raises for a flow whose tnetstring frame is intact but whose state is not a flow of any
# version: a missing key ('cipher', 'metadata', 'timestamp_start'), a wrong type, a bad value, or a key it does not
# know (set_state ends with `assert state == {}`).
_BAD_FLOW = (KeyError, TypeError, ValueError, AttributeError, IndexError, UnicodeError, OverflowError,
             AssertionError)
_MAX_WARNED = 20


def _version(state: dict[bytes | str, Any]) -> Any:
    found: Any = state.get(b"version", state.get("version"))
    return found if isinstance(found, int) else tuple(found)[:2]  # old files: mitmproxy's (major, minor)


def _migrate(state: dict[bytes | str, Any]) -> dict[bytes | str, Any]:
    """compat.migrate_flow, one converter at a time and bounded.

    mitmproxy's own loop runs until the version is current; a damaged state whose version a converter does not
    advance (both a bytes and a str `version` key, say) makes it loop forever."""
    for _ in range(len(compat.converters) + 1):
        current = _version(state)
        if current == version.FLOW_FORMAT_VERSION:
            return state
        if current not in compat.converters:
            raise ValueError(f"flow format version {current!r} is not one mitmproxy {version.MITMPROXY} reads")
        state = compat.converters[current](state)
        if _version(state) == current:
            raise ValueError(f"flow format version {current!r} does not migrate")
    raise ValueError("flow format migration does not end")


def read_flow_file(path: Path, contents: CaptureContents) -> None:
    """Append the HTTP flows of a mitmproxy flow file to contents.

    mitmproxy's FlowReader stops at the first flow it cannot build; we frame the records ourselves so that a
    damaged flow is skipped with a warning and the ones after it are kept. A broken frame ends the file: after
    it there is no telling where the next record starts."""
    count = bad = 0
    first_problem = ""
    try:
        fh = open(path, "rb")
    except OSError as exc:
        raise BadCapture(f"cannot read: {exc.strerror or exc}", path=str(path)) from None
    with fh:
        while True:
            try:
                loaded = tnetstring.load(fh)
            except (ValueError, TypeError, IndexError, OverflowError) as exc:
                if str(exc) == "not a tnetstring: empty file":
                    break  # the end of the file
                if count == 0:
                    raise BadCapture(f"not a mitmproxy flow file ({exc})", path=str(path)) from None
                contents.warnings.append(f"{path}: truncated or corrupt after flow {count} ({exc}); "
                                         f"the {count} flows before it were analysed")
                break
            count += 1
            try:
                if not isinstance(loaded, dict):
                    raise TypeError(f"a {type(loaded).__name__}, not a flow")
                flow = Flow.from_state(_migrate(loaded))
                if isinstance(flow, http.HTTPFlow):
                    contents.records.append(record_from_flow(flow, str(path)))
            except _BAD_FLOW as exc:
                bad += 1
                reason = (f"missing field {exc}" if isinstance(exc, KeyError) else f"{type(exc).__name__}: {exc}")
                reason = " ".join(reason.split())[:200]
                first_problem = first_problem or f"flow {count}: {reason}"
                if bad <= _MAX_WARNED:
                    contents.warnings.append(f"{path}: flow {count} skipped: {reason}")
    if bad > _MAX_WARNED:
        contents.warnings.append(f"{path}: {bad - _MAX_WARNED} more bad flows skipped")
    if count and bad == count:
        raise BadCapture(f"no readable flow among {count} records ({first_problem})", path=str(path))


class FlowFileReader(CaptureReader):
    format = CaptureFormat.FLOWS

    def read(self) -> CaptureContents:
        contents = CaptureContents()
        read_flow_file(self.path, contents)
        return contents


def write_flows(path: Path, flows: list[Flow]) -> None:
    with open(path, "wb") as fh:
        writer = io.FlowWriter(fh)
        for flow in flows:
            writer.add(flow)


def load_flows(path: Path) -> list[Flow]:
    with open(path, "rb") as fh:
        return list(io.FlowReader(fh).stream())
