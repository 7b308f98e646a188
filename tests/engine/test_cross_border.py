"""Where recipients are, which market an app is in, and the transfers and children's facts the rules read (issue 18)."""

from __future__ import annotations

import pytest

from scanner.engine.facts import app_markets, facts_from_case, transfers_of
from scanner.knowledge import regulation
from scanner.knowledge.recipients import Recipients
from scanner.knowledge.sdks import shared_catalog
from scanner.policy.declaration import dump_privacy_yaml, parse_privacy_yaml
from scanner.policy.text import extract_text


@pytest.mark.parametrize(("host", "country", "source"), [
    ("tsis.jpush.cn", "CN", "cctld"),          # ccTLD
    ("weixin.qq.com", "CN", "domain"),         # the longest listed suffix
    ("eu-west.app.adjust.com", "DE", "domain"),
    ("news.bbc.co.uk", "GB", "cctld"),         # uk -> GB, through a second-level public suffix
    ("api.example.eu", "EU", "cctld"),
    ("cdn.startup.io", None, None),            # .io is sold worldwide: no country
    ("divulge-fixture.example", None, None),
])
def test_domain_country(host: str, country: str | None, source: str | None) -> None:
    found = regulation.domain_country(host)
    assert (found.country if found else None, found.source if found else None) == (country, source)


def test_recipient_country_prefers_the_catalog_owner() -> None:
    recipients = Recipients(shared_catalog(), first_party=["shop.example.de"])
    appsflyer = recipients.resolve("t.appsflyer.com")
    assert (appsflyer.sdk, appsflyer.country, appsflyer.country_source) == ("appsflyer", "IL", "catalog")
    # The app's own server is located too (approximately), though the rules only weigh third parties.
    own = recipients.resolve("api.shop.example.de")
    assert (own.party, own.country, own.country_source) == ("first", "DE", "cctld")


@pytest.mark.parametrize(("declared", "category", "language", "domains", "label", "markets"), [
    (["eea"], "news", "zh", [], None, ["eea"]),          # what the declaration says settles it
    ([], "news", None, [], None, ["cn"]),               # a 2021 category reads the app under Chinese rules
    ([], None, "zh", [], None, ["cn"]),
    ([], None, None, ["m.example.cn"], None, ["cn"]),
    ([], None, None, [], "今日快讯", ["cn"]),
    ([], None, None, ["shop.example.de"], "Shop", ["eea"]),
    ([], None, "de", [], None, ["eea"]),
    ([], None, "en", ["shop.example.com"], "Shop", []),  # nothing says where: no market, no transfer rule fires
])
def test_app_markets(declared: list[str], category: str | None, language: str | None, domains: list[str],
                     label: str | None, markets: list[str]) -> None:
    assert app_markets(declared, category, language, domains, label) == markets


def test_observation_and_sdk_facts_carry_country_and_market() -> None:
    decl = parse_privacy_yaml("schema: divulge/privacy/1\napp: {markets: [cn, eea], audience: children}\n", "p.yaml")
    facts = facts_from_case([
        {"kind": "sdk", "id": "applovin", "name": "AppLovin", "country": "US", "categories": ["advertising"],
         "data_types": ["device_id"]},
        {"kind": "sdk", "id": "google-admob", "name": "AdMob", "country": "US", "categories": ["advertising"]},
        {"kind": "observation", "data_type": "device_id", "host": "app-measurement.com", "party": "third",
         "sdk": "google-firebase-analytics"},
        {"kind": "observation", "data_type": "device_id", "host": "x.tracker.de", "party": "third"},
        {"kind": "observation", "data_type": "device_id", "host": "tsis.jpush.cn", "party": "third", "sdk": "jpush"},
    ], decl, category=None, inputs=None).facts
    app = next(f for f in facts if f["kind"] == "app")
    assert app["markets"] == ["cn", "eea"] and app["for_children"] is True
    sdks = {f["id"]: f for f in facts if f["kind"] == "sdk"}
    assert sdks["google-admob"]["families_certified"] and not sdks["applovin"]["families_certified"]
    obs = {f["host"]: f for f in facts if f["kind"] == "observation"}
    firebase, german, jpush = obs["app-measurement.com"], obs["x.tracker.de"], obs["tsis.jpush.cn"]
    assert (firebase["recipient_country"], firebase["recipient_country_source"]) == ("US", "catalog")
    assert firebase["abroad_from_cn"] and firebase["outside_eea"]
    assert firebase["adequacy"] == "EU-US Data Privacy Framework"
    assert "analytics" in firebase["recipient_categories"]
    assert german["abroad_from_cn"] and not german["outside_eea"] and german["recipient_country_source"] == "cctld"
    assert not jpush["abroad_from_cn"] and jpush["outside_eea"] and jpush["adequacy"] is None
    transfers = {(t.market, t.recipient, t.basis) for t in transfers_of(facts)}
    # AppLovin was not seen in traffic but is known to collect the device id: a transfer the code makes possible.
    assert ("cn", "AppLovin", "capability") in transfers and ("eea", "AppLovin", "capability") in transfers
    assert not any(r == "AdMob" for _, r, _ in transfers), "AdMob lists no data types in this case"
    assert ("cn", "x.tracker.de", "behaviour") in transfers and ("eea", "jpush", "behaviour") in transfers


def test_declaration_markets_audience_and_consents_round_trip() -> None:
    text = ("schema: divulge/privacy/1\napp: {package: com.example.kids, markets: [cn], audience: children}\n"
            "consents: {guardian: true, cross_border: false}\n")
    decl = parse_privacy_yaml(text, "p.yaml")
    assert (decl.markets, decl.audience, decl.guardian_consent, decl.cross_border_consent) == \
        (["cn"], "children", True, False)
    again = parse_privacy_yaml(dump_privacy_yaml(decl), "q.yaml")
    assert (again.markets, again.audience, again.guardian_consent, again.cross_border_consent) == \
        (["cn"], "children", True, False)


@pytest.mark.parametrize(("text", "audience", "guardian", "cross_border"), [
    ("Puddle Pals is a game designed for children aged 4 to 10. We ask for verifiable parental consent first.",
     "children", True, None),
    ("Our service is not directed to children under 13. We do not knowingly collect their data.", None, None, None),
    ("本产品专为儿童设计。我们会在征得监护人的同意后处理儿童个人信息。", "children", True, None),
    ("我们的产品不面向儿童。", None, None, None),
    ("在向境外提供您的个人信息前，我们会征得您的单独同意。", None, None, True),
    ("We ask your separate consent for the sign-up offer.", None, None, None),   # consent, but nothing abroad
    ("We will ask your explicit consent before transferring data outside China.", None, None, True),
])
def test_policy_text_statements(text: str, audience: str | None, guardian: bool | None,
                                cross_border: bool | None) -> None:
    decl = extract_text(text, "txt", "policy.txt")
    assert (decl.audience, decl.guardian_consent, decl.cross_border_consent) == (audience, guardian, cross_border)


def test_families_list_names_catalog_sdks() -> None:
    families = regulation.families_ads_sdks()
    entries = shared_catalog().entries
    # Every listed SDK is a catalog ads SDK: an id that matches no entry would silently certify nothing.
    assert sorted(s for s in families.sdks if s not in entries) == []
    assert all("advertising" in entries[s].categories for s in families.sdks)
    assert "applovin" in entries and "applovin" not in families.sdks  # it left the program
    assert families.source.startswith("https://support.google.com/")


def test_regimes_are_consistent() -> None:
    regimes = regulation.transfer_regimes()
    assert len(regimes.eea - {"EU"}) == 30 and not regimes.eea & regimes.adequate
    assert "US" not in regimes.adequate and "US" in regimes.adequate_if_certified
    assert regimes.cn_home == {"CN"}
