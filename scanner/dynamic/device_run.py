"""`divulge run`: one consent path on a real phone over adb, from a fresh install to the idle minutes after the
choice, with the moments marked and the screens kept as evidence.

Install fresh (data cleared, no runtime permission granted), set the proxy, launch, let the pre-consent window run,
find the privacy dialog by its text (rules/catalogs/consent_dialogs.yaml), tap accept or refuse (or nothing, for
the idle path), mark that moment in the session, then idle or run a bounded monkey. A capture (`divulge capture`)
and a runtime monitor (`divulge monitor`) writing to the same session directory share the timeline.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from scanner.dynamic.consent_ui import DialogNotFound, find_button, parse_dump
from scanner.dynamic.marks import append_mark
from scanner.errors import DivulgeError

RUN_FILE = "run.json"
REMOTE_APK = "/data/local/tmp/divulge-app.apk"
REMOTE_DUMP = "/sdcard/divulge-ui.xml"
PATHS = ("accept", "refuse", "idle")


class RunError(DivulgeError):
    """No adb server or device, an install that fails, a dialog that never shows: one line, exit 2."""


@dataclass(frozen=True)
class RunOptions:
    apk: Path
    package: str
    path: str  # accept | refuse | idle
    session: Path
    serial: str | None = None
    adb: str = "127.0.0.1:5037"  # the adb server (adb start-server); a phone over TCP is `adb connect` first
    proxy: str | None = None  # host:port set as the phone's global HTTP proxy, cleared afterwards
    pre_consent_s: float = 10.0
    dialog_timeout_s: float = 30.0
    after_s: float = 30.0
    monkey_events: int = 0
    monkey_seed: int = 1


@dataclass
class RunRecord:
    path: str
    package: str
    steps: list[dict[str, Any]] = field(default_factory=list)
    button: dict[str, Any] | None = None

    def step(self, what: str, **details: Any) -> None:
        self.steps.append({"time": time.time(), "step": what, **details})


def _device(options: RunOptions) -> Any:
    try:
        import adbutils
    except ImportError:
        raise RunError("adbutils is not installed: pip install 'divulge[runtime]'") from None
    host, _, port = options.adb.rpartition(":")
    address = (host or "127.0.0.1", int(port or 5037))
    # adbutils starts its own bundled adb daemon when nothing listens; divulge starts no server unasked.
    try:
        socket.create_connection(address, timeout=5).close()
    except OSError as exc:
        raise RunError(f"no adb server at {options.adb} ({exc.strerror or exc}); run `adb start-server`") from None
    client = adbutils.AdbClient(host=address[0], port=address[1])
    try:
        devices = client.device_list()
    except (adbutils.AdbError, OSError) as exc:
        raise RunError(f"no adb server at {options.adb} ({exc}); run `adb start-server`") from None
    serials = [d.serial for d in devices]
    if options.serial:
        if options.serial not in serials:
            raise RunError(f"no device {options.serial!r} on adb (connected: {', '.join(serials) or 'none'})")
        return client.device(serial=options.serial)
    if len(serials) != 1:
        raise RunError(f"{len(serials)} devices on adb ({', '.join(serials) or 'none'}): choose one with --serial")
    return client.device(serial=serials[0])


def _shell(device: Any, command: list[str], **kwargs: Any) -> Any:
    import adbutils

    try:
        return device.shell(command, **kwargs)
    except (adbutils.AdbError, OSError) as exc:
        raise RunError(f"adb shell {' '.join(command)} failed: {exc}") from None


def run_path(options: RunOptions, *, sleep: Callable[[float], None] = time.sleep) -> RunRecord:
    """Run one consent path; the session directory gets run.json, marks, UI dumps and screenshots."""
    if options.path not in PATHS:
        raise RunError(f"consent path {options.path!r}: use {', '.join(PATHS)}")
    if not options.apk.is_file():
        raise RunError("APK not found", path=str(options.apk))
    session = options.session
    (session / "screens").mkdir(parents=True, exist_ok=True)
    record = RunRecord(path=options.path, package=options.package)
    device = _device(options)
    try:
        _fresh_install(device, options, record)
        if options.proxy:
            _shell(device, ["settings", "put", "global", "http_proxy", options.proxy])
            record.step("proxy", proxy=options.proxy)
        _shell(device, ["monkey", "-p", options.package, "-c", "android.intent.category.LAUNCHER", "1"])
        append_mark(session, "launch", source="run")
        record.step("launch")
        sleep(options.pre_consent_s)
        if options.path == "idle":
            _evidence(device, session, record, "idle")
        else:
            _choose(device, options, record, sleep)
        if options.monkey_events:
            _shell(device, ["monkey", "-p", options.package, "--throttle", "300", "-s", str(options.monkey_seed),
                            str(options.monkey_events)], timeout=max(60.0, options.monkey_events * 0.5))
            record.step("monkey", events=options.monkey_events, seed=options.monkey_seed)
        sleep(options.after_s)
        _evidence(device, session, record, "end")
    finally:
        if options.proxy:
            _shell(device, ["settings", "put", "global", "http_proxy", ":0"])
        (session / RUN_FILE).write_text(json.dumps(asdict(record), ensure_ascii=False, indent=2) + "\n",
                                        encoding="utf-8")
    return record


def _fresh_install(device: Any, options: RunOptions, record: RunRecord) -> None:
    import adbutils

    _shell(device, ["pm", "uninstall", options.package])  # "not installed" is fine: the point is a fresh state
    try:
        device.sync.push(options.apk, REMOTE_APK)
    except (adbutils.AdbError, OSError) as exc:
        raise RunError(f"cannot push the APK to the phone: {exc}", path=str(options.apk)) from None
    output = str(_shell(device, ["pm", "install", "-r", "-t", REMOTE_APK], timeout=300))
    if "Success" not in output:
        raise RunError(f"install failed: {output.strip()[:200] or 'no output'}", path=str(options.apk))
    _shell(device, ["pm", "clear", options.package])
    _shell(device, ["rm", "-f", REMOTE_APK])
    record.step("install", apk=str(options.apk), permissions_granted=False)


def _evidence(device: Any, session: Path, record: RunRecord, label: str) -> bytes:
    """A UI dump and a screenshot of this moment, kept in the session; returns the dump."""
    n = sum(1 for s in record.steps if s["step"] == "evidence") + 1
    _shell(device, ["uiautomator", "dump", REMOTE_DUMP], timeout=30)
    dump = _shell(device, ["cat", REMOTE_DUMP], encoding=None)
    screen = _shell(device, ["screencap", "-p"], encoding=None)
    dump_name, screen_name = f"screens/{n:03d}-{label}.xml", f"screens/{n:03d}-{label}.png"
    (session / dump_name).write_bytes(dump)
    (session / screen_name).write_bytes(screen)
    record.step("evidence", label=label, ui=dump_name, screenshot=screen_name)
    return bytes(dump)


def _choose(device: Any, options: RunOptions, record: RunRecord, sleep: Callable[[float], None]) -> None:
    deadline = time.monotonic() + options.dialog_timeout_s
    while True:
        dump = _evidence(device, options.session, record, "dialog")
        try:
            button = find_button(parse_dump(dump, "ui dump from the phone"), options.path)
            break
        except DialogNotFound as exc:
            if time.monotonic() >= deadline:
                raise RunError(f"{exc} within {options.dialog_timeout_s:g} s; the screens are in "
                               f"{options.session / 'screens'}") from None
            sleep(1.0)
    x, y = button.center
    _shell(device, ["input", "tap", str(x), str(y)])
    # The mark is the moment of the tap: what the app reads from here on is after consent (or after refusal).
    append_mark(options.session, "consent" if options.path == "accept" else "refuse", source="run")
    record.button = {"text": button.text, "center": [x, y], "bounds": list(button.bounds),
                     "resource_id": button.resource_id, "dialog": button.dialog_text}
    record.step("tap", path=options.path, text=button.text, x=x, y=y)
    sleep(1.0)
    _evidence(device, options.session, record, "after-tap")
