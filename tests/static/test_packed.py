"""A packed (hardened) app: the packer is named and every report says static results are a lower bound."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

from scanner.reports import ReportFormat, write_reports

from scanner.model import ScanResult
from scanner.scan import ScanOptions, run_scan
from scanner.static.analyze import analyze_apk

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def _html(result: ScanResult, lang: str = "en") -> str:
    return write_reports(result, [ReportFormat.HTML], lang)["html"]


def _packed(tmp_path: Path, library: str = "lib/arm64-v8a/libjiagu_a64.so") -> Path:
    # A real fixture APK with a packer's native library added, as 360 Jiagu ships it.
    apk = tmp_path / "packed.apk"
    shutil.copyfile(FIXTURES / "apks" / "weather.apk", apk)
    with zipfile.ZipFile(apk, "a") as archive:
        archive.writestr(library, b"\x7fELF" + bytes(60))
    return apk


def test_packer_is_named_and_static_results_are_called_incomplete(tmp_path: Path) -> None:
    report = analyze_apk(_packed(tmp_path))
    assert any(s.id == "qihoo-jiagu" for s in report.sdks)
    assert len(report.warnings) == 1 and "packed by Qihoo 360 Jiagu" in report.warnings[0]
    plain = analyze_apk(FIXTURES / "apks" / "weather.apk")
    assert plain.warnings == []


def test_html_report_lists_input_notes(tmp_path: Path) -> None:
    result = run_scan(ScanOptions(apk=_packed(tmp_path)))
    html = _html(result)
    notes = html.split('<details class="input-notes">', 1)[1].split("</details>", 1)[0]
    assert "notes on the inputs: 1" in notes and "packed by Qihoo 360 Jiagu" in notes
    zh = _html(result, "zh")
    assert "分析局限" in zh
    clean = _html(run_scan(ScanOptions(apk=FIXTURES / "apks" / "weather.apk")))
    assert 'class="input-notes"' not in clean
