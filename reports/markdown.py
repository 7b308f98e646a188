"""Markdown summary for pull-request comments: counts, then the findings table, worst first, within GitHub's size limit."""

from __future__ import annotations

import re
from typing import ClassVar

from scanner.reports.base import ReportOptions, ReportWriter
from scanner.reports.i18n import Translator
from scanner.reports.summary import SEVERITIES_DESC, summarize

from scanner.model import ScanResult

_SEVERITY_ICON = {"critical": "🟥", "high": "🔴", "medium": "🟠", "low": "🟡", "info": "⚪"}
_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|<>~])")


def md(text: str | None) -> str:
    """App and traffic text as inert Markdown: no HTML, no links, no table breaks, one line."""
    if not text:
        return ""
    flat = " ".join(text.split())
    return _SPECIAL.sub(r"\\\1", flat).replace("&", "&amp;")


class MarkdownWriter(ReportWriter):
    format_name: ClassVar[str] = "md"
    file_name: ClassVar[str] = "summary.md"
    media_type: ClassVar[str] = "text/markdown"

    def render(self, result: ScanResult, options: ReportOptions) -> str:
        t = Translator(options.lang)
        summary = summarize(result)
        app = (result.app.label or result.app.package) if result.app else t("app.unknown")
        out = [f"## {t('md.title', app=md(app))}", ""]
        if result.app:
            out += [f"`{md(result.app.package)}` {md(result.app.version_name)} · SHA-256 `{result.app.sha256[:16]}…`", ""]
        out += [f"| {t('md.severity')} | {t('md.count')} |", "|---|---:|"]
        out += [f"| {_SEVERITY_ICON[str(s)]} {t.severity(s)} | {summary.by_severity[str(s)]} |" for s in SEVERITIES_DESC]
        out.append("")
        if summary.suppressed:
            out += [t("text.suppressed", n=summary.suppressed), ""]
        if not summary.active:
            out += [t("text.none"), ""]
        else:
            header = [f"| {t('md.severity')} | {t('md.rule')} | {t('md.finding')} | {t('md.data_type')} | {t('md.sdk')} "
                      f"| {t('md.evidence')} |", "|---|---|---|---|---|---|"]
            rows = []
            for f in summary.active:
                evidence = "; ".join(md(e.summary) for e in f.evidence[:2])
                rows.append(f"| {_SEVERITY_ICON[str(f.severity)]} {t.severity(f.severity)} | `{md(f.rule_id)}` "
                            f"| **{md(t.title(f).text)}**<br>{md(t.message(f).text)} | {md(t.data_type(f.data_type))} "
                            f"| {md(f.sdk)} | {evidence} |")
            out += header
            budget = options.markdown_limit - sum(len(line) + 1 for line in out) - 400
            shown = 0
            for row in rows:
                if budget - len(row) - 1 < 0:
                    break
                out.append(row)
                budget -= len(row) + 1
                shown += 1
            out.append("")
            if shown < len(rows):
                out += [f"_{t('md.more', n=len(rows) - shown)} — {t('md.truncated')}_", ""]
        rule_pack = md(str(result.rule_pack.get("version") or result.rule_pack.get("name") or "—"))
        catalog = md(str(result.catalog.get("version") or result.catalog.get("name") or "—"))
        out.append(f"<sub>{t('md.versions', version=md(result.tool_version), rules=rule_pack, catalog=catalog)}</sub>")
        return "\n".join(out) + "\n"
