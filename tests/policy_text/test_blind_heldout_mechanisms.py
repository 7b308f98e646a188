"""Mechanisms added after the blind held-out pair (heldout_fintech_en, heldout_ridehail_zh), one test each.

Each case is a shape those policies showed and the extractor misread; the sentences here are new ones.
"""

from __future__ import annotations

from scanner.policy.text import extract_text
from tests.policy_text.reading import flags as _flags
from tests.policy_text.reading import read as _md


def test_an_exception_for_the_law_leaves_the_denial_standing() -> None:
    assert _flags(_md("我们不会将您的行程录音提供给任何第三方，但法律法规另有规定的除外。"), "audio") == {"not_shared"}
    assert _flags(_md("We will not share your voice recordings with third parties, except as required by law."),
                  "audio") == {"not_shared"}
    # An exception for business use still takes the denial back.
    assert _flags(_md("We do not share your email address except with our partners."), "email") == set()
    assert _flags(_md("我们不会将您的录音提供给第三方，除非获得您的同意。"), "audio") == set()


def test_a_denied_share_pointing_back_denies_sharing_what_was_collected() -> None:
    en = _md("Precise location is processed on our servers to match offers, and we do not share it with advertisers.")
    assert _flags(en, "precise_location") == {"collected", "not_shared"}
    zh = _md("我们会收集您的精确位置，但不会将其提供给第三方。")
    assert _flags(zh, "precise_location") == {"collected", "not_shared"}
    assert _flags(_md("我们会收集您的精确位置，并将其提供给第三方。"), "precise_location") == {"collected", "shared"}
    assert _flags(_md("We collect your email address but never sell your data."), "email") == {"collected"}


def test_disclosed_to_rows_naming_only_processors_or_nobody_are_collection() -> None:
    d = extract_text(
        "<table><tr><th>Category</th><th>Examples</th><th>Disclosed for a business purpose to</th></tr>"
        "<tr><td>Commercial information</td><td>Purchase history</td><td>Service providers</td></tr>"
        "<tr><td>Geolocation</td><td>Precise location</td><td>Service providers (approximate only)</td></tr>"
        "<tr><td>Audio</td><td>Voice recordings</td><td>Not disclosed</td></tr>"
        "<tr><td>Identifiers</td><td>Email address</td><td>Service providers; advertising partners</td></tr>"
        "<tr><td>Support</td><td>Phone number</td><td>Service providers and vendors</td></tr>"
        "<tr><td>Commercial</td><td>Credit score</td><td>Service providers and credit bureaus</td></tr>"
        "</table>", "html", "<t>")
    assert _flags(d, "purchase_history") == {"collected"}
    assert _flags(d, "precise_location") == {"collected"}
    assert _flags(d, "audio") == {"not_shared"}  # the row's own words: not disclosed
    assert _flags(d, "email") == {"collected", "shared"}
    assert _flags(d, "phone") == {"collected"}  # "and" joins two processors
    assert _flags(d, "credit_score") == {"collected", "shared"}  # ... or a processor and a third party


def test_contacts_as_the_audience_are_not_contact_data() -> None:
    assert "contacts" not in _md("如您使用行程分享功能，我们会将分享链接发送给您指定的联系人。").data_types
    assert "contacts" not in _md("You can share your trip with your contacts.").data_types
    assert _flags(_md("We upload your contacts to find your friends."), "contacts") == {"collected"}
    assert _flags(_md("The app does not request access to your contacts."), "contacts") == {"not_collected"}


def test_files_named_by_what_they_hold() -> None:
    d = _md("录音文件经加密上传并保存7天。")
    assert "audio" in d.data_types and "files_and_docs" not in d.data_types
    assert _flags(_md("We collect the files you upload."), "files_and_docs") == {"collected"}


def test_sms_as_a_channel_is_not_the_users_messages() -> None:
    assert "sms_call_log" not in _md("营销短信可以回复TD退订。我们会通过短信通知您订单状态。").data_types
    assert "sms_call_log" not in _md("We send you reminders by SMS or email.").data_types
    assert _flags(_md("我们不会读取您的短信。"), "sms_call_log") == {"not_collected"}
    assert _flags(_md("The app reads your SMS messages to fill in the code."), "sms_call_log") == {"collected"}


def test_rent_as_a_bill_is_no_sale() -> None:
    d = _md("You may tell us your income, rent or mortgage payment and other bills.")
    assert _flags(d, "other") == set() or "shared" not in _flags(d, "other")
    assert _flags(_md("We collect your email address. We may rent your email address to marketers."),
                  "email") == {"collected", "shared"}


def test_a_company_that_runs_our_service_and_receives_data_is_a_recipient() -> None:
    d = _md("Intercom runs our in-app support chat and receives your name and the messages you send us.")
    assert "shared" in _flags(d, "other_messages")
    assert [p.sdk_id for p in d.parties] == ["intercom"]


def test_an_ambiguous_sdk_name_opening_an_item_as_the_subject() -> None:
    d = _md("## Tools we use\n\n- Branch powers our referral links and receives your device identifier.\n"
            "- Adjust settings at any time in the app.\n")
    assert [p.sdk_id for p in d.parties] == ["branch"]


# -- second blind pair (heldout_kidsgame_en, heldout_ecommerce_zh) -------------------------------


def test_an_exception_lifts_only_the_denial_right_before_it() -> None:
    d = _md("Your email address is not shared with advertisers, and we will not use it for marketing unless you "
            "tick the newsletter box.")
    assert _flags(d, "email") == {"not_shared"}
    assert _flags(_md("We do not collect your email address unless you subscribe."), "email") == {"collected"}


def test_a_passive_agent_is_a_recipient_and_a_source_is_not() -> None:
    assert _flags(_md("Device identifiers are collected by Firebase Crashlytics."), "device_id") == {"collected",
                                                                                                     "shared"}
    assert _flags(_md("We collect crash reports by using Firebase Crashlytics."), "crash_logs") == {"collected"}
    assert _flags(_md("设备标识符由第三方SDK收集。"), "device_id") == {"collected", "shared"}
    # The third party is where the data comes from: collection, not sharing.
    assert _flags(_md("微信授权的昵称、OpenID，经您授权后由第三方平台提供。"), "user_account") == {"collected"}
    assert _flags(_md("We may receive your email address provided by our partners."), "email") == {"collected"}
    assert _flags(_md("我们会将您的手机号码提供给第三方。"), "phone") == {"collected", "shared"}


def test_a_company_introduced_by_its_legal_name_is_a_recipient() -> None:
    d = _md("## Partners\n\n5. GameAnalytics (GameAnalytics ApS) – receives session events.\n")
    assert _flags(d, "user_interaction") == {"collected", "shared"}
    # A recipient whether or not the catalog knows the company (it does since the 2026.12 catalog).
    assert [p.name for p in d.parties] == ["GameAnalytics"] and d.parties[0].sdk_id in (None, "gameanalytics")


def test_words_that_are_no_sdk_names() -> None:
    d = _md("We send the consent request to your email address. We do not collect the Google Advertising ID.")
    assert d.parties == []  # "(consent)" in a catalog name and the ad ID itself name no SDK
    table = extract_text("<table><tr><th>SDK名称</th><th>运营方</th><th>使用场景</th><th>共享的个人信息</th></tr>"
                         "<tr><td>中国移动认证SDK</td><td>中移互联网有限公司</td><td>本机号码一键登录</td>"
                         "<td>本机手机号码</td></tr></table>", "html", "<t>")
    assert [p.sdk_id for p in table.parties] == ["cmcc-auth"]  # not whichever vendor "一键登录" met first


def test_browsing_records_in_a_chinese_app_are_app_interactions() -> None:
    d = _md("我们会收集您的商品浏览记录和搜索记录。")
    assert "user_interaction" in d.data_types and "web_browsing_history" not in d.data_types
    assert "web_browsing_history" in _md("我们不会收集您的网页浏览记录。").data_types


# -- third blind pair (heldout_dating_en, heldout_finance_zh) -------------------------------------


def test_what_other_users_see_is_shared_with_them() -> None:
    d = _md("Other users can see your first name, photos and bio.")
    assert _flags(d, "photos") == {"collected", "shared"} and _flags(d, "user_generated_content") == {"collected",
                                                                                                        "shared"}
    assert _flags(_md("Other users never see your phone number."), "phone") == {"not_shared"}
    assert _flags(_md("您的昵称和头像会展示给其他用户。"), "name") == {"collected", "shared"}
    assert "shared" not in _flags(_md("We never see your card number."), "credit_debit_bank_account_number")


def test_a_denied_share_points_back_to_what_the_sentence_named() -> None:
    d = _md("Your phone number is used only to verify you; we do not share it with other users or any third party.")
    assert _flags(d, "phone") == {"not_shared"}


def test_permission_names_are_not_data() -> None:
    d = _md("我们申请日历权限仅用于写入新股申购提醒，不会读取或上传您日历中的任何日程。")
    assert _flags(d, "calendar") == {"not_collected"}
    assert _flags(_md("We ask for the location permission so that we can collect your precise location."),
                  "precise_location") == {"collected"}


def test_sdk_list_with_a_field_we_do_not_know() -> None:
    d = extract_text("三、第三方SDK\n\n1. SDK名称：腾讯Bugly SDK\n 运营主体：深圳市腾讯计算机系统有限公司\n 备注：无\n"
                     " 使用目的：崩溃上报\n 收集的个人信息：崩溃日志\n\n2. SDK名称：微信OpenSDK\n 运营主体：深圳市腾讯计算机系统有限公司\n"
                     " 使用目的：分享\n 收集的个人信息：设备型号\n", "text", "<t>")
    assert {p.sdk_id for p in d.parties} == {"tencent-bugly", "wechat-opensdk"}  # same company, two SDKs


def test_product_names_in_prose_only_when_written_as_names() -> None:
    assert [p.sdk_id for p in _md("You can sign up with Sign in with Google instead.").parties] == ["google-sign-in"]
    assert [p.sdk_id for p in _md("If you sign up with Facebook Login, we receive your name.").parties] == [
        "facebook-login"]
    assert _md("If you sign in with Google Play Games, we receive your player name.").parties == []
    parties = _md("Google Analytics for Firebase receives app events such as screens viewed.").parties
    assert [p.sdk_id for p in parties] == ["google-firebase-analytics"]  # "App Events" alone names no SDK


# -- fourth blind pair (heldout_health_en, heldout_shortvideo_zh) ----------------------------------


def test_typographic_apostrophes_negate_like_ascii_ones() -> None:
    assert _flags(_md("We don\u2019t collect your email address."), "email") == {"not_collected"}
    assert _flags(_md("You don\u2019t have to tell us your name."), "name") == {"collected"}  # optional, not denied


def test_neither_nor_reaches_its_verb() -> None:
    d = _md("We collect your health data. Neither Mixpanel nor Crashlytics \u2013 nor any other company on this "
            "list \u2013 receives your health data.")
    assert _flags(d, "health") == {"collected", "not_shared"}


def test_de_identified_data_is_no_personal_data_shared() -> None:
    d = _md("De-identified data has had names and email addresses removed, and it is shared with research partners.")
    assert "shared" not in _flags(d, "name") and "shared" not in _flags(d, "email")
    assert _flags(_md("我们会将您的手机号码提供给合作伙伴。"), "phone") == {"collected", "shared"}


def test_it_points_back_to_the_subject_of_the_sentence_before() -> None:
    d = _md("Your email address is used to sign you in and to reset your password. We don\u2019t share it with any "
            "third party.")
    assert "not_shared" in _flags(d, "email") and "not_shared" not in _flags(d, "user_account")


def test_someone_elses_contact_details_are_not_the_users() -> None:
    assert _md("我们会告知您接收方的名称和联系方式。").data_types == {}
    assert _md("We will tell you the recipient's name and contact details.").data_types == {}
    assert _flags(_md("我们会收集您的联系方式。"), "phone") == {"collected"}


def test_a_table_cell_saying_no_third_parties_is_no_sharing() -> None:
    d = extract_text("<table><tr><th>Category</th><th>Source</th><th>Shared with</th></tr>"
                     "<tr><td>Steps, workouts</td><td>Health Connect</td><td>No third parties (service providers "
                     "only)</td></tr></table>", "html", "<t>")
    assert _flags(d, "fitness") == {"collected"}
