"""Traps real apps set for an SDK matcher: a package inside an SDK's namespace, a configuration key without code."""

from __future__ import annotations

from pathlib import Path

from scanner.knowledge.sdks import shared_catalog
from scanner.model import SdkStatus
from scanner.static.analyze import analyze_apk


def test_app_package_inside_an_sdk_namespace_is_the_app() -> None:
    catalog = shared_catalog()
    assert catalog.owner_of_class("cn.jiguang.demo.MainActivity") == "jpush"  # seen from no app: JPush's namespace
    scoped = catalog.for_app("cn.jiguang.demo")
    assert scoped.owner_of_class("cn.jiguang.demo.MainActivity") is None
    assert scoped.owner_of_class("cn.jiguang.demo.MainActivity$1") is None
    assert scoped.owner_of_class("cn.jiguang.demonstrator.X") == "jpush"  # a segment boundary, not a text prefix
    assert scoped.owner_of_class("cn.jpush.android.api.JPushInterface") == "jpush"  # the real SDK still is
    assert catalog.owner_of_class("cn.jiguang.demo.MainActivity") == "jpush"  # the shared catalog is unchanged


def test_a_more_specific_sdk_inside_the_app_namespace_still_counts() -> None:
    # An app published under a vendor's root package: the vendor's SDK sub-packages are still SDKs.
    scoped = shared_catalog().for_app("com.umeng")
    assert scoped.owner_of_class("com.umeng.analytics.MobclickAgent") == "umeng-analytics"
    assert scoped.owner_of_class("com.umeng.Main") is None


def test_configuration_key_alone_only_names_the_sdk(shared_reference: Path) -> None:
    """QuranyApp has Firebase's <meta-data> key and no Firebase class: referenced, never present."""
    apk = shared_reference / "corpus/wild-apks/MahmoudMabrok__QuranyApp__QuranyApp-app-release.apk"
    hits = {hit.id: hit for hit in analyze_apk(apk).sdks}
    assert hits["google-firebase-analytics"].status == SdkStatus.REFERENCED
    assert not any(hit.status in (SdkStatus.PRESENT, SdkStatus.WIRED) for hit in hits.values())
