"""mitmproxy flow files: reading them (tolerating a truncated tail) and mitmproxy flows -> FlowRecords."""

from __future__ import annotations

import logging
from pathlib import Path

from mitmproxy import exceptions, http, io
from mitmproxy.flow import Flow

from scanner.dynamic.readers import CaptureContents, CaptureFormat, CaptureReader, FlowRecord, WsMessage
from scanner.errors import BadCapture

log = logging.getLogger(__name__)


def record_from_flow(flow: http.HTTPFlow, source: str = "") -> FlowRecord:
    """The request side of a mitmproxy HTTP flow, with client WebSocket messages when there are any."""
    req = flow.request
    messages: tuple[WsMessage, ...] = ()
    scheme = req.scheme
    if flow.websocket is not None:
        # Flow files migrated from old mitmproxy versions can hold text frames as str: the core reads bytes.
        messages = tuple(WsMessage(m.timestamp, m.content.encode("utf-8") if isinstance(m.content, str) else m.content,
                                   m.is_text) for m in flow.websocket.messages if m.from_client)
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


def read_flow_file(path: Path, contents: CaptureContents) -> None:
    """Append the HTTP flows of a mitmproxy flow file to contents; a corrupt tail becomes a warning."""
    count = 0
    try:
        fh = open(path, "rb")
    except OSError as exc:
        raise BadCapture(f"cannot read: {exc.strerror or exc}", path=str(path)) from None
    with fh:
        reader = io.FlowReader(fh)
        try:
            for flow in reader.stream():
                count += 1
                if isinstance(flow, http.HTTPFlow):
                    contents.records.append(record_from_flow(flow, str(path)))
        except exceptions.FlowReadException as exc:
            if count == 0:
                raise BadCapture(f"not a mitmproxy flow file ({exc})", path=str(path)) from None
            contents.warnings.append(f"{path}: truncated or corrupt after flow {count} ({exc}); "
                                     f"the {count} flows before it were analysed")


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
