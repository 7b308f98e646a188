"""Issue 14: negation, scope and role at the level of a clause, words that are not data, document sections, and
the topics a policy addresses (what the completeness rules DVG-POLICY-010.. read)."""

from __future__ import annotations

import pytest

from scanner.errors import BadRule
from scanner.knowledge.vocabulary import load_vocabulary
from scanner.model import Declaration
from scanner.policy.text import extract_text
from tests.policy_text.reading import flags as _flags
from tests.policy_text.reading import read as _read


def _topics(d: Declaration) -> dict[str, bool]:
    return {t.topic: t.found for t in d.policy_topics}


# -- negation and scope --------------------------------------------------------------------------


def test_a_list_under_one_negated_verb_is_denied_item_by_item() -> None:
    d = _read("We do not access your contacts, your photos (including screenshots), your SMS messages or your "
              "calendar.")
    for data_type in ("contacts", "photos", "sms_call_log", "calendar"):
        assert _flags(d, data_type) == {"not_collected"}, data_type
    zh = _read("我们不会收集您的通讯录、短信、通话记录或相册。")
    assert _flags(zh, "contacts") == {"not_collected"}
    assert _flags(zh, "photos") == {"not_collected"}


def test_selling_denied_is_not_sharing_and_selling_stated_is() -> None:
    assert _flags(_read("We never sell your health data."), "health") == set()
    assert _flags(_read("We sell your browsing history to data brokers."), "web_browsing_history") == {
        "collected", "shared"}


def test_a_transfer_in_a_merger_is_not_sharing() -> None:
    d = _read("If we are involved in a merger or acquisition, your email address and name may be transferred to "
              "the acquirer.")
    assert _flags(d, "email") == {"collected"}
    assert _flags(d, "name") == {"collected"}
    # Without the merger the same transfer is sharing.
    assert _flags(_read("Your email address may be transferred to our partners."), "email") == {"collected", "shared"}


def test_a_service_provider_is_collection_not_sharing() -> None:
    d = _read("Crash reports are sent to Firebase Crashlytics, a service provider that processes them on our behalf.")
    assert _flags(d, "crash_logs") == {"collected"}
    assert _flags(_read("We may disclose your email address to service providers who help us run the app."),
                  "email") == {"collected"}


def test_a_condition_scopes_only_its_own_clause() -> None:
    d = _read("我们会收集您的手机号码；如果您使用导航功能，我们会收集您的精确位置信息。")
    assert d.data_types["phone"].optional is None and d.data_types["phone"].conditions == []
    assert d.data_types["precise_location"].optional is True
    en = _read("We collect your email address; if you use the map, we collect your precise location.")
    assert en.data_types["email"].optional is None
    assert en.data_types["precise_location"].optional is True


def test_what_the_user_chooses_to_give_is_optional_collection() -> None:
    d = _read("You can optionally provide your phone number to enable two-factor authentication.")
    assert _flags(d, "phone") == {"collected"}
    assert d.data_types["phone"].optional is True
    # "provide" with no user as the giver and no recipient stays nothing, as before.
    assert _flags(_read("The app may provide your phone number."), "phone") == set()


def test_other_peoples_data_is_not_the_users() -> None:
    assert _flags(_read("We collect information about your friends when you invite them, such as their phone "
                        "number."), "phone") == set()
    assert _flags(_read("You can import your friends' email addresses to invite them."), "email") == set()
    assert _flags(_read("我们会收集您好友的手机号码用于邀请。"), "phone") == set()
    # "their" without other people in the sentence is still the user's ("users and their phone numbers").
    assert _flags(_read("We collect your name and their phone numbers."), "phone") == {"collected"}


def test_channels_are_not_data() -> None:
    assert _read("We may send you emails about new features.").data_types == {}
    assert _read("We will contact you by email or phone about your order.").data_types == {}
    assert _read("我们会通过短信或电子邮件向您发送通知。").data_types == {}


def test_words_that_are_not_data() -> None:
    assert "address" not in _read("我们会收集您访问的URL地址。").data_types
    assert "photos" not in _read("我们使用网络信标（web beacon）收集信息，它是一种嵌入网页的GIF或PNG图片。").data_types
    assert _read("我们会收集非个人身份信息。").data_types == {}
    assert _read("We collect non-personal information such as the pages you view.").data_types.get("name") is None
    # The words themselves still work where they are data.
    assert _flags(_read("我们会收集您的收货地址和照片。"), "address") == {"collected"}


# -- definitions and sections ------------------------------------------------------------------------


def test_a_definition_lists_what_data_may_be_not_what_is_collected() -> None:
    d = _read("Personal information means any information relating to an identified person, such as your name, "
              "email address, phone number or location. We do NOT collect any personal information.")
    assert d.data_types == {}
    assert _read("个人敏感信息是指一旦泄露可能危害人身安全的个人信息，包括身份证号码、银行账号、行踪轨迹。").data_types == {}
    # A sentence with "we" is a practice even with a definition word in it.
    assert _flags(_read("This means we collect your email address."), "email") == {"collected"}


def test_a_definitions_section_declares_nothing_and_a_rights_section_collects_nothing() -> None:
    d = _read("# Definitions\n\n- Personal data: your name, email address and location.\n- Device data: your "
              "Android ID.\n\n# What we collect\n\nWe collect your email address.\n\n# Your rights\n\nYou can "
              "access, correct or delete your name and phone number at any time.\n")
    assert set(d.data_types) == {"email"}
    zh = _read("## 定义\n\n个人信息：姓名、手机号码、身份证号码。\n\n## 我们如何收集您的个人信息\n\n我们会收集您的手机号码。\n")
    assert set(zh.data_types) == {"phone"}


def test_a_heading_naming_a_practice_opens_no_rights_section() -> None:
    d = _read("# Information we collect and your choices\n\nYour email address, to sign you in.\n")
    assert _flags(d, "email") == {"collected"}


# -- topics ------------------------------------------------------------------------------------------

_COMPLETE_EN = """# Privacy Policy of Acme Notes

Last updated: 4 March 2025

Acme Notes is developed by Acme Software Ltd, 1 Main Street, Dublin.

## What we collect

We collect your email address to create your account and to let you reset your password.

## Third-party SDKs

| SDK | Company | Purpose | Data |
|---|---|---|---|
| Firebase Crashlytics | Google LLC | crash reports | crash logs |

## Retention and storage

We keep your notes while your account is open and delete them 30 days after you close it. Your data is stored on
servers in the European Union.

## Your rights

You can access and export your data, correct your profile, delete your data, withdraw your consent and delete your
account in Settings.

## Children

The app is not meant for children under 13.

## Changes to this policy

We will notify you in the app of any material changes.

## Contact us

Write to privacy@acme.example.
"""


def test_a_complete_policy_addresses_every_topic_with_its_sentence() -> None:
    d = _read(_COMPLETE_EN)
    topics = _topics(d)
    assert all(topics.values()), {t: f for t, f in topics.items() if not f}
    by_topic = {t.topic: t for t in d.policy_topics}
    assert "Acme Software Ltd" in (by_topic["controller"].source or "")
    assert "privacy@acme.example" in (by_topic["contact"].source or "")
    assert "Firebase Crashlytics" in (by_topic["sdk_list"].source or "")
    # A heading names a topic; the first sentence under it becomes the evidence.
    assert "30 days" in (by_topic["retention"].source or "")
    assert by_topic["retention"].section == "Retention and storage"
    assert "2025" in (by_topic["effective_date"].source or "")


def test_a_bare_policy_misses_the_topics_it_never_states() -> None:
    d = _read("# Privacy\n\nWe collect your email address. We do not share it.\n")
    topics = _topics(d)
    for missing in ("controller", "contact", "retention", "storage_location", "right_delete_account", "minors",
                    "changes", "effective_date", "purposes"):
        assert topics[missing] is False, missing
    # Structure topics shape the reading; they are no checks.
    assert "definitions" not in topics and "rights_section" not in topics


def test_purposes_are_checked_only_when_something_is_collected() -> None:
    d = _read("We do not collect any personal information. Contact us at dev@example.org.")
    assert "purposes" not in _topics(d)
    assert _topics(_read("We collect your email address to send you receipts."))["purposes"] is True


def test_chinese_topics() -> None:
    d = _read("更新日期：2024年11月18日\n\n杭州示例网络科技有限公司（以下简称“我们”）深知个人信息的重要性。\n\n"
              "我们会收集您的手机号码，用于注册登录。\n\n我们在中华人民共和国境内收集的个人信息存储于境内。\n\n"
              "您可以在“设置—账号与安全—注销账号”中注销账号。\n\n如您对本政策有任何疑问，请联系我们：privacy@example.cn。\n")
    topics = _topics(d)
    for found in ("effective_date", "controller", "purposes", "storage_location", "right_delete_account", "contact"):
        assert topics[found] is True, found
    for missing in ("retention", "minors", "changes", "right_correct"):
        assert topics[missing] is False, missing


def test_a_word_that_is_data_is_no_contact_method() -> None:
    d = _read("如您需要开具电子发票，请提供接收发票的电子邮箱。")
    assert _topics(d)["contact"] is False


def test_privacy_yaml_has_no_topics() -> None:
    from scanner.policy.declaration import declaration_from_mapping

    assert declaration_from_mapping({"data_types": {"email": {"collected": True}}}, "privacy.yaml").policy_topics == []


def test_a_bad_topic_entry_is_a_bad_rule(tmp_path: object) -> None:
    from pathlib import Path

    directory = Path(str(tmp_path))
    (directory / "extra.yaml").write_text("topics:\n  retention2:\n    group: storage\n    label: x\n    label_zh: x\n"
                                          "    section: appendix\n", encoding="utf-8")
    with pytest.raises(BadRule, match="unknown section 'appendix'"):
        load_vocabulary(directory)
    (directory / "extra.yaml").write_text("topics:\n  retention2:\n    group: storage\n    label: x\n    label_zh: x\n"
                                          "    patterns: ['(unclosed']\n", encoding="utf-8")
    with pytest.raises(BadRule, match="bad pattern"):
        load_vocabulary(directory)


# -- mechanisms from the first run on the real development set (fixtures/policies/real) ----------------------


def test_an_sdk_named_as_absent_is_no_disclosed_party() -> None:
    d = _read("The app does not include any advertisement libraries or any 3rd party tracking (analytics) code, such "
              "as Google Analytics.")
    assert d.parties == []
    assert [p.sdk_id for p in _read("We use Google Analytics to count visits.").parties] == ["google-analytics"]
    assert _read("本应用未集成友盟统计SDK。").parties == []


def test_data_shared_only_with_the_developer_is_collection() -> None:
    d = _read("The application failure reports are shared only with the developer and contain the crash cause.")
    assert _flags(d, "crash_logs") == {"collected"}
    # ... but not when a third party is named beside the developer.
    assert _flags(_read("Crash reports are shared with the developer and third parties."), "crash_logs") == {
        "collected", "shared"}


def test_a_word_after_a_determiner_is_no_verb() -> None:
    # "log" is a collection verb; "the log" is a file on the device.
    assert _read("The log may contain your current location.").data_types == {}
    assert _flags(_read("We log your location."), "approx_location") == {"collected"}
    # A relative "that" keeps its verb: "the email service that sends consent requests".
    assert _read("The service that sends reminders to your partners receives your email address.").data_types


def test_the_policys_own_definition_of_an_umbrella_term_holds_for_the_whole_document() -> None:
    d = _read("本软件可能会收集您的部分设备信息。\n\n我们可能收集的个人信息包括：\n\n"
              "- 设备信息：手机型号、内存空间占用大小、磁盘空间占用大小。\n")
    assert "device_id" not in d.data_types  # 设备信息 here is the listed items, none an identifier
    assert _flags(d, "performance_diagnostics") == {"collected"}
    # Without the label list the umbrella keeps its usual reading.
    assert "device_id" in _read("本软件可能会收集您的部分设备信息。").data_types


def test_a_parenthesis_after_an_umbrella_names_what_it_means() -> None:
    d = _read("The app collects the device location (coordinates).")
    assert set(d.data_types) == {"precise_location"}


def test_the_collected_data_points_back_past_a_sentence_without_data() -> None:
    d = _read("The app collects the device location (coordinates). This information is stored on your device. The "
              "collected data can be shared to OpenCellID.org and other third parties.")
    assert _flags(d, "precise_location") == {"collected", "shared"}


def test_channels_of_a_report_and_the_apps_own_images_are_no_data() -> None:
    d = _read("You can share debugging information via email using the Crash Report function. The app keeps "
              "images caches.")
    assert "email" not in d.data_types and "photos" not in d.data_types
    assert "address" not in _read("支付宝SDK收集的个人信息：IP 地址、网络类型。").data_types


# -- real pages: furniture around the policy ------------------------------------------------------------------


def test_menus_cookie_banners_and_footers_named_by_class_or_role_are_not_policy_text() -> None:
    page = ("<html><body>"
            "<div class='main-menu'><ul><li>We collect your location</li></ul></div>"
            "<div id='cookie-banner'><div><p>We use cookies to collect your device ID.</p></div>"
            "<p>Accept all to share your email address with partners.</p></div>"
            "<div role='navigation'><p>Contacts</p></div>"
            "<div class='site-footer'><p>Your phone number is shared with advertisers.</p></div>"
            "<main><h2>What we collect</h2><p>We collect your name.</p>"
            "<section id='cookies'><h2>Cookies</h2><p>We collect your purchase history through cookies.</p></section>"
            "</main></body></html>")
    d = extract_text(page, "html", "<t>")
    # The nested <div> inside the banner does not end it early; the policy's own cookie section stays.
    assert set(d.data_types) == {"name", "purchase_history"}


def test_a_paragraph_repeated_on_every_page_is_page_furniture() -> None:
    pages = "\n\n".join(f"Acme Privacy Policy - contact us - page {n}\n\nWe collect your email address for "
                        f"receipt number {n}." for n in range(1, 5))
    d = extract_text(pages, "text", "<t>")
    assert _flags(d, "email") == {"collected"}
    # The repeated header is gone; the statements, repeated too but long, are kept.
    from scanner.policy.html_text import parse_policy

    texts = [b.text for b in parse_policy(pages, "text", "<t>").blocks]
    assert not any(t.startswith("Acme Privacy Policy") for t in texts)
    assert sum(t.startswith("We collect") for t in texts) == 4


def test_a_right_is_stated_only_where_the_user_acts() -> None:
    # The app's own access, or Android's backup, is no right of the user's.
    d = _read("The app does not use any proxy server that could access your data in transit. Android itself saves "
              "a copy of your phone's data in Google's servers.")
    assert _topics(d)["right_access"] is False
    assert _topics(_read("You can request a copy of your data at any time."))["right_access"] is True
    # Items under a lead-in where the user acts inherit it.
    items = _read("Parents can, at any time and from the Parent Dashboard:\n\n- download a copy of that information;\n"
                  "- withdraw consent;\n- delete the player profile and all save data.\n")
    assert all(_topics(items)[t] for t in ("right_access", "right_withdraw", "right_delete"))
    assert not _topics(_read("Our staff:\n\n- delete the player profile after 24 months.\n"))["right_delete"]


def test_the_page_footer_can_name_who_runs_the_site() -> None:
    page = ("<html><body><main><h1>Privacy</h1><p>We collect your email address to send receipts.</p></main>"
            "<footer><p>© 2025 Chirp Inc. · <a href='mailto:privacy@chirp.example'>privacy@chirp.example</a></p>"
            "<p>We collect your phone number.</p></footer></body></html>")
    d = extract_text(page, "html", "<t>")
    by_topic = {t.topic: t for t in d.policy_topics}
    assert by_topic["controller"].found and "[page footer]" in (by_topic["controller"].source or "")
    assert by_topic["contact"].found
    # Only who and how to reach them: the footer states no practice and no other topic.
    assert "phone" not in d.data_types
    assert not by_topic["effective_date"].found


def test_only_the_footer_itself_is_read_for_who_runs_the_site() -> None:
    page = ("<html><body><div class='site-footer'><p>Menu</p></div>"
            "<nav><p>Written by Acme Software Ltd.</p></nav>"
            "<footer><script>var x = 'ops@tracker.example';</script><p>Imprint</p></footer>"
            "<main><p>We collect your email address to send receipts.</p></main></body></html>")
    topics = {t.topic: t.found for t in extract_text(page, "html", "<t>").policy_topics}
    assert topics["controller"] is False  # the nav after a class footer is no footer
    assert topics["contact"] is False  # a script inside the footer is no contact line


_HELD_OUT = frozenset({"soundscape_en.md", "switshot_zh.md", "snaphutao_zh.md", "doglist_en.md"})


def _real_scores(held_out: bool) -> list:  # type: ignore[type-arg]
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    sys.path.insert(0, str(repo))
    from bench import policy_accuracy

    # Readings whose text is not stored (Open Note, Embrace, Firefox Focus: see the folder's README) are skipped.
    return [policy_accuracy.score_policy(p) for p in policy_accuracy.policy_files(repo / "fixtures/policies/real")
            if (p.name in _HELD_OUT) == held_out]


def test_accuracy_on_the_real_development_set() -> None:
    """The real policies tuned on (round 7 and 8, held-out ones excluded) keep their figures: stored ones pairs
    P 0.87 / R 0.87 (first run 0.57 / 0.67), with the two Focus texts fetched beside them 0.88 / 0.84; every
    language right, every SDK found and none extra."""
    from bench import policy_accuracy

    scores = _real_scores(held_out=False)
    assert len(scores) >= 8 and all(s.language_ok for s in scores), [s.name for s in scores if not s.language_ok]
    totals = policy_accuracy.totals(scores)
    assert totals["pairs_precision"] >= 0.82 and totals["pairs_recall"] >= 0.80, totals
    assert totals["sdks_precision"] == 1.0 and totals["sdks_recall"] == 1.0, totals


def test_accuracy_on_the_real_held_out_set() -> None:
    """The four held-out real policies (never tuned on; measured once after round 8 was frozen: pairs P 0.79 /
    R 0.67, SDKs 1.00 / 1.00; first run 0.66 / 0.64, SDK P 0.67): a looser floor."""
    from bench import policy_accuracy

    scores = _real_scores(held_out=True)
    assert len(scores) == 4
    totals = policy_accuracy.totals(scores)
    assert totals["pairs_precision"] >= 0.70 and totals["pairs_recall"] >= 0.60, totals
    assert totals["sdks_precision"] >= 0.9 and totals["sdks_recall"] >= 0.9, totals
