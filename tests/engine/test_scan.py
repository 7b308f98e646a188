"""`divulge scan` end to end: traffic JSON in, findings, config, suppressions, baseline and exit codes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner.cli import main
from scanner.errors import BadCapture, BadConfig
from scanner.model import Observation, TrafficReport, to_jsonable
from scanner.scan import ScanOptions, failing_findings, findings_document, run_scan
from scanner.traffic_json import load_traffic_json

REPO = Path(__file__).resolve().parents[2]
DECLS = REPO / "fixtures" / "declarations"


def _obs(**kw: object) -> Observation:
    base = dict(data_type="device_id", identifier="imei", host="tsis.jpush.cn", url="https://tsis.jpush.cn/x",
                method="POST", party="third", sdk="jpush", owner="Aurora", where="body", encodings=["json"],
                time=100.0, phase="before_consent", cleartext=False, confidence="confirmed", flow_id="f1", key="imei")
    base.update(kw)
    return Observation(**base)  # type: ignore[arg-type]


@pytest.fixture
def traffic_json(tmp_path: Path) -> Path:
    report = TrafficReport(observations=[
        _obs(), _obs(flow_id="f2", time=130.0),
        _obs(data_type="apps_on_device", identifier=None, host="news.divulge-fixture.example", party="first", sdk=None,
             owner=None, cleartext=True, url="http://news.divulge-fixture.example/apps", flow_id="f3", key="apps"),
        _obs(data_type="precise_location", identifier=None, phase="after_refusal", flow_id="f4", key="lat"),
    ], flows=4)
    path = tmp_path / "traffic.json"
    path.write_text(json.dumps({"schema": TrafficReport.SCHEMA, **to_jsonable(report)}), encoding="utf-8")
    return path


def test_traffic_json_and_declaration(traffic_json: Path) -> None:
    result = run_scan(ScanOptions(traffic=(traffic_json,), policy=DECLS / "news_cn.privacy.yaml"))
    ids = {f.rule_id for f in result.findings}
    assert {"DVG-CONSENT-001", "DVG-CONSENT-002", "DVG-DECL-002", "DVG-ID-001", "DVG-APPS-001",
            "DVG-TRANSPORT-001", "DVG-NEC-001"} <= ids, ids
    # Every third-party flow goes to JPush, a push service provider (catalog role): collection, not sharing.
    assert "DVG-SHARE-001" not in ids
    assert not ids & {"DVG-SDK-001", "DVG-NEC-002"}, "static rules need the APK"
    skipped = {s["rule_id"] for s in result.rule_pack["skipped"]}
    assert "DVG-SDK-001" in skipped
    denied = next(f for f in result.findings if f.rule_id == "DVG-DECL-002")
    assert any(e.kind == "declaration" and "news_cn.privacy.yaml:" in (e.location or "") for e in denied.evidence)
    doc = findings_document(result)
    assert doc["schema"] == "divulge/findings/1" and doc["summary"]["total"] == len(result.findings)
    assert failing_findings(result)  # default --fail-on high
    assert [i["kind"] for i in result.inputs] == ["declaration", "traffic"]


def test_fingerprints_are_stable_across_runs(traffic_json: Path) -> None:
    runs = [run_scan(ScanOptions(traffic=(traffic_json,), policy=DECLS / "news_cn.privacy.yaml")) for _ in range(2)]
    assert [f.fingerprint for f in runs[0].findings] == [f.fingerprint for f in runs[1].findings]
    assert len({f.fingerprint for f in runs[0].findings}) == len(runs[0].findings)


def test_config_disables_overrides_and_suppresses(traffic_json: Path, tmp_path: Path) -> None:
    config = tmp_path / ".divulge.yml"
    config.write_text(
        "fail_on: critical\n"
        "rules:\n  disable: [DVG-NEC-001]\n  severity: {DVG-ID-001: low}\n"
        "suppress:\n"
        "  - {rule: DVG-CONSENT-002, justification: refusal path fixed in 7.4, expires: '2099-01-01'}\n"
        "  - {rule: DVG-APPS-001, justification: an old exemption that ran out, expires: '2001-01-01'}\n",
        encoding="utf-8")
    result = run_scan(ScanOptions(traffic=(traffic_json,), policy=DECLS / "news_cn.privacy.yaml", config=config))
    by_id = {f.rule_id: f for f in result.findings}
    assert "DVG-NEC-001" not in by_id
    assert str(by_id["DVG-ID-001"].severity) == "low"
    assert by_id["DVG-CONSENT-002"].suppressed and "refusal path fixed" in by_id["DVG-CONSENT-002"].suppressed
    assert by_id["DVG-APPS-001"].suppressed is None  # expired
    assert result.fail_on == "critical" and failing_findings(result) == []  # the only critical one is suppressed


def test_baseline_marks_known_findings(traffic_json: Path, tmp_path: Path) -> None:
    first = run_scan(ScanOptions(traffic=(traffic_json,), policy=DECLS / "news_cn.privacy.yaml"))
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps(findings_document(first)), encoding="utf-8")
    second = run_scan(ScanOptions(traffic=(traffic_json,), policy=DECLS / "news_cn.privacy.yaml", baseline=baseline))
    assert all(f.in_baseline for f in second.findings) and failing_findings(second) == []


@pytest.mark.parametrize(("text", "needle"), [
    ("rules:\n  disable: [DVG-COLECT-001]\n", "did you mean 'DVG-COLLECT-001'"),
    ("suppress:\n  - {rule: DVG-ID-001, justification: short, expires: '2099-01-01'}\n", "too short"),
    ("suppress:\n  - {rule: DVG-ID-001, justification: long enough text}\n", "'expires' is a required property"),
    ("rules:\n  params: {DVG-FREQ-001: {max_per_hour: 3}}\n", "has no parameter 'max_per_hour'"),
])
def test_bad_config(traffic_json: Path, tmp_path: Path, text: str, needle: str) -> None:
    config = tmp_path / "c.yml"
    config.write_text(text, encoding="utf-8")
    with pytest.raises(BadConfig, match=needle) as info:
        run_scan(ScanOptions(traffic=(traffic_json,), config=config))
    assert info.value.line is not None


def test_bad_traffic_json(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"schema": "divulge/traffic/1", "observations": [{"data_type": "gps", "host": "x"}]}))
    with pytest.raises(BadCapture, match="unknown data type 'gps'"):
        load_traffic_json(path)
    path.write_text(json.dumps({"schema": "divulge/traffic/9", "observations": []}))
    with pytest.raises(BadCapture, match="schema 'divulge/traffic/1' expected"):
        load_traffic_json(path)


def test_cli_exit_codes(traffic_json: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["scan", "--traffic", str(traffic_json), "--policy", str(DECLS / "news_cn.privacy.yaml"), "--format", "json"]
    found = runner.invoke(main, args)
    assert found.exit_code == 1, found.output
    doc = json.loads(found.stdout)
    assert doc["schema"] == "divulge/findings/1" and doc["findings"]
    assert {"rule_id", "severity", "confidence", "title", "message", "data_type", "sdk", "evidence",
            "references"} <= set(doc["findings"][0])
    assert runner.invoke(main, args + ["--fail-on", "none"]).exit_code == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("data_types:\n  gps: {collected: true}\n", encoding="utf-8")
    usage = runner.invoke(main, ["scan", "--traffic", str(traffic_json), "--policy", str(bad)])
    assert usage.exit_code == 2 and "bad.yaml:2: unknown data type 'gps'" in usage.stderr
    assert runner.invoke(main, ["scan"]).exit_code == 2
    out = tmp_path / "out"
    written = runner.invoke(main, args + ["--fail-on", "none", "-o", str(out)])
    assert written.exit_code == 0 and json.loads((out / "findings.json").read_text())["findings"]


def test_cli_rules_commands(tmp_path: Path) -> None:
    runner = CliRunner()
    listed = runner.invoke(main, ["rules", "list", "--format", "json"])
    assert listed.exit_code == 0 and len(json.loads(listed.stdout)) >= 20
    shown = runner.invoke(main, ["rules", "show", "DVG-CONSENT-001"])
    assert shown.exit_code == 0 and "cac.gov.cn" in shown.stdout
    assert runner.invoke(main, ["rules", "show", "DVG-CONSENT-01"]).exit_code == 2
    # A rule whose file says "id:" more than once (a $id join) still shows its condition.
    several_ids = runner.invoke(main, ["rules", "show", "DVG-ID-004"]).stdout.split("Condition:", 1)[1]
    assert "match:" in several_ids and "kind:" in several_ids
    tested = runner.invoke(main, ["rules", "test"])
    assert tested.exit_code == 0, tested.output
    assert runner.invoke(main, ["rules", "validate"]).exit_code == 0
    # A custom rule whose must-fire case does not fire: `rules test DIR` fails with exit 1.
    (tmp_path / "ACME-X-001.yaml").write_text(
        (REPO / "rules" / "packs" / "builtin" / "DVG-PERM-001.yaml").read_text().replace("DVG-PERM-001", "ACME-X-001"))
    (tmp_path / "ACME-X-001.test.yaml").write_text(
        "rule: ACME-X-001\nmust_fire:\n  - name: wrong\n    facts: [{kind: permission, name: android.permission.CAMERA}]\n"
        "must_not_fire:\n  - name: ok\n    facts: []\n")
    failed = runner.invoke(main, ["rules", "test", str(tmp_path)])
    assert failed.exit_code == 1 and "FAIL ACME-X-001 [must fire] wrong" in failed.stdout


def test_suppression_expiry_uses_the_given_day(traffic_json: Path, tmp_path: Path) -> None:
    config = tmp_path / "c.yml"
    config.write_text("suppress:\n  - {rule: DVG-ID-001, justification: vendor fix due in March, expires: '2030-03-31'}\n")
    before = run_scan(ScanOptions(traffic=(traffic_json,), config=config, today=dt.date(2030, 3, 31)))
    after = run_scan(ScanOptions(traffic=(traffic_json,), config=config, today=dt.date(2030, 4, 1)))
    assert next(f for f in before.findings if f.rule_id == "DVG-ID-001").suppressed
    assert next(f for f in after.findings if f.rule_id == "DVG-ID-001").suppressed is None


def test_chinese_messages_name_data_types_in_chinese(traffic_json: Path) -> None:
    """Regulators read message_zh: data types by their Chinese names, not the English labels."""
    result = run_scan(ScanOptions(traffic=(traffic_json,), policy=DECLS / "news_cn.privacy.yaml"))
    apps = next(f for f in result.findings if f.rule_id == "DVG-APPS-001")
    assert apps.message_zh and "Installed apps" not in apps.message_zh
    assert "已安装" in apps.message_zh or "应用列表" in apps.message_zh, apps.message_zh


def test_preloaded_catalog_and_pack_are_used(traffic_json: Path) -> None:
    """Batch workers pass what they parsed once; the scan must not reread (or ignore) it."""
    from scanner.engine.loader import load_pack

    only = load_pack([])
    only.rules = [r for r in only.rules if r.id == "DVG-CONSENT-001"]
    result = run_scan(ScanOptions(traffic=(traffic_json,), pack=only))
    assert {f.rule_id for f in result.findings} == {"DVG-CONSENT-001"}


def test_session_directory_is_a_capture() -> None:
    """`divulge capture -o SESSION` writes a directory; scan reads it like a HAR and hashes every file in it."""
    session = REPO / "fixtures" / "captures" / "shopping.session"
    result = run_scan(ScanOptions(traffic=(session,), policy=DECLS / "shopping.privacy.yaml"))
    assert any(f.rule_id == "DVG-CONSENT-001" for f in result.findings)
    hashed = {Path(i["path"]).name for i in result.inputs if i["kind"] == "traffic"}
    assert {"flows.mitm", "observations.jsonl", "marks.jsonl"} <= hashed


def test_a_policy_denial_contradicted_by_the_apps_code(tmp_path: Path) -> None:
    # The real news_cn fixture APK reads the installed-apps list (Umeng's code); its policy says it never does.
    policy = tmp_path / "policy.md"
    policy.write_text("# 隐私政策\n\n我们会收集您的设备信息（IMEI、Android ID）。我们不会收集您的应用列表，也不会读取您的"
                      "通讯录。我们使用友盟、极光推送、腾讯Bugly和优量汇SDK。\n", encoding="utf-8")
    result = run_scan(ScanOptions(apk=REPO / "fixtures" / "apks" / "news_cn.apk", policy=policy))
    found = [f for f in result.findings if f.rule_id == "DVG-DECL-004"]
    assert [f.data_type for f in found] == ["apps_on_device"]
    assert "getInstalledPackages" in found[0].message and found[0].basis == "capability"
    # Contacts are denied too, but the app has no code that reads them: nothing to say.
    assert all(f.data_type != "contacts" for f in found)
