"""Report writers (text, JSON, HTML, SARIF, Markdown, JUnit) and the loader of saved findings (shipped as scanner.reports)."""

from scanner.reports.base import LANGUAGES, ReportOptions, ReportWriter
from scanner.reports.formats import ReportFormat, parse_formats, report_file_name, write_reports, writer_for
from scanner.reports.loader import load_findings, parse_findings

__all__ = [
    "LANGUAGES", "ReportFormat", "ReportOptions", "ReportWriter", "load_findings", "parse_findings",
    "parse_formats", "report_file_name", "write_reports", "writer_for",
]
