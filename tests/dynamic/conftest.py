"""Fixtures of the dynamic tests: the fixture device profile, a small SDK catalog view, real mitmdump proxies."""

from __future__ import annotations

import json
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from scanner.dynamic.capture import (
    CaptureOptions,
    ProxyProcess,
    mitmdump_command,
    prepare_confdir,
    write_session_settings,
)
from scanner.dynamic.device import DeviceProfile, load_device_profile

REPO = Path(__file__).resolve().parents[2]
DEVICE = REPO / "fixtures" / "devices" / "test-phone.yaml"
CAPTURES = REPO / "fixtures" / "captures"
SCENARIOS = REPO / "fixtures" / "scenarios"


@pytest.fixture(scope="session")
def device_path() -> Path:
    return DEVICE


@pytest.fixture(scope="session")
def profile() -> DeviceProfile:
    return load_device_profile(DEVICE)


class RunningProxy:
    def __init__(self, process: ProxyProcess, host: str, port: int, session: Path, confdir: Path) -> None:
        self.process, self.host, self.port, self.session, self.confdir = process, host, port, session, confdir

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ca(self) -> Path:
        return self.confdir / "mitmproxy-ca-cert.pem"

    def observations(self) -> list[dict]:
        path = self.session / "observations.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def start_proxy(tmp: Path, mode: str, **extra) -> RunningProxy:
    session, confdir = tmp / "session", prepare_confdir(tmp / "ca")
    options = CaptureOptions(output=session, listen_port=0, mode=mode, device=DEVICE,
                             first_party=("divulge-fixture.example",), confdir=confdir, **extra)
    write_session_settings(options, list(options.first_party), confdir)
    log_file = open(tmp / "mitmdump.log", "wb")  # noqa: SIM115 - closed with the process below
    process = ProxyProcess(mitmdump_command(options, list(options.first_party), confdir), session, confdir, log_file)
    host, port = process.start()
    return RunningProxy(process, host, port, session, confdir)


@pytest.fixture(scope="module")
def sinkhole_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningProxy]:
    proxy = start_proxy(tmp_path_factory.mktemp("sinkhole"), "sinkhole")
    yield proxy
    proxy.process.stop()


def connect_tunnel(proxy: RunningProxy, host: str) -> socket.socket:
    """A socket through the proxy's CONNECT tunnel to host:443, before any TLS."""
    raw = socket.create_connection((proxy.host, proxy.port), timeout=10)
    raw.sendall(f"CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n".encode())
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += raw.recv(4096)
    assert b" 200 " in answer.split(b"\r\n")[0], answer
    return raw


def h2_request(proxy: RunningProxy, host: str, path: str, body: bytes = b"") -> tuple[int, str]:
    """One HTTP/2 request through the proxy's CONNECT tunnel with the h2 library; (status, negotiated ALPN)."""
    import h2.config
    import h2.connection
    import h2.events

    raw = connect_tunnel(proxy, host)
    context = ssl.create_default_context(cafile=str(proxy.ca))
    context.set_alpn_protocols(["h2"])
    tls = context.wrap_socket(raw, server_hostname=host)
    alpn = tls.selected_alpn_protocol() or ""
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    headers = [(":method", "POST" if body else "GET"), (":path", path), (":scheme", "https"), (":authority", host)]
    conn.send_headers(1, headers, end_stream=not body)
    if body:
        conn.send_data(1, body, end_stream=True)
    tls.sendall(conn.data_to_send())
    status = 0
    done = False
    while not done:
        data = tls.recv(65536)
        if not data:
            break
        for event in conn.receive_data(data):
            if isinstance(event, h2.events.ResponseReceived):
                status = int(dict(event.headers)[b":status"])
            if isinstance(event, h2.events.StreamEnded):
                done = True
        tls.sendall(conn.data_to_send())
    tls.close()
    return status, alpn
