"""Policies as PDF (printed by real Chromium, as "Save as PDF" makes them) and as Word .docx."""

from __future__ import annotations

import io
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pypdf import PdfWriter

from scanner.cli import main
from scanner.errors import BadDeclaration
from scanner.policy.text import load_policy_text
from tests.policy_text.reading import print_pdfs

REPO = Path(__file__).resolve().parents[2]
POLICIES = REPO / "fixtures" / "policies"


def _bench() -> Any:
    sys.path.insert(0, str(REPO))
    from bench import policy_accuracy

    return policy_accuracy


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Fixture policies printed to PDF by headless Chromium, each beside its expected reading."""
    out = tmp_path_factory.mktemp("pdf")
    names = ["social_en.html", "map_zh.html", "heldout_ecommerce_zh.html", "heldout_fintech_en.html", "game_en.md"]
    print_pdfs(out, {Path(name).stem: POLICIES / name for name in names})
    for name in names:
        stem = Path(name).stem
        (out / f"{stem}.expected.yaml").write_bytes((POLICIES / f"{stem}.expected.yaml").read_bytes())
    yield out


@pytest.mark.browser
def test_printed_policies_read_almost_as_well_as_their_sources(printed: Path) -> None:
    bench = _bench()
    scores = [bench.score_policy(p) for p in bench.policy_files(printed)]
    assert len(scores) == 5 and all(s.language_ok for s in scores)
    totals = bench.totals(scores)
    assert totals["pairs_precision"] >= 0.9 and totals["pairs_recall"] >= 0.85, totals
    assert totals["sdks_precision"] >= 0.9 and totals["sdks_recall"] >= 0.9, totals


@pytest.mark.browser
def test_pdf_tables_come_back_as_tables(printed: Path) -> None:
    # The SDK table of the English page and the stacked key/value SDK tables of the Chinese one.
    social = load_policy_text(printed / "social_en.pdf")
    assert {p.sdk_id for p in social.parties} == {"google-firebase-messaging", "appsflyer", "sentry", "facebook-login"}
    assert "crash_logs" in next(p for p in social.parties if p.sdk_id == "sentry").data_types
    chinese = load_policy_text(printed / "map_zh.pdf")
    assert chinese.language == "zh"
    assert {p.sdk_id for p in chinese.parties} >= {"amap-location", "baidu-map", "tencent-bugly"}


def _pdf(tmp_path: Path, name: str, *, password: str | None = None) -> Path:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    if password:
        writer.encrypt(password)
    path = tmp_path / name
    with path.open("wb") as handle:
        writer.write(handle)
    return path


def test_pdf_without_text_encrypted_or_broken(tmp_path: Path) -> None:
    with pytest.raises(BadDeclaration, match="no text layer"):
        load_policy_text(_pdf(tmp_path, "scan.pdf"))
    with pytest.raises(BadDeclaration, match="encrypted with a password"):
        load_policy_text(_pdf(tmp_path, "locked.pdf", password="secret"))
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\n1 0 obj <</Type /Catalog>> endobj\n")
    with pytest.raises(BadDeclaration, match="unreadable PDF"):
        load_policy_text(broken)


_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def _docx(tmp_path: Path, body: str, name: str = "policy.docx", extra: bytes = b"") -> Path:
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.'
                         'org/package/2006/content-types"><Override PartName="/word/document.xml" ContentType="'
                         'application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
        archive.writestr("word/document.xml", f'<?xml version="1.0"?><w:document {_W}><w:body>{body}</w:body>'
                         f'</w:document>'.encode() + extra)
    return path


def _p(text: str, style: str | None = None, listed: bool = False) -> str:
    props = ""
    if style or listed:
        props = "<w:pPr>" + (f'<w:pStyle w:val="{style}"/>' if style else "") + (
            '<w:numPr><w:ilvl w:val="0"/><w:numId w:val="1"/></w:numPr>' if listed else "") + "</w:pPr>"
    return f"<w:p>{props}<w:r><w:t>{text}</w:t></w:r></w:p>"


def _row(*cells: str) -> str:
    return "<w:tr>" + "".join(f"<w:tc><w:p><w:r><w:t>{c}</w:t></w:r></w:p></w:tc>" for c in cells) + "</w:tr>"


def test_docx_headings_lists_and_sdk_table(tmp_path: Path) -> None:
    body = (_p("隐私政策", "Title") + _p("一、我们收集的个人信息", "Heading1")
            + _p("注册时，我们会收集您的手机号码。") + _p("我们不会收集您的通讯录。", listed=True)
            + _p("二、第三方SDK目录", "Heading1")
            + "<w:tbl>" + _row("SDK名称", "第三方公司", "使用目的", "收集个人信息")
            + _row("友盟统计SDK", "友盟同欣（北京）科技有限公司", "统计分析", "设备信息（IMEI、Android ID）")
            + _row("极光推送SDK", "深圳市和讯华谷信息技术有限公司", "消息推送", "设备标识符") + "</w:tbl>")
    declaration = load_policy_text(_docx(tmp_path, body))
    assert declaration.language == "zh"
    assert declaration.declares_collected("phone")
    assert declaration.data_types["contacts"].denied
    assert {p.sdk_id for p in declaration.parties} == {"umeng-analytics", "jpush"}
    umeng = next(p for p in declaration.parties if p.sdk_id == "umeng-analytics")
    assert "device_id" in umeng.data_types and "第三方SDK目录" not in umeng.source


def test_docx_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadDeclaration, match="unreadable .docx"):
        load_policy_text(_docx(tmp_path, "<w:p>", name="cut.docx"))
    bomb = tmp_path / "bomb.docx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b" " * (65 * 1024 * 1024))
    with pytest.raises(BadDeclaration, match="too large for a policy"):
        load_policy_text(bomb)


def test_cli_extracts_a_docx(tmp_path: Path) -> None:
    path = _docx(tmp_path, _p("Privacy Policy", "Heading1") + _p("We collect your email address and share it "
                                                                   "with advertising partners."))
    result = CliRunner().invoke(main, ["policy", "extract", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert '"email"' in result.output
    assert io.BytesIO(path.read_bytes()).read(2) == b"PK"
