"""Helpers of the static tests: real fixture APKs with entries added, as packers, frameworks and SDKs add them."""

from __future__ import annotations

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
