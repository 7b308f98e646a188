"""Generic packer signs: a stub Application that loads code, components without classes, a tiny dex beside
encrypted-looking files. The static view is then called a lower bound, and ordinary apps are left alone."""

from __future__ import annotations

import random
import shutil
import zipfile
from pathlib import Path

import pytest

from scanner.entropy import entropy_bits as entropy
from scanner.static.analyze import analyze_apk
from scanner.static.hidden_code import BLOB_MIN_BYTES

REPO = Path(__file__).resolve().parents[2]
APKS = REPO / "fixtures" / "apks"
CORPUS = REPO.parent / "shared" / "reference" / "corpus"


def _with_asset(tmp_path: Path, source: str, name: str, data: bytes) -> Path:
    apk = tmp_path / f"{source}+asset.apk"
    shutil.copyfile(APKS / f"{source}.apk", apk)
    with zipfile.ZipFile(apk, "a") as archive:
        archive.writestr(zipfile.ZipInfo(name), data, compress_type=zipfile.ZIP_STORED)
    return apk


def _random(size: int, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(size)


def test_a_stub_application_that_loads_code_is_named_with_its_evidence() -> None:
    report = analyze_apk(APKS / "stubbed.apk")
    signs = " | ".join(report.hidden_code)
    assert "com.shell.StubApp lives outside the app's package" in signs
    assert "dalvik.system.DexClassLoader.<init>" in signs
    assert "2 of the app's own manifest components have no class" in signs
    [warning] = [w for w in report.warnings if "hidden from static analysis" in w]
    assert "lower bound" in warning


def test_an_encrypted_payload_beside_the_stub_is_listed(tmp_path: Path) -> None:
    report = analyze_apk(_with_asset(tmp_path, "stubbed", "assets/ijm_lib/payload.dat", _random(BLOB_MIN_BYTES * 2)))
    [blobs] = [s for s in report.hidden_code if s.startswith("large files that look encrypted")]
    assert "assets/ijm_lib/payload.dat (524,288 bytes" in blobs


def test_a_tiny_dex_beside_an_encrypted_blob_is_enough(tmp_path: Path) -> None:
    report = analyze_apk(_with_asset(tmp_path, "utility", "assets/x.bin", _random(BLOB_MIN_BYTES + 1)))
    assert any(s.startswith("the dex files define only 3 classes") for s in report.hidden_code)


@pytest.mark.parametrize(("name", "data"), [
    ("assets/photo.png", b"\x89PNG\r\n\x1a\n" + _random(BLOB_MIN_BYTES)),  # media is random-looking by nature
    ("assets/small.bin", _random(BLOB_MIN_BYTES - 1)),  # too small to hold an app
    ("assets/text.txt", b"lorem ipsum dolor sit amet " * 20000),  # large but plain
])
def test_ordinary_assets_are_no_sign(tmp_path: Path, name: str, data: bytes) -> None:
    report = analyze_apk(_with_asset(tmp_path, "utility", name, data))
    assert report.hidden_code == []
    assert not any("hidden from static analysis" in w for w in report.warnings)


def test_entropy() -> None:
    assert entropy(b"") == 0.0 and entropy(b"aaaa") == 0.0
    assert entropy(bytes(range(256)) * 4) == pytest.approx(8.0)


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/reference corpus not present")
def test_no_real_app_in_the_corpus_looks_packed() -> None:
    paths = sorted(CORPUS.glob("*/*.apk")) + sorted(CORPUS.glob("*/*.apks"))
    assert len(paths) >= 16
    flagged = {p.name: analyze_apk(p).hidden_code for p in paths}
    assert {name: signs for name, signs in flagged.items() if signs} == {}
