"""Plain-text report for the terminal: the verdict, then each finding with its evidence, worst first."""

from __future__ import annotations

from typing import ClassVar

from scanner.reports.base import ReportOptions, ReportWriter
from scanner.reports.i18n import Translator
from scanner.reports.summary import SEVERITIES_DESC, summarize

from scanner.model import ScanResult


def one_line(text: str) -> str:
    """Control characters from traffic must not move the terminal cursor or forge lines."""
    return "".join(c if c.isprintable() else " " for c in text)


class TextWriter(ReportWriter):
    format_name: ClassVar[str] = "text"
    file_name: ClassVar[str] = "report.txt"
    media_type: ClassVar[str] = "text/plain"

    def render(self, result: ScanResult, options: ReportOptions) -> str:
        t = Translator(options.lang)
        summary = summarize(result)
        app = (result.app.label or result.app.package) if result.app else t("app.unknown")
        lines = [one_line(t("text.title", app=app))]
        if result.app:
            lines.append(one_line(f"{result.app.package} {result.app.version_name or ''} sha256:{result.app.sha256}"))
        counts = ", ".join(f"{summary.by_severity[str(s)]} {t.severity(s)}" for s in SEVERITIES_DESC)
        lines.append(t("text.summary", total=summary.total, counts=counts)
                     + (f"; {t('text.suppressed', n=summary.suppressed)}" if summary.suppressed else ""))
        lines.append("")
        if not summary.active:
            lines.append(t("text.none"))
        for f in summary.active:
            where = " ".join(x for x in (f.data_type or "", f.sdk or "") if x)
            lines.append(one_line(f"[{t.severity(f.severity).upper()}] {f.rule_id} {t.title(f).text}"
                                  + (f" ({where})" if where else "")))
            lines.append("    " + one_line(t.message(f).text))
            for e in f.evidence:
                lines.append(f"    {t('text.evidence')}: " + one_line(e.summary + (f" @ {e.location}" if e.location else "")))
            remediation = t.remediation(f)
            if remediation:
                lines.append(f"    {t('text.fix')}: " + one_line(remediation.text))
            if f.references:
                lines.append(f"    {t('text.see')}: " + one_line("; ".join(r.title for r in f.references)))
        return "\n".join(lines) + "\n"
