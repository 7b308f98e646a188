"""Capture readers: one base class, one implementation per format, and a str enum mapping format names to them.

Every reader turns its format into neutral FlowRecords, so the live addon and `divulge traffic` share one
analysis core.  Readers never stop at the first bad entry: they warn and keep the rest.
"""

from __future__ import annotations

import abc
import enum
import importlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scanner.errors import BadCapture


@dataclass(frozen=True, slots=True)
class WsMessage:
    time: float
    content: bytes
    is_text: bool


_DEFAULT_PORTS = {"http": 80, "ws": 80, "https": 443, "wss": 443}


@dataclass(slots=True)  # not frozen: a frozen dataclass sets each field through object.__setattr__ (3 µs a record)
class FlowRecord:
    """One request as it left the device (bodies as on the wire unless `body_decoded`). Readers make one per entry
    of a capture and nothing changes it afterwards."""

    id: str
    time: float
    method: str
    scheme: str  # http | https | ws | wss
    host: str
    port: int
    path: str  # path with query, as sent
    http_version: str = "HTTP/1.1"
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    body_decoded: bool = False  # HAR stores bodies after Content-Encoding was undone
    status: int | None = None
    ws_messages: tuple[WsMessage, ...] = ()  # client-to-server messages only
    source: str = ""

    @property
    def url(self) -> str:
        default = _DEFAULT_PORTS.get(self.scheme)
        netloc = self.host if self.port in (default, 0) else f"{self.host}:{self.port}"
        if ":" in self.host and not self.host.startswith("["):
            netloc = f"[{self.host}]" if self.port in (default, 0) else f"[{self.host}]:{self.port}"
        return f"{self.scheme}://{netloc}{self.path}"

    @property
    def cleartext(self) -> bool:
        return self.scheme in ("http", "ws")


def header_value(headers: tuple[tuple[str, str], ...], name: str) -> str:
    """All values of one request header (`name` in lower case), joined as HTTP joins repeated headers."""
    return ", ".join(v for k, v in headers if k.lower() == name)


@dataclass
class CaptureContents:
    """What a reader hands the analysis: records, marks found beside them, session settings, warnings."""

    records: list[FlowRecord] = field(default_factory=list)
    marks: list[Any] = field(default_factory=list)  # scanner.dynamic.marks.Mark
    timeline: bool = False  # a session always has a consent timeline, even before the first mark
    settings: dict[str, Any] = field(default_factory=dict)  # session.json
    warnings: list[str] = field(default_factory=list)
    tls_failures: list[dict[str, Any]] = field(default_factory=list)  # session: connections we could not read


class CaptureFormat(enum.StrEnum):
    SESSION = "session"
    FLOWS = "flows"
    HAR = "har"

    def reader(self, path: Path) -> CaptureReader:
        # Imported here so that each implementation stays in its own module without import cycles, and
        # only the one asked for: the flow-file reader pulls in mitmproxy, which a HAR does not need.
        module, name = {
            CaptureFormat.SESSION: ("scanner.dynamic.session", "SessionReader"),
            CaptureFormat.FLOWS: ("scanner.dynamic.flowfile", "FlowFileReader"),
            CaptureFormat.HAR: ("scanner.dynamic.har", "HarReader"),
        }[self]
        reader: type[CaptureReader] = getattr(importlib.import_module(module), name)
        return reader(path)


class CaptureReader(abc.ABC):
    format: CaptureFormat

    def __init__(self, path: Path) -> None:
        self.path = path

    @abc.abstractmethod
    def read(self) -> CaptureContents:
        """All records; raises BadCapture only when nothing at all can be read."""

    def iter_records(self) -> Iterator[FlowRecord]:
        yield from self.read().records


def detect_format(path: Path) -> CaptureFormat:
    """Session directory, HAR (JSON) or mitmproxy flow file (tnetstring), by content rather than name."""
    if path.is_dir():
        return CaptureFormat.SESSION
    if not path.is_file():
        raise BadCapture("no such capture file or session directory", path=str(path))
    if path.suffix.lower() in (".har", ".zhar"):
        return CaptureFormat.HAR
    with open(path, "rb") as fh:
        head = fh.read(64).lstrip()
    if head[:1] in (b"{", b"["):
        return CaptureFormat.HAR
    if head[:1].isdigit():
        return CaptureFormat.FLOWS
    if path.suffix.lower() in (".flows", ".flow", ".mitm", ".dump"):
        return CaptureFormat.FLOWS
    raise BadCapture("not a HAR file, mitmproxy flow file or divulge session", path=str(path))


def open_capture(path: Path, fmt: CaptureFormat | None = None) -> CaptureReader:
    return (fmt or detect_format(path)).reader(path)
