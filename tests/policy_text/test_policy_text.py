"""Policy text -> Declaration: accuracy on fixtures/policies, the hard cases one by one, bad input, CLI."""

from __future__ import annotations

import codecs
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner.cli import main
from scanner.errors import BadDeclaration, BadRule
from scanner.policy.html_text import MAX_BYTES
from scanner.policy.text import ExtractOptions, extract_text, load_policy_text, looks_like_policy_text

REPO = Path(__file__).resolve().parents[2]
POLICIES = REPO / "fixtures" / "policies"


def _bench():
    sys.path.insert(0, str(REPO))
    from bench import policy_accuracy

    return policy_accuracy


def test_accuracy_on_the_fixture_policies() -> None:
    bench = _bench()
    files = bench.policy_files(POLICIES)
    assert len(files) >= 12
    scores = [bench.score_policy(p) for p in files]
    assert all(s.language_ok for s in scores), [s.name for s in scores if not s.language_ok]
    assert sum(s.language == "zh" for s in scores) >= 6 and sum(s.language == "en" for s in scores) >= 6
    totals = bench.totals(scores)
    assert totals["pairs_precision"] >= 0.9 and totals["pairs_recall"] >= 0.85, totals
    assert totals["sdks_precision"] >= 0.9 and totals["sdks_recall"] >= 0.85, totals


def _md(text: str):
    return extract_text(text, "markdown", "<test>")


def test_negation_in_both_languages() -> None:
    en = _md("We do not collect your precise location. We collect your email address.")
    assert en.data_types["precise_location"].denied and not en.data_types["precise_location"].collected
    assert en.declares_collected("email")
    zh = _md("我们不会收集您的通讯录。我们会收集您的手机号码，但不会收集您的短信。")
    assert zh.language == "zh"
    assert zh.data_types["contacts"].denied and zh.data_types["sms_call_log"].denied
    assert zh.declares_collected("phone")


def test_not_limited_to_is_not_a_negation() -> None:
    zh = _md("我们会收集您的设备信息，包括但不限于IMEI、Android ID。")
    assert zh.declares_collected("device_id") and not zh.data_types["device_id"].denied


def test_exception_cancels_a_denial_and_unless_you_makes_it_conditional() -> None:
    en = _md("We do not share your email address with third parties except as described in this policy.")
    assert "email" not in en.data_types
    en = _md("We do not collect your contacts unless you enable friend finder.")
    assert en.declares_collected("contacts") and en.data_types["contacts"].conditions
    zh = _md("未经您的同意，我们不会向第三方提供您的通讯录。")
    assert "contacts" not in zh.data_types or not zh.data_types["contacts"].share_denied


def test_selling_denial_denies_nothing() -> None:
    en = _md("## How we share information\nWe do not sell your location data.")
    assert "approx_location" not in en.data_types and "precise_location" not in en.data_types


def test_conditional_collection_keeps_its_scope() -> None:
    en = _md("If you use the map feature, we collect your precise location.")
    entry = en.data_types["precise_location"]
    assert entry.collected and entry.optional is True
    assert entry.conditions == ["If you use the map feature"]
    zh = _md("当您使用导航功能时，我们会收集您的精确位置。")
    assert zh.data_types["precise_location"].conditions == ["当您使用导航功能时"]


def test_umbrella_terms_are_inferred_and_say_where_from() -> None:
    en = _md("We collect device information.")
    entry = en.data_types["device_id"]
    assert entry.collected and entry.confidence == "inferred" and "device information" in (entry.source or "")
    zh = _md("我们会收集您的设备信息（IMEI）。")
    assert zh.data_types["device_id"].confidence == "stated"


def test_sharing_statements() -> None:
    en = _md("We share your advertising ID with advertising partners.")
    assert en.declares_shared("device_id") and en.declares_collected("device_id")
    en = _md("We collect your location and share it with advertisers.")
    assert en.declares_shared("precise_location")
    zh = _md("我们会将您的设备信息提供给第三方合作伙伴。")
    assert zh.declares_shared("device_id")
    zh = _md("我们提供优质的服务。")  # "提供" without a recipient shares nothing
    assert not zh.data_types


def test_headings_and_lead_in_lines_carry_the_action() -> None:
    en = _md("## Information we collect\n\n- Your email address\n- Crash logs\n")
    assert en.declares_collected("email") and en.declares_collected("crash_logs")
    zh = _md("以下信息我们不会收集：\n\n- 通讯录\n- 应用列表\n")
    assert zh.data_types["contacts"].denied and zh.data_types["apps_on_device"].denied


def test_jieba_keeps_a_short_term_from_matching_across_words() -> None:
    # 记录音频 is 记录 / 音频.  Without segmentation the data term 录音 straddles both words, swallows the
    # verb 记录, and the sentence says nothing; with jieba, 录音 is rejected and 记录 + 音频 remain.
    segmented = _md("我们会记录音频。")
    assert segmented.declares_collected("audio")
    plain = extract_text("我们会记录音频。", "text", "<t>", ExtractOptions(segment=False))
    assert not plain.data_types


def test_sdk_tables_in_every_shape() -> None:
    html = ("<h2>第三方SDK目录</h2><table><tr><th>SDK名称</th><th>公司名称</th><th>使用目的</th>"
            "<th>收集个人信息类型</th></tr><tr><td>极光推送SDK</td><td>深圳市和讯华谷信息技术有限公司</td>"
            "<td>消息推送</td><td>设备标识符、应用列表</td></tr></table>")
    d = extract_text(html, "html", "<t>")
    assert [(p.sdk_id, p.data_types) for p in d.parties] == [("jpush", ["device_id", "apps_on_device"])]
    assert d.declares_shared("apps_on_device") and "极光推送SDK" in (d.parties[0].source or "")
    pipe = "| SDK名称 | 使用目的 | 收集个人信息类型 |\n|---|---|---|\n| 穿山甲广告SDK | 广告投放 | 粗略位置 |\n"
    assert [p.sdk_id for p in _md(pipe).parties] == ["pangle"]
    lines = "1. 友盟统计SDK\n使用目的：统计分析\n收集个人信息类型：设备信息\n第三方主体：友盟同欣（北京）科技有限公司\n"
    d = extract_text(lines, "text", "<t>")
    assert [(p.sdk_id, p.purposes) for p in d.parties] == [("umeng-analytics", ["analytics"])]
    one_line = "SDK名称：个推推送SDK；使用目的：消息推送；收集个人信息类型：设备标识符、位置信息\n"
    assert [p.sdk_id for p in extract_text(one_line, "text", "<t>").parties] == ["getui"]
    vertical = ("<table><tr><td>SDK名称</td><td>腾讯Bugly</td></tr><tr><td>使用目的</td><td>崩溃上报</td></tr>"
                "<tr><td>收集个人信息类型</td><td>崩溃日志</td></tr></table>")
    assert [p.sdk_id for p in extract_text(vertical, "html", "<t>").parties] == ["tencent-bugly"]
    english = ("| SDK | Company | Purpose | Data collected |\n|---|---|---|---|\n"
               "| Firebase Crashlytics | Google LLC | Crash reporting | Crash logs |\n")
    assert [p.sdk_id for p in _md(english).parties] == ["google-firebase-crashlytics"]


def test_sdks_named_in_prose_but_not_ambiguous_words() -> None:
    d = _md("We use AppsFlyer to measure installs. Adjust your settings at any time. 我们接入了腾讯Bugly。")
    assert sorted(p.sdk_id for p in d.parties if p.sdk_id) == ["appsflyer", "tencent-bugly"]


def test_script_nav_and_footer_text_is_ignored() -> None:
    d = load_policy_text(POLICIES / "weather_en.html")
    assert "contacts" not in d.data_types and "sms_call_log" not in d.data_types
    assert not d.declares_shared("email")


def test_encodings(tmp_path: Path) -> None:
    gbk = load_policy_text(POLICIES / "news_cn_zh.html")  # saved as GBK with a meta charset
    assert gbk.language == "zh" and gbk.data_types["contacts"].denied
    text = "我们会收集您的手机号码。"
    for name, raw in (("bom.txt", codecs.BOM_UTF8 + text.encode()), ("gb.txt", text.encode("gb18030")),
                      ("u16.txt", text.encode("utf-16"))):
        (tmp_path / name).write_bytes(raw)
        assert load_policy_text(tmp_path / name).declares_collected("phone"), name


@pytest.mark.parametrize("content, message", [
    (b"", "empty policy file"),
    (b"   \n\n", "empty policy file"),
    (bytes(range(256)) * 40, "not a text file"),
    (b"<html><body><script>var x=1</script></body></html>", "no text found"),
])
def test_bad_input_is_one_clear_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "policy.html"
    path.write_bytes(content)
    with pytest.raises(BadDeclaration, match=message) as info:
        load_policy_text(path)
    assert str(path) in str(info.value)


def test_a_20_mb_page_fails_fast(tmp_path: Path) -> None:
    path = tmp_path / "huge.html"
    path.write_bytes(b"<p>We collect your email address.</p>" * (20 * 1024 * 1024 // 37))
    started = time.perf_counter()
    with pytest.raises(BadDeclaration, match="MB limit"):
        load_policy_text(path)
    assert time.perf_counter() - started < 1.0


def test_a_large_page_under_the_limit_is_linear(tmp_path: Path) -> None:
    # Pathological input for naive regexes: long runs without sentence ends, negations and repeated terms.
    chunk = "<p>" + "we do not not not collect share location device information, " * 40 + "</p>"
    path = tmp_path / "big.html"
    path.write_text(chunk * (MAX_BYTES // len(chunk) // 4), encoding="utf-8")
    started = time.perf_counter()
    load_policy_text(path)
    assert time.perf_counter() - started < 20


def test_a_large_chinese_page_is_capped_and_bounded(tmp_path: Path) -> None:
    path = tmp_path / "big_zh.html"
    path.write_text("<p>" + "我们不会收集您的位置和姓名，也会记录音频，但不限于设备信息。" * 20000 + "</p>", encoding="utf-8")
    started = time.perf_counter()
    declaration = load_policy_text(path)
    assert time.perf_counter() - started < 20
    assert declaration.data_types["name"].denied and declaration.declares_collected("audio")


def test_english_runs_do_not_load_jieba() -> None:
    code = ("import sys; from pathlib import Path; from scanner.policy.text import load_policy_text; "
            f"load_policy_text(Path({str(POLICIES / 'game_en.md')!r})); print('jieba' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_vocabulary_extends_without_code(tmp_path: Path) -> None:
    (tmp_path / "extra.yaml").write_text("data_types:\n  fitness:\n    en: [stride length]\n", encoding="utf-8")
    text = "We collect your stride length."
    assert "fitness" not in _md(text).data_types
    d = extract_text(text, "markdown", "<t>", ExtractOptions(vocabulary_dir=tmp_path))
    assert d.declares_collected("fitness")


def test_bad_vocabulary_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("data_types:\n  fitnes:\n    en: [stride]\n", encoding="utf-8")
    with pytest.raises(BadRule, match=r"bad.yaml:2: unknown data type 'fitnes'"):
        extract_text("x", "markdown", "<t>", ExtractOptions(vocabulary_dir=tmp_path))


def test_looks_like_policy_text(tmp_path: Path) -> None:
    assert looks_like_policy_text(POLICIES / "shop_zh.txt")
    assert not looks_like_policy_text(tmp_path / "privacy.yaml")
    assert not looks_like_policy_text(tmp_path / "datasafety.csv")


def test_load_declaration_dispatches_policy_text() -> None:
    from scanner.policy.declaration import load_declaration

    d = load_declaration(POLICIES / "shopping_en.md")
    assert d.kind == "policy-text" and d.declares_collected("precise_location")


def test_cli_extract_yaml_and_json() -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["policy", "extract", str(POLICIES / "video_zh.md"), "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["language"] == "zh"
    assert {p["sdk"] for p in document["third_parties"]} >= {"pangle", "kuaishou-ads"}
    assert document["data_types"]["precise_location"]["not_collected"] is True
    result = runner.invoke(main, ["policy", "extract", str(POLICIES / "game_en.md")])
    assert result.exit_code == 0 and "schema: divulge/policy-text/1" in result.stdout
    result = runner.invoke(main, ["policy", "extract", str(POLICIES / "missing.html")])
    assert result.exit_code == 2 and "no such file" in result.stderr


def test_policy_rule_pack_cases_pass() -> None:
    result = CliRunner().invoke(main, ["rules", "test", str(REPO / "rules" / "packs" / "policy")])
    assert result.exit_code == 0, result.output
    assert "0 failed" in result.output


def test_scan_with_a_policy_text_that_denies_what_the_code_reads(tmp_path: Path, fixture_apk) -> None:
    # The news app lists installed packages (its own code and the GDT ad SDK); this policy denies it and names
    # no SDK: both policy rules fire, and the built-in DVG-SDK-001 names each undisclosed SDK.
    policy = tmp_path / "policy.md"
    policy.write_text("# 隐私政策\n我们会收集您的设备信息（IMEI、MAC地址）。我们不会收集您的应用列表。\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["scan", str(fixture_apk("news_cn")), "--policy", str(policy),
                                       "--rules", str(REPO / "rules" / "packs" / "policy"), "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    findings = json.loads(result.stdout)["findings"]
    ids = {(f["rule_id"], f.get("data_type")) for f in findings}
    assert ("DVG-POLICY-002", "apps_on_device") in ids
    assert any(rule == "DVG-POLICY-001" for rule, _ in ids)


# --- cases found by reading policies written after the extractor was tuned (2026-11-23) -------------------------


def _text(text: str):
    return extract_text(text, "text", "<test>")


def test_numbered_sdk_lines_name_the_sdk_before_the_first_key() -> None:
    zh = _text("三、第三方SDK\n我们接入了以下第三方SDK：\n"
               "1. 高德定位SDK，使用目的：定位，收集个人信息：位置信息、设备信息\n"
               "2. 个推推送SDK，使用目的：消息推送，收集个人信息：设备标识符（Android ID、OAID）\n")
    parties = {p.sdk_id: p for p in zh.parties}
    assert set(parties) == {"amap-location", "getui"}, [p.name for p in zh.parties]
    assert parties["getui"].name == "个推推送SDK" and "device_id" in parties["getui"].data_types


def test_a_purpose_word_inside_a_data_term_is_no_purpose() -> None:
    en = _md("We collect your advertising identifier and crash logs.")
    assert en.declares_collected("crash_logs") and en.data_types["crash_logs"].purposes == []


def test_a_negation_right_before_a_data_term_denies_it() -> None:
    en = _md("We receive your purchase history but never see your full card number.")
    assert en.declares_collected("purchase_history")
    assert en.data_types["credit_debit_bank_account_number"].denied
    kept = _md("If you do not provide your email address, we collect your phone number instead.")
    assert "email" not in kept.data_types or not kept.data_types["email"].denied


def test_an_ambiguous_sdk_name_counts_only_when_written_as_a_name() -> None:
    named = _md("We use Adjust to measure our campaigns; Adjust receives your advertising ID.")
    assert [p.sdk_id for p in named.parties] == ["adjust"]
    assert named.declares_shared("device_id")  # a named SDK receiving data is a recipient
    verb = _md("Adjust your settings at any time. You can adjust how we collect your email address.")
    assert verb.parties == []


def test_coordinated_terms_share_their_head_noun() -> None:
    en = _md("We collect health and fitness information such as your heart rate.")
    assert en.declares_collected("health") and en.declares_collected("fitness")


def test_the_above_information_points_back_to_the_previous_sentence() -> None:
    zh = _text("为完成配送，您需要提供收货人姓名、收货地址和联系电话。我们会将上述信息提供给为您配送的骑手。\n")
    assert all(zh.declares_shared(t) for t in ("name", "address", "phone")), zh.data_types


def test_each_sdk_of_a_sentence_takes_what_follows_it() -> None:
    en = _md("We use Firebase Crashlytics to receive crash reports, and AppsFlyer for install attribution.")
    parties = {p.sdk_id: p for p in en.parties}
    assert parties["google-firebase-crashlytics"].data_types == ["crash_logs"]
    assert parties["google-firebase-crashlytics"].purposes == []
    assert parties["appsflyer"].data_types == [] and parties["appsflyer"].purposes == ["advertising"]
    together = _md("We share device identifiers with Google AdMob and Meta Audience Network.")
    assert all(p.data_types == ["device_id"] for p in together.parties) and len(together.parties) == 2
    tool = _md("我们会使用Firebase Crashlytics收集崩溃日志。")
    assert tool.declares_collected("crash_logs") and not tool.declares_shared("crash_logs")


def test_do_not_track_is_a_browser_signal_not_a_denial_of_tracking() -> None:
    dnt = _md("## Information we collect\n\nWe do not respond to Do Not Track signals. We collect your email address.")
    assert dnt.declares_collected("email") and not any(e.denied for e in dnt.data_types.values())
    denial = _md("## Information we collect\n\nWe do not track your precise location.")
    assert denial.data_types["precise_location"].denied


def test_an_umbrella_followed_by_its_items_stands_for_them_only() -> None:
    zh = _text("我们会收集日志信息（包括您的搜索记录和下单记录）。\n")
    assert zh.declares_collected("in_app_search_history")
    assert "crash_logs" not in zh.data_types and "performance_diagnostics" not in zh.data_types


def test_a_numbered_line_between_paragraphs_is_a_sub_heading() -> None:
    zh = _text("一、我们如何收集您的个人信息\n\n3. 支付\n您付款时，我们会收到订单信息。\n\n4. 设备信息与日志\n"
               "为保障安全，我们会收集您的设备型号。\n")
    assert "crash_logs" not in zh.data_types, zh.data_types


def test_a_sentence_before_a_key_is_not_an_sdk_name() -> None:
    zh = _text("一、我们如何收集\n我们会根据您的授权，收集个人信息：手机号码、设备信息\n")
    assert zh.parties == [] and zh.declares_collected("phone")
