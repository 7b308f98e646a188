"""Shared pytest fixtures: paths to the repo, the shared reference data and the fixture APKs, and tool checks."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_REFERENCE = (REPO.parent / "shared" / "reference").resolve()
FIXTURE_APKS = REPO / "fixtures" / "apks"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def need(condition: bool, why: str) -> None:
    """Skip when something outside the repo is missing; under CI=true that is a failure instead."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required for this test under CI: {why}")
    pytest.skip(why)


@pytest.fixture
def require_tool():
    def _require(name: str) -> str:
        path = shutil.which(name)
        need(path is not None, f"tool {name!r} not on PATH")
        return str(path)

    return _require


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def shared_reference() -> Path:
    need(SHARED_REFERENCE.is_dir(), f"shared reference data not found at {SHARED_REFERENCE}")
    return SHARED_REFERENCE


@pytest.fixture(scope="session")
def fixture_apk():
    def _apk(name: str) -> Path:
        path = FIXTURE_APKS / f"{name}.apk"
        assert path.is_file(), f"fixture APK {path} missing: run `make fixtures`"
        return path

    return _apk
