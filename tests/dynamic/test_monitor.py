"""`divulge monitor` for real: Frida attaches to local processes that read the MAC address natively, the agent bundle
loads and hooks, events land in runtime.jsonl as they happen; the Java half is judged on a recorded stream."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scanner.dynamic.agent_build import BUNDLE, DIGEST, source_digest
from scanner.dynamic.marks import append_mark
from scanner.dynamic.runtime import read_runtime
from scanner.errors import BadCapture
from scanner.knowledge.runtime import glob_regex, hook_plan
from scanner.knowledge.sdks import shared_catalog
from scanner.scan import ScanOptions, run_scan

frida = pytest.importorskip("frida")
from scanner.dynamic.monitor import MonitorError, MonitorTarget, run_monitor  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
RECORDED = REPO / "fixtures" / "runtime" / "sdk-before-consent"
DIVULGE = [str(Path(sys.executable).with_name("divulge"))]

READER_C = r"""
#include <fcntl.h>
#include <ifaddrs.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
/* Reads the MAC address three ways, like a device-fingerprinting SDK's native code, ROUNDS times. */
int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 20;
  int pause_ms = argc > 2 ? atoi(argv[2]) : 20;
  for (int i = 0; i < rounds; i++) {
    struct ifaddrs *list;
    if (getifaddrs(&list) == 0) freeifaddrs(list);
    char buf[64];
    int fd = open("/sys/class/net/lo/address", O_RDONLY);
    if (fd >= 0) { if (read(fd, buf, sizeof buf) < 0) return 1; close(fd); }
    FILE *arp = fopen("/proc/net/arp", "r");
    if (arp) fclose(arp);
    int other = open("/etc/hostname", O_RDONLY); /* not personal data: not reported */
    if (other >= 0) close(other);
    usleep(pause_ms * 1000);
  }
  return 0;
}
"""


@pytest.fixture(scope="module")
def reader(tmp_path_factory: pytest.TempPathFactory) -> Path:
    compiler = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if compiler is None:
        pytest.fail("a C compiler is needed to build the test process (apt-get install gcc)")
    folder = tmp_path_factory.mktemp("reader")
    (folder / "reader.c").write_text(READER_C)
    subprocess.run([compiler, "-O0", "-o", str(folder / "reader"), str(folder / "reader.c")], check=True)
    return folder / "reader"


def test_the_committed_agent_bundle_is_built_from_its_sources() -> None:
    assert BUNDLE.is_file() and DIGEST.read_text().strip() == source_digest(), "run `make agent`"


def test_a_spawned_process_is_hooked_from_its_first_read(reader: Path, tmp_path: Path) -> None:
    result = run_monitor(MonitorTarget(spawn=(str(reader), "12")), tmp_path, duration=20)
    assert result.detached == "process-terminated" and result.java is False
    lines = [json.loads(line) for line in (tmp_path / "runtime.jsonl").read_text().splitlines()]
    assert lines[0]["type"] == "ready" and lines[0]["java"] is False
    report = read_runtime(tmp_path, shared_catalog(None))
    counts = {c.api: c.count for c in report.calls}
    # fopen ends in openat inside libc: each read is counted once; /etc/hostname is no personal data.
    assert counts == {"getifaddrs": 12, "open /sys/class/net/lo/address": 12, "open /proc/net/arp": 12}
    assert {(c.identifier, c.origin, c.kind) for c in report.calls} == {("mac_address", "app", "native")}
    assert all(c.caller.startswith("reader!") for c in report.calls)
    assert report.events == 36 == result.events


def test_attach_mark_consent_then_scan(reader: Path, tmp_path: Path) -> None:
    process = subprocess.Popen([str(reader), "60", "50"])
    try:
        time.sleep(0.2)
        import threading

        stop = threading.Event()
        marker = threading.Timer(1.2, lambda: append_mark(tmp_path, "consent"))
        marker.start()
        result = run_monitor(MonitorTarget(pid=process.pid), tmp_path, duration=2.5, stop=stop)
        marker.join()
    finally:
        process.kill()
        process.wait()
    assert result.detached is None and result.events > 0
    report = read_runtime(tmp_path, shared_catalog(None))
    phases = {c.phase for c in report.calls}
    assert phases == {"before_consent", "after_consent"}
    scan = run_scan(ScanOptions(runtime=(tmp_path,)))
    before = [f for f in scan.findings if f.rule_id == "DVG-RUNTIME-001"]
    assert len(before) == 1 and before[0].basis == "behaviour"
    assert "before consent" in before[0].message and before[0].evidence[0].kind == "runtime"


def test_the_recorded_java_session_is_attributed() -> None:
    report = read_runtime(RECORDED, shared_catalog(None))
    by_caller = {(c.caller, c.phase): c for c in report.calls}
    imei = by_caller[("com.umeng.commonsdk.statistics.common.DeviceConfig.getImeiNew", "before_consent")]
    assert (imei.sdk, imei.origin, imei.identifier, imei.count, imei.values) == ("umeng-analytics", "sdk", "imei", 2, 1)
    location = by_caller[("androidx.core.location.LocationManagerCompat.getLastKnownLocation", "before_consent")]
    assert location.origin == "library" and location.reached_from == "com.example.news.weather.LocalWeather.refresh [app]"
    gdt = by_caller[("com.qq.e.comm.managers.status.DeviceStatus.getAndroidId", "after_consent")]
    assert (gdt.sdk, gdt.count, gdt.per_minute) == ("tencent-gdt", 31, 30.0)
    contacts = by_caller[("com.example.news.share.ContactPicker.load", "after_consent")]
    assert contacts.data_type == "contacts" and contacts.origin == "app"
    # The screenshot `divulge run` took last before each read (or the first one, for reads before any): the dialog
    # for Umeng's start-up reads, the screen after the tap for GDT's polling.
    assert (imei.screen, gdt.screen) == ("screens/001-dialog.png", "screens/002-after-tap.png")
    requests = sorted(c.api.rsplit(" ", 1)[1] for c in report.calls if c.kind == "permission_request")
    assert requests == ["android.permission.ACCESS_FINE_LOCATION", "android.permission.READ_PHONE_STATE"]
    assert {c.caller for c in report.calls if c.kind == "permission_request"} == {
        "com.example.news.SplashActivity.onCreate"}
    # Settings.Secure.getString of another setting is no personal data; the cut last line is a warning.
    assert not any(c.caller.startswith("androidx.core.provider") for c in report.calls)
    assert any("unreadable line skipped" in w for w in report.warnings)
    assert any("could not hook" in w for w in report.warnings)


def test_the_recorded_session_against_a_declaration() -> None:
    result = run_scan(ScanOptions(runtime=(RECORDED,), policy=REPO / "fixtures" / "declarations" / "news_cn.privacy.yaml"))
    rules = sorted(f.rule_id for f in result.findings if f.rule_id.startswith("DVG-RUNTIME"))
    # Umeng's IMEI and Android ID and the app's location before consent; GDT (not in the declaration) polling.
    # And the splash screen asking for the phone and location permissions before consent.
    assert rules == ["DVG-RUNTIME-001", "DVG-RUNTIME-001", "DVG-RUNTIME-001", "DVG-RUNTIME-003", "DVG-RUNTIME-004",
                     "DVG-RUNTIME-005", "DVG-RUNTIME-005"]
    undisclosed = next(f for f in result.findings if f.rule_id == "DVG-RUNTIME-003")
    assert undisclosed.sdk == "tencent-gdt" and "31 time(s)" in undisclosed.message
    assert result.runtime is not None and result.runtime.java is True


def test_bad_runtime_input_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(BadCapture, match="runtime.jsonl not found"):
        read_runtime(tmp_path, shared_catalog(None))
    (tmp_path / "runtime.jsonl").write_bytes(b"\xff\xfe\x00garbage\n[1, 2]\n")
    report = read_runtime(tmp_path, shared_catalog(None))
    assert report.calls == [] and len(report.warnings) == 2
    proc = subprocess.run([*DIVULGE, "scan", "--runtime", str(tmp_path / "missing")], capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1


@pytest.mark.parametrize(("args", "message"), [
    (["--pid", "999999"], "no such process"),
    (["--device", "usb", "--attach", "com.example"], "no Frida device 'usb'"),
    (["--spawn", "/nonexistent/program"], "cannot spawn it"),
])
def test_monitor_errors_are_one_line_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    proc = subprocess.run([*DIVULGE, "monitor", *args, "-o", str(tmp_path), "--duration", "1"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and proc.stderr.count("\n") == 1


def test_monitor_error_type() -> None:
    with pytest.raises(MonitorError, match="give a process"):
        run_monitor(MonitorTarget(), Path("/tmp/unused-divulge-session"), duration=0.1)


def test_the_hook_plan_is_the_api_catalog() -> None:
    plan = hook_plan()
    java = {(h["class"], h["method"]) for h in plan["java"]}
    assert ("android.telephony.TelephonyManager", "getImei") in java
    assert ("android.content.ContentResolver", "query") in java
    assert glob_regex("/sys/class/net/*/address") in plan["native"]["paths"]
    assert "ro.serialno" in plan["native"]["properties"]
