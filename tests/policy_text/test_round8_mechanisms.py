"""Round 8 (issue 14): mechanisms from the first run on the ten new real policies, each as a general shape in
sentences of our own (none copied from the policies)."""

from __future__ import annotations

from tests.policy_text.reading import flags as _flags
from tests.policy_text.reading import read as _read


def test_a_negated_subject_denies_a_passive_verb_at_the_end_of_its_clause() -> None:
    d = _read("No identifying data, such as full names, postal addresses or email addresses, is ever collected by "
              "the app.")
    assert _flags(d, "email") == {"not_collected"} and _flags(d, "name") == {"not_collected"}
    # A later verb of its own clause is not negated: "No account is needed" is not "no location is collected".
    assert _flags(_read("No account is needed, and we collect your email address."), "email") == {"collected"}


def test_an_exception_for_what_the_user_does_through_other_apps_keeps_the_denial() -> None:
    d = _read("Your recordings stay on the phone and are not uploaded or shared unless you decide to send them "
              "yourself through another app.")
    assert _flags(d, "audio") == set() or "collected" not in _flags(d, "audio")
    d = _read("The pictures are not uploaded or shared unless you choose to share them through other apps.")
    assert _flags(d, "photos") == {"not_collected", "not_shared"}
    # An exception where the app acts on the user's choice is still conditional collection.
    assert "collected" in _flags(_read("We do not collect your location unless you enable the map."), "approx_location")


def test_coordinated_denied_verbs_deny_the_same_data() -> None:
    d = _read("Your documents are not uploaded or shared.")
    assert _flags(d, "files_and_docs") == {"not_collected", "not_shared"}


def test_a_bilingual_policy_is_chinese() -> None:
    text = ("我们不会收集您的姓名或电话号码，也不会保留您在应用中的任何操作记录。\n\nWe do not collect your name or phone "
            "number, and we do not keep any record of what you do in the app.\n")
    assert _read(text).language == "zh"
    assert _read("We do not collect your name or phone number. 联系我们。").language == "en"


def test_a_term_that_qualifies_another_noun_is_no_data() -> None:
    assert _read("The app uses a location provider from the operating system.").data_types == {}
    assert _read("We offer location-related features.").data_types == {}
    assert _read("适用的法律可能因您所在的地理位置不同而不同。").data_types == {}
    # "to improve app performance" is a purpose, not diagnostics collected.
    assert "performance_diagnostics" not in _read("We collect your email address to improve app performance.").data_types
    # Our staff's location is not the user's.
    assert _read("我们收集的信息可能会从我们员工所在的位置进行访问。").data_types == {}


def test_storage_media_and_acts_are_no_data() -> None:
    assert "files_and_docs" not in _read("We store cookies and temporary internet files.").data_types
    assert "files_and_docs" not in _read("我们会以数据库文件形式储存您的设置。").data_types
    assert "email" not in _read("如果您使用特定功能（例如发送电子邮件），我们会收集所需的信息。").data_types
    assert "user_generated_content" not in _read("我们会收集每日使用情况数据反馈。").data_types


def test_vocabulary_gaps_of_round_8() -> None:
    assert _flags(_read("We collect your search query."), "in_app_search_history") == {"collected"}
    assert _flags(_read("我们会收集您的搜索查询。"), "in_app_search_history") == {"collected"}
    assert _flags(_read("我们会收集崩溃报告。"), "crash_logs") == {"collected"}
    assert _flags(_read("我们会收集设备的唯一标识符。"), "device_id") == {"collected"}
    assert _flags(_read("我们会收集设备 ID。"), "device_id") == {"collected"}
    assert _flags(_read("我们会收集内存使用情况。"), "performance_diagnostics") == {"collected"}
    assert _flags(_read("我们会收集您的浏览历史记录。"), "web_browsing_history") == {"collected"}
    d = _read("我们不会收集您的联系方式。")
    assert _flags(d, "email") == {"not_collected"} and _flags(d, "phone") == {"not_collected"}


def test_processing_on_the_device_is_no_collection() -> None:
    assert _read("The app processes your browsing history on your device to show suggestions.").data_types == {}
    d = _read("If you allow it, your precise location may be processed for nearby results; it is not sent to our "
              "servers.")
    assert _flags(d, "precise_location") == {"not_collected"}
    d = _read("如果您允许，您的精确位置可能会被处理；这些数据不会被发送到我们的服务器。")
    assert _flags(d, "precise_location") == {"not_collected"}


def test_a_search_engine_is_a_recipient() -> None:
    d = _read("When you search, your search query is processed by your default search engine.")
    assert _flags(d, "in_app_search_history") == {"collected", "shared"}


def test_a_web_site_named_is_no_sdk_and_no_recipient() -> None:
    d = _read("Your location may be provided for websites like Google Maps.")
    assert d.parties == [] and "shared" not in _flags(d, "approx_location")
    assert _read("附近功能会用于 Google Maps 等网站。").parties == []
    assert [p.sdk_id for p in _read("We use the Google Maps SDK to show maps.").parties] == ["google-maps"]


def test_a_description_in_a_catalog_names_parentheses_names_no_sdk() -> None:
    assert _read("The app is open source and has no ad tracking.").parties == []


def test_the_developers_own_defined_name_is_we() -> None:
    d = _read("This policy covers Instabug, Inc. (“Instabug,” “we,” or “us”).\n\n"
              "Instabug collects your name and email address when you sign up.")
    assert _flags(d, "email") == {"collected"}
    # Elsewhere the same SDK collecting is a third party's collection.
    assert _flags(_read("Instabug collects your email address."), "email") == {"collected", "shared"}


def test_a_disclosure_for_a_business_purpose_is_no_sharing() -> None:
    d = _read("We may disclose your email address to vendors for a business purpose, such as hosting.")
    assert _flags(d, "email") == {"collected"}
