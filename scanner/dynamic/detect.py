"""Finding personal data in decoded text: known device values (one Aho-Corasick automaton) and shapes.

Known values are matched with all their derived forms (hashes, separators, country codes) lower-cased in
one automaton, so every layer is scanned once; a match must stand alone (no digit/hex/word character
glued to either side) so that look-alike longer numbers do not count.  Shape detectors run only for
kinds the profile has no value of: when the profile knows the IMEI, another IMEI-shaped number is not it.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

import ahocorasick

from scanner.dynamic.decode import Layer
from scanner.dynamic.device import Contact, DeviceProfile, custom_data_type

CONFIRMED = "confirmed"
LIKELY = "likely"

# Play's line between precise and approximate location: an area smaller than 3 km² is precise.
PRECISE_AREA_KM2 = 3.0
_KM_PER_DEGREE = 111.32


@dataclass(frozen=True, slots=True)
class Hit:
    data_type: str
    identifier: str | None
    value_label: str | None  # which profile value (e.g. "imei", "contacts[2].phone"), never the value
    confidence: str
    key: str | None
    encodings: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Meta:
    data_type: str
    identifier: str | None
    label: str
    variant: str  # "" for the value as is, else e.g. "md5", "sha256-base64", "no-separators"
    guard: frozenset[str]  # characters that must not touch the match on either side


_DIGITS = frozenset("0123456789")
_HEX = frozenset("0123456789abcdef")
_WORD = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")
_B64 = frozenset("abcdefghijklmnopqrstuvwxyz0123456789+/_-")
_EMAIL = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_.+-")
_MIN_PATTERN = 6  # shorter values match by accident too often

# ITU E.164 country codes with one or two digits; every other code has three (codes are prefix-free).
_CC1 = {"1", "7"}
_CC2 = {"20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46", "47", "48",
        "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63", "64", "65", "66", "81",
        "82", "84", "86", "90", "91", "92", "93", "94", "95", "98"}


def _guard(text: str) -> frozenset[str]:
    low = text.lower()
    if low.isdigit():
        return _DIGITS
    if all(c in _HEX for c in low):
        return _HEX
    if "@" in low:
        return _EMAIL
    if all(c in _B64 or c == "=" for c in low):
        return _B64 if any(c in "+/" for c in low) else _WORD
    return _WORD


def _digests(value: str) -> Iterable[tuple[str, str]]:
    raw = value.encode("utf-8")
    for algo in ("md5", "sha1", "sha256"):
        digest = hashlib.new(algo, raw).digest()
        yield algo, digest.hex()
        yield f"{algo}-base64", base64.b64encode(digest).decode().rstrip("=")
        yield f"{algo}-base64url", base64.urlsafe_b64encode(digest).decode().rstrip("=")


def phone_forms(number: str) -> list[tuple[str, str]]:
    """A phone number as apps send it: E.164 with and without +, 00 prefix, national with and without trunk 0."""
    digits = re.sub(r"\D", "", number)
    international = number.strip().startswith("+") or number.strip().startswith("00")
    if number.strip().startswith("00"):
        digits = digits[2:]
    forms = [("", digits)]
    if international:
        cc = next((digits[:n] for n, codes in ((1, _CC1), (2, _CC2)) if digits[:n] in codes), digits[:3])
        national = digits[len(cc):]
        forms += [("e164", "+" + digits), ("00-prefix", "00" + digits), ("national", national),
                  ("national-trunk-0", "0" + national)]
    return [(v, f) for v, f in forms if len(f) >= _MIN_PATTERN]


def mac_forms(mac: str) -> list[tuple[str, str]]:
    octets = re.findall(r"[0-9a-fA-F]{2}", mac)
    return [("", ":".join(octets)), ("dashes", "-".join(octets)), ("no-separators", "".join(octets))]


def uuid_forms(value: str) -> list[tuple[str, str]]:
    forms = [("", value)]
    bare = value.replace("-", "")
    if bare != value:
        forms.append(("no-dashes", bare))
    elif len(bare) == 32:
        forms.append(("dashes", f"{bare[:8]}-{bare[8:12]}-{bare[12:16]}-{bare[16:20]}-{bare[20:]}"))
    return forms


class ValueMatcher:
    """All variants of all profile values in one automaton; `scan(layer)` gives the hits of one layer."""

    def __init__(self, profile: DeviceProfile) -> None:
        self.profile = profile
        self._automaton = ahocorasick.Automaton()
        self._patterns: dict[str, list[_Meta]] = {}
        self.installed_apps_needed = min(2, len(profile.installed_apps))
        self._build(profile)
        if self._patterns:
            self._automaton.make_automaton()

    @property
    def pattern_count(self) -> int:
        return len(self._patterns)

    def _add(self, text: str, data_type: str, identifier: str | None, label: str, variant: str,
             hashes: bool = True) -> None:
        forms = [(variant, text)]
        if hashes:
            # Hashes are taken of the value as the SDK would hold it: as is, lower- and upper-case.
            for cased in dict.fromkeys((text, text.lower(), text.upper())):
                forms += [(f"{variant}+{name}" if variant else name, digest) for name, digest in _digests(cased)]
        for form_variant, form in forms:
            key = form.lower()
            if len(key) < _MIN_PATTERN:
                continue
            meta = _Meta(data_type, identifier, label, form_variant, _guard(key))
            bucket = self._patterns.setdefault(key, [])
            if meta not in bucket:
                bucket.append(meta)
                if len(bucket) == 1:
                    self._automaton.add_word(key, key)

    def _build(self, profile: DeviceProfile) -> None:
        for kind, value in profile.identifiers.items():
            if kind in ("mac_address", "bluetooth_address"):
                forms = mac_forms(value)
            elif kind in ("advertising_id", "oaid", "android_id"):
                forms = uuid_forms(value)
            else:
                forms = [("", value)]
            for variant, form in forms:
                self._add(form, "device_id", kind, kind, variant)
        if profile.phone_number:
            for variant, form in phone_forms(profile.phone_number):
                self._add(form, "phone", "phone_number", "phone_number", variant)
        if profile.email:
            self._add(profile.email.strip().lower(), "email", None, "email", "")
        if profile.name:
            self._add(profile.name.strip(), "name", None, "name", "", hashes=False)
        for i, contact in enumerate(profile.contacts):
            self._add_contact(i, contact)
        for i, package in enumerate(profile.installed_apps):
            self._add(package, "apps_on_device", None, f"installed_apps[{i}]", "", hashes=False)
        for label, value in profile.custom.items():
            self._add(value, custom_data_type(label), None, f"custom.{label}", "")

    def _add_contact(self, i: int, contact: Contact) -> None:
        if contact.name:
            self._add(contact.name, "contacts", None, f"contacts[{i}].name", "", hashes=False)
        if contact.phone:
            for variant, form in phone_forms(contact.phone):
                self._add(form, "contacts", None, f"contacts[{i}].phone", variant)
        if contact.email:
            self._add(contact.email.lower(), "contacts", None, f"contacts[{i}].email", "")

    def scan(self, layer: Layer, lowered: str | None = None) -> list[Hit]:
        if not self._patterns:
            return []
        text = lowered if lowered is not None else layer.text.lower()
        hits: list[Hit] = []
        size = len(text)
        for end, key in self._automaton.iter(text):
            start = end - len(key) + 1
            for meta in self._patterns[key]:
                if (start > 0 and text[start - 1] in meta.guard) or (end + 1 < size and text[end + 1] in meta.guard):
                    continue
                encodings = layer.encodings + ((meta.variant,) if meta.variant else ())
                hits.append(Hit(meta.data_type, meta.identifier, meta.label, CONFIRMED,
                                key_for(layer, key), encodings))
        return hits


def key_for(layer: Layer, needle_lower: str) -> str | None:
    """The key whose value holds the match (looked up only after a hit, so the scan stays one pass)."""
    for k, v in layer.pairs:
        if needle_lower in v.lower():
            return k
    return layer.key


# ---------------------------------------------------------------------------------------------
# Location
# ---------------------------------------------------------------------------------------------

_DECIMAL = re.compile(r"(?<![\w.])-?\d{1,3}\.(\d+)(?![\w.])")
_MICRO_DEGREES = re.compile(r"(?<![\w.])-?\d{7,9}(?![\w.])")


def location_precision(decimals: int, lat: float) -> str:
    """precise_location when printed coordinates pin an area under 3 km², else approx_location."""
    cell = 10.0 ** -decimals
    area = (_KM_PER_DEGREE * cell) * (_KM_PER_DEGREE * cell * max(math.cos(math.radians(lat)), 0.01))
    return "precise_location" if area < PRECISE_AREA_KM2 else "approx_location"


def _close(printed: float, decimals: int, true: float) -> bool:
    # The printed value is the true one rounded or truncated to `decimals` places.
    return abs(printed - true) <= 10.0 ** -decimals + 1e-9


def match_location(text: str, lat: float, lon: float) -> tuple[str, int] | None:
    """(data type, decimals) when this text carries the device's coordinates, else None.

    Both coordinates must be in the same layer; micro-degree integers (lat * 1e6, as several Chinese
    ad SDKs send them) count as 6 decimals.
    """
    # Cheap gate: both integer parts must appear somewhere, else no regex work at all.
    if str(int(abs(lat))) not in text or str(int(abs(lon))) not in text:
        return None
    best_lat = best_lon = 0
    for m in _DECIMAL.finditer(text):
        decimals = len(m.group(1))
        value = float(m.group(0))
        if _close(value, decimals, lat):
            best_lat = max(best_lat, decimals)
        if _close(value, decimals, lon):
            best_lon = max(best_lon, decimals)
    if (not best_lat or not best_lon) and _MICRO_DEGREES.search(text):
        for m in _MICRO_DEGREES.finditer(text):
            value = int(m.group(0)) / 1e6
            if _close(value, 6, lat):
                best_lat = 6
            if _close(value, 6, lon):
                best_lon = 6
    if best_lat and best_lon:
        decimals = min(best_lat, best_lon)
        return location_precision(decimals, lat), decimals
    return None


# ---------------------------------------------------------------------------------------------
# Shapes
# ---------------------------------------------------------------------------------------------

_EMAIL_RE = re.compile(r"(?<![\w.+-])[a-z0-9._%+-]{1,64}@[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63})*\.[a-z]{2,24}(?![\w-])")
_IMEI_RE = re.compile(r"(?<!\d)\d{15}(?!\d)")
_MAC_RE = re.compile(r"(?<![0-9a-f:-])[0-9a-f]{2}([:-])[0-9a-f]{2}(?:\1[0-9a-f]{2}){4}(?![0-9a-f:-])")
_UUID_RE = re.compile(r"^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$")
_AD_KEY = re.compile(r"(?:^|[^a-z])(gaid|adid|idfa|oaid|aaid|advertising_?id|advertiserid|ad_?id|googleadid|"
                     r"google_ad_id|gps_adid|android_advertising_id|ifa)(?:$|[^a-z])", re.I)
_IMEI_KEY = re.compile(r"imei|deviceid|device_id|\bdid\b|\bdi\b", re.I)
_MAC_KEY = re.compile(r"mac", re.I)
_LAT_KEY = re.compile(r"^(?:.*[_.-])?(lat|latitude)$", re.I)
_LON_KEY = re.compile(r"^(?:.*[_.-])?(lon|lng|long|longitude)$", re.I)
_PAIR_KEY = re.compile(r"^(ll|latlng|latlon|lat_lng|location|loc|gps|coord|coords|coordinates|geo)$", re.I)
_PAIR_VALUE = re.compile(r"^\s*(-?\d{1,2}\.\d+)\s*[,;| ]\s*(-?\d{1,3}\.\d+)\s*$")
_RBI = {"01", "10", "30", "33", "35", "44", "45", "49", "50", "51", "52", "53", "54", "86", "91", "98", "99"}
_FAKE_MACS = {"00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff", "02:00:00:00:00:00"}
_ZERO_UUID = "00000000-0000-0000-0000-000000000000"


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def shape_hits(layer: Layer, lowered: str, profile: DeviceProfile) -> list[Hit]:
    """Likely personal data by form alone, for kinds the profile has no value of."""
    hits: list[Hit] = []
    enc = layer.encodings
    if not profile.email and "@" in lowered:
        for m in _EMAIL_RE.finditer(lowered):
            hits.append(Hit("email", None, None, LIKELY, key_for(layer, m.group(0)), enc))
    if "imei" not in profile.identifiers:
        for m in _IMEI_RE.finditer(lowered):
            digits = m.group(0)
            if not luhn_ok(digits):
                continue
            key = key_for(layer, digits)
            if digits[:2] in _RBI or (key and _IMEI_KEY.search(key)):
                hits.append(Hit("device_id", "imei", None, LIKELY, key, enc))
    if "mac_address" not in profile.identifiers:
        for m in _MAC_RE.finditer(lowered):
            mac = m.group(0).replace("-", ":")
            if mac not in _FAKE_MACS:
                hits.append(Hit("device_id", "mac_address", None, LIKELY, key_for(layer, m.group(0)), enc))
    lat: tuple[float, int] | None = None
    lon: tuple[float, int] | None = None
    for key, value in layer.pairs:
        v = value.strip().lower()
        if ("advertising_id" not in profile.identifiers and "oaid" not in profile.identifiers
                and _UUID_RE.match(v) and v.replace("-", "") != _ZERO_UUID.replace("-", "") and _AD_KEY.search(key)):
            kind = "oaid" if "oaid" in key.lower() else "advertising_id"
            hits.append(Hit("device_id", kind, None, LIKELY, key, enc))
        elif ("mac_address" not in profile.identifiers and _MAC_KEY.search(key)
              and re.fullmatch(r"[0-9a-f]{12}", v) and v != "000000000000" and v != "020000000000"):
            hits.append(Hit("device_id", "mac_address", None, LIKELY, key, enc))
        if profile.location is None:
            if _LAT_KEY.match(key):
                lat = _coordinate(v, 90) or lat
            elif _LON_KEY.match(key):
                lon = _coordinate(v, 180) or lon
            elif _PAIR_KEY.match(key):
                pair = _PAIR_VALUE.match(v)
                if pair:
                    a, b = _coordinate(pair.group(1), 90), _coordinate(pair.group(2), 180)
                    if a and b:
                        hits.append(_location_hit(a, b, key, enc))
    if lat and lon:
        hits.append(_location_hit(lat, lon, None, enc))
    return hits


def _coordinate(text: str, limit: float) -> tuple[float, int] | None:
    m = re.fullmatch(r"-?\d{1,3}\.(\d+)", text.strip())
    if not m:
        return None
    value = float(text)
    if abs(value) > limit or value == 0:
        return None
    return value, len(m.group(1))


def _location_hit(lat: tuple[float, int], lon: tuple[float, int], key: str | None, enc: tuple[str, ...]) -> Hit:
    decimals = min(lat[1], lon[1])
    return Hit(location_precision(decimals, lat[0]), None, None, LIKELY, key, enc)


def detect(layer: Layer, matcher: ValueMatcher) -> list[Hit]:
    """Known values, the device location, then shapes: everything one layer gives away."""
    lowered = layer.text.lower()
    hits = matcher.scan(layer, lowered)
    profile = matcher.profile
    if profile.location is not None:
        found = match_location(layer.text, *profile.location)
        if found:
            data_type, decimals = found
            hits.append(Hit(data_type, None, "location", CONFIRMED, _location_key(layer),
                            layer.encodings + (f"{decimals}-decimals",)))
    hits.extend(shape_hits(layer, lowered, profile))
    return hits


def _location_key(layer: Layer) -> str | None:
    for k, _ in layer.pairs:
        if _LAT_KEY.match(k) or _PAIR_KEY.match(k):
            return k
    return layer.key
