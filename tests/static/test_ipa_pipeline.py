"""An IPA through the rest of divulge: declarations in Apple's formats, reports, batch discovery."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scanner.batch.inputs import load_jobs
from scanner.errors import BadDeclaration
from scanner.policy.declaration import load_declaration
from scanner.scan import ScanOptions, run_scan

REPO = Path(__file__).resolve().parents[2]
IPAS = REPO / "fixtures" / "ipas"
DECLARATIONS = REPO / "fixtures" / "declarations"
DIVULGE = Path(sys.executable).with_name("divulge")


def test_app_store_label_maps_to_data_types() -> None:
    label = load_declaration(DECLARATIONS / "shop.appstore-label.yaml")
    assert label.kind == "app-store-label" and label.package == "org.divulge.fixture.shop"
    assert label.declares_collected("device_id") and label.declares_shared("device_id")
    assert label.data_types["device_id"].purposes == ["advertising", "analytics"]
    assert label.declares_collected("precise_location") and not label.declares_shared("precise_location")
    assert label.data_types["contacts"].denied  # not on the label: the label says it is not collected


def test_data_not_collected_denies_everything() -> None:
    label = load_declaration(DECLARATIONS / "news_cn.appstore-label.yaml")
    assert all(d.denied for d in label.data_types.values())


@pytest.mark.parametrize("text,message", [
    ("schema: divulge/app-store-label/1\ndata_linked_to_you: [Shoe Size]\n", "unknown App Store data type 'Shoe Size'"),
    ("schema: divulge/app-store-label/1\ndata_linked_to_you:\n  - {type: Name, purposes: [Fun]}\n",
     "unknown App Store purpose 'Fun'"),
    ("schema: divulge/app-store-label/1\ndata_not_collected: true\ndata_linked_to_you: [Name]\n",
     "Data Not Collected and lists"),
    ("schema: divulge/app-store-label/1\ntracking: yes\n", "unknown key 'tracking'"),
])
def test_bad_labels_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "label.yaml"
    path.write_text(text)
    with pytest.raises(BadDeclaration, match=message) as caught:
        load_declaration(path)
    assert caught.value.path == str(path) and caught.value.line


def test_privacy_manifests_of_an_ipa_as_a_declaration() -> None:
    declaration = load_declaration(IPAS / "shop.ipa")
    assert declaration.kind == "privacy-manifest"
    collected = {k for k, v in declaration.data_types.items() if v.collected}
    assert collected == {"device_id", "precise_location", "user_interaction", "approx_location", "purchase_history",
                         "performance_diagnostics", "user_account"}
    assert declaration.data_types["contacts"].denied


def test_an_ipa_without_manifests_is_no_declaration() -> None:
    with pytest.raises(BadDeclaration, match="no PrivacyInfo.xcprivacy"):
        load_declaration(IPAS / "legacy.ipa")


def test_label_denying_what_the_code_reads_is_found() -> None:
    result = run_scan(ScanOptions(apk=IPAS / "news_cn.ipa", policy=DECLARATIONS / "news_cn.appstore-label.yaml"))
    denied = {f.data_type for f in result.findings if f.rule_id == "DVG-DECL-004"}
    assert {"contacts", "precise_location"} <= denied
    assert not [f for f in result.findings if f.rule_id == "DVG-SDK-001"]  # a label names no third parties


def test_complete_label_and_manifests_are_clean() -> None:
    result = run_scan(ScanOptions(apk=IPAS / "shop.ipa", policy=DECLARATIONS / "shop.appstore-label.yaml"))
    ios = [f.rule_id for f in result.findings if f.rule_id.startswith(("DVG-IOS", "DVG-DECL"))]
    assert ios == []


def test_reports_of_an_ipa(tmp_path: Path) -> None:
    proc = subprocess.run([str(DIVULGE), "scan", str(IPAS / "legacy.ipa"), "--format", "html,sarif,json",
                           "-o", str(tmp_path), "--fail-on", "high"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stderr  # DVG-IOS-001..003 are high
    sarif = json.loads((tmp_path / "findings.sarif").read_text())
    rules = {r["ruleId"] for r in sarif["runs"][0]["results"]}
    assert {"DVG-IOS-001", "DVG-IOS-002", "DVG-IOS-003", "DVG-IOS-004"} <= rules
    html = (tmp_path / "report.html").read_text()
    assert "org.divulge.fixture.legacy" in html and "DVG-IOS-002" in html
    assert "Minimum iOS version</dt><dd>12.0" in html and "Android API level" not in html


def test_batch_finds_ipas(tmp_path: Path) -> None:
    shutil.copyfile(IPAS / "notes.ipa", tmp_path / "notes.ipa")
    shutil.copyfile(REPO / "fixtures" / "apks" / "utility.apk", tmp_path / "utility.apk")
    assert [job.app_id for job in load_jobs(tmp_path)] == ["notes", "utility"]


CAPTURES = REPO / "fixtures" / "captures"


def _rule_ids(app: str) -> dict[str, set[str | None]]:
    result = run_scan(ScanOptions(apk=IPAS / f"{app}.ipa", traffic=(CAPTURES / f"{app}_ios.traffic.json",)))
    found: dict[str, set[str | None]] = {}
    for finding in result.findings:
        found.setdefault(finding.rule_id, set()).add(finding.data_type)
    return found


def test_traffic_against_the_manifests_news_cn() -> None:
    found = _rule_ids("news_cn")
    assert found["DVG-IOS-005"] == {"device_id", "precise_location"}  # the manifest declares crash data only
    assert found["DVG-IOS-008"] == {"device_id"}  # the IDFA leaves while NSPrivacyTracking is false
    assert "device_id" not in found["DVG-IOS-006"]  # traffic shows it: the behaviour rule speaks, not this one
    assert "DVG-IOS-007" not in found  # ulogs.umeng.com is no declared tracking domain


def test_tracking_domain_before_att_shop() -> None:
    found = _rule_ids("shop")
    assert found["DVG-IOS-007"] == {"device_id"}  # ep1.facebook.com before consent; AppsFlyer's came after
    assert not {"DVG-IOS-005", "DVG-IOS-008"} & set(found)  # declared, and the app declares tracking
