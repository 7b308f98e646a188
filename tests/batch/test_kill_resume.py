"""kill -9 in the middle of a batch, then --resume: every app exactly once, the same counts as a clean run."""

from __future__ import annotations

import csv
import os
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
APPS = {f"slow-{n}-{i}": n for n in ("weather", "shopping", "news_cn", "utility") for i in range(3)}
ENV = {"DIVULGE_BATCH_TEST_FAULTS": "1", "DIVULGE_BATCH_TEST_SLOW": "0.4"}


def done_count(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=1) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM apps").fetchone()[0])
    except sqlite3.OperationalError:  # the schema is not created yet
        return 0


def per_app(db: Path) -> dict[str, tuple]:
    with sqlite3.connect(db) as conn:
        return {r[0]: r[1:] for r in conn.execute(
            "SELECT a.app_id, a.status, a.findings, (SELECT COUNT(*) FROM findings f WHERE f.app_id=a.app_id), "
            "(SELECT COUNT(*) FROM sdks s WHERE s.app_id=a.app_id), a.apk_sha256 FROM apps a")}


def test_kill_9_then_resume(tmp_path: Path, make_input, run_divulge) -> None:
    source = make_input(tmp_path / "in", good=(), bad=(), extra=APPS)
    clean = run_divulge("batch", str(source), "-o", str(tmp_path / "clean"), "--workers", "2", env=ENV)
    assert clean.returncode == 0, clean.stderr

    out = tmp_path / "out"
    db = out / "batch.sqlite"
    proc = subprocess.Popen([sys.executable, "-m", "scanner.cli", "batch", str(source), "-o", str(out),
                             "--workers", "2"], cwd=REPO, env={**os.environ, **ENV}, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while done_count(db) < 3 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    before = done_count(db)
    os.killpg(proc.pid, signal.SIGKILL)  # the coordinator, its forkserver and every worker
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert 3 <= before < len(APPS), f"kill landed outside the batch ({before} apps done)"

    resumed = run_divulge("batch", str(source), "-o", str(out), "--workers", "2", "--resume", env=ENV)
    assert resumed.returncode == 0, resumed.stderr
    assert "apps already done" in resumed.stderr

    got, want = per_app(db), per_app(tmp_path / "clean" / "batch.sqlite")
    assert sorted(got) == sorted(APPS)  # every app exactly once (app_id is the key)
    assert got == want  # same status, findings, SDKs and APK hash per app as the clean run
    with sqlite3.connect(db) as conn:
        runs = conn.execute("SELECT status, apps_scanned FROM runs ORDER BY run_id").fetchall()
    # The killed run is marked aborted; the resumed run scanned only what had not been committed.
    assert runs[0][0] == "aborted" and runs[1][0] == "finished"
    assert runs[1][1] <= len(APPS) - before
    assert not list((out / "apps").glob(".*.partial"))
    with (out / "findings.csv").open() as a, (tmp_path / "clean" / "findings.csv").open() as b:
        assert len(list(csv.reader(a))) == len(list(csv.reader(b)))
    verify = run_divulge("verify", str(out))
    assert verify.returncode == 0, verify.stdout


def test_resume_rescans_only_changed_apks(tmp_path: Path, make_input, run_divulge, db_rows) -> None:
    source = make_input(tmp_path / "in", good=("weather", "utility"), bad=())
    out = tmp_path / "out"
    assert run_divulge("batch", str(source), "-o", str(out)).returncode == 0
    with zipfile.ZipFile(source / "utility.apk", "a") as zf:  # a new build of the app arrives
        zf.writestr("assets/new.txt", "v2")
    proc = run_divulge("batch", str(source), "-o", str(out), "--resume")
    assert proc.returncode == 0, proc.stderr
    assert db_rows(out / "batch.sqlite", "SELECT app_id, attempts, run_id FROM apps ORDER BY app_id") == [
        ("utility", 2, 2), ("weather", 1, 1)]
    assert run_divulge("verify", str(out)).returncode == 0
