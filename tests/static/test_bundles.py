"""Split apps: a bundle of APKs (.apks from bundletool, .xapk from APKPure) is analysed as one app.

The fixture bundle keeps its ad SDK only in a feature split and a native library only in the
config split, so a scanner that reads the base APK alone misses both.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from scanner.reports import ReportFormat, write_reports

from scanner.batch.inputs import load_jobs
from scanner.errors import BadApk
from scanner.model import SdkStatus
from scanner.scan import ScanOptions, run_scan
from scanner.static.analyze import analyze_apk

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
DIVULGE = Path(sys.executable).with_name("divulge")
BUNDLES = {
    "splitdemo.apks": ["splits/base-master.apk", "splits/base-arm64_v8a.apk", "splits/feature_ads-master.apk"],
    "splitdemo.xapk": ["org.divulge.fixture.splitdemo.apk", "config.arm64_v8a.apk", "feature_ads.apk"],
}


def _bundle(tmp_path: Path, entries: dict[str, bytes], name: str = "app.apks") -> Path:
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for entry, data in entries.items():
            archive.writestr(entry, data)
    return path


def _splits() -> dict[str, bytes]:
    with zipfile.ZipFile(FIXTURES / "apks" / "splitdemo.apks") as archive:
        return {n: archive.read(n) for n in archive.namelist()}


@pytest.mark.parametrize("name", sorted(BUNDLES))
def test_bundle_is_read_whole(name: str) -> None:
    path = FIXTURES / "apks" / name
    report = analyze_apk(path)
    assert report.app.package == "org.divulge.fixture.splitdemo"
    assert report.app.label == "Split Demo"
    # The hashes are those of the file the user gave, and each APK inside is listed with its own.
    assert report.app.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert report.app.file_name == name
    assert [p.split(" ", 1)[0] for p in report.app.parts] == BUNDLES[name]
    sdks = {s.id: s for s in report.sdks}
    assert sdks["pangle"].status == SdkStatus.WIRED  # code in the feature split, called from it
    assert any(e.basis == "native_lib" and "libBugly.so" in e.detail and "!" in e.detail
               for e in sdks["tencent-bugly"].evidence)  # only in the config split
    calls = [(u.api, u.sdk) for u in report.api_uses]
    assert ("android.telephony.TelephonyManager.getDeviceId", "pangle") in calls
    assert len(report.dex_files) == 2 and any("feature_ads" in d for d in report.dex_files)


def test_plain_apk_lists_no_parts() -> None:
    report = analyze_apk(FIXTURES / "apks" / "weather.apk")
    assert report.app.parts == [] and report.dex_files == ["classes.dex"]


def test_base_found_by_name_without_manifest_hint(tmp_path: Path) -> None:
    splits = _splits()
    path = _bundle(tmp_path, {"base.apk": splits["splits/base-master.apk"],
                              "split_config.arm64_v8a.apk": splits["splits/base-arm64_v8a.apk"]}, "app.apkm")
    report = analyze_apk(path)
    assert report.app.parts[0].startswith("base.apk sha256:")
    assert {s.id for s in report.sdks} == {"tencent-bugly"}


def test_one_config_split_alone_says_give_the_bundle(tmp_path: Path) -> None:
    split = tmp_path / "split_config.arm64_v8a.apk"
    split.write_bytes(_splits()["splits/base-arm64_v8a.apk"])
    with pytest.raises(BadApk, match="one split of a bundle: give the whole .apks/.xapk/.apkm"):
        analyze_apk(split)


@pytest.mark.parametrize("entries,message", [
    ({"readme.txt": b"hello", "data.bin": b"\0" * 10}, r"not an APK \(nor a bundle of split APKs\)"),
    ({"base.apk": b"this is not a zip"}, r"app.apks!base.apk: not a zip archive"),
    ({"base.apk": b"PK\x03\x04" + b"\0" * 40}, r"app.apks!base.apk: truncated or corrupt zip"),
    ({"only-config.apk": b""}, "not a zip archive"),
])
def test_bad_bundles_name_the_apk_inside(tmp_path: Path, entries: dict[str, bytes], message: str) -> None:
    with pytest.raises(BadApk, match=message):
        analyze_apk(_bundle(tmp_path, entries))


def test_bundle_without_base_or_with_two(tmp_path: Path) -> None:
    splits = _splits()
    only_splits = _bundle(tmp_path, {"a.apk": splits["splits/base-arm64_v8a.apk"],
                                     "b.apk": splits["splits/feature_ads-master.apk"]}, "splits.apks")
    with pytest.raises(BadApk, match="has no base APK"):
        analyze_apk(only_splits)
    weather = (FIXTURES / "apks" / "weather.apk").read_bytes()
    two = _bundle(tmp_path, {"one.apk": weather, "two.apk": splits["splits/base-master.apk"]}, "two.apks")
    with pytest.raises(BadApk, match="several base APKs: one.apk, two.apk"):
        analyze_apk(two)


def test_zip_bomb_inside_a_bundle(tmp_path: Path) -> None:
    bomb = (FIXTURES / "bad" / "zip-bomb.apk").read_bytes()
    with pytest.raises(BadApk, match=r"app.apks!base.apk: zip bomb suspected"):
        analyze_apk(_bundle(tmp_path, {"base.apk": bomb}))


def test_broken_xapk_manifest_only_loses_the_hint(tmp_path: Path) -> None:
    with zipfile.ZipFile(FIXTURES / "apks" / "splitdemo.xapk") as archive:
        entries = {n: archive.read(n) for n in archive.namelist()}
    entries["manifest.json"] = b"{not json"
    report = analyze_apk(_bundle(tmp_path, entries, "app.xapk"))
    assert report.app.package == "org.divulge.fixture.splitdemo"  # base found by its manifest instead
    assert report.app.parts[0].startswith("org.divulge.fixture.splitdemo.apk ")


def test_cli_static_and_scan_report(tmp_path: Path) -> None:
    proc = subprocess.run([str(DIVULGE), "static", str(FIXTURES / "apks" / "splitdemo.xapk")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "bundle of 3 APKs analysed together" in proc.stdout
    result = run_scan(ScanOptions(apk=FIXTURES / "apks" / "splitdemo.apks"))
    html = write_reports(result, [ReportFormat.HTML], "en")["html"]
    assert "APKs in this bundle" in html and "splits/feature_ads-master.apk sha256:" in html


def test_batch_folder_takes_bundles(tmp_path: Path) -> None:
    for name in ("a.apk", "b.apks", "c.xapk", "d.apkm", "e.zip"):
        (tmp_path / name).write_bytes(b"x")
    assert sorted(j.app_id for j in load_jobs(tmp_path)) == ["a", "b", "c", "d"]
    (tmp_path / "c.apk").write_bytes(b"x")  # the same app saved twice: both kept, told apart
    assert sorted(j.app_id for j in load_jobs(tmp_path)) == ["a", "b", "c.apk", "c.xapk", "d"]


def test_stored_inner_apk_is_read_from_memory_not_disk(tmp_path: Path) -> None:
    # The bundle is read once; removing it after opening must not break reading its entries.
    from scanner.static.archive import open_app, read_entry

    path = _bundle(tmp_path, _splits())
    app = open_app(path)
    path.unlink()
    assert read_entry(app.base, "classes.dex")[:4] == b"dex\n"
    assert io.BytesIO(app.base.raw).read(2) == b"PK"


def test_encrypted_bundle_is_refused_with_a_reason(tmp_path: Path) -> None:
    # Older APKMirror .apkm files encrypt their entries; zipfile sees the flag and wants a password.
    plain = _bundle(tmp_path, {"base.apk": _splits()["splits/base-master.apk"]})
    data = bytearray(plain.read_bytes())
    local, central = data.index(b"PK\x03\x04"), data.rindex(b"PK\x01\x02")
    data[local + 6] |= 0x1  # general-purpose flag bit 0: encrypted, in both headers
    data[central + 8] |= 0x1
    path = tmp_path / "app.apkm"
    path.write_bytes(bytes(data))
    with pytest.raises(BadApk, match="encrypted bundles are not supported"):
        analyze_apk(path)


def test_xapk_with_gigabytes_of_game_data_is_not_a_bomb(tmp_path: Path) -> None:
    # Games ship their assets as OBB files inside the .xapk: stored, over 1 GiB, never read by us. The entry is
    # small here and its central-directory sizes claim 2 GiB, as a real one would be.
    with zipfile.ZipFile(FIXTURES / "apks" / "splitdemo.xapk") as archive:
        entries = {n: archive.read(n) for n in archive.namelist()}
    entries["Android/obb/org.divulge.fixture.splitdemo/main.1.org.divulge.fixture.splitdemo.obb"] = b"OBB" * 100
    path = _bundle(tmp_path, entries, "game.xapk")
    data = bytearray(path.read_bytes())
    central = data.rindex(b"PK\x01\x02")  # the OBB was written last: its central-directory record is last
    data[central + 20:central + 28] = (2 << 30).to_bytes(4, "little") * 2  # compressed and uncompressed size
    path.write_bytes(bytes(data))
    assert zipfile.ZipFile(path).getinfo(
        "Android/obb/org.divulge.fixture.splitdemo/main.1.org.divulge.fixture.splitdemo.obb").file_size == 2 << 30
    report = analyze_apk(path)
    assert report.app.package == "org.divulge.fixture.splitdemo" and len(report.app.parts) == 3
    assert report.app.size == path.stat().st_size
    assert report.app.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_bundle_with_every_language_and_density_split(tmp_path: Path) -> None:
    """bundletool's .apks of a real app carries 100+ splits (one per language and density): all are read."""
    splits = _splits()
    entries = {"splits/base-master.apk": splits["splits/base-master.apk"],
               "splits/feature_ads-master.apk": splits["splits/feature_ads-master.apk"]}
    config = splits["splits/base-arm64_v8a.apk"]
    entries.update({f"splits/base-{lang}.apk": config for lang in (f"l{i:03d}" for i in range(118))})
    report = analyze_apk(_bundle(tmp_path, entries))
    assert len(report.app.parts) == 120
    assert "pangle" in {hit.id for hit in report.sdks}


def test_bundle_apks_limited_by_their_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from scanner.static import archive
    monkeypatch.setattr(archive, "MAX_BUNDLE_APK_BYTES", 1000)
    with pytest.raises(BadApk, match="APKs inflate to .* over the limit of 1,000"):
        analyze_apk(_bundle(tmp_path, _splits()))
