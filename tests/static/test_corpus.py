"""Every real third-party APK of the shared corpus scans cleanly, with a readable identity."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scanner.static import analyze_apk

CORPUS_NAMES = sorted(p.name for p in (Path(__file__).resolve().parents[3] / "shared" / "reference" / "corpus" /
                                       "apks").glob("*.apk"))


@pytest.mark.parametrize("name", CORPUS_NAMES or ["(corpus missing)"])
def test_corpus_apk_identity(shared_reference: Path, name: str) -> None:
    path = shared_reference / "corpus" / "apks" / name
    assert path.is_file(), f"corpus APK {path} missing"
    report = analyze_apk(path)
    app = report.app
    assert app.package and re.fullmatch(r"[A-Za-z0-9_.]+", app.package)
    assert len(app.sha256) == 64
    # versionName="@string/..." is a resource id in the binary manifest: we show the string it names.
    assert app.version_name is None or not re.fullmatch(r"@(0x)?[0-9A-Fa-f]{8}", app.version_name), app.version_name
    assert app.label is None or not app.label.startswith("@"), app.label
