"""JUnit XML so CI dashboards show one test case per rule: failed when it has findings at or above --fail-on."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import ClassVar

from scanner.reports.base import ReportOptions, ReportWriter
from scanner.reports.i18n import Translator

from scanner.model import Finding, ScanResult, Severity

_DEFAULT_THRESHOLD = Severity.LOW  # without --fail-on, info findings (over-declaration) do not fail a build


def _xml_text(text: str) -> str:
    """XML 1.0 cannot carry most control characters, which traffic snippets may contain."""
    return "".join(c if c in "\t\n\r" or ord(c) >= 0x20 else "\ufffd" for c in text)


def _rule_ids(result: ScanResult) -> list[str]:
    """Rules that ran, when the rule pack lists them, plus every rule that fired."""
    listed = result.rule_pack.get("rule_ids") or result.rule_pack.get("rules")
    ids = {str(r.get("id")) if isinstance(r, dict) else str(r) for r in listed} if isinstance(listed, list) else set()
    return sorted(ids | {f.rule_id for f in result.findings})


class JunitWriter(ReportWriter):
    format_name: ClassVar[str] = "junit"
    file_name: ClassVar[str] = "junit.xml"
    media_type: ClassVar[str] = "application/xml"

    def render(self, result: ScanResult, options: ReportOptions) -> str:
        t = Translator(options.lang)
        threshold = Severity.parse(result.fail_on) if result.fail_on else _DEFAULT_THRESHOLD
        by_rule: dict[str, list[Finding]] = {}
        for f in result.findings:
            by_rule.setdefault(f.rule_id, []).append(f)
        app = result.app.package if result.app else "app"
        suite = ET.Element("testsuite", name=_xml_text(f"{t('junit.suite')}: {app}"))
        failures = skipped = 0
        rule_ids = _rule_ids(result)
        for rule_id in rule_ids:
            findings = by_rule.get(rule_id, [])
            active = [f for f in findings if not f.suppressed]
            case = ET.SubElement(suite, "testcase", classname=_xml_text(f"divulge.{app}"), name=rule_id, time="0")
            failing = [f for f in active if f.severity >= threshold]
            lines = [_xml_text(f"[{f.severity}] {t.title(f).text}: {t.message(f).text}"
                               + "".join(f"\n    {e.summary} @ {e.location or ''}" for e in f.evidence))
                     for f in sorted(active, key=lambda f: -int(f.severity))]
            if failing:
                failures += 1
                worst = max(f.severity for f in failing)
                failure = ET.SubElement(case, "failure", type=str(worst),
                                        message=_xml_text(t("junit.failure", n=len(failing), level=str(threshold))))
                failure.text = "\n".join(lines)
            elif findings and not active:
                skipped += 1
                ET.SubElement(case, "skipped", message=_xml_text(t("junit.suppressed")))
            elif active:
                out = ET.SubElement(case, "system-out")
                out.text = t("junit.below", n=len(active)) + "\n" + "\n".join(lines)
        suite.set("tests", str(len(rule_ids)))
        suite.set("failures", str(failures))
        suite.set("errors", "0")
        suite.set("skipped", str(skipped))
        suite.set("time", "0")
        if result.finished:
            suite.set("timestamp", result.finished.rstrip("Z"))
        root = ET.Element("testsuites", name="divulge", tests=str(len(rule_ids)), failures=str(failures))
        root.append(suite)
        ET.indent(root)
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
