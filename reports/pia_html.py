"""The PIA draft as one self-contained HTML page (`--format pia-html`): no script at all, and a CSP that forbids any."""

from __future__ import annotations

import functools
from typing import ClassVar

import jinja2
from scanner.reports.base import ReportOptions, ReportWriter
from scanner.reports.i18n import Translator
from scanner.reports.pia import build_pia

from scanner.model import PURPOSES, ScanResult


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("scanner.reports", "templates"),
        autoescape=True,  # app names, hosts and messages are text from the app or its traffic, never markup
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


class PiaHtmlWriter(ReportWriter):
    format_name: ClassVar[str] = "pia-html"
    file_name: ClassVar[str] = "pia.html"
    media_type: ClassVar[str] = "text/html"

    def render(self, result: ScanResult, options: ReportOptions) -> str:
        draft = build_pia(result, options.lang)
        return _environment().get_template("pia.html.j2").render(
            d=draft, t=Translator(options.lang), purposes=PURPOSES, lang=options.lang)
