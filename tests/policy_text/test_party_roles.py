"""Party roles in policy text (issue 19): "our service provider" / 受托处理 make a party a service provider, whose
data is collected, not shared, and which then agrees with a label that does not say "shared"."""

from __future__ import annotations

from scanner.engine.facts import build_facts
from scanner.engine.loader import load_pack
from scanner.engine.runner import run_rules
from scanner.knowledge.sdks import shared_catalog
from scanner.model import Declaration, Observation, TrafficReport
from scanner.policy.text import extract_text

SHARE_001 = next(r for r in load_pack([]).rules if r.id == "DVG-SHARE-001")


def _md(text: str) -> Declaration:
    return extract_text(text, "markdown", "<test>")


def _roles(d: Declaration) -> dict[str | None, str | None]:
    return {p.sdk_id: p.role for p in d.parties}


def test_our_service_provider_makes_the_party_one_and_its_data_collected() -> None:
    d = _md("We use Firebase Crashlytics, our service provider, to receive crash logs.")
    assert _roles(d) == {"google-firebase-crashlytics": "service_provider"}
    assert d.data_types["crash_logs"].collected and not d.data_types["crash_logs"].shared


def test_each_party_takes_the_role_said_next_to_it() -> None:
    d = _md("Firebase Crashlytics, our service provider, receives crash logs, and AppsFlyer, an independent "
            "controller, receives your advertising ID.")
    assert _roles(d) == {"google-firebase-crashlytics": "service_provider", "appsflyer": "third_party"}
    # A controller is named in the sentence, so its sharing stands.
    assert d.data_types["device_id"].shared


def test_chinese_entrusted_processing_and_independent_handler() -> None:
    d = _md("我们接入了腾讯Bugly SDK收集您的崩溃日志，由其受托处理。")
    assert _roles(d) == {"tencent-bugly": "service_provider"}
    assert not d.data_types["crash_logs"].shared
    d = _md("友盟统计SDK作为独立的个人信息处理者，会收集您的设备标识符。")
    assert _roles(d) == {"umeng-analytics": "third_party"}
    assert d.data_types["device_id"].shared


def test_service_providers_beside_other_recipients_is_still_sharing() -> None:
    assert _md("We share your email address with our service providers.").data_types["email"].shared is False
    assert _md("We share your email address with our service providers and advertising partners."
               ).data_types["email"].shared is True


def test_no_role_word_leaves_the_role_open() -> None:
    d = _md("AppsFlyer receives your advertising ID for attribution.")
    assert _roles(d) == {"appsflyer": None}


def _obs(host: str, sdk: str, data_type: str) -> Observation:
    return Observation(data_type=data_type, identifier=None, host=host, url=f"https://{host}/", method="POST",
                       party="third", sdk=sdk, owner=None, where="body", encodings=[], time=1.0, phase=None,
                       cleartext=False, confidence="confirmed", flow_id="f1")


def test_a_policy_calling_a_depends_sdk_its_service_provider_agrees_with_a_collected_only_label() -> None:
    """Firebase Analytics' role depends on its settings; the policy says it processes for the app: no sharing gap.
    The same policy cannot make an ad network a service provider (the catalog's role stands)."""
    policy = _md("We use Google Analytics for Firebase, our service provider, which processes your device ID and "
                 "app interactions on our behalf. AppsFlyer, our service provider, receives your device ID.")
    assert policy.data_types["device_id"].collected and not policy.data_types["device_id"].shared
    traffic = TrafficReport(observations=[_obs("app-measurement.com", "google-firebase-analytics", "device_id"),
                                          _obs("t.appsflyer.com", "appsflyer", "device_id")], flows=2)
    facts = build_facts(None, traffic, policy, sdk_roles=shared_catalog().roles)
    findings = run_rules([SHARE_001], facts).findings
    assert [(f.sdk, f.confidence) for f in findings] == [("appsflyer", "high")]


def test_an_sdk_table_row_saying_entrusted_processing_collects_without_sharing() -> None:
    d = _md("| SDK名称 | 公司名称 | 使用目的 | 收集个人信息 |\n|---|---|---|---|\n"
            "| 腾讯Bugly SDK | 深圳市腾讯计算机系统有限公司 | 崩溃上报（受托处理） | 崩溃日志 |\n"
            "| 友盟统计 | 友盟同欣（北京）科技有限公司 | 统计分析 | 设备标识符 |\n")
    assert _roles(d) == {"tencent-bugly": "service_provider", "umeng-analytics": None}
    assert not d.data_types["crash_logs"].shared and d.data_types["crash_logs"].collected
    assert d.data_types["device_id"].shared
