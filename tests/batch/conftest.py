"""Fixtures of the batch tests: input folders built from the fixture APKs, and a finished batch to inspect."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
GOOD = ("weather", "shopping", "news_cn", "utility", "hostile")
BAD = tuple(sorted(p.stem for p in (REPO / "fixtures" / "bad").glob("*.apk")))


def make_input(folder: Path, good: tuple[str, ...] = GOOD, bad: tuple[str, ...] = BAD,
               extra: dict[str, str] | None = None) -> Path:
    """A folder of APKs: fixture apps by name, bad APKs, and `extra` new names -> fixture app copies."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in good:
        shutil.copy(REPO / "fixtures" / "apks" / f"{name}.apk", folder / f"{name}.apk")
    for name in bad:
        shutil.copy(REPO / "fixtures" / "bad" / f"{name}.apk", folder / f"{name}.apk")
    for new, source in (extra or {}).items():
        shutil.copy(REPO / "fixtures" / "apks" / f"{source}.apk", folder / f"{new}.apk")
    return folder


def divulge(*args: str, env: dict[str, str] | None = None, timeout: float = 120,
            **kwargs: object) -> subprocess.CompletedProcess[str]:
    """The real CLI in a child process, as a regulator would run it."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "scanner.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env=full_env, cwd=REPO, check=False, **kwargs)  # type: ignore[call-overload]


def rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return list(conn.execute(sql))


@pytest.fixture(scope="session")
def finished_batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One batch over four fixture apps and every bad APK, with 2 workers; the result folder."""
    base = tmp_path_factory.mktemp("batch")
    source = make_input(base / "in")
    out = base / "out"
    proc = divulge("batch", str(source), "-o", str(out), "--workers", "2", "--timeout", "60",
                   "--format", "html,json")
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture(name="make_input", scope="session")
def make_input_fixture():
    return make_input


@pytest.fixture(name="run_divulge", scope="session")
def run_divulge_fixture():
    return divulge


@pytest.fixture(name="db_rows", scope="session")
def db_rows_fixture():
    return rows
