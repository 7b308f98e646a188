"""Helpers of the static tests: real fixture APKs with entries added, as packers, frameworks and SDKs add them."""

from __future__ import annotations

import functools
import importlib.util
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


@pytest.fixture
def weather_with(tmp_path: Path) -> Callable[[dict[str, bytes]], Path]:
    """A copy of the weather fixture APK with more zip entries (the signature no longer matters to us)."""
    def make(entries: dict[str, bytes]) -> Path:
        apk = tmp_path / "app.apk"
        shutil.copyfile(FIXTURES / "apks" / "weather.apk", apk)
        with zipfile.ZipFile(apk, "a", zipfile.ZIP_DEFLATED) as archive:
            for name, data in entries.items():
                archive.writestr(name, data)
        return apk

    return make


@pytest.fixture(scope="session")
def exodus_trackers(shared_reference: Path) -> Callable[[Path], tuple[dict, ...]]:
    """exodus-core (bench/exodus_peer.py) with the stored Exodus list: each APK is run once per test process."""
    spec = importlib.util.spec_from_file_location("exodus_peer", FIXTURES.parent / "bench" / "exodus_peer.py")
    assert spec and spec.loader
    peer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(peer)
    exodus_json = shared_reference / "sdk-signatures" / "exodus-trackers.json"

    @functools.cache
    def run(apk: Path) -> tuple[dict, ...]:
        return tuple(peer.exodus_trackers(apk, exodus_json))

    return run
