"""Text, Markdown and JUnit: content, escaping of hostile input, one JUnit test case per rule."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from scanner.reports import ReportFormat, ReportOptions, write_reports
from scanner.reports.markdown import MarkdownWriter


def test_text_lists_findings_worst_first_without_control_characters(builder) -> None:
    result = builder.sample_result()
    result.findings[0].message += "\x1b[2J\rforged"
    text = write_reports(result, [ReportFormat.TEXT], "en")["text"]
    assert "\x1b" not in text and "\r" not in text
    lines = [line for line in text.splitlines() if line.startswith("[")]
    assert lines[0].startswith("[CRITICAL] DVG-CONSENT-001")
    assert lines[-1].startswith("[INFO] DVG-OVERDECL-001")
    assert "DVG-CLEAR-001" not in text  # suppressed findings are counted, not listed
    assert "1 suppressed" in text


def test_text_in_chinese(builder) -> None:
    text = write_reports(builder.sample_result(), [ReportFormat.TEXT], "zh")["text"]
    assert "divulge 检测报告" in text and "同意前发送个人信息" in text and "危急" in text


def test_markdown_escapes_hostile_input(builder) -> None:
    md = write_reports(builder.sample_result(hostile=True), [ReportFormat.MD], "en")["md"]
    ours = md.replace("<br>", "").replace("<sub>", "").replace("</sub>", "")
    assert not re.search(r"(?<!\\)[<>]", ours)  # every < and > from the app is backslash-escaped
    assert "\\<script\\>" in md
    table = [line for line in md.splitlines() if line.startswith("| ") and "DVG-" in line]
    assert len(table) == 6
    assert all(line.count(" | ") == 5 for line in table)  # no cell breaks the table


def test_markdown_respects_the_comment_size_limit(builder) -> None:
    result = builder.big_result(2_000, 10)
    md = MarkdownWriter().render(result, ReportOptions(markdown_limit=20_000))
    assert len(md) <= 20_000
    assert "more finding(s)" in md


def test_junit_one_case_per_rule(builder) -> None:
    result = builder.sample_result(hostile=True)
    xml = write_reports(result, [ReportFormat.JUNIT], "en")["junit"]
    root = ET.fromstring(xml)
    cases = root.findall("./testsuite/testcase")
    assert sorted(c.get("name") or "" for c in cases) == sorted({f.rule_id for f in result.findings})
    by_name = {c.get("name"): c for c in cases}
    # --fail-on high in the sample: critical and high rules fail, medium and below pass, suppressed is skipped
    assert by_name["DVG-CONSENT-001"].find("failure") is not None
    assert by_name["DVG-COLLECT-001"].find("failure") is not None
    assert by_name["DVG-HWID-001"].find("failure") is None
    assert by_name["DVG-CLEAR-001"].find("skipped") is not None
    suite = root.find("testsuite")
    assert suite is not None and suite.get("failures") == "3" and suite.get("skipped") == "1"
    assert suite.get("tests") == str(len(cases))


def test_junit_lists_rules_that_passed(builder) -> None:
    result = builder.sample_result()
    result.rule_pack["rule_ids"] = ["DVG-CONSENT-001", "DVG-QUIET-001"]
    root = ET.fromstring(write_reports(result, [ReportFormat.JUNIT], "en")["junit"])
    quiet = [c for c in root.iter("testcase") if c.get("name") == "DVG-QUIET-001"]
    assert len(quiet) == 1 and len(list(quiet[0])) == 0
