"""The domains a policy names as its own become the capture's first party; SDK vendors' and free mail do not."""

from __future__ import annotations

from pathlib import Path

from scanner.policy.own_domains import own_domains
from scanner.policy.text import load_policy_text

POLICIES = Path(__file__).resolve().parents[2] / "fixtures" / "policies"


def test_contact_address_and_repeated_links_are_the_developers() -> None:
    text = ("Write to privacy@moonlit.app or see https://www.moonlit.app/privacy and https://help.moonlit.app/faq. "
            "We use Firebase (https://firebase.google.com/support/privacy) and AppsFlyer "
            "(https://www.appsflyer.com/legal/privacy-policy/, https://www.appsflyer.com/legal/services-privacy-policy/). "
            "Questions: ourteam@gmail.com. Regulator: https://ico.org.uk/ https://ico.org.uk/make-a-complaint/")
    assert own_domains(text) == ["moonlit.app"]


def test_an_sdk_vendor_linked_from_an_sdk_table_is_not_first_party() -> None:
    declaration = load_policy_text(POLICIES / "heldout_ridehail_zh.md")
    assert declaration.first_party_domains == ["changxingyueche.cn"]  # not amap.com (AMap SDK's privacy page)


def test_a_single_link_without_a_contact_address_names_nothing() -> None:
    assert own_domains("See https://example-news.cn/about once.") == []
