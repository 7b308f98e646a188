"""`make demo`: the shopping fixture, its capture and its declaration give the findings its lies deserve."""

from __future__ import annotations

from pathlib import Path

from scanner.scan import ScanOptions, run_scan

REPO = Path(__file__).resolve().parents[2]


def test_shopping_demo(fixture_apk) -> None:  # type: ignore[no-untyped-def]
    capture = REPO / "fixtures" / "captures" / "shopping.har"
    assert capture.is_file(), "fixtures/captures/shopping.har missing"
    result = run_scan(ScanOptions(apk=fixture_apk("shopping"), traffic=(capture,),
                                  policy=REPO / "fixtures" / "declarations" / "shopping.privacy.yaml",
                                  device=REPO / "fixtures" / "devices" / "test-phone.yaml"))
    found = {(f.rule_id, f.sdk) for f in result.findings}
    # AppsFlyer and Facebook are in the app but not declared; Firebase is declared.
    assert ("DVG-SDK-001", "appsflyer") in found and ("DVG-SDK-001", "facebook-analytics") in found
    assert ("DVG-SDK-001", "google-firebase-analytics") not in found
    assert ("DVG-SDK-003", "google-firebase-analytics") in found  # FirebaseInitProvider
    assert any(r == "DVG-CONSENT-001" for r, _ in found) and any(r == "DVG-SHARE-001" for r, _ in found)
    assert ("DVG-ID-003", None) not in found, "the app declares AD_ID"
    auto_init = next(f for f in result.findings if f.rule_id == "DVG-SDK-003")
    assert auto_init.basis == "both" and {e.kind for e in auto_init.evidence} >= {"sdk", "flow"}
    assert result.app is not None and result.app.package == "org.divulge.fixture.shopping"
