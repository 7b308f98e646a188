"""CLI format names -> writers, file names, and rendering several formats at once."""

from __future__ import annotations

import enum

from scanner.reports.base import LANGUAGES, ReportOptions, ReportWriter

from scanner.errors import BadReport
from scanner.gcpause import gc_paused
from scanner.model import ScanResult


class ReportFormat(enum.StrEnum):
    TEXT = "text"
    JSON = "json"
    HTML = "html"
    SARIF = "sarif"
    MD = "md"
    JUNIT = "junit"
    PIA = "pia"
    PIA_HTML = "pia-html"
    PIA_JSON = "pia-json"

    @property
    def writer(self) -> ReportWriter:
        return writer_for(self)

    @property
    def file_name(self) -> str:
        return type(self.writer).file_name


# Spellings people type that mean the same format.
_ALIASES: dict[str, ReportFormat] = {"markdown": ReportFormat.MD, "txt": ReportFormat.TEXT, "xml": ReportFormat.JUNIT,
                                       "pia-md": ReportFormat.PIA}


def writer_for(fmt: ReportFormat) -> ReportWriter:
    """The writer of one format; imports stay local so `divulge --help` does not load jinja2."""
    match fmt:
        case ReportFormat.TEXT:
            from scanner.reports.text import TextWriter
            return TextWriter()
        case ReportFormat.JSON:
            from scanner.reports.json_report import JsonWriter
            return JsonWriter()
        case ReportFormat.HTML:
            from scanner.reports.html import HtmlWriter
            return HtmlWriter()
        case ReportFormat.SARIF:
            from scanner.reports.sarif import SarifWriter
            return SarifWriter()
        case ReportFormat.MD:
            from scanner.reports.markdown import MarkdownWriter
            return MarkdownWriter()
        case ReportFormat.JUNIT:
            from scanner.reports.junit import JunitWriter
            return JunitWriter()
        case ReportFormat.PIA:
            from scanner.reports.pia_markdown import PiaMarkdownWriter
            return PiaMarkdownWriter()
        case ReportFormat.PIA_HTML:
            from scanner.reports.pia_html import PiaHtmlWriter
            return PiaHtmlWriter()
        case ReportFormat.PIA_JSON:
            from scanner.reports.pia_json import PiaJsonWriter
            return PiaJsonWriter()
    raise AssertionError(f"unmapped report format {fmt!r}")  # pragma: no cover - the exhaustiveness test guards it


def parse_formats(text: str) -> list[ReportFormat]:
    """'html,json,sarif' -> formats in the given order, duplicates dropped; BadReport names the bad one."""
    formats: list[ReportFormat] = []
    for part in (p.strip().lower() for p in text.split(",")):
        if not part:
            continue
        fmt = _ALIASES.get(part)
        if fmt is None:
            try:
                fmt = ReportFormat(part)
            except ValueError:
                choices = ", ".join(f.value for f in ReportFormat)
                raise BadReport(f"unknown report format {part!r} (choose from {choices})") from None
        if fmt not in formats:
            formats.append(fmt)
    if not formats:
        raise BadReport("no report format given")
    return formats


def report_file_name(fmt: ReportFormat) -> str:
    """report.html, findings.json, findings.sarif, summary.md, junit.xml, report.txt, pia.md, pia.html, pia.json."""
    return fmt.file_name


def write_reports(result: ScanResult, formats: list[ReportFormat], lang: str = "en") -> dict[str, str]:
    """Render each format; returns {format value: text}. Shared by `divulge scan` and `divulge report`."""
    if lang not in LANGUAGES:
        raise BadReport(f"unknown report language {lang!r} (choose from {', '.join(LANGUAGES)})")
    options = ReportOptions(lang=lang)
    with gc_paused():  # rendering makes millions of short-lived acyclic objects
        return {fmt.value: writer_for(fmt).render(result, options) for fmt in formats}
