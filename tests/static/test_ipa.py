"""IPAs: the fixture apps against their expected.yaml, the Mach-O reader, bad inputs, and the iOS rules end to end."""

from __future__ import annotations

import contextlib
import functools
import json
import plistlib
import random
import struct
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from scanner.errors import BadApk, BadApp
from scanner.knowledge.ios import load_ios_catalog
from scanner.knowledge.sdks import shared_catalog
from scanner.model import StaticReport
from scanner.scan import ScanOptions, run_scan
from scanner.static import analyze_apk
from scanner.static.ipa import analyze_ipa, looks_like_ipa
from scanner.static.macho import MachOError, parse_macho, swift_class_name

REPO = Path(__file__).resolve().parents[2]
IPAS = REPO / "fixtures" / "ipas"
SOURCES = REPO / "fixtures" / "ios"
BAD = REPO / "fixtures" / "bad"
DIVULGE = Path(sys.executable).with_name("divulge")
APPS = sorted(p.name for p in SOURCES.iterdir() if p.is_dir() and not p.name.startswith("_"))


@functools.cache
def report(app: str) -> StaticReport:
    return analyze_apk(IPAS / f"{app}.ipa")


def expected(app: str) -> dict[str, Any]:
    return yaml.safe_load((SOURCES / app / "expected.yaml").read_text(encoding="utf-8"))


def test_four_fixture_apps() -> None:
    assert APPS == ["legacy", "news_cn", "notes", "shop"]


@pytest.mark.parametrize("app", APPS)
def test_identity_and_purpose_strings(app: str) -> None:
    r, want = report(app), expected(app)
    assert r.platform == "ios" and r.ios is not None
    assert r.app.package == want["bundle_id"] == r.ios.bundle_id
    assert r.app.label == want["label"]
    assert [r.app.version_name, r.app.version_code] == want["version"]
    assert r.ios.minimum_os == want["minimum_os"]
    assert [p.name for p in r.permissions] == want["permissions"]
    assert all(p.protection_level == "purpose_string" for p in r.permissions)
    assert len(r.app.sha256) == 64 and r.app.size == (IPAS / f"{app}.ipa").stat().st_size


@pytest.mark.parametrize("app", APPS)
def test_sdks_exactly(app: str) -> None:
    got = {h.id: {"status": h.status.value, "bases": h.bases} for h in report(app).sdks}
    assert got == expected(app)["sdks"]


@pytest.mark.parametrize("app", APPS)
def test_api_uses_exactly(app: str) -> None:
    got = sorted((u.api_id, u.caller, u.sdk) for u in report(app).api_uses)
    assert got == sorted((u["api_id"], u["caller"], u["sdk"]) for u in expected(app)["api_uses"])


@pytest.mark.parametrize("app", APPS)
def test_frameworks_manifests_and_required_reason(app: str) -> None:
    r, want = report(app), expected(app)
    assert r.ios is not None
    got_fw = {f.name: [f.apple_listed is not None, f.privacy_manifest is not None] for f in r.ios.frameworks}
    assert got_fw == want["frameworks"]
    assert [m.bundle for m in r.ios.privacy_manifests] == want["privacy_manifests"]
    reasons: dict[str, dict[str, bool]] = {}
    for use in r.ios.required_reason_apis:
        reasons.setdefault(use.category, {})[use.bundle] = use.declared
    assert reasons == want["required_reason"]
    assert sorted(r.ios.linked_frameworks) == sorted(want["linked_frameworks"])


@pytest.mark.parametrize("app", APPS)
def test_endpoints_exactly(app: str) -> None:
    assert sorted(e.url for e in report(app).endpoints) == sorted(expected(app)["endpoints"])


def test_shop_details() -> None:
    r = report("shop")
    assert r.ios is not None
    assert r.ios.tracking_usage_description and r.ios.url_schemes == ["fb1234567890", "shopfixture"]
    assert r.ios.ats_insecure_domains == ["legacy-cdn.divulge-fixture.example"]
    assert r.manifest.cleartext_domains == ["legacy-cdn.divulge-fixture.example"]
    assert r.manifest.cleartext_permitted_base is False
    app_manifest = r.ios.privacy_manifests[0]
    assert app_manifest.tracking is True and app_manifest.tracking_domains == ["ads.shop.divulge-fixture.example"]
    assert {c.key for c in app_manifest.collected} == {
        "NSPrivacyCollectedDataTypeDeviceID", "NSPrivacyCollectedDataTypePreciseLocation",
        "NSPrivacyCollectedDataTypeProductInteraction"}
    device = next(c for c in app_manifest.collected if c.key.endswith("DeviceID"))
    assert device.tracking is True and device.purposes == ["advertising", "analytics"]


def test_legacy_has_every_category_and_ats_off() -> None:
    r = report("legacy")
    assert r.ios is not None and r.ios.ats_allows_arbitrary_loads and r.manifest.cleartext_permitted_base
    via = {u.category: u.via for u in r.ios.required_reason_apis if u.bundle == "app"}
    assert via["NSPrivacyAccessedAPICategoryDiskSpace"] == ["_statfs"]
    assert via["NSPrivacyAccessedAPICategorySystemBootTime"] == ["_mach_absolute_time", "selector systemUptime"]
    assert via["NSPrivacyAccessedAPICategoryActiveKeyboards"] == ["selector activeInputModes"]
    assert "_NSFileModificationDate" in via["NSPrivacyAccessedAPICategoryFileTimestamp"]


def test_swift_class_names_are_demangled() -> None:
    assert swift_class_name("_TtC4Shop14CartController") == "Shop.CartController"
    assert swift_class_name("_TtC4Shop") is None and swift_class_name("FIRApp") is None
    binary = zipfile.ZipFile(IPAS / "shop.ipa").read("Payload/Shop.app/Shop")
    assert "_OBJC_CLASS_$__TtC4Shop14CartController" in parse_macho(binary).defined_symbols


@pytest.mark.parametrize("app,findings", [(a, expected(a)["findings"]) for a in APPS])
def test_ios_rules_on_fixtures(app: str, findings: dict[str, int]) -> None:
    result = run_scan(ScanOptions(apk=IPAS / f"{app}.ipa"))
    got: dict[str, int] = {}
    for finding in result.findings:
        got[finding.rule_id] = got.get(finding.rule_id, 0) + 1
    assert got == (findings or {})


# --- the Mach-O reader ----------------------------------------------------------------------------


def _app_binary(app: str = "notes", name: str = "Notes") -> bytes:
    with zipfile.ZipFile(IPAS / f"{app}.ipa") as archive:
        return archive.read(f"Payload/{name}.app/{name}")


def test_fat_binary_reads_every_slice() -> None:
    thin = _app_binary()
    offset = 0x4000
    fat = struct.pack(">II", 0xCAFEBABE, 1) + struct.pack(">iiIII", 0x0100000C, 0, offset, len(thin), 14)
    fat += b"\0" * (offset - len(fat)) + thin
    parsed = parse_macho(fat)
    assert parsed.cpu_types == [0x0100000C]
    assert parsed.imported_symbols == parse_macho(thin).imported_symbols
    assert "_OBJC_CLASS_$_NSUserDefaults" in parsed.imported_symbols


@pytest.mark.parametrize("cut", [4, 27, 40, 200, 600])
def test_truncated_macho_is_an_error(cut: int) -> None:
    with pytest.raises(MachOError):
        parse_macho(_app_binary()[:cut])


def test_fat_slice_past_the_end_is_an_error() -> None:
    fat = struct.pack(">II", 0xCAFEBABE, 1) + struct.pack(">iiIII", 0x0100000C, 0, 4096, 1 << 20, 14)
    with pytest.raises(MachOError, match="truncated"):
        parse_macho(fat + b"\0" * 64)


def test_linked_frameworks_from_load_paths() -> None:
    parsed = parse_macho(_app_binary("shop", "Shop"))
    assert "/System/Library/Frameworks/AdSupport.framework/AdSupport" in parsed.dylibs
    assert "@rpath/FirebaseAnalytics.framework/FirebaseAnalytics" in parsed.dylibs
    assert "AdSupport" in parsed.linked_frameworks and "FirebaseAnalytics" in parsed.linked_frameworks


# --- bad inputs -----------------------------------------------------------------------------------

BAD_CASES = {
    "not-a-zip.ipa": "not a zip archive",
    "no-payload.ipa": "no Payload/NAME.app/",
    "no-info-plist.ipa": "Info.plist is missing",
    "broken-plist.ipa": "malformed Payload/Notes.app/Info.plist",
    "truncated-macho.ipa": "malformed Mach-O Payload/Notes.app/Notes",
}


@pytest.mark.parametrize("name,message", sorted(BAD_CASES.items()))
def test_bad_ipa_one_line_exit_2(name: str, message: str) -> None:
    proc = subprocess.run([str(DIVULGE), "static", str(BAD / name)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and name in lines[0], proc.stderr


def test_bad_ipa_is_a_bad_apk_for_callers() -> None:
    with pytest.raises(BadApk):
        analyze_apk(BAD / "no-payload.ipa")
    assert issubclass(BadApp, BadApk)


def test_encrypted_binary_is_a_warning_not_an_error() -> None:
    r = analyze_apk(BAD / "encrypted.ipa")
    assert r.ios is not None and r.ios.encrypted_binaries == ["Payload/Notes.app/Notes"]
    assert any("FairPlay" in w and "lower bound" in w for w in r.warnings)
    assert r.endpoints == []  # the strings are ciphertext
    assert r.app.package == "org.divulge.fixture.notes"  # Info.plist is still read


def test_a_zip_bomb_member_is_refused(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.ipa"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("Payload/B.app/Info.plist", plistlib.dumps({"CFBundleIdentifier": "b", "CFBundleExecutable": "B"}))
        archive.writestr("Payload/B.app/B", b"\0" * (64 << 20))
    with pytest.raises(BadApp, match="zip bomb"):
        analyze_ipa(bomb, shared_catalog())


def test_missing_executable_is_a_warning(tmp_path: Path) -> None:
    ipa = tmp_path / "noexec.ipa"
    with zipfile.ZipFile(IPAS / "notes.ipa") as src, zipfile.ZipFile(ipa, "w") as dst:
        for info in src.infolist():
            if info.filename != "Payload/Notes.app/Notes":
                dst.writestr(info, src.read(info))
    r = analyze_apk(ipa)
    assert any("executable" in w and "missing" in w for w in r.warnings)


def test_looks_like_ipa_by_content(tmp_path: Path) -> None:
    renamed = tmp_path / "app.zip"
    renamed.write_bytes((IPAS / "notes.ipa").read_bytes())
    assert looks_like_ipa(renamed)
    assert not looks_like_ipa(REPO / "fixtures" / "apks" / "utility.apk")


def test_static_json_carries_the_ios_block() -> None:
    proc = subprocess.run([str(DIVULGE), "static", str(IPAS / "legacy.ipa"), "--format", "json"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["platform"] == "ios" and doc["schema"] == "divulge/static/1"
    assert {f["name"] for f in doc["ios"]["frameworks"]} == {"FBSDKCoreKit", "FirebaseCore", "GoogleUtilities"}


def test_apple_listed_sdks_and_reason_categories() -> None:
    ios = load_ios_catalog()
    assert len(ios.apple_listed_sdks) >= 80 and ios.listed_sdk("fbsdkcorekit") == "FBSDKCoreKit"
    assert {c.id for c in ios.reason_categories} == {
        "NSPrivacyAccessedAPICategoryFileTimestamp", "NSPrivacyAccessedAPICategorySystemBootTime",
        "NSPrivacyAccessedAPICategoryDiskSpace", "NSPrivacyAccessedAPICategoryActiveKeyboards",
        "NSPrivacyAccessedAPICategoryUserDefaults"}
    assert ios.apple_listed_source.startswith("https://developer.apple.com/")


def test_build_script_leaves_an_up_to_date_tree_alone() -> None:
    proc = subprocess.run([sys.executable, str(REPO / "fixtures" / "build_ipa.py"), "--check"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


def _with_entries(tmp_path: Path, app: str, entries: dict[str, bytes], drop: tuple[str, ...] = ()) -> Path:
    out = tmp_path / f"{app}.ipa"
    with zipfile.ZipFile(IPAS / f"{app}.ipa") as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            if not (drop and info.filename.startswith(drop)):
                dst.writestr(info, src.read(info))
        for name, data in entries.items():
            dst.writestr(name, data)
    return out


def test_a_static_sdks_resource_bundle_manifest_covers_the_app_binary(tmp_path: Path) -> None:
    manifest = plistlib.dumps({"NSPrivacyTracking": False, "NSPrivacyAccessedAPITypes": [
        {"NSPrivacyAccessedAPIType": "NSPrivacyAccessedAPICategorySystemBootTime",
         "NSPrivacyAccessedAPITypeReasons": ["35F9.1"]}]})
    ipa = _with_entries(tmp_path, "news_cn", {"Payload/NewsCN.app/Bugly_Privacy.bundle/PrivacyInfo.xcprivacy": manifest})
    r = analyze_apk(ipa)
    assert r.ios is not None
    boot = next(u for u in r.ios.required_reason_apis if u.category.endswith("SystemBootTime"))
    assert boot.bundle == "app" and boot.declared and boot.reasons == ["35F9.1"]
    assert [m.bundle for m in r.ios.privacy_manifests] == ["app", "Bugly"]


def test_a_listed_sdk_linked_statically_needs_its_manifest(tmp_path: Path) -> None:
    """FBSDKCoreKit's classes in the app's own binary (no framework): Apple's list still asks for its manifest."""
    binary = zipfile.ZipFile(IPAS / "shop.ipa").read("Payload/Shop.app/Frameworks/FBSDKCoreKit.framework/FBSDKCoreKit")
    ipa = _with_entries(tmp_path, "notes", {"Payload/Notes.app/Notes": binary}, drop=("Payload/Notes.app/Notes",))
    r = analyze_apk(ipa)
    assert r.ios is not None
    static = [f for f in r.ios.frameworks if f.path.endswith("(linked statically)")]
    assert [(f.name, f.sdk, f.privacy_manifest) for f in static] == [("FBSDKCoreKit", "facebook-core", None)]
    assert any(f.rule_id == "DVG-IOS-002" for f in run_scan(ScanOptions(apk=ipa)).findings)


def test_corrupt_binaries_raise_only_macho_errors() -> None:
    """Seeded byte flips across the header and load commands: the reader either parses or says MachOError."""
    original = _app_binary("shop", "Shop")
    rng = random.Random(17)
    for _ in range(300):
        data = bytearray(original)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(0, 2048)] = rng.randrange(256)
        with contextlib.suppress(MachOError):  # the one way the reader may refuse; anything else fails the test
            parse_macho(bytes(data))


def test_corrupt_info_plists_are_bad_apps(tmp_path: Path) -> None:
    with zipfile.ZipFile(IPAS / "shop.ipa") as src:
        plist = src.read("Payload/Shop.app/Info.plist")
    assert plist.startswith(b"bplist00")
    rng = random.Random(3)
    for index in range(40):
        data = bytearray(plist)
        for _ in range(4):
            data[rng.randrange(8, len(data))] = rng.randrange(256)
        ipa = _with_entries(tmp_path, "shop", {"Payload/Shop.app/Info.plist": bytes(data)},
                            drop=("Payload/Shop.app/Info.plist",))
        with contextlib.suppress(BadApp):  # a one-line error is the only other outcome
            analyze_apk(ipa)
        ipa.rename(tmp_path / f"case{index}.ipa")
