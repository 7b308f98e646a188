"""Recall of divulge's built-in SDK catalog (no --sdk-db) against exodus-core with the Exodus tracker list.

On every fixture APK and every APK of the shared corpus, each tracker exodus-core finds must be named by some
divulge SDK (any status: a type named in the code counts, as it does for exodus-core), except the ones listed
below as exodus-core's own false positives, each with a reason the test itself checks.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from scanner.knowledge.sdks import SdkCatalog, load_catalog
from scanner.model import SdkStatus
from scanner.static import analyze_apk

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "reference"
EXODUS_JSON = SHARED / "sdk-signatures" / "exodus-trackers.json"
WILD = SHARED / "corpus" / "wild-apks"
SHARESDK_SAMPLE = "MobClub__ShareSDK-for-Android__SampleFresh-app-release.apk"
QURANY = "MahmoudMabrok__QuranyApp__QuranyApp-app-release.apk"

# Exodus tracker name -> the divulge SDK ids that cover the same code. Exodus lumps products together that
# divulge tells apart (HMS Core = base + push + update + analytics ...), so one name maps to several ids.
EXODUS_TO_OURS: dict[str, set[str]] = {
    "AppsFlyer": {"appsflyer"},
    "Bugly": {"tencent-bugly", "tencent-bugly-beta"},
    "Facebook Analytics": {"facebook-analytics"},
    "Facebook Login": {"facebook-login"},
    "Facebook Notifications": {"facebook-notifications"},
    "Facebook Places": {"facebook-places"},
    "Facebook Share": {"facebook-share"},
    "Google Analytics": {"google-analytics"},
    "Google CrashLytics": {"google-firebase-crashlytics", "fabric-answers"},
    "Google Firebase Analytics": {"google-firebase-analytics"},
    "Huawei Mobile Services (HMS) Core": {"huawei-hms-core", "huawei-push", "huawei-update-sdk", "huawei-analytics",
                                          "huawei-location", "huawei-agconnect", "huawei-hianalytics"},
    "JiGuang Aurora Mobile JPush": {"jpush"},
    "Pangle": {"pangle", "pangle-device-security"},
    "Umeng Analytics": {"umeng-analytics", "umeng-game"},
}

# (APK file name, Exodus tracker name) -> why exodus-core is wrong there; test_false_positives_hold proves each.
EXODUS_FALSE_POSITIVES: dict[tuple[str, str], str] = {
    (SHARESDK_SAMPLE, "Pangle"):
        "Exodus's Pangle signature `com.bytedance` matches the Douyin open SDK (com.bytedance.sdk.account.bdopen, "
        "com.bytedance.sdk.account.open.aweme), which the ShareSDK sample bundles for sharing; no Pangle ad code",
}


def _apks() -> list[Path]:
    fixtures = sorted((REPO / "fixtures" / "apks").glob("*.apk"))
    corpus = sorted((SHARED / "corpus" / "apks").glob("*.apk"))
    wild = sorted(p for p in WILD.glob("*.apk*"))
    return fixtures + corpus + wild


@pytest.fixture(scope="module")
def builtin_catalog(shared_reference) -> SdkCatalog:
    return load_catalog()


def _exodus_names(exodus_trackers, apk: Path) -> frozenset[str]:
    return frozenset(t["name"] for t in exodus_trackers(apk))


def _defined_classes(apk: Path) -> list[str]:
    """Dotted names of the classes the APK's dex files define."""
    from androguard.core.dex import DEX

    names: list[str] = []
    with zipfile.ZipFile(apk) as archive:
        for entry in archive.namelist():
            if entry.startswith("classes") and entry.endswith(".dex"):
                names += [c.get_name()[1:-1].replace("/", ".") for c in DEX(archive.read(entry)).get_classes()]
    return names


@pytest.mark.parametrize("apk", _apks(), ids=lambda p: p.name)
def test_every_exodus_tracker_is_ours(apk: Path, builtin_catalog, require_tool, exodus_trackers) -> None:
    require_tool("dexdump")  # exodus-core lists classes with dexdump
    theirs = _exodus_names(exodus_trackers, apk)
    unmapped = sorted(theirs - set(EXODUS_TO_OURS))
    assert not unmapped, f"add these Exodus trackers to EXODUS_TO_OURS: {unmapped}"
    ours = {hit.id for hit in analyze_apk(apk, catalog=builtin_catalog).sdks}
    missed = sorted(name for name in theirs
                    if (apk.name, name) not in EXODUS_FALSE_POSITIVES and not EXODUS_TO_OURS[name] & ours)
    assert not missed, f"exodus-core finds {missed} in {apk.name}; divulge found {sorted(ours)}"


def test_false_positives_hold(shared_reference, builtin_catalog, require_tool, exodus_trackers) -> None:
    """The ShareSDK sample's `com.bytedance` classes are the Douyin open SDK's, and no Pangle SDK is found."""
    require_tool("dexdump")
    apk = WILD / SHARESDK_SAMPLE
    assert "Pangle" in _exodus_names(exodus_trackers, apk), "exodus-core no longer reports Pangle: drop the false-positive entry"
    bytedance = [c for c in _defined_classes(apk) if "com.bytedance" in c]  # Exodus: regex search, not prefix
    assert bytedance
    assert {builtin_catalog.owner_of_class(c) for c in bytedance} == {"douyin-opensdk"}
    assert not any(c.startswith("com.bytedance.sdk.openadsdk") for c in bytedance)
    ids = {hit.id for hit in analyze_apk(apk, catalog=builtin_catalog).sdks}
    assert "douyin-opensdk" in ids
    assert not EXODUS_TO_OURS["Pangle"] & ids


def test_qurany_app_has_no_firebase_or_facebook_code(shared_reference, builtin_catalog) -> None:
    """Stetho is a library, not the Facebook SDK; a Firebase meta-data key alone is no Firebase code."""
    assert builtin_catalog.owner_of_class("com.facebook.stetho.Stetho") == "lib"
    report = analyze_apk(WILD / QURANY, catalog=builtin_catalog)
    for hit in report.sdks:
        if hit.id.startswith(("google-firebase", "facebook")):
            assert not ("code" in hit.bases and hit.status in (SdkStatus.PRESENT, SdkStatus.WIRED)), (
                hit.id, hit.status, hit.evidence)


@pytest.mark.parametrize(
    "class_name,owner",
    [
        ("com.facebook.react.ReactActivity", "lib"),  # React Native, not the Facebook SDK
        ("com.facebook.flipper.core.FlipperClient", "lib"),
        ("com.facebook.appevents.AppEventsLogger", "facebook-analytics"),
        ("com.facebook.places.PlaceManager", "facebook-places"),
        ("io.flutter.embedding.engine.FlutterEngine", "lib"),
        ("cn.jiguang.imui.messages.MessageList", "lib"),
        ("com.tencent.tinker.loader.TinkerLoader", "tencent-tinker"),
    ],
)
def test_library_or_sdk(builtin_catalog, class_name: str, owner: str) -> None:
    assert builtin_catalog.owner_of_class(class_name) == owner
