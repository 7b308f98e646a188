"""Every bad input gets one line naming the problem and exit code 2 — never a traceback."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from scanner.errors import BadApk
from scanner.static.archive import open_app

REPO = Path(__file__).resolve().parents[2]
DIVULGE = Path(sys.executable).with_name("divulge")

CASES = {
    "not-a-zip.apk": "not a zip archive",
    "truncated.apk": "truncated or corrupt zip",
    "zip-bomb.apk": "zip bomb",
    "malformed-manifest.apk": "malformed binary AndroidManifest.xml",
    "no-dex.apk": "no classes.dex",
    "empty.apk": "empty file",
}


@pytest.mark.parametrize("name,expected", sorted(CASES.items()))
def test_bad_apk_one_line_exit_2(name: str, expected: str) -> None:
    path = REPO / "fixtures" / "bad" / name
    assert path.is_file(), f"{path} missing: run `make fixtures`"
    proc = subprocess.run([str(DIVULGE), "static", str(path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert expected in lines[0] and name in lines[0]
    assert "Traceback" not in proc.stderr


def test_missing_file_and_directory(tmp_path: Path) -> None:
    for target, expected in ((tmp_path / "nope.apk", "file not found"), (tmp_path, "is a directory")):
        proc = subprocess.run([str(DIVULGE), "static", str(target)], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 2
        assert expected in proc.stderr


def test_corrupt_dex_is_bad_apk(tmp_path: Path, fixture_apk) -> None:
    """A dex whose tables point outside the file is refused by our reader, with the dex named."""
    source = fixture_apk("utility")
    broken = tmp_path / "broken-dex.apk"
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(broken, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "classes.dex":
                data = data[:0x38] + b"\xff\xff\xff\x7f" + data[0x3C:]  # string_ids_size: absurd
            dst.writestr(info, data)
    proc = subprocess.run([str(DIVULGE), "static", str(broken)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert "classes.dex" in proc.stderr and "Traceback" not in proc.stderr


def test_lying_zip_header_is_refused(tmp_path: Path) -> None:
    """An entry that claims a modest size cannot be used to inflate more than it claims."""
    bomb = tmp_path / "ratio.apk"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("AndroidManifest.xml", b"\x03\x00\x08\x00" + b"\x00" * 64)
        archive.writestr("classes.dex", b"\x00" * (64 << 20))  # 64 MiB of zeros: ratio ~1000:1
    with pytest.raises(BadApk, match="zip bomb"):
        open_app(bomb)
