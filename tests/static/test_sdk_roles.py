"""SDK roles reach the static report (issue 19): each hit carries its catalog role, and a `depends` SDK what the
manifest sets of the meta-data its role turns on."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from scanner.knowledge.sdks import shared_catalog
from scanner.model import Component, ManifestFacts
from scanner.static import analyze_apk
from scanner.static.analyze import _SdkHits


def test_fixture_hits_carry_their_catalog_roles(fixture_apk: Callable[[str], Path]) -> None:
    report = analyze_apk(fixture_apk("news_cn"))
    roles = {h.id: h.role for h in report.sdks}
    assert roles["tencent-bugly"] == "service_provider" and roles["jpush"] == "service_provider"
    assert roles["umeng-analytics"] == "third_party" and roles["tencent-gdt"] == "third_party"
    shopping = {h.id: h for h in analyze_apk(fixture_apk("shopping")).sdks}
    facebook = shopping["facebook-analytics"]
    assert facebook.role == "depends" and facebook.role_setting and "AdvertiserIDCollectionEnabled" in facebook.role_setting
    assert facebook.role_manifest == [], "the fixture's manifest sets none of the role's meta-data: defaults apply"


def _manifest(meta: dict[str, str]) -> ManifestFacts:
    return ManifestFacts(uses_cleartext_traffic=None, network_security_config=None, cleartext_permitted_base=None,
                         cleartext_domains=[], allow_backup=None, debuggable=False, meta_data=meta,
                         components=[Component("activity", "com.facebook.FacebookActivity", False)],
                         auto_init_providers=[])


def test_the_manifest_settings_of_a_depends_role_are_read() -> None:
    hits = _SdkHits(shared_catalog())
    hits.add_manifest(_manifest({"com.facebook.sdk.AdvertiserIDCollectionEnabled": "false",
                                 "com.facebook.sdk.ApplicationId": "fb123",  # configuration, not the role's
                                 "com.facebook.sdk.AutoLogAppEventsEnabled": "true"}))
    facebook = next(h for h in hits.result() if h.id == "facebook-analytics")
    assert facebook.role_manifest == ["com.facebook.sdk.AdvertiserIDCollectionEnabled=false",
                                      "com.facebook.sdk.AutoLogAppEventsEnabled=true"]
