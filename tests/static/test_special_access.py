"""Special access on real APKs: the fixture that asks for every kind, real apps from the corpus, a broken
accessibility configuration, a malformed catalog, and what the rules and reports make of them."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from scanner.reports import ReportFormat, write_reports

from scanner.errors import BadCatalog
from scanner.knowledge.special_access import load_special_access, parse_special_access
from scanner.model import StaticReport
from scanner.scan import ScanOptions, run_scan
from scanner.static.analyze import analyze_apk

REPO = Path(__file__).resolve().parents[2]
SPECIAL = REPO / "fixtures" / "apks" / "special.apk"
CORPUS = REPO.parent / "shared" / "reference" / "corpus"
ANTI_RECALL = CORPUS / "wild-apks" / "JasonQS__Anti-recall__Anti-recall-app-release.apk"


@pytest.fixture(scope="module")
def special() -> StaticReport:
    return analyze_apk(SPECIAL)


def _kinds(report: StaticReport, source: str | None = None) -> set[str]:
    return {a.kind for a in report.special_access if source is None or a.source == source}


def test_every_manifest_kind_is_found_with_its_evidence(special: StaticReport) -> None:
    assert _kinds(special, "component") == {"accessibility", "input_method", "vpn", "device_admin"}
    assert _kinds(special, "permission") == {"usage_stats", "overlay", "all_files", "exact_alarm", "fgs_location",
                                             "fgs_microphone"}
    assert _kinds(special, "fgs_type") == {"fgs_location", "media_projection"}
    assert _kinds(special, "call") == {"clipboard", "exact_alarm", "media_projection"}
    assert all(a.origin == "app" for a in special.special_access if a.source != "call")


def test_accessibility_and_device_admin_configurations_are_read(special: StaticReport) -> None:
    by_kind = {a.kind: a for a in special.special_access if a.source == "component"}
    watch = by_kind["accessibility"].config
    assert watch["file"].startswith("res/xml/")
    assert watch["can_retrieve_window_content"] is True
    assert watch["packages"] == ["com.tencent.mm", "com.tencent.mobileqq"]
    assert watch["event_types"] == ["notifications", "window_content"]
    assert "other_messages" in by_kind["accessibility"].data_types
    assert by_kind["device_admin"].config["policies"] == ["force-lock", "wipe-data"]


def test_library_code_is_dormant_unless_the_app_calls_it(special: StaticReport) -> None:
    uses = {u.caller: u for u in special.api_uses}
    dormant = uses["androidx.core.app.DormantLister.list"]
    assert dormant.origin == "library" and dormant.reached_from is None
    called = uses["androidx.core.app.ClipHelper.read"]
    assert called.origin == "library"
    assert called.reached_from == "org.divulge.fixture.special.MainActivity.onResume [app]"
    clipboard = {a.component: a for a in special.special_access if a.kind == "clipboard"}
    assert clipboard["org.divulge.fixture.special.MainActivity.onTextContextMenuItem"].config == {
        "user_action": "onTextContextMenuItem"}
    assert clipboard["androidx.core.app.ClipHelper.read"].reached_from is not None


def test_the_rules_report_each_kind_once_and_skip_dormant_and_user_initiated_code() -> None:
    result = run_scan(ScanOptions(apk=SPECIAL))
    by_rule: dict[str, list[str]] = {}
    for finding in result.findings:
        by_rule.setdefault(finding.rule_id, []).append(finding.message)
    assert len(by_rule["DVG-SPECIAL-001"]) == 3  # accessibility, keyboard, screen capture
    assert len(by_rule["DVG-SPECIAL-002"]) == 2  # VPN, device admin
    assert len(by_rule["DVG-SPECIAL-003"]) == 2  # usage access, all files
    assert len(by_rule["DVG-SPECIAL-004"]) == 2  # overlay, exact alarms
    assert len(by_rule["DVG-SPECIAL-005"]) == 2  # location, microphone
    # The paste from the text menu is the user's own action; the read on every resume is reported.
    assert by_rule["DVG-SPECIAL-006"] == [
        "The clipboard is read by library code called from org.divulge.fixture.special.MainActivity.onResume [app]: "
        "android.content.ClipboardManager.getText in androidx.core.app.ClipHelper.read."]
    # The dormant getInstalledPackages opens nothing; the broad <queries> intent and usage access do.
    [apps] = by_rule["DVG-APPS-002"]
    assert "getInstalledPackages" not in apps
    assert "android.intent.action.MAIN" in apps and "PACKAGE_USAGE_STATS" in apps
    # The fix-it names what this app has, and nothing it does not (no QUERY_ALL_PACKAGES to remove here).
    [fix] = [f.remediation or "" for f in result.findings if f.rule_id == "DVG-APPS-002"]
    assert fix.startswith("Remove what gives the app the list: <queries><intent> android.intent.action.MAIN")
    assert "getInstalledPackages" not in fix


def test_html_and_text_reports_show_special_access(tmp_path: Path) -> None:
    result = run_scan(ScanOptions(apk=SPECIAL))
    html = write_reports(result, [ReportFormat.HTML], "en")["html"]
    section = html.split('<section id="special">', 1)[1].split("</section>", 1)[0]
    assert "Accessibility service" in section and "watches com.tencent.mm, com.tencent.mobileqq" in section
    zh = write_reports(result, [ReportFormat.HTML], "zh")["html"]
    assert "无障碍服务" in zh.split('<section id="special">', 1)[1]
    plain = write_reports(run_scan(ScanOptions(apk=REPO / "fixtures" / "apks" / "utility.apk")),
                          [ReportFormat.HTML], "en")["html"]
    assert '<section id="special">' not in plain


def test_an_unreadable_accessibility_configuration_keeps_the_service(tmp_path: Path) -> None:
    broken = tmp_path / "broken.apk"
    with zipfile.ZipFile(SPECIAL) as src, zipfile.ZipFile(broken, "w") as dst:
        config = next(a.config["file"] for a in analyze_apk(SPECIAL).special_access if a.kind == "accessibility")
        for item in src.infolist():
            dst.writestr(item, b"\x03\x00\x08\x00garbage" if item.filename == config else src.read(item.filename))
    report = analyze_apk(broken)
    [service] = [a for a in report.special_access if a.kind == "accessibility"]
    assert service.config.get("unreadable") is True
    assert "other_messages" in service.data_types  # unknown configuration: it may read window content


def test_a_malformed_catalog_names_file_and_line() -> None:
    text = "version: 1\nkinds:\n  - id: x\n    label: X\n    sees: things\n    data_types: [not_a_type]\n"
    with pytest.raises(BadCatalog) as err:
        parse_special_access(text, "mine.yaml")
    assert str(err.value).startswith("mine.yaml:3: ") and "not_a_type" in str(err.value)
    with pytest.raises(BadCatalog, match="says nothing about how to find it"):
        parse_special_access("kinds:\n  - {id: y, label: Y, sees: s}\n", "mine.yaml")
    assert len(load_special_access().kinds) >= 14


@pytest.mark.skipif(not ANTI_RECALL.is_file(), reason="../shared/reference corpus not present")
def test_a_real_message_reader_is_named_for_what_it_does() -> None:
    report = analyze_apk(ANTI_RECALL)
    components = {a.kind: a for a in report.special_access if a.source == "component"}
    assert set(components) == {"accessibility", "notification_listener"}
    assert components["accessibility"].config["can_retrieve_window_content"] is True
    assert components["accessibility"].config["event_types"] == ["all"]
    # Its exact alarms are AlarmManagerCompat in the support library, which the app never calls.
    alarms = [a for a in report.special_access if a.kind == "exact_alarm"]
    assert alarms and all(a.origin == "library" and a.reached_from is None for a in alarms)
    rules = [f.rule_id for f in run_scan(ScanOptions(apk=ANTI_RECALL)).findings]
    assert rules.count("DVG-SPECIAL-001") == 2 and "DVG-APPS-002" not in rules


@pytest.mark.skipif(not (CORPUS / "apks").is_dir(), reason="../shared/reference corpus not present")
@pytest.mark.parametrize(("name", "kind"), [("androguard__a2dp.Vol_137.apk", "notification_listener"),
                                            ("fdroidserver__org.dyndns.fules.ck_20.apk", "input_method")])
def test_real_apps_services(name: str, kind: str) -> None:
    report = analyze_apk(CORPUS / "apks" / name)
    assert kind in _kinds(report, "component")

