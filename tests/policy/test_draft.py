"""`policy draft` (scanner/draft.py) and roles (issue 19): data an SDK collects is drafted as shared only when its
vendor is not the app's service provider; each party carries the role a reviewer would otherwise look up."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from scanner.draft import draft_from_reports
from scanner.model import Observation, TrafficReport
from scanner.static import analyze_apk


def _obs(host: str, sdk: str, data_type: str) -> Observation:
    return Observation(data_type=data_type, identifier=None, host=host, url=f"https://{host}/", method="POST",
                       party="third", sdk=sdk, owner=None, where="body", encodings=[], time=1.0, phase=None,
                       cleartext=False, confidence="confirmed", flow_id="f1")


def test_service_providers_data_is_drafted_as_collected_only(fixture_apk: Callable[[str], Path]) -> None:
    static = analyze_apk(fixture_apk("news_cn"))
    roles = {s.id: s.role for s in static.sdks}
    assert roles["tencent-bugly"] == "service_provider" and roles["umeng-analytics"] == "third_party"
    # Diagnostics go only to Bugly (a crash reporter processing for the app); Umeng also gets device IDs.
    assert not any("performance_diagnostics" in s.data_types for s in static.sdks if s.id != "tencent-bugly")
    traffic = TrafficReport(observations=[_obs("android.bugly.qq.com", "tencent-bugly", "performance_diagnostics"),
                                          _obs("ulogs.umeng.com", "umeng-analytics", "device_id")], flows=2)
    draft = draft_from_reports(static, traffic)
    declared = draft.declaration.data_types
    assert declared["device_id"].collected and declared["device_id"].shared
    assert declared["performance_diagnostics"].collected and not declared["performance_diagnostics"].shared
    parties = {p.sdk_id: p.role for p in draft.declaration.parties}
    assert parties["tencent-bugly"] == "service_provider" and parties["umeng-analytics"] == "third_party"


def test_a_depends_sdk_is_drafted_as_shared_with_the_setting_in_its_comment(fixture_apk: Callable[[str], Path]) -> None:
    draft = draft_from_reports(analyze_apk(fixture_apk("shopping")), None)
    firebase = next(p for p in draft.declaration.parties if p.sdk_id == "google-firebase-analytics")
    assert firebase.role is None, "the developer, who knows the setting, decides"
    assert "data-sharing settings" in draft.comments[firebase.name]
    assert draft.declaration.data_types["user_interaction"].shared
