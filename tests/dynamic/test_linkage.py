"""Linkage: one identifier value at several organisations (cross-party) or in several captures (persistent)."""

from __future__ import annotations

import json
from pathlib import Path

from scanner.dynamic.traffic import TrafficOptions, analyse_traffic
from scanner.engine.facts import build_facts

ADID = "8be1b7a5-3024-4d33-aa56-f2ddda4d26b1"


def _har(path: Path, requests: list[tuple[str, str | None]]) -> Path:
    entries = []
    for i, (url, body) in enumerate(requests):
        request = {"method": "POST" if body else "GET", "url": url, "httpVersion": "HTTP/1.1", "headers": [],
                   "queryString": [], "cookies": [], "headersSize": -1, "bodySize": -1}
        if body:
            request["postData"] = {"mimeType": "application/json", "text": body}
        entries.append({"startedDateTime": f"2026-01-01T00:00:{i:02d}Z", "time": 1, "request": request,
                        "response": {"status": 200, "statusText": "", "httpVersion": "HTTP/1.1", "headers": [],
                                     "cookies": [], "content": {"size": 0, "mimeType": ""}, "redirectURL": "",
                                     "headersSize": -1, "bodySize": 0}, "cache": {}, "timings": {}})
    path.write_text(json.dumps({"log": {"version": "1.2", "entries": entries}}), encoding="utf-8")
    return path


def test_one_ad_id_at_two_organisations_and_in_two_captures(tmp_path: Path) -> None:
    first = _har(tmp_path / "monday.har", [
        (f"https://app.adjust.com/session?gps_adid={ADID}", None),
        ("https://launches.appsflyer.com/api/v6.12/androidevent", json.dumps({"advertiserId": ADID.upper()})),
        ("https://api2.amplitude.com/2/httpapi", json.dumps({"events": [{"device_id": "C8F9E604-F01A-4BD9-95C6-8E5357DF265D"}]})),
    ])
    second = _har(tmp_path / "tuesday.har", [(f"https://app.adjust.com/session?gps_adid={ADID}", None)])
    report = analyse_traffic(TrafficOptions(captures=(first, second)))
    by_kind = {li.identifier: li for li in report.linkage}
    ad = by_kind["advertising_id"]
    assert ad.cross_party and ad.persistent and ad.flows == 3
    assert len(ad.organisations) == 2 and ad.captures == sorted([str(first), str(second)])
    assert "vendor_device_id" not in by_kind  # Amplitude's id went to Amplitude only, in one capture
    facts = build_facts(None, report, None).facts
    linked = [f for f in facts if f["kind"] == "linkable_identifier"]
    assert [(f["identifier"], f["cross_party"], f["persistent"]) for f in linked] == [("advertising_id", True, True)]


def test_a_value_never_appears_in_the_report_only_its_fingerprint(tmp_path: Path) -> None:
    har = _har(tmp_path / "c.har", [
        ("https://launches.appsflyer.com/api/v6.12/androidevent", json.dumps({"advertiserId": ADID})),
        ("https://api2.branch.io/v1/open", json.dumps({"google_advertising_id": ADID})),
    ])
    report = analyse_traffic(TrafficOptions(captures=(har,)))
    assert len(report.linkage) == 1 and ADID not in json.dumps([li.__dict__ for li in report.linkage])


def test_linkage_in_the_text_summary_and_the_html_report(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from scanner.cli import main

    har = _har(tmp_path / "c.har", [
        ("https://launches.appsflyer.com/api/v6.12/androidevent", json.dumps({"advertiserId": ADID})),
        ("https://api2.branch.io/v1/open", json.dumps({"google_advertising_id": ADID})),
    ])
    text = CliRunner().invoke(main, ["traffic", str(har)]).output
    assert "Identifiers that tie recipients together" in text and "AppsFlyer" in text
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["scan", "--traffic", str(har), "--format", "html", "-o", str(out),
                                       "--fail-on", "none"])
    assert result.exit_code == 0, result.output
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Identifiers that tie recipients together" in html and "DVG-LINK-001" in html
    assert ADID not in html.split('id="obs-data"')[0]  # the linkage table shows fingerprints, not values
