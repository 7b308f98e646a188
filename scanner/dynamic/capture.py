"""`divulge capture`: run mitmdump with the divulge addon, tell the tester how to set the device up, and stop cleanly."""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from scanner.dynamic import addon as addon_module
from scanner.dynamic.device import load_device_profile
from scanner.dynamic.session import DEVICE_FILE, PROXY_FILE, SESSION_FILE, SESSION_SCHEMA
from scanner.errors import ProxyError

log = logging.getLogger(__name__)

DEFAULT_CONFDIR = Path("~/.divulge/mitmproxy")  # per user: the device trusts one CA for all sessions
CA_CERT = "mitmproxy-ca-cert.cer"
_KEY_FILES = ("mitmproxy-ca.pem", "mitmproxy-ca.p12")


@dataclass(frozen=True)
class CaptureOptions:
    output: Path
    listen_host: str = "127.0.0.1"
    listen_port: int = 8080
    mode: str = "forward"
    device: Path | None = None
    first_party: tuple[str, ...] = ()
    app: Path | None = None
    proxy_auth: str | None = None  # user:password, required off loopback
    sinkhole_status: int = 204
    confdir: Path | None = None  # None: DEFAULT_CONFDIR; pass SESSION/ca for a per-session CA
    sdk_db: Path | None = None


def addon_path() -> Path:
    """The addon file for `mitmdump -s`."""
    return Path(addon_module.__file__).resolve()


def mitmdump_executable() -> str:
    beside = Path(sys.executable).with_name("mitmdump")
    if beside.exists():
        return str(beside)
    found = shutil.which("mitmdump")
    if not found:
        raise ProxyError("mitmdump not found next to this Python or on PATH (pip install mitmproxy)")
    return found


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_options(options: CaptureOptions) -> list[str]:
    """Refuse unsafe settings before anything starts; returns warnings to show."""
    warnings = []
    if options.mode not in addon_module.MODES:
        raise ProxyError(f"unknown mode {options.mode!r}: use forward or sinkhole")
    if not 0 <= options.listen_port <= 65535:
        raise ProxyError(f"listen port {options.listen_port} out of range")
    if not is_loopback(options.listen_host):
        if not options.proxy_auth or ":" not in options.proxy_auth:
            raise ProxyError(f"listening on {options.listen_host or 'all interfaces'} exposes the proxy to the network: "
                             "give --proxy-auth USER:PASSWORD (or listen on 127.0.0.1)")
        warnings.append(f"the proxy listens on {options.listen_host or 'all interfaces'}, reachable from the "
                        "network; only clients with the proxy password can use it")
    if options.device is not None:
        load_device_profile(options.device)  # a bad profile stops us before the proxy starts
    return warnings


def mitmdump_command(options: CaptureOptions, first_party: list[str], confdir: Path) -> list[str]:
    cmd = [mitmdump_executable(), "--listen-host", options.listen_host, "--listen-port", str(options.listen_port),
           "-s", str(addon_path()), "--set", f"confdir={confdir}", "--set", "flow_detail=0",
           "--set", f"divulge_session={options.output}", "--set", f"divulge_mode={options.mode}",
           "--set", f"divulge_sinkhole_status={options.sinkhole_status}"]
    if options.mode == "sinkhole":
        cmd += ["--set", "connection_strategy=lazy"]
    if options.device is not None:
        cmd += ["--set", f"divulge_device={options.device.resolve()}"]
    if options.sdk_db is not None:
        cmd += ["--set", f"divulge_sdk_db={options.sdk_db.resolve()}"]
    for domain in first_party:
        cmd += ["--set", f"divulge_first_party={domain}"]
    if options.proxy_auth:
        cmd += ["--set", f"proxyauth={options.proxy_auth}"]
    return cmd


def prepare_confdir(confdir: Path) -> Path:
    confdir = confdir.expanduser().resolve()
    confdir.mkdir(parents=True, exist_ok=True)
    os.chmod(confdir, 0o700)
    return confdir


def protect_keys(confdir: Path) -> None:
    """The CA private key lets anyone who reads it intercept the device's traffic: owner-only."""
    for name in _KEY_FILES:
        path = confdir / name
        if path.exists() and stat.S_IMODE(path.stat().st_mode) != 0o600:
            os.chmod(path, 0o600)


class ProxyProcess:
    """A running mitmdump with the addon; `start()` waits until it listens and returns the address."""

    def __init__(self, command: list[str], session: Path, confdir: Path, log_file: IO[bytes] | None = None) -> None:
        self.command = command
        self.session = session
        self.confdir = confdir
        self.log_file = log_file
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> tuple[str, int]:
        (self.session / PROXY_FILE).unlink(missing_ok=True)
        stdout: Any = self.log_file if self.log_file is not None else None
        self.process = subprocess.Popen(self.command, stdout=stdout, stderr=subprocess.STDOUT if stdout else None,
                                        stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        proxy_file = self.session / PROXY_FILE
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ProxyError(f"mitmdump exited with status {self.process.returncode} before listening "
                                 "(port in use, or a bad option: see its messages above)")
            if proxy_file.exists():
                info = json.loads(proxy_file.read_text())
                protect_keys(self.confdir)
                if info.get("listen"):
                    host, port = info["listen"][0][:2]
                    return str(host), int(port)
            time.sleep(0.05)
        self.stop()
        raise ProxyError(f"mitmdump did not start listening within {timeout:.0f} s")

    def wait(self) -> int:
        assert self.process is not None
        return self.process.wait()

    def stop(self, timeout: float = 10.0) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGINT)  # mitmdump shuts down cleanly on SIGINT, closing files
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def setup_instructions(host: str, port: int, confdir: Path, options: CaptureOptions) -> str:
    shown = host if is_loopback(options.listen_host) else "<this machine's address on the device's network>"
    lines = [
        f"divulge: capturing to {options.output} ({options.mode} mode"
        + (f", every request answered {options.sinkhole_status}, nothing leaves this machine" if options.mode ==
           "sinkhole" else ", requests are relayed to the real servers") + ")",
        f"  proxy:          {shown}:{port}  (HTTP proxy; on an emulator on this machine use 10.0.2.2:{port},"
        f" or `adb reverse tcp:{port} tcp:{port}` and 127.0.0.1:{port})",
        f"  CA certificate: {confdir / CA_CERT}  (install on the device; the key beside it is kept 0600)",
        "  Android 7+: apps trust user-installed CAs only if their network security config says so;"
        " use a debug build, a rooted emulator with the CA in the system store, or an app that opts in.",
        "  consent marks: `divulge mark consent|refuse|NAME`"
        " (or open http://divulge.mark/consent through the proxy)",
        "  stop with Ctrl-C; flows and observations are written as they happen.",
    ]
    return "\n".join(lines)


def write_session_settings(options: CaptureOptions, first_party: list[str], confdir: Path) -> None:
    options.output.mkdir(parents=True, exist_ok=True)
    if options.device is not None:
        shutil.copyfile(options.device, options.output / DEVICE_FILE)
    settings = {
        "schema": SESSION_SCHEMA, "started": time.time(), "mode": options.mode, "first_party": first_party,
        "listen_host": options.listen_host, "listen_port": options.listen_port, "confdir": str(confdir),
        "app": str(options.app) if options.app else None, "sinkhole_status": options.sinkhole_status,
    }
    (options.output / SESSION_FILE).write_text(json.dumps(settings, indent=2) + "\n")


def run_capture(options: CaptureOptions, say: Callable[[str], None]) -> int:
    """Run until interrupted; returns mitmdump's exit status. `say` prints to the tester (stderr)."""
    for warning in check_options(options):
        say(f"divulge: warning: {warning}")
    first_party = list(options.first_party)
    confdir = prepare_confdir(options.confdir or DEFAULT_CONFDIR)
    write_session_settings(options, first_party, confdir)
    proxy = ProxyProcess(mitmdump_command(options, first_party, confdir), options.output, confdir)
    host, port = proxy.start()
    say(setup_instructions(host, port, confdir, options))
    try:
        return proxy.wait()
    except KeyboardInterrupt:
        say("divulge: stopping the proxy")
        code = proxy.stop()
        return 0 if code in (0, None, -signal.SIGINT, 130) else code


def send_mark(name: str, proxy: str, proxy_auth: str | None = None, timeout: float = 5.0) -> str:
    """Set a mark in a running capture by a request through its proxy to http://divulge.mark/NAME."""
    import base64
    import urllib.error
    import urllib.request

    from scanner.dynamic.marks import MARK_HOST, mark_name

    name = mark_name(name)
    handler = urllib.request.ProxyHandler({"http": f"http://{proxy}"})
    request = urllib.request.Request(f"http://{MARK_HOST}/{name}")
    if proxy_auth:
        token = base64.b64encode(proxy_auth.encode()).decode()
        request.add_header("Proxy-Authorization", f"Basic {token}")
    try:
        with urllib.request.build_opener(handler).open(request, timeout=timeout) as response:
            body = response.read().decode("utf-8", "replace").strip()
    except (urllib.error.URLError, OSError) as exc:
        raise ProxyError(f"cannot reach the capture proxy at {proxy}: {getattr(exc, 'reason', exc)} "
                         "(is `divulge capture` running? or use --session DIR)") from None
    if not body.startswith("divulge: marked"):
        raise ProxyError(f"the proxy at {proxy} is not a divulge capture (answer: {body[:80]!r})")
    return name
