"""The PIA draft as JSON (`--format pia-json`, `divulge/pia/1`): its sections as data, validated by schemas/pia.schema.json."""

from __future__ import annotations

import json
from typing import ClassVar

from scanner.reports.base import ReportOptions, ReportWriter
from scanner.reports.pia import build_pia

from scanner.model import ScanResult, to_jsonable


class PiaJsonWriter(ReportWriter):
    format_name: ClassVar[str] = "pia-json"
    file_name: ClassVar[str] = "pia.json"
    media_type: ClassVar[str] = "application/json"

    def render(self, result: ScanResult, options: ReportOptions) -> str:
        return json.dumps(to_jsonable(build_pia(result, options.lang)), ensure_ascii=False, indent=1) + "\n"
