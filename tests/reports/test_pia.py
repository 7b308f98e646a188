"""The PIA draft (`--format pia`, `pia-html`, `pia-json`) for every fixture app: schema, gaps marked, Chromium, CLI."""

from __future__ import annotations

import json
import os
import re
import time
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner
from scanner.reports import ReportFormat, write_reports
from scanner.reports.pia import SENSITIVE_DATA_TYPES, build_pia

from scanner.cli import main
from scanner.model import ScanResult, Transfer, to_jsonable
from scanner.scan import ScanOptions, run_scan

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures"
APPS = sorted(p.stem for p in (FIXTURES / "apks").glob("*.apk"))
CHROMIUM = "/usr/bin/chromium"


@cache
def scanned(app: str) -> ScanResult:
    """The scan of one fixture app with the declaration and capture it has (as `make demo` scans shopping)."""
    declaration = FIXTURES / "declarations" / f"{app}.privacy.yaml"
    capture = FIXTURES / "captures" / f"{app}.har"
    return run_scan(ScanOptions(
        apk=FIXTURES / "apks" / f"{app}.apk", policy=declaration if declaration.is_file() else None,
        traffic=(capture,) if capture.is_file() else (),
        device=FIXTURES / "devices" / "test-phone.yaml" if capture.is_file() else None))


@cache
def pia_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((REPO / "reports" / "schemas" / "pia.schema.json").read_text(encoding="utf-8"))
    return schema


def test_fixture_apps_are_all_here() -> None:
    assert len(APPS) >= 10 and {"shopping", "news_cn", "hostile", "utility", "weather"} <= set(APPS)


@pytest.mark.parametrize("app", APPS)
def test_pia_draft_of_every_fixture_app(app: str) -> None:
    result = scanned(app)
    texts = write_reports(result, [ReportFormat.PIA, ReportFormat.PIA_JSON, ReportFormat.PIA_HTML], "en")
    document = json.loads(texts["pia-json"])
    jsonschema.Draft202012Validator(pia_schema()).validate(document)
    # Every finding becomes one ranked risk with its evidence; each rule's fix-it one measure.
    active = [f for f in result.findings if not f.suppressed]
    assert [r["rank"] for r in document["risks"]] == list(range(1, len(active) + 1))
    assert sorted(r["fingerprint"] for r in document["risks"]) == sorted(f.fingerprint for f in active)
    severities = ["critical", "high", "medium", "low", "info"]
    ranks = [severities.index(r["severity"]) for r in document["risks"]]
    assert ranks == sorted(ranks), "risks are ranked worst first"
    assert {m["rule_id"] for m in document["measures"]} == {f.rule_id for f in active if f.remediation}
    # What divulge cannot know stays a marked gap in every rendering.
    assert all(a["legal_basis"] is None for a in document["activities"])
    assert texts["pia"].count("[to be completed]") >= len(document["gaps"]) + 1
    assert texts["pia-html"].count("data-tbc") >= len(document["gaps"]) + 1
    for section in ("## 1.", "## 3.", "## 5.", "## 6.", "## 7.", "## 8.", "## 10."):
        assert section in texts["pia"]
    zh = write_reports(result, [ReportFormat.PIA], "zh")["pia"]
    assert "【待填写】" in zh and "个人信息保护影响评估" in zh


def test_shopping_draft_names_countries_and_transfers() -> None:
    draft = build_pia(scanned("shopping"))
    countries = {p.name: p.country for p in draft.parties}
    assert countries["AppsFlyer"] == "IL" and countries["Google Analytics for Firebase"] == "US"
    # The 2021 category of its declaration reads the app under Chinese rules: its data to the US and Israel leaves.
    assert draft.app.markets == ["cn"]
    assert {(x.recipient, x.country, x.basis) for x in draft.transfers} >= {("AppsFlyer", "IL", "behaviour")}
    assert all(x.country != "CN" for x in draft.transfers)
    trigger = {g.id: g.applies for g in draft.triggers}
    assert trigger["cross_border"] is True and trigger["sensitive"] is True and trigger["automated_decision"] is None
    location = next(a for a in draft.activities if a.data_type == "precise_location")
    assert location.sensitive and "traffic" in location.seen_in and location.purposes == ["app_functionality"]
    assert any(r.rule_id.startswith("DVG-XBORDER-") for r in draft.risks)


def test_chinese_draft_speaks_chinese_and_skips_local_libraries() -> None:
    draft = build_pia(scanned("shopping"), "zh")
    # The advertising-ID client reads the ID on the device and sends it nowhere: no recipient, no transfer.
    assert "google-ads-identifier" not in {p.sdk for p in draft.parties}
    assert "google-ads-identifier" not in {x.sdk for x in scanned("shopping").transfers}
    text = write_reports(scanned("shopping"), [ReportFormat.PIA], "zh")["pia"]
    assert "应用功能" in text and "App functionality" not in text


def test_findings_written_before_transfers_existed_still_render(tmp_path: Path) -> None:
    from scanner.reports import load_findings

    # news_cn: with its markets known its data stays in the mainland (a "no"); without them divulge cannot say.
    document = json.loads(write_reports(scanned("news_cn"), [ReportFormat.JSON])["json"])
    for key in ("markets", "audience", "transfers"):
        del document[key]
    path = tmp_path / "old-findings.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    draft = build_pia(load_findings(path))
    assert draft.transfers == [] and draft.app.markets == []
    assert {g.id: g.applies for g in draft.triggers}["cross_border"] is None  # unknown, not "no"


def test_news_cn_data_stays_in_the_mainland() -> None:
    draft = build_pia(scanned("news_cn"))
    assert draft.app.markets == ["cn"] and draft.transfers == []
    assert {g.id: g.applies for g in draft.triggers}["cross_border"] is False
    assert {p.country for p in draft.parties if p.in_traffic} == {"CN"}


def test_unknown_market_leaves_cross_border_open() -> None:
    draft = build_pia(scanned("utility"))
    assert {g.id: g.applies for g in draft.triggers}["cross_border"] in (None, False)
    if not draft.app.markets:
        assert {g.id: g.applies for g in draft.triggers}["cross_border"] is None


def test_sensitive_list_matches_the_rules() -> None:
    for rule in ("DVG-SENS-001", "DVG-XBORDER-002"):
        doc = yaml.safe_load((REPO / "rules" / "packs" / "builtin" / f"{rule}.yaml").read_text(encoding="utf-8"))
        assert set(doc["match"]["where"]["data_type"]["in"]) == SENSITIVE_DATA_TYPES, rule


def test_markdown_keeps_hostile_text_inert() -> None:
    result = scanned("hostile")
    assert result.app is not None and "<script>" in (result.app.label or "")
    text = write_reports(result, [ReportFormat.PIA], "en")["pia"]
    # Markdown renders an escaped "\\<" as the character itself: no "<" may stand unescaped, so no tag can open.
    assert re.search(r"(?<!\\)<", text) is None and "\\<script\\>" in text


def test_transfers_round_trip_through_findings_json(tmp_path: Path) -> None:
    result = scanned("shopping")
    path = tmp_path / "findings.json"
    path.write_text(write_reports(result, [ReportFormat.JSON])["json"], encoding="utf-8")
    from scanner.reports import load_findings

    loaded = load_findings(path)
    assert loaded.markets == result.markets and loaded.transfers == result.transfers
    assert all(isinstance(x, Transfer) for x in loaded.transfers)
    assert to_jsonable(build_pia(loaded)) == to_jsonable(build_pia(result))


# --- the CLI: rendering from a saved findings JSON, and refusing bad input in one line ---------------------------


def _saved(tmp_path: Path, app: str = "shopping") -> Path:
    path = tmp_path / "findings.json"
    path.write_text(write_reports(scanned(app), [ReportFormat.JSON])["json"], encoding="utf-8")
    return path


def test_cli_renders_pia_in_both_languages(tmp_path: Path) -> None:
    findings = _saved(tmp_path)
    runner = CliRunner()
    started = time.perf_counter()
    out = runner.invoke(main, ["report", str(findings), "--format", "pia,pia-html,pia-json", "--lang", "zh", "-o",
                               str(tmp_path / "out")])
    elapsed = time.perf_counter() - started
    assert out.exit_code == 0, out.output
    assert {p.name for p in (tmp_path / "out").iterdir()} >= {"pia.md", "pia.html", "pia.json"}
    assert "【待填写】" in (tmp_path / "out" / "pia.md").read_text(encoding="utf-8")
    assert elapsed < 10, f"rendering the PIA took {elapsed:.1f} s"
    md = runner.invoke(main, ["report", str(findings), "--format", "pia"])
    assert md.exit_code == 0 and md.output.startswith("# Personal information impact assessment (draft)")


def test_cli_refuses_another_schema_version_in_one_line(tmp_path: Path) -> None:
    findings = _saved(tmp_path)
    document = json.loads(findings.read_text(encoding="utf-8"))
    document["schema"] = "divulge/findings/2"
    findings.write_text(json.dumps(document), encoding="utf-8")
    out = CliRunner().invoke(main, ["report", str(findings), "--format", "pia"])
    assert out.exit_code == 2
    assert len(out.output.strip().splitlines()) == 1 and "unsupported findings version" in out.output


def test_cli_refuses_findings_changed_after_the_scan(tmp_path: Path) -> None:
    from scanner.batch.evidence import MANIFEST_NAME, build_manifest

    findings = _saved(tmp_path)
    manifest = build_manifest(app_id="shopping", status="ok", inputs=[], outputs={"findings.json": findings.read_bytes()},
                              tool_version="test", rule_pack={}, catalog={}, argv=["divulge"], started="", finished="",
                              recorded="", app_dir=tmp_path)
    (tmp_path / MANIFEST_NAME).write_text(json.dumps(manifest), encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(main, ["report", str(findings), "--format", "pia"]).exit_code == 0
    # A finding's evidence edited after the scan: still valid JSON of the right schema, but not what was recorded.
    findings.write_text(findings.read_text(encoding="utf-8").replace("t.appsflyer.com", "t.example.com"),
                        encoding="utf-8")
    out = runner.invoke(main, ["report", str(findings), "--format", "pia"])
    assert out.exit_code == 2 and len(out.output.strip().splitlines()) == 1
    assert "changed after the scan" in out.output
    # A manifest edited to match: its hash chain no longer holds.
    manifest["entries"][-2]["sha256"] = "0" * 64
    (tmp_path / MANIFEST_NAME).write_text(json.dumps(manifest), encoding="utf-8")
    out = runner.invoke(main, ["report", str(findings), "--format", "pia"])
    assert out.exit_code == 2 and "hash chain is broken" in out.output


# --- the HTML draft in real headless Chromium ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Any:
    if not os.path.exists(CHROMIUM):  # as tests/reports/test_html_browser.py: skip locally, fail under CI
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{CHROMIUM} is required under CI")
        pytest.skip(f"{CHROMIUM} not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu",
                                                                      "--disable-background-networking"])
        yield chromium
        chromium.close()


@pytest.mark.browser
@pytest.mark.parametrize(("app", "lang"), [("hostile", "en"), ("hostile", "zh"), ("shopping", "en"),
                                           ("shopping", "zh"), ("news_cn", "zh")])
def test_pia_html_in_chromium(app: str, lang: str, browser: Any, tmp_path: Path) -> None:
    result = scanned(app)
    path = tmp_path / f"pia-{app}-{lang}.html"
    path.write_text(write_reports(result, [ReportFormat.PIA_HTML], lang)["pia-html"], encoding="utf-8")
    page = browser.new_page()
    dialogs: list[str] = []
    errors: list[str] = []
    requests: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    assert dialogs == [] and errors == []
    assert [u for u in requests if not u.startswith(("file://", "data:"))] == []
    assert page.evaluate("document.scripts.length") == 0
    assert page.locator("[data-tbc]").count() > 5
    tbc = "【待填写】" if lang == "zh" else "[to be completed]"
    assert page.locator("[data-tbc]").first.inner_text() == tbc
    assert page.locator("section").count() == 10
    if app == "hostile":
        assert result.app is not None
        # The payload is shown as the text it is, and no element it names exists.
        assert result.app.label in page.locator("#app-name").inner_text()
        assert page.locator("img").count() == 0 and page.locator("iframe").count() == 0
    else:
        assert page.locator("li.risk").count() == len([f for f in result.findings if not f.suppressed])
    if app == "shopping":
        assert page.locator("tr.transfer").count() == len(result.transfers) > 0
    page.close()
