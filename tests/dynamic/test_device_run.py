"""Automated consent paths: the dialog finder on uiautomator dumps of real-looking consent dialogs, and `divulge run`
end to end against a stand-in for the phone's adb endpoint (adbutils and divulge run for real)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from scanner.dynamic.consent_ui import DialogNotFound, find_button, parse_dump
from scanner.dynamic.marks import read_marks
from scanner.errors import DivulgeError

pytest.importorskip("adbutils")
from scanner.dynamic.device_run import RunError, RunOptions, run_path  # noqa: E402
from tests.dynamic.adb_standin import AdbStandIn, Phone  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
UI = REPO / "fixtures" / "ui"
APK = REPO / "fixtures" / "apks" / "news_cn.apk"
DIVULGE = str(Path(sys.executable).with_name("divulge"))


def _screen(name: str) -> bytes:
    return (UI / name).read_bytes()


@pytest.mark.parametrize(("dump", "path", "text", "center"), [
    ("cn_news_dialog.xml", "accept", "同意", (765, 1640)),
    ("cn_news_dialog.xml", "refuse", "不同意", (315, 1640)),
    ("cn_exit_link_dialog.xml", "accept", "同意并继续", (540, 1410)),
    ("cn_exit_link_dialog.xml", "refuse", "不同意并退出APP", (540, 1540)),
    ("en_shop_dialog.xml", "accept", "ACCEPT ALL", (790, 2130)),
    ("en_shop_dialog.xml", "refuse", "REJECT ALL", (290, 2130)),
])
def test_the_button_for_each_path(dump: str, path: str, text: str, center: tuple[int, int]) -> None:
    button = find_button(parse_dump(_screen(dump)), path)
    assert (button.text, button.center) == (text, center)
    assert button.dialog_text  # the sentence that made it a consent dialog, for the evidence


def test_no_dialog_and_bad_dumps() -> None:
    with pytest.raises(DialogNotFound, match="no privacy consent dialog"):
        find_button(parse_dump(_screen("no_dialog_home.xml")), "accept")  # a bare "确定" is not consent
    with pytest.raises(DivulgeError, match="not a uiautomator dump"):
        parse_dump(b"ERROR: could not get idle state.")
    with pytest.raises(DivulgeError, match="malformed uiautomator dump"):
        parse_dump(b"<hierarchy><node text='x' bounds='[0,0][1,1]'>")
    # The policy link inside the dialog is not the accept button, whatever it says.
    assert find_button(parse_dump(_screen("en_shop_dialog.xml")), "accept").resource_id.endswith("btn_accept")


@pytest.fixture()
def phone() -> Iterator[tuple[Phone, AdbStandIn]]:
    device = Phone(screens=[_screen("no_dialog_home.xml"), _screen("cn_news_dialog.xml"), _screen("no_dialog_home.xml")])
    standin = AdbStandIn(device)
    yield device, standin
    standin.close()


def _options(tmp_path: Path, port: int, path: str, **extra: object) -> RunOptions:
    values: dict[str, object] = {"apk": APK, "package": "org.divulge.fixture.news", "path": path, "session": tmp_path,
                                 "adb": f"127.0.0.1:{port}", "proxy": "10.0.2.2:8080", "pre_consent_s": 0.0,
                                 "dialog_timeout_s": 5.0, "after_s": 0.0}
    values.update(extra)
    return RunOptions(**values)  # type: ignore[arg-type]


def _fast(seconds: float) -> None:
    time.sleep(min(seconds, 0.02))


def test_accept_path_end_to_end(phone: tuple[Phone, AdbStandIn], tmp_path: Path) -> None:
    device, standin = phone
    record = run_path(_options(tmp_path, standin.port, "accept"), sleep=_fast)
    # A fresh install without granted permissions, data cleared, the proxy set and cleared again.
    assert device.pushed["/data/local/tmp/divulge-app.apk"] == APK.read_bytes()
    assert "pm install -r -t /data/local/tmp/divulge-app.apk" in device.commands
    assert not any(" -g" in c for c in device.commands if c.startswith("pm install"))
    assert "pm clear org.divulge.fixture.news" in device.commands
    assert device.commands.index("settings put global http_proxy 10.0.2.2:8080") < device.commands.index(
        "monkey -p org.divulge.fixture.news -c android.intent.category.LAUNCHER 1")
    assert device.commands[-1] == "settings put global http_proxy :0"
    # The dialog showed on the second look; "同意" was tapped and the moment marked.
    assert device.taps == [(765, 1640)]
    assert [m.name for m in read_marks(tmp_path / "marks.jsonl")] == ["launch", "consent"]
    saved = json.loads((tmp_path / "run.json").read_text())
    assert saved["button"]["text"] == "同意" and record.button is not None
    shots = sorted(p.name for p in (tmp_path / "screens").iterdir())
    assert "001-dialog.xml" in shots and "002-dialog.png" in shots and any("after-tap" in s for s in shots)


def test_refuse_and_idle_paths(phone: tuple[Phone, AdbStandIn], tmp_path: Path) -> None:
    device, standin = phone
    run_path(_options(tmp_path / "refuse", standin.port, "refuse"), sleep=_fast)
    assert device.taps == [(315, 1640)]
    assert [m.name for m in read_marks(tmp_path / "refuse" / "marks.jsonl")] == ["launch", "refuse"]
    run_path(_options(tmp_path / "idle", standin.port, "idle"), sleep=_fast)
    assert device.taps == [(315, 1640)]  # idle taps nothing and marks no choice: every read stays pre-consent
    assert [m.name for m in read_marks(tmp_path / "idle" / "marks.jsonl")] == ["launch"]


def test_failures_are_one_line_and_keep_the_evidence(tmp_path: Path) -> None:
    device = Phone(screens=[_screen("no_dialog_home.xml")])
    standin = AdbStandIn(device)
    try:
        with pytest.raises(RunError, match="no privacy consent dialog on the screen .* within 0.2 s"):
            run_path(_options(tmp_path / "nodialog", standin.port, "accept", dialog_timeout_s=0.2), sleep=_fast)
        assert (tmp_path / "nodialog" / "run.json").is_file() and (tmp_path / "nodialog" / "screens").iterdir()
        device.install_output = b"Failure [INSTALL_FAILED_OLDER_SDK]\n"
        with pytest.raises(RunError, match="install failed: Failure \\[INSTALL_FAILED_OLDER_SDK\\]"):
            run_path(_options(tmp_path / "old", standin.port, "accept"), sleep=_fast)
        with pytest.raises(RunError, match="no device 'R58M' on adb"):
            run_path(_options(tmp_path / "serial", standin.port, "accept", serial="R58M"), sleep=_fast)
    finally:
        standin.close()
    with pytest.raises(RunError, match="no adb server at 127.0.0.1:"):
        run_path(_options(tmp_path / "noserver", standin.port, "accept"), sleep=_fast)


def test_divulge_run_cli(phone: tuple[Phone, AdbStandIn], tmp_path: Path) -> None:
    device, standin = phone
    proc = subprocess.run([DIVULGE, "run", str(APK), "--path", "accept", "-o", str(tmp_path), "--adb",
                           f"127.0.0.1:{standin.port}", "--pre-consent", "0", "--after", "0"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "tapped '同意'" in proc.stderr and device.taps == [(765, 1640)]
    bad = subprocess.run([DIVULGE, "run", str(APK), "--path", "accept", "-o", str(tmp_path / "x"), "--adb",
                          "127.0.0.1:1"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "no adb server" in bad.stderr
