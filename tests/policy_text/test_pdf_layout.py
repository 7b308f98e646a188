"""The pdfium text layer of PDF policies (scanner/policy/pdf_layout.py) on pages printed by real headless Chromium:
an SDK table keeps its rows, two columns of prose are not interleaved, Chinese text comes out whole."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from scanner.policy import documents
from scanner.policy.text import load_policy_text
from tests.policy_text.reading import print_pdfs

_SDK_TABLE = """<!doctype html><html><head><meta charset="utf-8"><style>
body { font-family: sans-serif; font-size: 12px; }
table { border-collapse: collapse; } td, th { border: 1px solid #999; padding: 1px 2px; vertical-align: middle; }
</style></head><body>
<h1>隐私政策</h1>
<p>本政策说明我们如何收集、使用和共享您的个人信息。注册时，我们会收集您的手机号码，用于创建账号。</p>
<h2>第三方SDK目录</h2>
<p>为实现以下功能，本应用接入了下列第三方SDK：</p>
<table>
<tr><th>SDK名称</th><th>公司</th><th>目的</th><th>收集的个人信息</th></tr>
<tr><td>友盟统计SDK</td><td>友盟同欣（北京）科技有限公司</td><td>统计分析</td>
    <td>设备信息（IMEI、Android ID、OAID）、网络信息、应用使用记录与崩溃日志，用于生成统计报表</td></tr>
<tr><td>极光推送SDK</td><td>深圳市和讯华谷信息技术有限公司</td><td>消息推送</td><td>设备标识符、网络信息</td></tr>
<tr><td>高德定位SDK</td><td>高德软件有限公司</td><td>提供定位服务</td><td>精确位置信息、WiFi信息</td></tr>
</table>
<p>我们不会向上述第三方提供您的通讯录。</p>
</body></html>"""

_LEFT = ("We collect your email address when you create an account so that we can send you receipts and "
         "security notices about sign-ins from new devices.")
_RIGHT = ("Our crash reporting partner receives the device model and the operating system version when the "
          "app stops unexpectedly, and nothing else.")
_TWO_COLUMNS = f"""<!doctype html><html><head><meta charset="utf-8"><style>
body {{ font-family: serif; font-size: 13px; }} .cols {{ column-count: 2; column-gap: 40px; width: 520px; }}
</style></head><body><h1>Privacy Policy</h1><div class="cols">
<p>{_LEFT}</p><p>{" ".join(["We keep account data for as long as the account exists and delete it within thirty days "
                             "of a deletion request."] * 3)}</p>
<p>{_RIGHT}</p><p>{" ".join(["You can ask us for a copy of the personal data we hold about you at any time."] * 3)}</p>
</div></body></html>"""

_CHINESE = ("我们会收集您的精确位置信息（GPS经纬度），用于为您规划路线和提供实时导航；"
            "在您关闭定位权限后，我们将停止收集。")


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    out = tmp_path_factory.mktemp("pdfium")
    pages = {"sdk_table": _SDK_TABLE, "two_columns": _TWO_COLUMNS,
             "chinese": f"<!doctype html><html><head><meta charset='utf-8'></head><body><h1>隐私政策</h1>"
                        f"<p>{_CHINESE}</p></body></html>"}
    print_pdfs(out, pages, format="A4")
    yield out


def _text(path: Path) -> str:
    return documents._pdf_text(path.read_bytes(), str(path))


@pytest.mark.browser
def test_a_tight_chinese_sdk_table_keeps_its_rows(printed: Path) -> None:
    text = _text(printed / "sdk_table.pdf")
    assert "| SDK名称 | 公司 | 目的 | 收集的个人信息 |" in text, text
    assert "| 极光推送SDK | 深圳市和讯华谷信息技术有限公司 | 消息推送 | 设备标识符、网络信息 |" in text, text
    declaration = load_policy_text(printed / "sdk_table.pdf")
    parties = {p.sdk_id: p for p in declaration.parties}
    assert set(parties) >= {"umeng-analytics", "jpush", "amap-location"}, parties
    umeng = parties["umeng-analytics"]
    assert umeng.listed and umeng.company == "友盟同欣（北京）科技有限公司"
    assert "device_id" in umeng.data_types  # its wrapped data cell was read whole
    assert "precise_location" in parties["amap-location"].data_types
    assert declaration.declares_collected("phone")


@pytest.mark.browser
def test_two_columns_come_out_one_after_the_other(printed: Path) -> None:
    text = _text(printed / "two_columns.pdf")
    flat = re.sub(r"\s+", " ", text)
    assert _LEFT in flat and _RIGHT in flat, text
    assert flat.index(_LEFT) < flat.index(_RIGHT)
    assert "|" not in text  # not mistaken for a table of two columns


@pytest.mark.browser
def test_chinese_text_comes_out_intact(printed: Path) -> None:
    text = _text(printed / "chinese.pdf")
    assert _CHINESE in text.replace("\n", ""), text
    declaration = load_policy_text(printed / "chinese.pdf")
    assert declaration.language == "zh" and declaration.declares_collected("precise_location")


def test_pages_over_the_limit_are_cut_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(3):
        writer.add_blank_page(width=200, height=200)
    path = tmp_path / "blank.pdf"
    with path.open("wb") as handle:
        writer.write(handle)
    from scanner.policy.pdf_layout import pdf_pages

    pages, count = pdf_pages(path.read_bytes(), 2)
    assert count == 3 and pages == ["", ""]
