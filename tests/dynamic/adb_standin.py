"""A stand-in for the phone's adb endpoint: the adb server's smart-socket protocol on 127.0.0.1, answering the
host services, `shell:` and the sync protocol's STAT/SEND from a script. The phone is the one thing outside this
machine; the client side (adbutils and divulge) runs for real against it."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

Responder = Callable[[str], bytes]


@dataclass
class Phone:
    serial: str = "emulator-5554"
    screens: list[bytes] = field(default_factory=list)  # UI dumps served in turn by `cat /sdcard/...xml`
    install_output: bytes = b"Success\n"
    commands: list[str] = field(default_factory=list)
    pushed: dict[str, bytes] = field(default_factory=dict)
    taps: list[tuple[int, int]] = field(default_factory=list)
    _screen: int = 0

    def shell(self, command: str) -> bytes:
        self.commands.append(command)
        if command.startswith("pm install"):
            return self.install_output
        if command.startswith("cat ") and command.endswith(".xml"):
            screen = self.screens[min(self._screen, len(self.screens) - 1)] if self.screens else b""
            self._screen += 1
            return screen
        if command.startswith("screencap"):
            return b"\x89PNG\r\n\x1a\n" + bytes(32)
        if command.startswith("input tap"):
            _, _, x, y = command.split()
            self.taps.append((int(x), int(y)))
        return b""


class AdbStandIn:
    def __init__(self, phone: Phone) -> None:
        self.phone = phone
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.close()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    @staticmethod
    def _recv(conn: socket.socket, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = conn.recv(size - len(data))
            if not chunk:
                raise ConnectionError("client went away")
            data += chunk
        return data

    def _command(self, conn: socket.socket) -> str:
        return self._recv(conn, int(self._recv(conn, 4), 16)).decode("utf-8")

    def _session(self, conn: socket.socket) -> None:
        with conn:
            try:
                while True:
                    command = self._command(conn)
                    if command == "host:version":
                        conn.sendall(b"OKAY0004" + b"%04x" % 40)
                        return
                    if command.startswith("host:devices"):
                        listing = f"{self.phone.serial}\tdevice\n".encode()
                        conn.sendall(b"OKAY" + b"%04x" % len(listing) + listing)
                        return
                    if command.startswith("host:transport:"):
                        if command.split(":", 2)[2] != self.phone.serial:
                            message = b"device not found"
                            conn.sendall(b"FAIL" + b"%04x" % len(message) + message)
                            return
                        conn.sendall(b"OKAY")
                        continue
                    if command.startswith("shell:"):
                        output = self.phone.shell(command[len("shell:"):])
                        conn.sendall(b"OKAY" + output)
                        return
                    if command == "sync:":
                        conn.sendall(b"OKAY")
                        self._sync(conn)
                        return
                    message = f"unknown service {command}".encode()
                    conn.sendall(b"FAIL" + b"%04x" % len(message) + message)
                    return
            except ConnectionError:
                return

    def _sync(self, conn: socket.socket) -> None:
        request = self._recv(conn, 4)
        path = self._recv(conn, struct.unpack("<I", self._recv(conn, 4))[0]).decode()
        if request == b"STAT":
            # A regular file that does not exist yet: mode 0, so the client pushes to the path itself.
            conn.sendall(b"STAT" + struct.pack("<III", 0, 0, 0))
        elif request == b"SEND":
            name = path.rsplit(",", 1)[0]
            data = b""
            while True:
                kind = self._recv(conn, 4)
                size = struct.unpack("<I", self._recv(conn, 4))[0]
                if kind == b"DONE":
                    break
                data += self._recv(conn, size)
            self.phone.pushed[name] = data
            conn.sendall(b"OKAY" + struct.pack("<I", 0))
