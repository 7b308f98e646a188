"""JSON findings (`divulge/findings/1`): the whole ScanResult plus a summary; `load_findings` reads it back."""

from __future__ import annotations

import dataclasses
import enum
import functools
import json
from typing import Any, ClassVar

from scanner.reports.base import ReportOptions, ReportWriter
from scanner.reports.summary import summarize

from scanner.model import ScanResult, Severity

# Above this many findings + observations the file is written compact: indenting 50,000 flows costs seconds.
INDENT_LIMIT = 20_000
_SCALARS = (str, int, float, bool, type(None))


@functools.cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


def plain(value: Any) -> Any:
    """Same output as model.to_jsonable, several times faster on 100,000 values (scalars checked first)."""
    if type(value) in _SCALARS:
        return value
    if isinstance(value, dict):
        return {str(k): v if type(v) in _SCALARS else plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [v if type(v) in _SCALARS else plain(v) for v in value]
    if isinstance(value, Severity):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {name: plain(getattr(value, name)) for name in _field_names(type(value))}
    if isinstance(value, (set, frozenset)):
        return sorted(plain(v) for v in value)
    if isinstance(value, tuple):
        return [plain(v) for v in value]
    return value


def findings_document(result: ScanResult) -> dict[str, Any]:
    """The JSON value: schema id first so a reader can tell the version before anything else."""
    body = plain(result)
    document: dict[str, Any] = {"schema": ScanResult.SCHEMA, "tool": {"name": "divulge", "version": result.tool_version}}
    document["summary"] = summarize(result).as_json()
    document.update(body)
    return document


class JsonWriter(ReportWriter):
    format_name: ClassVar[str] = "json"
    file_name: ClassVar[str] = "findings.json"
    media_type: ClassVar[str] = "application/json"

    def render(self, result: ScanResult, options: ReportOptions) -> str:
        size = len(result.findings) + (len(result.traffic.observations) if result.traffic else 0)
        indent = 2 if size <= INDENT_LIMIT else None
        return json.dumps(findings_document(result), indent=indent, ensure_ascii=False) + "\n"
