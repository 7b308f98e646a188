"""JSON findings (`divulge/findings/1`): the whole ScanResult plus a summary; `load_findings` reads it back."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from scanner.model import ScanResult, to_jsonable
from scanner.reports.base import ReportOptions, ReportWriter
from scanner.reports.summary import summarize


def findings_document(result: ScanResult) -> dict[str, Any]:
    """The JSON value: schema id first so a reader can tell the version before anything else."""
    body = to_jsonable(result)
    document: dict[str, Any] = {"schema": ScanResult.SCHEMA, "tool": {"name": "divulge", "version": result.tool_version}}
    document["summary"] = summarize(result).as_json()
    document.update(body)
    return document


class JsonWriter(ReportWriter):
    format_name: ClassVar[str] = "json"
    file_name: ClassVar[str] = "findings.json"
    media_type: ClassVar[str] = "application/json"

    def render(self, result: ScanResult, options: ReportOptions) -> str:
        return json.dumps(findings_document(result), indent=2, ensure_ascii=False) + "\n"
