"""Consent signals a request carries about itself: IAB TCF v2, US Privacy, Google Consent Mode, SDK opt-out flags.

A request that says "the user refused" (no TCF purpose consent, US Privacy opt-out of sale, Consent Mode with ad
and analytics storage denied, `npa=1`, Facebook's `advertiser_tracking_enabled=0` …) and still carries personal
data is evidence in its own right, whatever the capture's consent marks say. Only the request's own key/value
pairs are read (query, form and JSON body), as analysis peels them anyway: a pair whose key names no signal costs
one set look-up.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

REFUSED = "refused"
GRANTED = "granted"

# Keys whose values are consent signals, lower-cased; values decide refused / granted.
_TCF_KEYS = frozenset({"gdpr_consent", "tcstring", "tc_string", "iabtcf_tcstring", "consent_string", "euconsent-v2",
                       "gdpr_consent_string", "tcf_consent_string", "consentstring"})
_USP_KEYS = frozenset({"us_privacy", "iabusprivacy_string", "usprivacy", "ccpa"})
_FLAG_REFUSED = {
    # key: values that mean "the user refused / limited tracking"
    "npa": {"1", "true"},  # Google: non-personalised ads requested
    "advertiser_tracking_enabled": {"0", "false"},  # Facebook app events: ATT / tracking off
    "application_tracking_enabled": {"0", "false"},
    "limit_ad_tracking": {"1", "true"},
    "is_lat": {"1", "true"},  # Google Mobile Ads: limit ad tracking
    "dnt": {"1", "true", "yes"},
    "consent": {"0", "false", "denied", "no"},
    "gdpr_consent_given": {"0", "false"},
    "adid_collection": {"false", "0"},  # Firebase
    "ad_user_data": {"denied"}, "ad_personalization": {"denied"},  # Consent Mode v2 as parameters
}
@dataclass(frozen=True, slots=True)
class ConsentSignal:
    state: str  # refused | granted
    source: str  # e.g. "tcf", "us_privacy", "consent_mode", "npa", "advertiser_tracking_enabled"
    key: str


def tcf_purpose_consents(tc_string: str) -> tuple[int, ...] | None:
    """The purposes (1-24) a TCF v2 TC string's core segment consents to; None if it is not a v2 string.

    Core segment bit layout (IAB TCF v2.2 "TC String" spec): Version 6 bits, Created 36, LastUpdated 36, CmpId 12,
    CmpVersion 12, ConsentScreen 6, ConsentLanguage 12, VendorListVersion 12, TcfPolicyVersion 6,
    IsServiceSpecific 1, UseNonStandardTexts 1, SpecialFeatureOptIns 12, PurposesConsent 24."""
    core = tc_string.strip().split(".", 1)[0]
    if len(core) < 20:
        return None
    try:
        raw = base64.urlsafe_b64decode(core + "=" * (-len(core) % 4))
    except (binascii.Error, ValueError):
        return None
    bits = "".join(f"{b:08b}" for b in raw)
    if len(bits) < 152 + 24 or int(bits[:6], 2) != 2:
        return None
    start = 6 + 36 + 36 + 12 + 12 + 6 + 12 + 12 + 6 + 1 + 1 + 12
    purposes = bits[start:start + 24]
    return tuple(i + 1 for i, bit in enumerate(purposes) if bit == "1")


def consent_mode_gcs(value: str) -> str | None:
    """Google Consent Mode `gcs`: G1 then ad_storage and analytics_storage, 1 granted, 0 denied (G100: both denied)."""
    v = value.strip()
    if len(v) == 4 and v.startswith("G1") and set(v[2:]) <= {"0", "1", "-"}:
        states = [c for c in v[2:] if c != "-"]
        if states and all(c == "0" for c in states):
            return REFUSED
        if states and all(c == "1" for c in states):
            return GRANTED
    return None


def signals(pairs: Iterable[tuple[str, str]]) -> list[ConsentSignal]:
    """The consent signals among a request's key/value pairs."""
    found: list[ConsentSignal] = []
    for key, value in pairs:
        k = key.lower().rsplit(".", 1)[-1]
        if k not in _SIGNAL_KEYS:
            continue  # most keys of most requests: one set look-up
        v = value.strip().lower()
        if k in _TCF_KEYS and value.strip():
            purposes = tcf_purpose_consents(value)
            if purposes is not None:
                # Purpose 1 (store and access information on a device) is what every identifier needs.
                found.append(ConsentSignal(GRANTED if 1 in purposes else REFUSED, "tcf", key))
        elif k in _USP_KEYS and len(v) == 4 and v[0] == "1":
            if v[2] == "y":  # the user opted out of the sale of personal information
                found.append(ConsentSignal(REFUSED, "us_privacy", key))
            elif v[2] == "n":
                found.append(ConsentSignal(GRANTED, "us_privacy", key))
        elif k == "gcs":
            state = consent_mode_gcs(value)
            if state is not None:
                found.append(ConsentSignal(state, "consent_mode", key))
        elif v in _FLAG_REFUSED.get(k, ()):
            found.append(ConsentSignal(REFUSED, k, key))
    return found


_SIGNAL_KEYS = _TCF_KEYS | _USP_KEYS | {"gcs"} | frozenset(_FLAG_REFUSED)


def refusal(pairs: Iterable[tuple[str, str]]) -> ConsentSignal | None:
    """The first refusal the request states, unless it also states a grant of the same kind (a later choice)."""
    return refusal_among(signals(pairs))


def refusal_among(found: Sequence[ConsentSignal]) -> ConsentSignal | None:
    """refusal() over signals already read from the parts of one request."""
    granted = {s.source for s in found if s.state == GRANTED}
    return next((s for s in found if s.state == REFUSED and s.source not in granted), None)
