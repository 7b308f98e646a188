"""The one base class every report writer implements: a ScanResult in, the report text out."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import ClassVar

from scanner.model import ScanResult

LANGUAGES: tuple[str, ...] = ("en", "zh")


@dataclass(frozen=True)
class ReportOptions:
    """How to render: the language of fixed strings, and the page sizes that keep huge reports usable."""

    lang: str = "en"
    page_size: int = 50  # findings shown per severity group before "show more"
    table_page_size: int = 100  # rows per page in the flow and observation tables
    markdown_limit: int = 60_000  # GitHub rejects comments over 65,536 characters


class ReportWriter(abc.ABC):
    """Writers return strings and never open files: the CLI decides where output goes."""

    format_name: ClassVar[str]  # the ReportFormat value this writer implements
    file_name: ClassVar[str]  # the default file name in an output directory
    media_type: ClassVar[str]

    @abc.abstractmethod
    def render(self, result: ScanResult, options: ReportOptions) -> str:
        """The whole report as text."""
