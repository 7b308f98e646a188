"""Traps real apps set for an SDK matcher: a package inside an SDK's namespace, a configuration key without code."""

from __future__ import annotations

from pathlib import Path

from scanner.knowledge.sdks import SdkCatalog, SdkEntry, shared_catalog
from scanner.model import SdkStatus
from scanner.static.analyze import analyze_apk


def _catalog() -> SdkCatalog:
    # A broad vendor prefix on purpose: the trap is an app published inside an SDK vendor's namespace.
    entry = SdkEntry(id="vendor-push", name="Vendor Push", owner="Vendor", country="CN", categories=["push"],
                     code=["cn.vendor", "cn.vendor.push.sdk"])
    return SdkCatalog([entry], version="test", sha256="0")


def test_app_package_inside_an_sdk_namespace_is_the_app() -> None:
    catalog = _catalog()
    assert catalog.owner_of_class("cn.vendor.demo.MainActivity") == "vendor-push"  # seen from no app
    scoped = catalog.for_app("cn.vendor.demo")
    assert scoped.owner_of_class("cn.vendor.demo.MainActivity") is None
    assert scoped.owner_of_class("cn.vendor.demo.MainActivity$1") is None
    assert scoped.owner_of_class("cn.vendor.demonstrator.X") == "vendor-push"  # a segment boundary, not text
    assert scoped.owner_of_class("cn.vendor.api.Interface") == "vendor-push"  # the SDK outside the app still is
    assert catalog.owner_of_class("cn.vendor.demo.MainActivity") == "vendor-push"  # the shared one is unchanged


def test_a_more_specific_sdk_inside_the_app_namespace_still_counts() -> None:
    scoped = _catalog().for_app("cn.vendor.push")
    assert scoped.owner_of_class("cn.vendor.push.sdk.Client") == "vendor-push"
    assert scoped.owner_of_class("cn.vendor.push.Main") is None


def test_shipped_jpush_prefix_does_not_claim_jiguang_apps() -> None:
    assert shared_catalog().owner_of_class("cn.jiguang.demo.MainActivity") is None


def test_configuration_key_alone_only_names_the_sdk(shared_reference: Path) -> None:
    """QuranyApp has Firebase's <meta-data> key and no Firebase class: referenced, never present."""
    apk = shared_reference / "corpus/wild-apks/MahmoudMabrok__QuranyApp__QuranyApp-app-release.apk"
    hits = {hit.id: hit for hit in analyze_apk(apk).sdks}
    assert hits["google-firebase-analytics"].status == SdkStatus.REFERENCED
    assert not any(hit.status in (SdkStatus.PRESENT, SdkStatus.WIRED) for hit in hits.values())
