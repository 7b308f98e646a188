"""`divulge batch` end to end in real processes: bad apps become errors with reasons, the rest succeed."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

from scanner.batch.runner import _cell

GOOD = ("weather", "shopping", "news_cn", "utility", "hostile")


def test_bad_apks_are_errors_and_the_rest_succeed(finished_batch: Path, db_rows) -> None:
    db = finished_batch / "batch.sqlite"
    status = dict(db_rows(db, "SELECT app_id, status FROM apps"))
    bad = sorted(p.stem for p in (Path(__file__).resolve().parents[2] / "fixtures" / "bad").glob("*.apk"))
    assert {a: status[a] for a in GOOD} == dict.fromkeys(GOOD, "ok")
    assert {a: status[a] for a in bad} == dict.fromkeys(bad, "error")
    errors = dict(db_rows(db, "SELECT app_id, kind || ': ' || message FROM errors"))
    assert sorted(errors) == bad
    assert all(e.startswith("bad_input: BadApk:") for e in errors.values()), errors
    assert "zip bomb" in errors["zip-bomb"] and "not a zip" in errors["not-a-zip"]
    # Every good app has its reports and manifest; a bad one its error and manifest.
    for app in GOOD:
        assert {p.name for p in (finished_batch / "apps" / app).iterdir()} == {
            "report.html", "findings.json", "evidence.json"}
    assert json.loads((finished_batch / "apps" / "empty" / "error.json").read_text())["kind"] == "bad_input"
    run = db_rows(db, "SELECT status, apps_total, apps_scanned, errors FROM runs")
    assert run == [("finished", len(GOOD) + len(bad), len(GOOD) + len(bad), len(bad))]


def test_store_matches_the_reports(finished_batch: Path, db_rows) -> None:
    db = finished_batch / "batch.sqlite"
    for app in GOOD:
        doc = json.loads((finished_batch / "apps" / app / "findings.json").read_text())
        stored = db_rows(db, f"SELECT rule_id, severity FROM findings WHERE app_id='{app}' ORDER BY seq")
        assert stored == [(f["rule_id"], f["severity"]) for f in doc["findings"]]
        sdks = {r[0] for r in db_rows(db, f"SELECT sdk_id FROM sdks WHERE app_id='{app}'")}
        assert sdks == {s["id"] for s in doc["static"]["sdks"]} if "static" in doc else sdks is not None
    assert db_rows(db, "PRAGMA journal_mode") == [("wal",)]
    # The shopping app carries analytics SDKs: the store must know it.
    assert db_rows(db, "SELECT COUNT(*) FROM sdks WHERE app_id='shopping'")[0][0] >= 2


def test_dashboard_and_csv(finished_batch: Path, db_rows) -> None:
    html = (finished_batch / "dashboard.html").read_text()
    assert "<script src" not in html and "http://" not in html.replace("http://www.w3.org", "")
    for app in GOOD:
        assert f'href="apps/{app}/report.html"' in html
    assert "zip bomb suspected" in html  # the error table
    assert "Firebase" in html or "firebase" in html  # SDK prevalence
    with (finished_batch / "findings.csv").open(newline="") as handle:
        table = list(csv.DictReader(handle))
    total = db_rows(finished_batch / "batch.sqlite", "SELECT COUNT(*) FROM findings")[0][0]
    assert len(table) == total and total > 0
    assert {r["app_id"] for r in table} <= set(GOOD)
    assert all(r["report"].endswith("/report.html") for r in table)


def test_csv_cells_cannot_become_formulas() -> None:
    assert _cell("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    assert _cell("+1") == "'+1" and _cell("@sum") == "'@sum" and _cell("plain") == "plain" and _cell(None) == ""


def test_store_in_use_needs_resume_or_fresh(finished_batch: Path, tmp_path: Path, run_divulge) -> None:
    copy = tmp_path / "out"
    shutil.copytree(finished_batch, copy)
    proc = run_divulge("batch", str(Path(__file__).resolve().parents[2] / "fixtures" / "apks"), "-o", str(copy))
    assert proc.returncode == 2
    assert "already holds" in proc.stderr and "--resume" in proc.stderr


def test_hang_memory_and_crash_are_errors_with_reasons(tmp_path: Path, make_input, run_divulge, db_rows) -> None:
    source = make_input(tmp_path / "in", good=("weather",), bad=(),
                        extra={"x-hang": "weather", "x-oom": "weather", "x-segv": "weather"})
    out = tmp_path / "out"
    proc = run_divulge("batch", str(source), "-o", str(out), "--workers", "2", "--timeout", "6",
                       "--memory-mb", "1500", env={"DIVULGE_BATCH_TEST_FAULTS": "1"})
    assert proc.returncode == 0, proc.stderr
    errors = {r[0]: (r[1], r[2]) for r in db_rows(out / "batch.sqlite", "SELECT app_id, kind, message FROM errors")}
    assert errors["x-hang"][0] == "timeout" and "6 s" in errors["x-hang"][1]
    assert errors["x-oom"][0] == "memory" and "1500 MB" in errors["x-oom"][1]
    assert errors["x-segv"] == ("crashed", "worker killed by SIGSEGV")
    assert db_rows(out / "batch.sqlite", "SELECT status FROM apps WHERE app_id='weather'") == [("ok",)]
    assert "1 ok, 3 errors" in proc.stderr


def test_fail_on_sets_exit_code(tmp_path: Path, make_input, run_divulge, finished_batch: Path, db_rows) -> None:
    worst = db_rows(finished_batch / "batch.sqlite", "SELECT MAX(max_severity) FROM apps")[0][0]
    assert worst is not None, "the fixture apps should have findings"
    source = make_input(tmp_path / "in", good=("news_cn",), bad=())
    proc = run_divulge("batch", str(source), "-o", str(tmp_path / "out"), "--fail-on", "info")
    assert proc.returncode == 1, proc.stderr


def test_dashboard_escapes_app_data_and_speaks_chinese(finished_batch: Path) -> None:
    from scanner.batch.dashboard import render_dashboard
    from scanner.batch.store import Store

    store = Store(finished_batch / "batch.sqlite")
    try:
        html = render_dashboard(store, finished_batch, lang="zh")
    finally:
        store.close()
    assert "&lt;script&gt;alert(" in html and "<script>alert(" not in html  # the hostile fixture's label
    assert "批量检测总览" in html and "各 SDK 将哪些数据发送给谁" in html and 'lang="zh-CN"' in html
