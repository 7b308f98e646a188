"""The completeness rules DVG-POLICY-010..019 end to end: a real policy text in, findings whose evidence is the
sentence found or the absence; a privacy.yaml is never checked for them."""

from __future__ import annotations

import json
from pathlib import Path

from scanner.model import Observation, TrafficReport, to_jsonable
from scanner.scan import ScanOptions, run_scan

REPO = Path(__file__).resolve().parents[2]
POLICIES = REPO / "fixtures" / "policies"


def _traffic(tmp_path: Path) -> Path:
    observation = Observation(data_type="device_id", identifier="android_id", host="api.example.org",
                              url="https://api.example.org/x", method="POST", party="first", sdk=None, owner=None,
                              where="body", encodings=["json"], time=1.0, phase=None, cleartext=False,
                              confidence="confirmed", flow_id="f1", key="aid")
    path = tmp_path / "traffic.json"
    path.write_text(json.dumps({"schema": TrafficReport.SCHEMA,
                                **to_jsonable(TrafficReport(observations=[observation], flows=1))}), encoding="utf-8")
    return path


def _policy_findings(tmp_path: Path, policy: Path) -> dict[str, list[str]]:
    result = run_scan(ScanOptions(traffic=(_traffic(tmp_path),), policy=policy))
    out: dict[str, list[str]] = {}
    for finding in result.findings:
        if finding.rule_id.startswith("DVG-POLICY-01"):
            out.setdefault(finding.rule_id, []).append(finding.message)
    return out


def test_a_bare_policy_gets_a_finding_per_missing_topic_with_the_absence_as_evidence(tmp_path: Path) -> None:
    policy = tmp_path / "policy.md"
    policy.write_text("# Privacy\n\nWe collect your email address. We do not share it.\n", encoding="utf-8")
    result = run_scan(ScanOptions(traffic=(_traffic(tmp_path),), policy=policy))
    by_rule: dict[str, list] = {}
    for finding in result.findings:
        by_rule.setdefault(finding.rule_id, []).append(finding)
    assert {"DVG-POLICY-010", "DVG-POLICY-011", "DVG-POLICY-013", "DVG-POLICY-014", "DVG-POLICY-015",
            "DVG-POLICY-016", "DVG-POLICY-017", "DVG-POLICY-018"} <= set(by_rule)
    assert len(by_rule["DVG-POLICY-015"]) == 5  # one per right
    evidence = by_rule["DVG-POLICY-013"][0].evidence
    assert evidence[0].kind == "policy_text" and evidence[0].details.get("absent") is True
    assert evidence[0].location == str(policy)
    # DVG-POLICY-012 needs the APK (an SDK list is asked for only when the app embeds SDKs).
    assert "DVG-POLICY-012" in {s["rule_id"] for s in result.rule_pack["skipped"]}


def test_a_complete_chinese_policy_has_no_completeness_finding_but_what_it_lacks(tmp_path: Path) -> None:
    found = _policy_findings(tmp_path, POLICIES / "heldout_ridehail_zh.md")
    # The ride-hailing policy states everything the rules look for except where its data is stored.
    assert set(found) == {"DVG-POLICY-014"}, found


def test_a_privacy_yaml_is_not_checked_for_completeness(tmp_path: Path) -> None:
    assert _policy_findings(tmp_path, REPO / "fixtures" / "declarations" / "news_cn.privacy.yaml") == {}


def test_an_incomplete_sdk_list_entry_is_reported_with_its_row(tmp_path: Path) -> None:
    policy = tmp_path / "sdk.md"
    policy.write_text("# 第三方SDK目录\n\n| SDK名称 | 第三方主体 | 使用目的 | 收集个人信息 |\n|---|---|---|---|\n"
                      "| 个推推送SDK |  | 消息推送 | 设备信息 |\n| 友盟统计SDK | 友盟同欣（北京）科技有限公司 | 统计分析 | 设备信息 |\n",
                      encoding="utf-8")
    result = run_scan(ScanOptions(traffic=(_traffic(tmp_path),), policy=policy))
    entries = [f for f in result.findings if f.rule_id == "DVG-POLICY-019"]
    assert len(entries) == 1
    assert "个推推送SDK" in entries[0].message and "company" in entries[0].message
    assert "个推推送SDK" in (entries[0].evidence[0].location or "")
