"""Every fixed string exists in English and Chinese, and every key the templates and writers use is defined."""

from __future__ import annotations

import re
from importlib.resources import files

from scanner.reports.i18n import catalog

CJK = re.compile(r"[\u4e00-\u9fff]")
# Keys built at run time from a value: every value they can take must be present.
DYNAMIC_PREFIXES = {
    "severity.": ["critical", "high", "medium", "low", "info"],
    "status.": ["consistent", "undeclared", "undeclared_sharing", "undeclared_capability", "over_declared",
                "denied_but_seen"],
    "basis.": ["capability", "behaviour", "both", "declaration"],
    "sdk_status.": ["referenced", "present", "wired"],
    "mark.": ["consent", "refusal", "other"],
    "phase.": ["before_consent", "after_consent", "after_refusal"],
    "confidence.": ["high", "medium", "low"],
}


def _used_keys() -> set[str]:
    root = files("scanner.reports")
    sources = [root.joinpath("templates", name).read_text(encoding="utf-8")
               for name in ("report.html.j2", "finding.html.j2", "report.js")]
    sources += [root.joinpath(name).read_text(encoding="utf-8")
                for name in ("text.py", "markdown.py", "junit.py", "i18n.py")]
    keys: set[str] = set()
    for text in sources:
        keys |= set(re.findall(r"""\bt\(\s*['"]([a-z_]+\.[a-z_.]+)['"]""", text))
        keys |= set(re.findall(r"""\btr\(\s*"([a-z_]+\.[a-z_]+)\"""", text))
        keys |= set(re.findall(r"""(col\.[a-z_]+)""", text))
    for prefix, values in DYNAMIC_PREFIXES.items():
        keys |= {prefix + v for v in values}
    return keys


def test_same_keys_in_both_languages() -> None:
    assert set(catalog("en")) == set(catalog("zh"))


def test_chinese_strings_are_chinese() -> None:
    # Names, units and format ids stay as they are in Chinese text too.
    untranslatable = {"nav.sdks", "findings.sdk", "filter.sdk", "evidence.sdk", "sdks.name", "col.sdk", "md.sdk",
                      "col.url"}
    missing = [k for k, v in catalog("zh").items() if k not in untranslatable and not CJK.search(v)]
    assert not missing


def test_placeholders_match() -> None:
    en, zh = catalog("en"), catalog("zh")
    for key in en:
        assert set(re.findall(r"\{(\w+)\}", en[key])) == set(re.findall(r"\{(\w+)\}", zh[key])), key


def test_every_used_key_is_defined() -> None:
    used = _used_keys()
    assert len(used) > 100
    assert not sorted(used - set(catalog("en")))
