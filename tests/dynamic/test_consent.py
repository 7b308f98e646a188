"""Consent signals inside requests: TCF v2, US Privacy, Google Consent Mode, SDK opt-out flags."""

from __future__ import annotations

import base64

import pytest

from scanner.dynamic.analysis import FlowAnalyzer
from scanner.dynamic.consent import REFUSED, consent_mode_gcs, refusal, tcf_purpose_consents
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
