"""Consent signals inside requests: TCF v2, US Privacy, Google Consent Mode, SDK opt-out flags."""

from __future__ import annotations

import base64
import json

import pytest

from scanner.dynamic.analysis import FlowAnalyzer
from scanner.dynamic.consent import (
    ADVERTISING,
    ANALYTICS,
    GCD_TYPES,
    GRANTED,
    REFUSED,
    consent_mode_gcd,
    consent_mode_gcs,
    consent_mode_gcs_states,
    gpp_section_ids,
    gpp_states,
    purpose_of,
    refusal,
    refusal_among,
    signals,
    tcf_purpose_consents,
)
from scanner.dynamic.readers import FlowRecord
from scanner.knowledge.recipients import Recipients
from scanner.knowledge.sdks import shared_catalog


def tc_string(purposes: set[int]) -> str:
    """A TCF v2 core segment written here to the spec's bit layout (version 2, purposes as given)."""
    bits = f"{2:06b}" + "0" * 36 * 2 + f"{7:012b}" + f"{1:012b}" + "0" * 6 + "0" * 12 + f"{150:012b}" + f"{4:06b}"
    bits += "0" + "0" + "0" * 12 + "".join("1" if i + 1 in purposes else "0" for i in range(24)) + "0" * 24
    bits += "0" * (-len(bits) % 8)
    raw = int(bits, 2).to_bytes(len(bits) // 8, "big")
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_tcf_purposes_decoded() -> None:
    assert tcf_purpose_consents(tc_string({1, 3, 4})) == (1, 3, 4)
    assert tcf_purpose_consents(tc_string(set())) == ()
    assert tcf_purpose_consents("not-a-tc-string") is None


@pytest.mark.parametrize(("pairs", "source"), [
    ([("gdpr_consent", tc_string({2, 7}))], "tcf"),  # no purpose 1
    ([("us_privacy", "1YYN")], "us_privacy"),
    ([("gcs", "G100")], "consent_mode"),
    ([("npa", "1")], "npa"),
    ([("advertiser_tracking_enabled", "0")], "advertiser_tracking_enabled"),
])
def test_refusals(pairs: list[tuple[str, str]], source: str) -> None:
    found = refusal(pairs)
    assert found is not None and found.state == REFUSED and found.source == source


@pytest.mark.parametrize("pairs", [
    [("gdpr_consent", tc_string({1, 2, 3}))], [("us_privacy", "1YNN")], [("gcs", "G111")], [("npa", "0")],
    [("advertiser_tracking_enabled", "1")], [("us_privacy", "1---")], [("lat", "39.9")],
])
def test_grants_and_non_signals(pairs: list[tuple[str, str]]) -> None:
    assert refusal(pairs) is None


def test_consent_mode_states() -> None:
    assert consent_mode_gcs("G100") == REFUSED and consent_mode_gcs("G111") == "granted"
    assert consent_mode_gcs("G110") is None and consent_mode_gcs("X100") is None


def test_partial_consent_mode_is_read_per_purpose() -> None:
    assert consent_mode_gcs_states("G101") == {"ad_storage": REFUSED, "analytics_storage": GRANTED}
    assert consent_mode_gcs_states("G1-0") == {"analytics_storage": REFUSED}
    ads_denied = signals([("gcs", "G101")])
    assert [(s.state, s.purpose) for s in ads_denied] == [(REFUSED, ADVERTISING), (GRANTED, ANALYTICS)]
    assert refusal_among(ads_denied, ADVERTISING) is not None
    assert refusal_among(ads_denied, ANALYTICS) is None
    assert refusal_among(ads_denied, None) is None  # data of no known purpose: a partial refusal does not cover it
    # gcd: ad_user_data denied, the other three granted -> advertising refused, analytics granted
    gcd = signals([("gcd", "13v3v3u3v5")])
    assert {(s.state, s.purpose) for s in gcd} == {(REFUSED, ADVERTISING), (GRANTED, ANALYTICS)}
    # A refusal of everything still covers every purpose; a grant of one purpose lifts it for that purpose only.
    both = signals([("gcs", "G100")])
    assert all(refusal_among(both, p) is not None for p in (None, ADVERTISING, ANALYTICS))
    mixed = signals([("gcs", "G100"), ("analytics_storage", "granted")])
    assert refusal_among(mixed, ADVERTISING) is not None
    # analytics_storage=granted is no flag of refusal: it states nothing, so G100 stands for analytics too
    assert refusal_among(mixed, ANALYTICS) is not None


@pytest.mark.parametrize(("identifier", "categories", "purpose"), [
    ("advertising_id", ("analytics",), ADVERTISING),  # the identifier's kind decides first
    ("app_instance_id", ("advertising",), ANALYTICS),
    ("imei", ("advertising", "attribution"), ADVERTISING),  # else the recipient's, when it names one purpose
    ("imei", ("analytics", "advertising"), None),
    (None, (), None),
])
def test_purpose_of_data(identifier: str | None, categories: tuple[str, ...], purpose: str | None) -> None:
    assert purpose_of(identifier, categories) == purpose


def test_ads_denied_analytics_granted_refuses_the_advertising_id_only() -> None:
    """A GA4 Measurement Protocol request written to Google's reference, with an advertising id added by the app
    and Consent Mode saying ads denied (gcs=G101): the advertising id was refused, the app instance id not."""
    body = json.dumps({"app_instance_id": "cbd7e6f1a2b34c5d8e9f0a1b2c3d4e5f", "client_id": "555.1700000000",
                       "events": [{"name": "purchase", "params": {"adid": "8be1b7a5-3024-4d33-aa56-f2ddda4d26b1"}}]})

    def observed(gcs: str) -> dict[str | None, str | None]:
        record = FlowRecord(id="mp", time=0.0, method="POST", scheme="https", host="www.google-analytics.com",
                            port=443, path=f"/mp/collect?measurement_id=G-ABC123XYZ&api_secret=s3cr3tKey&gcs={gcs}",
                            headers=(("Content-Type", "application/json"),), body=body.encode())
        found = FlowAnalyzer(None, Recipients(shared_catalog(None))).analyse(record).observations
        return {o.identifier: o.consent for o in found if o.data_type == "device_id"}

    ads_denied = observed("G101")
    assert ads_denied["advertising_id"] == REFUSED
    assert ads_denied["app_instance_id"] is None and ads_denied["vendor_visitor_id"] is None
    analytics_denied = observed("G110")
    assert analytics_denied["advertising_id"] is None
    assert analytics_denied["app_instance_id"] == REFUSED and analytics_denied["vendor_visitor_id"] == REFUSED
    assert set(observed("G100").values()) == {REFUSED}
    assert set(observed("G111").values()) == {None}


def test_observation_in_a_request_that_says_refused() -> None:
    body = (b"event=CUSTOM_APP_EVENTS&advertiser_id=8be1b7a5-3024-4d33-aa56-f2ddda4d26b1"
            b"&advertiser_tracking_enabled=0&application_tracking_enabled=0")
    record = FlowRecord(id="f", time=0.0, method="POST", scheme="https", host="graph.facebook.com", port=443,
                        path="/v17.0/123/activities", headers=(("Content-Type", "application/x-www-form-urlencoded"),),
                        body=body)
    observations = FlowAnalyzer(None, Recipients(shared_catalog(None))).analyse(record).observations
    ad = [o for o in observations if o.identifier == "advertising_id"]
    assert ad and all(o.consent == "refused" for o in ad)
    assert ad[0].consent_source == "advertiser_tracking_enabled (advertiser_tracking_enabled)"
    allowed = FlowRecord(id="g", time=0.0, method="POST", scheme="https", host="graph.facebook.com", port=443,
                         path="/v17.0/123/activities", headers=record.headers,
                         body=body.replace(b"enabled=0", b"enabled=1"))
    assert all(o.consent is None for o in FlowAnalyzer(None, Recipients(shared_catalog(None))).analyse(allowed).observations)


# -- GPP: headers are the spec's own examples; sections are written here to the section specs' bit layouts ------

def _b64url_bits(bits: str) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    bits += "0" * (-len(bits) % 6)
    return "".join(alphabet[int(bits[i:i + 6], 2)] for i in range(0, len(bits), 6))


def usnat_section(sale: int, sharing: int, targeted: int) -> str:
    """usnat v1 core: version 6 bits, six 2-bit notices, then the sale, sharing and targeted-ads opt-outs."""
    bits = f"{1:06b}" + "01" * 6 + f"{sale:02b}{sharing:02b}{targeted:02b}" + "00" * 20
    return _b64url_bits(bits)


@pytest.mark.parametrize(("header", "ids"), [("DBABMA", [2]), ("DBACNYA", [2, 6]), ("DBABjw", [5, 6]),
                                             ("CPXxRfAP", None), ("hello", None)])
def test_gpp_header_section_ids(header: str, ids: list[int] | None) -> None:
    assert gpp_section_ids(header) == ids


def test_gpp_sections_state_choices() -> None:
    # Fibonacci for 7 is 01011 (2 + 5, then the closing 1): the header of a GPP string with usnat alone
    header = _b64url_bits(f"{3:06b}{1:06b}{1:012b}0" + "01011")
    assert gpp_section_ids(header) == [7]
    assert gpp_states(f"{header}~{usnat_section(1, 2, 2)}") == [("us section 7", REFUSED)]
    assert gpp_states(f"{header}~{usnat_section(2, 2, 2)}") == [("us section 7", "granted")]
    assert gpp_states(f"{header}~{usnat_section(0, 0, 0)}") == []  # not applicable: no choice stated
    both = "DBACNYA~" + tc_string({1, 2}) + "~1YYN"
    assert gpp_states(both) == [("tcfeuv2", "granted"), ("uspv1", REFUSED)]
    assert gpp_states("DBACNYA~onlyone") is None  # the header lists two sections, one follows


def test_gpp_refusal_in_a_request() -> None:
    found = refusal([("gpp", "DBACNYA~" + tc_string({2}) + "~1YNN"), ("gpp_sid", "2")])
    assert found is not None and found.source == "gpp tcfeuv2"


@pytest.mark.parametrize(("value", "states"), [
    ("13r3r3r3r5l1", {t: "granted" for t in GCD_TYPES}),  # denied by default, updated to granted
    ("11p1p1p1p5", {t: REFUSED for t in GCD_TYPES}),  # denied by default, no update
    ("13q3q2l2l5", {"ad_storage": REFUSED, "analytics_storage": REFUSED}),
    ("13u3v3t3n5", {"ad_storage": REFUSED, "analytics_storage": "granted", "ad_user_data": "granted",
                    "ad_personalization": "granted"}),
    ("13l3l3l3l1", {}),  # nothing set
    ("G111", None), ("1234567890", None),
])
def test_consent_mode_gcd(value: str, states: dict[str, str] | None) -> None:
    assert consent_mode_gcd(value) == states


def test_gcd_and_tcf_purpose_flags_as_signals() -> None:
    assert refusal([("gcd", "11p1p1p1p5")]) is not None
    assert refusal([("gcd", "13u3v3t3n5")]) is None  # mixed: no plain refusal
    assert refusal([("IABTCF_PurposeConsents", "0111")]) is not None
    assert refusal([("IABTCF_PurposeConsents", "1111")]) is None


def test_signals_inside_a_gzip_body_are_read() -> None:
    import gzip
    import json

    doc = {"events": [{"name": "open"}], "device": {"advertising_id": "8be1b7a5-3024-4d33-aa56-f2ddda4d26b1"},
           "gdpr_consent": tc_string({2, 3})}
    record = FlowRecord(id="z", time=0.0, method="POST", scheme="https", host="collector.example-ads.com", port=443,
                        path="/v1/events", headers=(("Content-Type", "application/json"), ("Content-Encoding", "gzip")),
                        body=gzip.compress(json.dumps(doc).encode()))
    observations = FlowAnalyzer(None, Recipients(shared_catalog(None))).analyse(record).observations
    ad = [o for o in observations if o.identifier == "advertising_id"]
    assert ad and all(o.consent == REFUSED and o.consent_source.startswith("tcf") for o in ad)
