"""`divulge report`: re-render saved findings into several formats; bad input exits 2 with one clear line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from scanner.reports import ReportFormat, load_findings, write_reports

from scanner.cli import main


def _saved(builder, tmp_path: Path) -> Path:
    path = tmp_path / "findings.json"
    path.write_text(write_reports(builder.sample_result(), [ReportFormat.JSON], "en")["json"], encoding="utf-8")
    return path


def test_report_writes_every_format(builder, tmp_path: Path) -> None:
    saved = _saved(builder, tmp_path)
    out = tmp_path / "out"
    run = CliRunner().invoke(main, ["report", str(saved), "--format", "html,json,sarif,md,junit,text", "--lang", "zh",
                                    "-o", str(out)])
    assert run.exit_code == 0, run.output
    assert sorted(p.name for p in out.iterdir()) == ["findings.json", "findings.sarif", "junit.xml", "report.html",
                                                    "report.txt", "summary.md"]
    assert "结论" in (out / "report.html").read_text(encoding="utf-8")
    assert load_findings(out / "findings.json") == load_findings(saved)


def test_single_format_goes_to_stdout(builder, tmp_path: Path) -> None:
    run = CliRunner().invoke(main, ["report", str(_saved(builder, tmp_path)), "--format", "md"])
    assert run.exit_code == 0
    assert run.output.startswith("## divulge: privacy findings for Demo Shop")


def test_wrong_schema_version_exits_2(builder, tmp_path: Path) -> None:
    saved = _saved(builder, tmp_path)
    document = json.loads(saved.read_text(encoding="utf-8"))
    document["schema"] = "divulge/findings/9"
    saved.write_text(json.dumps(document), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "scanner.cli", "report", str(saved)], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (f"divulge: error: {saved}: unsupported findings version 'divulge/findings/9': "
                                   "this divulge reads 'divulge/findings/1'; re-run `divulge scan` with this version")
    assert "Traceback" not in proc.stderr


def test_usage_errors_exit_2(builder, tmp_path: Path) -> None:
    saved = _saved(builder, tmp_path)
    assert CliRunner().invoke(main, ["report", str(saved), "--format", "pdf"]).exit_code == 2
    several = CliRunner().invoke(main, ["report", str(saved), "--format", "html,json"])
    assert several.exit_code == 2 and "several formats need -o DIR" in several.output
    missing = CliRunner().invoke(main, ["report", str(tmp_path / "nope.json")])
    assert missing.exit_code == 2 and "no such file" in missing.output
