"""Consent signals a request carries about itself: IAB TCF v2, GPP, US Privacy, Google Consent Mode, SDK opt-out flags.

A request that says "the user refused" (no TCF purpose consent, US Privacy opt-out of sale, Consent Mode with ad
and analytics storage denied, `npa=1`, Facebook's `advertiser_tracking_enabled=0` …) and still carries personal
data is evidence in its own right, whatever the capture's consent marks say. Only the request's own key/value
pairs are read (query, form and JSON body), as analysis peels them anyway: a pair whose key names no signal costs
one set look-up.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

REFUSED = "refused"
GRANTED = "granted"

# Keys whose values are consent signals, lower-cased; values decide refused / granted.
_TCF_KEYS = frozenset({"gdpr_consent", "tcstring", "tc_string", "iabtcf_tcstring", "consent_string", "euconsent-v2",
                       "gdpr_consent_string", "tcf_consent_string", "consentstring"})
_USP_KEYS = frozenset({"us_privacy", "iabusprivacy_string", "usprivacy", "ccpa"})
# IAB Global Privacy Platform strings: the `gpp` URL parameter of the spec, the Android/iOS preference key.
_GPP_KEYS = frozenset({"gpp", "gpp_string", "gppstring", "iabgpp_hdr_gppstring", "gpp_consent"})
# TCF's per-purpose flags as the CMP stores them for SDKs ("IABTCF_PurposeConsents": "0110…", purpose 1 first).
_TCF_PURPOSE_KEYS = frozenset({"iabtcf_purposeconsents"})
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
    # Consent Mode types as parameters (v2 sends ad_user_data and ad_personalization so; SDK bodies all four)
    "ad_storage": {"denied"}, "ad_user_data": {"denied"}, "ad_personalization": {"denied"},
    "analytics_storage": {"denied"},
}

# What a refusal covers when it is not everything: Play's purpose ids (scanner.model.PURPOSES).
ADVERTISING = "advertising"
ANALYTICS = "analytics"
# Google's consent types by what its definitions say each governs (GA4 "Consent type", Firebase
# FirebaseAnalytics.ConsentType; docs/dynamic.md gives the addresses): ad_storage "storage (such as device
# identifiers) related to advertising", ad_user_data "sending user data to Google for advertising purposes",
# ad_personalization "personalized advertising", analytics_storage "storage (such as app identifiers) related to
# analytics".
CONSENT_MODE_PURPOSES = {"ad_storage": ADVERTISING, "ad_user_data": ADVERTISING, "ad_personalization": ADVERTISING,
                         "analytics_storage": ANALYTICS}


@dataclass(frozen=True, slots=True)
class ConsentSignal:
    state: str  # refused | granted
    source: str  # e.g. "tcf", "us_privacy", "consent_mode", "npa", "advertiser_tracking_enabled"
    key: str
    purpose: str | None = None  # what the choice is about (ADVERTISING, ANALYTICS); None: all personal data


def tcf_purpose_consents(tc_string: str) -> tuple[int, ...] | None:
    """The purposes (1-24) a TCF v2 TC string's core segment consents to; None if it is not a v2 string.

    Core segment bit layout (IAB TCF v2.2 "TC String" spec): Version 6 bits, Created 36, LastUpdated 36, CmpId 12,
    CmpVersion 12, ConsentScreen 6, ConsentLanguage 12, VendorListVersion 12, TcfPolicyVersion 6,
    IsServiceSpecific 1, UseNonStandardTexts 1, SpecialFeatureOptIns 12, PurposesConsent 24."""
    core = tc_string.strip().split(".", 1)[0]
    bits = _bits(core) if len(core) >= 20 else None
    if bits is None or len(bits) < 152 + 24 or int(bits[:6], 2) != 2:
        return None
    start = 6 + 36 + 36 + 12 + 12 + 6 + 12 + 12 + 6 + 1 + 1 + 12
    purposes = bits[start:start + 24]
    return tuple(i + 1 for i, bit in enumerate(purposes) if bit == "1")


GCD_TYPES = ("ad_storage", "analytics_storage", "ad_user_data", "ad_personalization")


def consent_mode_gcs_states(value: str) -> dict[str, str] | None:
    """Google Consent Mode `gcs`: G1 then ad_storage and analytics_storage, 1 granted, 0 denied, - not set."""
    v = value.strip()
    if len(v) == 4 and v.startswith("G1") and set(v[2:]) <= {"0", "1", "-"}:
        return {name: GRANTED if c == "1" else REFUSED for name, c in zip(GCD_TYPES[:2], v[2:], strict=True)
                if c != "-"}
    return None


def consent_mode_gcs(value: str) -> str | None:
    """The state `gcs` gives both of its types (G100: both denied), None when they differ or it is no gcs."""
    states = consent_mode_gcs_states(value)
    return _all_same(states.values()) if states else None


# Consent Mode v2 `gcd`: "1", then a separator digit and a letter for each of ad_storage, analytics_storage,
# ad_user_data and ad_personalization ("13r3r3r3r5l1", "11p1p1p1p5"). A letter is a digit of the base64url alphabet
# below; bits 2-3 of its value are the default state and bits 0-1 the update: 1 not set, 2 denied, 3 granted.
_GCD_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_"


def consent_mode_gcd(value: str) -> dict[str, str] | None:
    """The state in force of each consent type a `gcd` value sets (the update if there is one, else the default)."""
    v = value.strip()
    if len(v) < 9 or v[0] != "1" or not all(v[i].isdigit() for i in (1, 3, 5, 7)):
        return None
    states: dict[str, str] = {}
    for name, letter in zip(GCD_TYPES, (v[2], v[4], v[6], v[8]), strict=True):
        code = _GCD_DIGITS.find(letter)
        if code < 16:
            return None  # every state letter has the marker bit (value 16 and up): this is not a gcd
        default, update = (code >> 2) & 3, code & 3
        now = update if update in (2, 3) else default
        if now == 2:
            states[name] = REFUSED
        elif now == 3:
            states[name] = GRANTED
    return states


def _all_same(states: Iterable[str]) -> str | None:
    found = set(states)
    return found.pop() if len(found) == 1 else None


def consent_mode_signals(states: dict[str, str], key: str) -> list[ConsentSignal]:
    """One signal when every type stated says the same, else one per purpose (ads denied, analytics granted: the
    advertising identifiers of the request were refused, its analytics ones not)."""
    state = _all_same(states.values())
    if state is not None:
        return [ConsentSignal(state, "consent_mode", key)]
    found = []
    for purpose in (ADVERTISING, ANALYTICS):
        said = [s for name, s in states.items() if CONSENT_MODE_PURPOSES[name] == purpose]
        if said:
            found.append(ConsentSignal(REFUSED if REFUSED in said else GRANTED, "consent_mode", key, purpose))
    return found


# ---------------------------------------------------------------------------------------------
# GPP (IAB Tech Lab Global Privacy Platform, "Consent String Specification" v1)
# ---------------------------------------------------------------------------------------------

_B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
# Where each US section's sale / sharing / targeted-advertising opt-outs sit (2-bit fields after the 6-bit version
# and the notices; 1 opted out, 2 did not opt out). usnat 7, usca 8, usva 9, usco 10, usut 11, usct 12.
_US_OPT_OUTS = {7: (18, 20, 22), 8: (12, 14), 9: (12, 14), 10: (12, 14), 11: (14, 16), 12: (12, 14)}


def _bits(segment: str) -> str | None:
    try:
        return "".join(f"{_B64URL.index(c):06b}" for c in segment)
    except ValueError:
        return None


def _fibonacci(bits: str, at: int) -> tuple[int, int]:
    """A Fibonacci-coded integer at `at` (ends with "11"): its value and where the next field starts."""
    fib = [1, 2]
    value, i = 0, at
    while i < len(bits):
        if bits[i] == "1" and i > at and bits[i - 1] == "1":
            return value, i + 1
        while len(fib) <= i - at:
            fib.append(fib[-1] + fib[-2])
        if bits[i] == "1":
            value += fib[i - at]
        i += 1
    raise ValueError("unterminated Fibonacci integer")


def gpp_section_ids(header: str) -> list[int] | None:
    """The section ids a GPP header lists (Type 3, Version, then a Fibonacci range), None if it is none."""
    bits = _bits(header)
    if bits is None or len(bits) < 24 or int(bits[:6], 2) != 3:
        return None
    count, at, last = int(bits[12:24], 2), 24, 0
    ids: list[int] = []
    try:
        for _ in range(count):
            group = bits[at] == "1"
            offset, at = _fibonacci(bits, at + 1)
            start = last + offset
            if group:
                length, at = _fibonacci(bits, at)
                ids.extend(range(start, start + length + 1))
                last = start + length
            else:
                ids.append(start)
                last = start
    except (IndexError, ValueError):
        return None
    return ids


def gpp_states(value: str) -> list[tuple[str, str]] | None:
    """(section, refused | granted) for each section of a GPP string that states a choice; None if no GPP."""
    parts = value.strip().split("~")
    ids = gpp_section_ids(parts[0]) if len(parts) > 1 else None
    if ids is None or len(ids) != len(parts) - 1:
        return None
    found: list[tuple[str, str]] = []
    for section, text in zip(ids, parts[1:], strict=True):
        if section == 2:
            purposes = tcf_purpose_consents(text)
            if purposes is not None:
                found.append(("tcfeuv2", GRANTED if 1 in purposes else REFUSED))
        elif section == 6:
            state = _us_privacy(text.lower())
            if state is not None:
                found.append(("uspv1", state))
        elif section in _US_OPT_OUTS:
            bits = _bits(text.split(".", 1)[0])
            if bits is None:
                continue
            fields = [bits[i:i + 2] for i in _US_OPT_OUTS[section] if i + 2 <= len(bits)]
            if "01" in fields:
                found.append((f"us section {section}", REFUSED))
            elif fields and all(f == "10" for f in fields):
                found.append((f"us section {section}", GRANTED))
    return found


def _us_privacy(v: str) -> str | None:
    if len(v) == 4 and v[0] == "1":
        if v[2] == "y":  # the user opted out of the sale of personal information
            return REFUSED
        if v[2] == "n":
            return GRANTED
    return None


def signals(pairs: Iterable[tuple[str, str]]) -> list[ConsentSignal]:
    """The consent signals among a request's key/value pairs."""
    found: list[ConsentSignal] = []
    memo = _SIGNAL_KEY_OF
    for key, value in pairs:
        k = memo.get(key)
        if k is None:
            if len(memo) >= 65536:
                memo.clear()
            last = key.lower().rsplit(".", 1)[-1]
            k = memo[key] = last if last in _SIGNAL_KEYS else ""
        if not k:
            continue  # most keys of most requests: one dictionary look-up
        v = value.strip().lower()
        if k in _TCF_KEYS and value.strip():
            purposes = tcf_purpose_consents(value)
            if purposes is not None:
                # Purpose 1 (store and access information on a device) is what every identifier needs.
                found.append(ConsentSignal(GRANTED if 1 in purposes else REFUSED, "tcf", key))
        elif k in _USP_KEYS:
            state = _us_privacy(v)
            if state is not None:
                found.append(ConsentSignal(state, "us_privacy", key))
        elif k in _GPP_KEYS:
            # One signal per kind of section: a refusal in any section in force is a refusal.
            for section, state in gpp_states(value) or ():
                found.append(ConsentSignal(state, f"gpp {section}", key))
        elif k in _TCF_PURPOSE_KEYS and v[:1] in ("0", "1") and set(v) <= {"0", "1"}:
            found.append(ConsentSignal(GRANTED if v[0] == "1" else REFUSED, "tcf", key))
        elif k == "gcs" or k == "gcd":
            stated = consent_mode_gcs_states(value) if k == "gcs" else consent_mode_gcd(value)
            if stated:
                found.extend(consent_mode_signals(stated, key))
        elif v in _FLAG_REFUSED.get(k, ()):
            found.append(ConsentSignal(REFUSED, k, key, CONSENT_MODE_PURPOSES.get(k)))
    return found


# key as sent -> the signal key it is ("" for none): apps send the same few hundred keys again and again
_SIGNAL_KEY_OF: dict[str, str] = {}
_SIGNAL_KEYS = _TCF_KEYS | _USP_KEYS | _GPP_KEYS | _TCF_PURPOSE_KEYS | {"gcs", "gcd"} | frozenset(_FLAG_REFUSED)


def layer_signals(layers: Iterable[Any]) -> tuple[ConsentSignal, ...]:
    """The signals among the pairs of decoded layers (scanner.dynamic.decode.Layer); most layers state none."""
    found: list[ConsentSignal] = []
    memo = _SIGNAL_KEY_OF
    for layer in layers:
        if layer.pairs and not layer.echo:  # an echo's pairs are its form's
            # signals() only for a layer with a signal's key (or a key not met yet): most have none.
            for key, _ in layer.pairs:
                if memo.get(key) != "":
                    found.extend(signals(layer.pairs))
                    break
    return tuple(found)


def refusal(pairs: Iterable[tuple[str, str]]) -> ConsentSignal | None:
    """The first refusal the request states, unless it also states a grant of the same kind (a later choice)."""
    return refusal_among(signals(pairs))


def refusal_among(found: Sequence[ConsentSignal], purpose: str | None = None) -> ConsentSignal | None:
    """refusal() over signals already read from the parts of one request, for data of `purpose` (None: data whose
    purpose is not known, which only a refusal of everything covers).

    A grant of the same kind cancels a refusal it covers: an unscoped grant any refusal of its kind, a grant for
    one purpose the refusals that data of that purpose falls under."""
    granted = {(s.source, s.purpose) for s in found if s.state == GRANTED}
    for s in found:
        if s.state != REFUSED or (s.purpose is not None and s.purpose != purpose):
            continue
        if (s.source, None) in granted or (s.source, purpose) in granted:
            continue
        if purpose is None and any(source == s.source for source, _ in granted):
            continue  # data of no known purpose: any later choice of the same kind stands
        return s
    return None


# Identifier kinds by the consent purpose that governs them, in Consent Mode's words for apps: advertising covers
# "device identifiers" used for ads, analytics "app identifiers" (an app's or SDK's own per-install id).
_PURPOSE_OF_IDENTIFIER = {
    **dict.fromkeys(("advertising_id", "idfa", "oaid"), ADVERTISING),
    **dict.fromkeys(("app_instance_id", "firebase_installation_id", "install_id", "vendor_visitor_id", "idfv",
                     "app_set_id", "vaid"), ANALYTICS),
}
_PURPOSE_OF_CATEGORY = {"advertising": ADVERTISING, "attribution": ADVERTISING, "analytics": ANALYTICS,
                        "statistics": ANALYTICS}


def purpose_of(identifier: str | None, categories: Iterable[str]) -> str | None:
    """The consent purpose a piece of data falls under: its identifier kind's, else the recipient SDK's when its
    categories name one purpose only; None when neither tells."""
    found = _PURPOSE_OF_IDENTIFIER.get(identifier) if identifier else None
    if found is not None:
        return found
    named = {_PURPOSE_OF_CATEGORY[c] for c in categories if c in _PURPOSE_OF_CATEGORY}
    return named.pop() if len(named) == 1 else None
