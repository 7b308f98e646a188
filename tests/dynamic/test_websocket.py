"""WebSocket messages through a real mitmdump with the addon: personal data in a client frame is observed."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, CloseConnection, Message, Request, TextMessage

from scanner.cli import main

from .conftest import start_proxy

IMEI = "356938035643809"  # in the fixture device profile


def _serve_echo(server: socket.socket, received: list[str]) -> None:
    """A minimal WebSocket server: accept one upgrade, echo text messages until the client closes."""
    conn, _ = server.accept()
    with conn:
        ws = WSConnection(ConnectionType.SERVER)
        while True:
            data = conn.recv(65536)
            if not data:
                return
            ws.receive_data(data)
            for event in ws.events():
                if isinstance(event, Request):
                    conn.sendall(ws.send(AcceptConnection()))
                elif isinstance(event, TextMessage):
                    received.append(event.data)
                    conn.sendall(ws.send(Message(data=event.data)))
                elif isinstance(event, CloseConnection):
                    conn.sendall(ws.send(event.response()))
                    return


@pytest.fixture
def ws_upstream() -> Iterator[tuple[int, list[str]]]:
    server = socket.create_server(("127.0.0.1", 0))
    received: list[str] = []
    thread = threading.Thread(target=_serve_echo, args=(server, received), daemon=True)
    thread.start()
    yield server.getsockname()[1], received
    server.close()


def _events(sock: socket.socket, ws: WSConnection, kind: type) -> object:
    while True:
        for event in ws.events():
            if isinstance(event, kind):
                return event
        data = sock.recv(65536)
        assert data, f"connection closed before {kind.__name__}"
        ws.receive_data(data)


def test_websocket_message_through_the_proxy(tmp_path: Path, ws_upstream: tuple[int, list[str]]) -> None:
    port, received = ws_upstream
    proxy = start_proxy(tmp_path, "forward")
    try:
        with socket.create_connection((proxy.host, proxy.port), timeout=10) as sock:
            ws = WSConnection(ConnectionType.CLIENT)
            # A plain-HTTP proxy gets the absolute URL as the request target.
            sock.sendall(ws.send(Request(host=f"127.0.0.1:{port}", target=f"http://127.0.0.1:{port}/live")))
            _events(sock, ws, AcceptConnection)
            frame = json.dumps({"event": "heartbeat", "device": {"imei": IMEI}})
            sock.sendall(ws.send(Message(data=frame)))
            echoed = _events(sock, ws, TextMessage)
            assert echoed.data == frame  # type: ignore[attr-defined]
            sock.sendall(ws.send(CloseConnection(code=1000)))
        assert received == [frame]
    finally:
        assert proxy.process.stop() == 0
    observations = proxy.observations()
    imei = [o for o in observations if o["identifier"] == "imei"]
    assert imei, observations
    assert imei[0]["where"] == "body" and "websocket" in imei[0]["encodings"]
    assert imei[0]["cleartext"] is True and imei[0]["party"] == "third"
    # The flow file keeps the frames: re-analysing the session finds the same identifier.
    result = CliRunner().invoke(main, ["traffic", str(proxy.session), "--format", "json"])
    assert result.exit_code == 0, result.output
    again = [o for o in json.loads(result.output)["observations"] if o["identifier"] == "imei"]
    assert again and "websocket" in again[0]["encodings"]
