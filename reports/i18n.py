"""Fixed strings of every report in English and Simplified Chinese (i18n/en.yaml, i18n/zh.yaml)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib.resources import files

import yaml
from scanner.reports.base import LANGUAGES

from scanner.errors import BadReport
from scanner.model import DATA_TYPES, Finding, Severity


@functools.cache
def catalog(lang: str) -> dict[str, str]:
    if lang not in LANGUAGES:
        raise BadReport(f"unknown report language {lang!r} (choose from {', '.join(LANGUAGES)})")
    text = files("scanner.reports").joinpath(f"i18n/{lang}.yaml").read_text(encoding="utf-8")
    strings = yaml.safe_load(text)
    assert isinstance(strings, dict), f"i18n/{lang}.yaml must be a mapping"
    return {str(k): str(v) for k, v in strings.items()}


@dataclass(frozen=True)
class LocalText:
    """A finding text in the report language; `fallback` when the rule has no translation and English is shown."""

    text: str
    fallback: bool = False


class Translator:
    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.strings = catalog(lang)

    def __call__(self, key: str, **values: object) -> str:
        text = self.strings[key]  # a missing key is a bug the i18n test catches, not user input
        return text.format(**values) if values else text

    def severity(self, severity: Severity | str) -> str:
        return self(f"severity.{severity}")

    def data_type(self, data_type: str | None) -> str:
        if not data_type:
            return ""
        info = DATA_TYPES.get(data_type)
        if info is None:
            return data_type
        return info.label_zh if self.lang == "zh" else info.label

    def _pick(self, english: str | None, chinese: str | None) -> LocalText | None:
        if english is None and chinese is None:
            return None
        if self.lang == "zh":
            if chinese:
                return LocalText(chinese)
            return LocalText(english or "", fallback=True)
        return LocalText(english or chinese or "")

    def title(self, finding: Finding) -> LocalText:
        picked = self._pick(finding.title, finding.title_zh)
        assert picked is not None
        return picked

    def message(self, finding: Finding) -> LocalText:
        picked = self._pick(finding.message, finding.message_zh)
        assert picked is not None
        return picked

    def remediation(self, finding: Finding) -> LocalText | None:
        return self._pick(finding.remediation, finding.remediation_zh)
