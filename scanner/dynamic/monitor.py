"""`divulge monitor`: attach Frida to (or spawn) an app, hook the personal-data APIs, and append every read to
SESSION/runtime.jsonl as it happens, flushed per event, so a crash of the app, the agent or divulge loses nothing
already seen.

The device is Frida's: the local machine, a USB phone running frida-server, or a remote frida-server (host:port).
The phone is the one thing outside this machine; everything else (the agent, the hooks, the file) runs for real
here against local processes.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scanner.dynamic.agent_build import BUNDLE
from scanner.dynamic.runtime import RUNTIME_FILE
from scanner.errors import DivulgeError
from scanner.knowledge.runtime import hook_plan


class MonitorError(DivulgeError):
    """No Frida, no device, no such process or app, or the agent could not be loaded (exit 2)."""


@dataclass(frozen=True)
class MonitorTarget:
    device: str = "local"  # local | usb | HOST:PORT of a remote frida-server
    pid: int | None = None
    name: str | None = None  # a running process (or an app's package, on a phone)
    spawn: tuple[str, ...] = ()  # a program and its arguments, or one package name on a phone


@dataclass
class MonitorResult:
    events: int
    file: Path
    detached: str | None  # why the session ended early ("process-terminated", ...), None when we stopped
    java: bool | None


def _frida() -> Any:
    try:
        import frida
    except ImportError:
        raise MonitorError("frida is not installed: pip install 'divulge[runtime]' (or pip install frida)") from None
    return frida


def _device(frida: Any, spec: str) -> Any:
    try:
        if spec == "local":
            return frida.get_local_device()
        if spec == "usb":
            return frida.get_usb_device(timeout=5)
        return frida.get_device_manager().add_remote_device(spec)
    except (frida.InvalidArgumentError, frida.TimedOutError, frida.ServerNotRunningError,
            frida.TransportError) as exc:
        raise MonitorError(f"no Frida device {spec!r}: {exc} (is frida-server running on the phone?)") from None


class _Writer:
    """Appends one JSON object per line and flushes each, from Frida's message thread."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = path.open("a", encoding="utf-8")
        self._lock = threading.Lock()
        self.calls = 0
        self.java: bool | None = None

    def write(self, record: dict[str, Any]) -> None:
        with self._lock:
            if record.get("type") == "call":
                self.calls += 1
            elif record.get("type") == "ready":
                self.java = bool(record.get("java"))
            self._handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            self._handle.flush()

    def close(self) -> None:
        with self._lock:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._handle.close()


def run_monitor(target: MonitorTarget, session_dir: Path, *, duration: float | None = None,
                stop: threading.Event | None = None, on_event: Callable[[dict[str, Any]], None] | None = None,
                agent: Path = BUNDLE) -> MonitorResult:
    """Monitor until `duration` seconds pass, `stop` is set, or the process ends; returns what was recorded."""
    frida = _frida()
    if not agent.is_file():
        raise MonitorError("the agent bundle is missing: run `make agent`", path=str(agent))
    device = _device(frida, target.device)
    stop = stop or threading.Event()
    detached: list[str] = []
    writer = _Writer(session_dir / RUNTIME_FILE)
    pid: int | None = None
    try:
        try:
            if target.spawn:
                program = list(target.spawn)
                pid = device.spawn(program if len(program) > 1 or target.device == "local" else program[0])
            elif target.pid is not None:
                pid = target.pid
            elif target.name:
                pid = device.get_process(target.name).pid
            else:
                raise MonitorError("give a process: --pid, --attach NAME or --spawn PROGRAM")
            session = device.attach(pid)
        except frida.ProcessNotFoundError as exc:
            raise MonitorError(f"no such process: {exc}") from None
        except frida.ExecutableNotFoundError as exc:
            raise MonitorError(f"cannot spawn it: {exc} (is the app installed?)") from None
        except (frida.PermissionDeniedError, frida.NotSupportedError) as exc:
            raise MonitorError(f"cannot attach: {exc} (root, or ptrace_scope, or frida-gadget)") from None

        def on_detached(reason: str, *_: Any) -> None:
            if str(reason) == "application-requested":
                return  # our own detach at the end
            detached.append(str(reason))
            stop.set()

        session.on("detached", on_detached)

        def on_message(message: dict[str, Any], _data: Any) -> None:
            if message.get("type") == "send" and isinstance(message.get("payload"), dict):
                record = message["payload"]
            else:  # a script error: kept in the file, so the report can say the agent broke and where
                record = {"type": "error", "t": time.time(), "description": message.get("description"),
                          "stack": message.get("stack")}
            writer.write(record)
            if on_event is not None:
                on_event(record)

        try:
            script = session.create_script(agent.read_text(encoding="utf-8"), name="divulge")
            script.on("message", on_message)
            script.load()
            script.exports_sync.init(hook_plan())
        except (frida.InvalidArgumentError, frida.InvalidOperationError, frida.TransportError) as exc:
            raise MonitorError(f"the agent could not be loaded: {exc}") from None
        if target.spawn:
            device.resume(pid)
        stop.wait(duration)
        if not detached:
            try:
                session.detach()
            except (frida.InvalidOperationError, frida.TransportError) as exc:
                detached.append(f"gone before detach ({exc})")  # it ended between the wait and the detach
    finally:
        writer.close()
    return MonitorResult(events=writer.calls, file=session_dir / RUNTIME_FILE,
                         detached=detached[0] if detached else None, java=writer.java)
