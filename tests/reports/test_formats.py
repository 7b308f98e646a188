"""ReportFormat maps every CLI choice to exactly one writer; writers return strings under fixed file names."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
import scanner.reports
from scanner.reports import ReportFormat, ReportWriter, parse_formats, report_file_name, write_reports, writer_for

from scanner.errors import BadReport


def _all_writer_classes() -> set[type[ReportWriter]]:
    for info in pkgutil.iter_modules(scanner.reports.__path__):
        importlib.import_module(f"scanner.reports.{info.name}")
    return set(ReportWriter.__subclasses__())


def test_every_format_has_a_writer_and_every_writer_a_format() -> None:
    mapped = {fmt: type(writer_for(fmt)) for fmt in ReportFormat}
    for fmt, cls in mapped.items():
        assert cls.format_name == fmt.value
    assert set(mapped.values()) == _all_writer_classes()
    assert len(set(mapped.values())) == len(ReportFormat)


def test_file_names_are_the_documented_ones() -> None:
    names = {fmt.value: report_file_name(fmt) for fmt in ReportFormat}
    assert names == {"html": "report.html", "json": "findings.json", "sarif": "findings.sarif", "md": "summary.md",
                     "junit": "junit.xml", "text": "report.txt", "pia": "pia.md", "pia-html": "pia.html",
                     "pia-json": "pia.json"}


def test_parse_formats_keeps_order_drops_duplicates_and_accepts_aliases() -> None:
    assert parse_formats("html, JSON,markdown,html") == [ReportFormat.HTML, ReportFormat.JSON, ReportFormat.MD]
    with pytest.raises(BadReport, match="unknown report format 'pdf'"):
        parse_formats("html,pdf")
    with pytest.raises(BadReport, match="no report format"):
        parse_formats(" , ")


def test_write_reports_renders_each_format_as_text(builder) -> None:
    texts = write_reports(builder.sample_result(), list(ReportFormat), "en")
    assert set(texts) == {f.value for f in ReportFormat}
    assert all(isinstance(v, str) and v for v in texts.values())
    with pytest.raises(BadReport, match="unknown report language"):
        write_reports(builder.sample_result(), [ReportFormat.TEXT], "fr")
