"""SARIF 2.1.0: valid against the official schema, one result per finding and location, stable fingerprints."""

from __future__ import annotations

import dataclasses
import functools
import json
from pathlib import Path
from typing import Any

import jsonschema
from scanner.reports import ReportFormat, write_reports

# The official SARIF 2.1.0 schema (2.1.0-rtm.5, published by Microsoft in the npm package @microsoft/jest-sarif, MIT).
SCHEMA_PATH = Path(__file__).with_name("sarif-schema-2.1.0.json")


@functools.cache
def _validator() -> jsonschema.Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _sarif(result: Any) -> dict[str, Any]:
    log: dict[str, Any] = json.loads(write_reports(result, [ReportFormat.SARIF], "en")["sarif"])
    return log


def test_valid_against_official_schema(builder) -> None:
    for result in (builder.sample_result(), builder.sample_result(hostile=True), builder.big_result(300, 200)):
        log = _sarif(result)
        errors = sorted(_validator().iter_errors(log), key=lambda e: list(e.absolute_path))
        assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]
        assert log["version"] == "2.1.0"


def test_one_result_per_finding_and_location(builder) -> None:
    result = builder.sample_result()
    log = _sarif(result)
    results = log["runs"][0]["results"]
    expected = sum(max(1, len(f.evidence)) for f in result.findings)
    assert len(results) == expected
    assert all(len(r["locations"]) == 1 for r in results)
    consent = [r for r in results if r["ruleId"] == "DVG-CONSENT-001"]
    logical = {r["locations"][0]["logicalLocations"][0]["kind"] for r in consent}
    assert logical == {"resource", "function"}
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in consent}
    assert uris == {"capture.flows", "demoshop.apk"}  # the request points at the capture, the code at the APK
    code = next(r for r in consent if r["locations"][0]["logicalLocations"][0]["kind"] == "function")
    assert code["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == "com.adsdk.core.DeviceInfo.collect"
    manifest = [r for r in results if r["ruleId"] == "DVG-HWID-001"
                and r["locations"][0]["logicalLocations"][0]["kind"] == "element"]
    assert manifest[0]["locations"][0]["logicalLocations"][0]["fullyQualifiedName"].startswith("AndroidManifest.xml/")


def test_rules_levels_and_metadata(builder) -> None:
    log = _sarif(builder.sample_result())
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    ids = [r["id"] for r in rules]
    assert len(ids) == len(set(ids)) == 7
    consent = rules[ids.index("DVG-CONSENT-001")]
    assert consent["helpUri"].startswith("https://")
    assert consent["properties"]["security-severity"] == "9.5"
    assert consent["properties"]["precision"] == "high"
    assert "Initialise AdSDK" in consent["help"]["text"]
    assert consent["properties"]["references"][0]["url"].startswith("https://")
    levels = {r["ruleId"]: r["level"] for r in log["runs"][0]["results"]}
    assert levels["DVG-CONSENT-001"] == "error" and levels["DVG-SHARE-001"] == "error"
    assert levels["DVG-HWID-001"] == "warning" and levels["DVG-APPLIST-001"] == "note"
    assert levels["DVG-OVERDECL-001"] == "note"
    suppressed = [r for r in log["runs"][0]["results"] if r["ruleId"] == "DVG-CLEAR-001"]
    assert suppressed[0]["suppressions"][0]["kind"] == "external"
    for r in log["runs"][0]["results"]:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]


def test_fingerprints_stable_across_runs_and_unique(builder) -> None:
    first = builder.sample_result()
    second = builder.sample_result()
    second.started, second.finished = "2030-01-01T00:00:00Z", "2030-01-01T00:01:00Z"
    for f in second.findings:  # times move between captures; the fingerprint must not
        for e in f.evidence:
            if "time" in e.details:
                e.details = {**e.details, "time": e.details["time"] + 999}
    second.findings.reverse()

    def prints(result: Any) -> list[str]:
        return sorted(r["partialFingerprints"]["divulgeFindingHash/v1"] for r in _sarif(result)["runs"][0]["results"])

    a, b = prints(first), prints(second)
    assert a == b
    assert len(set(a)) == len(a)
    moved = builder.sample_result()
    moved.findings[0] = dataclasses.replace(moved.findings[0], fingerprint="something-else")
    assert prints(moved) != a
