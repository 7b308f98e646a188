"""The HTML as text: escaping, embedded JSON, language, self-containment (the browser tests check the rendering)."""

from __future__ import annotations

import dataclasses
import re

from scanner.reports import ReportFormat, write_reports
from scanner.reports.html import highlight


def _html(result, lang: str = "en") -> str:
    return write_reports(result, [ReportFormat.HTML], lang)["html"]


def test_hostile_input_is_escaped(builder) -> None:
    html = _html(builder.sample_result(hostile=True))
    assert builder.HOSTILE_LABEL not in html
    assert "&lt;script&gt;alert(&#34;divulge&#34;)&lt;/script&gt;" in html
    assert "<img src=x" not in html
    # only our own script elements: the app code, two data blocks per table, i18n and config
    assert len(re.findall(r"<script\b", html)) == 5
    for block in re.findall(r"<script type=\"application/json\"[^>]*>(.*?)</script>", html, re.S):
        assert "</" not in block and "<script" not in block.lower()



def test_self_contained(builder) -> None:
    html = _html(builder.sample_result())
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html.split("<main>")[0])
    assert not re.search(r"<(link|iframe|img|object|embed)\b", html)
    assert "Content-Security-Policy" in html and "default-src 'none'" in html


def test_chinese_report_and_fallback_marker(builder) -> None:
    html = _html(builder.sample_result(), "zh")
    assert '<html lang="zh-CN">' in html
    assert "同意前发送个人信息" in html and "在用户同意隐私政策后再初始化 AdSDK。" in html
    # DVG-SHARE-001 has no Chinese text: English with a visible marker
    assert "Data shared with a third party but not declared as shared" in html
    assert "仅有英文" in html
    assert "How to fix" not in html and "Verdict" not in html


def test_highlight_marks_the_personal_data_and_escapes_the_rest() -> None:
    marked = str(highlight('{"imei":"3598","x":"<b>"}', ["imei"]))
    assert '<mark>imei&#34;:&#34;3598</mark>' in marked
    assert "&lt;b&gt;" in marked
    assert str(highlight("a=1&imei=42&b=2", ["imei"])) == "a=1&amp;<mark>imei=42</mark>&amp;b=2"


def test_javascript_reference_urls_are_not_links(builder) -> None:
    result = builder.sample_result()
    first = result.findings[0]
    result.findings[0] = dataclasses.replace(
        first, references=[dataclasses.replace(first.references[0], url="javascript:alert(1)")])
    html = _html(result)
    assert 'href="javascript:' not in html


def test_verdict_names_three_different_problems() -> None:
    """Three variants of one rule in the verdict would hide the second-worst problem from the app owner."""
    from pathlib import Path

    from scanner.scan import ScanOptions, run_scan

    fixtures = Path(__file__).resolve().parents[2] / "fixtures"
    result = run_scan(ScanOptions(apk=fixtures / "apks" / "shopping.apk",
                                  policy=fixtures / "declarations" / "shopping.privacy.yaml",
                                  traffic=(fixtures / "captures" / "shopping.har",),
                                  device=fixtures / "devices" / "test-phone.yaml"))
    assert sum(1 for f in result.findings if f.rule_id == "DVG-CONSENT-001") >= 3  # the case this guards
    worst = _html(result).split('<ol class="worst">', 1)[1].split("</ol>", 1)[0]
    titles = re.findall(r"<strong>([^<]+)</strong>", worst)
    assert len(titles) == 3 and len(set(titles)) == 3, titles


def test_policy_checklist_section_in_both_languages(builder) -> None:
    from scanner.model import PolicyTopic

    result = builder.sample_result()
    assert "id=\"checklist\"" not in _html(result)  # a privacy.yaml has no checklist
    result.declaration.policy_topics = [
        PolicyTopic("retention", "storage", "how long data is kept (retention period)", "保存期限", True,
                    "policy.html:12: We keep <b>receipts</b> for 30 days."),
        PolicyTopic("minors", "other", "how children's data is handled", "未成年人个人信息的处理规则", False),
    ]
    html = _html(result)
    assert 'id="checklist"' in html and "1 of 2 stated" in html
    assert "We keep &lt;b&gt;receipts&lt;/b&gt; for 30 days." in html  # the sentence, escaped
    assert "no sentence found" in html and "How long and where" in html
    zh = _html(result, "zh")
    assert "隐私政策写明了什么" in zh and "未成年人个人信息的处理规则" in zh and "未找到相关表述" in zh
