"""JSON findings: valid against the shipped schema, round-trips through load_findings, bad files get clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from scanner.reports import ReportFormat, load_findings, write_reports
from scanner.reports.loader import findings_schema

from scanner.errors import BadReport
from scanner.model import ScanResult


def _json(result: ScanResult) -> str:
    return write_reports(result, [ReportFormat.JSON], "en")["json"]


@pytest.mark.parametrize("hostile", [False, True])
def test_output_matches_schema_and_round_trips(builder, tmp_path: Path, hostile: bool) -> None:
    result = builder.sample_result(hostile=hostile)
    text = _json(result)
    document = json.loads(text)
    jsonschema.Draft202012Validator(findings_schema()).validate(document)
    assert document["schema"] == "divulge/findings/1"
    assert document["summary"]["by_severity"] == {"critical": 1, "high": 2, "medium": 1, "low": 1, "info": 1}
    assert document["summary"]["suppressed"] == 1 and document["summary"]["failed"] is True
    path = tmp_path / "findings.json"
    path.write_text(text, encoding="utf-8")
    assert load_findings(path) == result
    assert _json(load_findings(path)) == text


def test_minimal_result_without_facts_round_trips(tmp_path: Path) -> None:
    result = ScanResult(app=None, findings=[])
    path = tmp_path / "f.json"
    path.write_text(_json(result), encoding="utf-8")
    assert load_findings(path) == result


def test_schema_file_is_a_valid_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(findings_schema())


def _write(tmp_path: Path, document: object) -> Path:
    path = tmp_path / "findings.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_wrong_version_is_a_clear_error(builder, tmp_path: Path) -> None:
    document = json.loads(_json(builder.sample_result()))
    document["schema"] = "divulge/findings/2"
    with pytest.raises(BadReport, match=r"unsupported findings version 'divulge/findings/2'.*reads 'divulge/findings/1'"):
        load_findings(_write(tmp_path, document))


def test_other_divulge_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(BadReport, match="schema is 'divulge/static/1'"):
        load_findings(_write(tmp_path, {"schema": "divulge/static/1"}))
    with pytest.raises(BadReport, match='no "schema" key'):
        load_findings(_write(tmp_path, {"findings": []}))
    with pytest.raises(BadReport, match="top level is list"):
        load_findings(_write(tmp_path, []))


def test_schema_violation_names_the_json_path(builder, tmp_path: Path) -> None:
    document = json.loads(_json(builder.sample_result()))
    document["findings"][2]["severity"] = "urgent"
    with pytest.raises(BadReport, match=r"findings\[2\]\.severity: 'urgent' is not one of"):
        load_findings(_write(tmp_path, document))


def test_broken_json_gives_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "schema": "divulge/findings/1",\n  "app": nope\n}', encoding="utf-8")
    with pytest.raises(BadReport) as info:
        load_findings(path)
    assert str(info.value).startswith(f"{path}:3: not valid JSON")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(BadReport, match="no such file"):
        load_findings(tmp_path / "absent.json")
