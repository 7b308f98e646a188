"""The divulge mitmproxy addon: sees which personal data each flow carries, writes it down as it happens.

Load it with `mitmdump -s $(divulge addon-path) --set divulge_session=DIR --set divulge_device=DEVICE.yaml`.
Hooks stay thin; the work is scanner.dynamic.analysis (shared with `divulge traffic`).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

from mitmproxy import connection, ctx, exceptions, http, io, tls
from mitmproxy.proxy import server_hooks

from scanner.dynamic.analysis import FlowAnalyzer
from scanner.dynamic.device import DeviceProfile, load_device_profile
from scanner.dynamic.flowfile import record_from_flow
from scanner.dynamic.marks import MARKS_FILE, Mark, Timeline, mark_from_url, read_marks
from scanner.dynamic.readers import FlowRecord
from scanner.dynamic.session import (
    DEVICE_FILE,
    FLOWS_FILE,
    OBSERVATIONS_FILE,
    PROXY_FILE,
    SESSION_FILE,
    SESSION_SCHEMA,
    TLS_FAILURES_FILE,
)
from scanner.errors import DivulgeError
from scanner.knowledge.recipients import HostCatalog, Recipients
from scanner.model import Observation, to_jsonable

log = logging.getLogger(__name__)

MODES = ("forward", "sinkhole")
_OPTIONS = ("divulge_session", "divulge_device", "divulge_first_party", "divulge_mode", "divulge_sinkhole_status",
            "divulge_sdk_db")


class _SessionFiles:
    """Append-only files of one session, flushed per flow so a killed proxy loses at most the flow in flight."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._flows: IO[bytes] = open(directory / FLOWS_FILE, "ab")
        self._writer = io.FlowWriter(self._flows)
        self._observations: IO[str] = open(directory / OBSERVATIONS_FILE, "a", encoding="utf-8")
        self.marks_path = directory / MARKS_FILE
        self._marks_stat: tuple[int, int] | None = None

    def write_flow(self, flow: http.HTTPFlow) -> None:
        self._writer.add(flow)
        self._flows.flush()

    def write_observations(self, observations: list[Observation]) -> None:
        if observations:
            self._observations.write("".join(json.dumps(to_jsonable(o), ensure_ascii=False) + "\n"
                                             for o in observations))
            self._observations.flush()

    def write_tls_failure(self, when: float, host: str, kind: str, error: str) -> None:
        with open(self.directory / TLS_FAILURES_FILE, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"time": when, "host": host, "kind": kind, "error": error}) + "\n")

    def write_mark(self, mark: Mark) -> None:
        with open(self.marks_path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(mark.as_dict()) + "\n")
        self._marks_stat = self._stat()

    def _stat(self) -> tuple[int, int] | None:
        try:
            st = self.marks_path.stat()
        except OSError:
            return None
        return st.st_size, st.st_mtime_ns

    def new_marks(self) -> list[Mark] | None:
        """All marks when marks.jsonl changed since last look (`divulge mark --session` from elsewhere)."""
        stat = self._stat()
        if stat == self._marks_stat:
            return None
        self._marks_stat = stat
        return read_marks(self.marks_path)

    def close(self) -> None:
        self._flows.close()
        self._observations.close()


class Divulge:
    def __init__(self, catalog: HostCatalog | None = None) -> None:
        self._catalog = catalog
        self.analyzer: FlowAnalyzer | None = None
        self.files: _SessionFiles | None = None
        self.timeline = Timeline(active=True)  # a live capture always has a consent timeline
        self.mode = "forward"
        self.sinkhole_status = 204
        self.observation_count = 0
        # Client connections whose TLS handshake completed and which have not sent a request yet.
        self._tls_quiet: dict[str, str] = {}
        self._unseen_logged: set[tuple[str, str]] = set()

    # -- options -----------------------------------------------------------------------------

    def load(self, loader: Any) -> None:
        loader.add_option("divulge_session", str, "",
                          "Session directory: flows, observations and marks are appended there as they happen.")
        loader.add_option("divulge_device", str, "", "Device profile YAML with the values on the test device.")
        loader.add_option("divulge_first_party", Sequence[str], [],
                          "First-party domains (they and their subdomains); every other host is a third party.")
        loader.add_option("divulge_mode", str, "forward",
                          "forward: relay to the real servers; sinkhole: answer every request here, "
                          "make no outgoing connection.", choices=MODES)
        loader.add_option("divulge_sinkhole_status", int, 204, "HTTP status of sinkhole answers.")
        loader.add_option("divulge_sdk_db", str, "", "Extra SDK database (Exodus JSON) beside the built-in catalog.")

    def configure(self, updated: set[str]) -> None:
        if not set(updated).intersection(_OPTIONS) and self.analyzer is not None:
            return
        opts = ctx.options
        if opts.divulge_mode not in MODES:
            raise exceptions.OptionsError(f"divulge_mode {opts.divulge_mode!r}: use forward or sinkhole")
        status = opts.divulge_sinkhole_status
        if not 100 <= status <= 599 or status == 101:
            raise exceptions.OptionsError(f"divulge_sinkhole_status {status}: use an HTTP status 100-599 (not 101)")
        try:
            profile = load_device_profile(Path(opts.divulge_device)) if opts.divulge_device else DeviceProfile()
            if self._catalog is None:
                from scanner.knowledge.sdks import shared_catalog

                self._catalog = shared_catalog(Path(opts.divulge_sdk_db) if opts.divulge_sdk_db else None)
        except DivulgeError as exc:
            raise exceptions.OptionsError(f"divulge: {exc}") from None
        self.mode = opts.divulge_mode
        self.sinkhole_status = status
        self.analyzer = FlowAnalyzer(profile, Recipients(self._catalog, opts.divulge_first_party), self.timeline)
        if self.mode == "sinkhole" and getattr(opts, "connection_strategy", "lazy") != "lazy":
            # Eager mode would connect upstream on CONNECT, before we can answer: never in sinkhole mode.
            opts.update(connection_strategy="lazy")
        if "divulge_session" in updated or (self.files is None and opts.divulge_session):
            self._open_session(opts)

    def _open_session(self, opts: Any) -> None:
        if self.files is not None:
            self.files.close()
            self.files = None
        if not opts.divulge_session:
            return
        directory = Path(opts.divulge_session)
        try:
            self.files = _SessionFiles(directory)
            settings_path = directory / SESSION_FILE
            settings = json.loads(settings_path.read_text()) if settings_path.exists() else {}
            if opts.divulge_device and not (directory / DEVICE_FILE).exists():
                shutil.copyfile(opts.divulge_device, directory / DEVICE_FILE)
            settings.update({
                "schema": SESSION_SCHEMA, "mode": opts.divulge_mode, "first_party": list(opts.divulge_first_party),
                "sinkhole_status": opts.divulge_sinkhole_status,
            })
            settings.setdefault("started", time.time())
            settings_path.write_text(json.dumps(settings, indent=2) + "\n")
        except (OSError, ValueError) as exc:
            raise exceptions.OptionsError(f"divulge: cannot use session directory {directory}: {exc}") from None
        for mark in read_marks(self.files.marks_path):
            self.timeline.add(mark)

    def running(self) -> None:
        if self.files is None:
            return
        server = ctx.master.addons.get("proxyserver")
        listen = [list(addr[:2]) for addr in server.listen_addrs()] if server is not None else []
        proxy = {"listen": listen, "pid": os.getpid(), "confdir": os.path.expanduser(ctx.options.confdir),
                 "mode": self.mode}
        path = self.files.directory / PROXY_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(proxy) + "\n")
        tmp.replace(path)  # atomic: a reader never sees half a file
        log.info("divulge: session %s, mode %s, listening on %s", self.files.directory, self.mode, listen)

    # -- hooks -------------------------------------------------------------------------------

    def tls_established_client(self, data: tls.TlsData) -> None:
        self._tls_quiet[data.conn.id] = data.conn.sni or _address(data.context.server.address)

    def tls_failed_client(self, data: tls.TlsData) -> None:
        error = str(data.conn.error or "")
        if error == "connection closed early":  # closed before saying anything: no sign of distrust
            return
        self._unseen(data.conn.sni or _address(data.context.server.address), "handshake_failed", error)

    def client_disconnected(self, client: connection.Client) -> None:
        host = self._tls_quiet.pop(client.id, None)
        if host is not None:
            self._unseen(host, "closed_without_request", "")

    def _unseen(self, host: str, kind: str, error: str) -> None:
        if self.files is not None:
            self.files.write_tls_failure(time.time(), host, kind, error)
        if (host, kind) not in self._unseen_logged:
            self._unseen_logged.add((host, kind))
            why = ("rejected the proxy's certificate" if kind == "handshake_failed"
                   else "closed the connection after the TLS handshake without a request")
            log.warning("divulge: the app %s for %s (certificate pinning or an untrusted CA): "
                        "its traffic there is not seen", why, host)

    def request(self, flow: http.HTTPFlow) -> None:
        self._tls_quiet.pop(flow.client_conn.id, None)
        name = mark_from_url(flow.request.pretty_host, flow.request.path)
        if name is not None:
            mark = Mark(flow.request.timestamp_start, name, "proxy")
            self.timeline.add(mark)
            if self.files is not None:
                self.files.write_mark(mark)
            log.info("divulge: mark %s", name)
            flow.response = http.Response.make(200, f"divulge: marked {name}\n".encode(),
                                               {"Content-Type": "text/plain"})
            flow.metadata["divulge_mark"] = name
            return
        if self.mode == "sinkhole":
            flow.response = http.Response.make(self.sinkhole_status, b"", {"X-Divulge": "sinkhole"})

    def server_connect(self, data: server_hooks.ServerConnectionHookData) -> None:
        if self.mode == "sinkhole":
            # Belt and braces: whatever layer asks for an upstream connection, none is made.
            data.server.error = "divulge sinkhole mode: no outgoing connections"

    def response(self, flow: http.HTTPFlow) -> None:
        if flow.websocket is None:
            self._record(flow)

    def error(self, flow: http.HTTPFlow) -> None:
        if flow.websocket is None:
            self._record(flow)

    def websocket_message(self, flow: http.HTTPFlow) -> None:
        assert flow.websocket is not None
        message = flow.websocket.messages[-1]
        if not message.from_client:
            return
        record = record_from_flow(flow)
        # Only this message: the upgrade request itself is analysed once, at websocket_end.
        self._analyse(flow, replace(record, ws_messages=record.ws_messages[-1:], path="/", headers=()))

    def websocket_end(self, flow: http.HTTPFlow) -> None:
        self._record(flow, replace(record_from_flow(flow), ws_messages=()))

    def done(self) -> None:
        if self.files is not None:
            self.files.close()
            self.files = None

    # -- work --------------------------------------------------------------------------------

    def _record(self, flow: http.HTTPFlow, record: FlowRecord | None = None) -> None:
        if flow.metadata.get("divulge_recorded"):
            return
        flow.metadata["divulge_recorded"] = True
        if self.files is not None:
            self.files.write_flow(flow)
        if "divulge_mark" not in flow.metadata:
            self._analyse(flow, record or record_from_flow(flow))

    def _analyse(self, flow: http.HTTPFlow, record: FlowRecord) -> None:
        if self.analyzer is None:
            return
        if self.files is not None:
            marks = self.files.new_marks()
            if marks:
                for mark in marks:
                    if mark not in self.timeline.marks:
                        self.timeline.add(mark)
        result = self.analyzer.analyse(record)
        for warning in result.warnings:
            log.warning("divulge: %s", warning)
        if not result.observations:
            return
        self.observation_count += len(result.observations)
        flow.metadata.setdefault("divulge", []).extend(to_jsonable(o) for o in result.observations)
        if self.files is not None:
            self.files.write_observations(result.observations)
        for o in result.observations:
            log.info("divulge: %s%s -> %s (%s)", o.data_type, f"/{o.identifier}" if o.identifier else "",
                     o.host, o.sdk or o.party)


addons = [Divulge()]


def _address(address: tuple[str, int] | None) -> str:
    return f"{address[0]}:{address[1]}" if address else "unknown host"
