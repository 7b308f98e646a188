"""Finding personal data in decoded text: known device values (one Aho-Corasick automaton) and shapes.

Known values are matched with all their derived forms (hashes, separators, country codes) lower-cased in
one automaton, so every layer is scanned once; a match must stand alone (no digit/hex/word character
glued to either side) so that look-alike longer numbers do not count.  Shape detectors run only for
kinds the profile has no value of: when the profile knows the IMEI, another IMEI-shaped number is not it.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import ahocorasick

from scanner.dynamic.decode import Layer
from scanner.dynamic.device import Contact, DeviceProfile, custom_data_type
from scanner.entropy import entropy_bits

# How sure an observation is, strongest first. "confirmed" is a value of the device profile (the issue calls it
# `known`; the word stays "confirmed" so saved reports, rules and baselines keep their meaning); "protocol" is a
# field a tracker protocol (rules/protocols) documents as carrying that data; "likely" is a shape and a key name.
CONFIRMED = "confirmed"
PROTOCOL = "protocol"
LIKELY = "likely"
CONFIDENCE_RANK = {CONFIRMED: 2, PROTOCOL: 1, LIKELY: 0}

# Play's line between precise and approximate location: an area smaller than 3 km² is precise.
PRECISE_AREA_KM2 = 3.0
_KM_PER_DEGREE = 111.32


class Hit(NamedTuple):
    """One piece of personal data in one layer. A named tuple, not a frozen dataclass: analysis makes one for every
    value it recognises, and a tuple is built in one C call where a frozen dataclass sets each field in Python."""

    data_type: str
    identifier: str | None
    value_label: str | None  # which profile value (e.g. "imei", "contacts[2].phone"), never the value
    confidence: str
    key: str | None
    encodings: tuple[str, ...]
    value_ref: str | None = None  # which value (see Observation.value_ref), for linkage


# Hit((…)) without the named tuple's __new__, a Python function: 0.23 µs instead of 0.40 µs, for the hits built
# per value of every matched request. The tuple must hold all seven fields in order.
new_hit: Callable[[tuple[Any, ...]], Hit] = functools.partial(tuple.__new__, Hit)  # type: ignore[assignment]


def value_ref(value: str) -> str:
    """A value's fingerprint: the same identifier gives the same one whatever its case or surrounding blanks."""
    return hashlib.sha256(value.strip().lower().encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class _Meta:
    data_type: str
    identifier: str | None
    label: str
    variant: str  # "" for the value as is, else e.g. "md5", "sha256-base64", "no-separators"
    guard: frozenset[str]  # characters that must not touch the match on either side
    variants: tuple[str, ...]  # what a hit adds to the layer's encodings: (variant,) or ()


_DIGITS = frozenset("0123456789")
_HEX = frozenset("0123456789abcdef")
_WORD = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")
_B64 = frozenset("abcdefghijklmnopqrstuvwxyz0123456789+/_-")
_EMAIL = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_.+-")
_MIN_PATTERN = 6  # shorter values match by accident too often
_HIT_MEMO_SIZE = 4096

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
        self._hits: dict[tuple[int, str | None, tuple[str, ...]], Hit] = {}  # metas live as long as this
        self.key_kinds: dict[str, tuple[str, str] | None] = {}  # what identifier each key seen names (memo)
        self.installed_apps_needed = min(2, len(profile.installed_apps))
        self.location = LocationMatcher(*profile.location) if profile.location is not None else None
        ids = profile.identifiers
        # Shapes look only for kinds the profile has no value of; a full profile needs none of them.
        self.shapes_needed = not (profile.email and "imei" in ids and "mac_address" in ids
                                  and ("advertising_id" in ids or "oaid" in ids) and profile.location is not None)
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
            meta = _Meta(data_type, identifier, label, form_variant, _guard(key),
                         (form_variant,) if form_variant else ())
            bucket = self._patterns.setdefault(key, [])
            if meta not in bucket:
                bucket.append(meta)
                if len(bucket) == 1:
                    self._automaton.add_word(key, (key, len(key), bucket))  # the bucket still grows

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

    def scan(self, layer: Layer, lowered: str | None = None, keys: KeyLookup | None = None) -> list[Hit]:
        if not self._patterns:
            return []
        text = lowered if lowered is not None else layer.text.lower()
        hits: list[Hit] = []
        size = len(text)
        encodings = layer.encodings
        for end, (key, length, metas) in self._automaton.iter(text):
            start = end - length + 1
            before = text[start - 1] if start > 0 else ""
            after = text[end + 1] if end + 1 < size else ""
            for meta in metas:
                if before in meta.guard or after in meta.guard:  # "" (the edge of the text) is in no guard
                    continue
                if keys is None:
                    keys = KeyLookup(layer)
                # Hits are values, and the same ones come back flow after flow: share them.
                found_key = keys(key)
                memo_key = (id(meta), found_key, encodings)
                hit = self._hits.get(memo_key)
                if hit is None:
                    hit = Hit(meta.data_type, meta.identifier, meta.label, CONFIRMED, found_key,
                              encodings + meta.variants, f"profile:{meta.label}")
                    if len(self._hits) >= _HIT_MEMO_SIZE:
                        self._hits.clear()
                    self._hits[memo_key] = hit
                hits.append(hit)
        return hits


class KeyLookup:
    """The key whose value holds a match, looked up only after a hit so the scan stays one pass; pair values
    are lower-cased once per layer, however many hits ask."""

    __slots__ = ("_layer", "_lowered", "_found")

    def __init__(self, layer: Layer) -> None:
        self._layer = layer
        self._lowered: list[tuple[str, str]] | None = None
        self._found: dict[str, str | None] = {}

    def __call__(self, needle_lower: str) -> str | None:
        if needle_lower in self._found:
            return self._found[needle_lower]
        if self._lowered is None:
            self._lowered = [(k, v.lower()) for k, v in self._layer.pairs]
        key = self._layer.key
        for k, v in self._lowered:
            if needle_lower in v:
                key = k
                break
        self._found[needle_lower] = key
        return key


# ---------------------------------------------------------------------------------------------
# Location
# ---------------------------------------------------------------------------------------------

_DECIMAL = re.compile(r"(?<![\w.])-?\d{1,3}\.(\d+)(?![\w.])")
_MICRO_DEGREES = re.compile(r"(?<![\w.])-?\d{7,9}(?![\w.])")
_DIGIT_DOT = re.compile(r"\.(?<=\d\.)(?=\d)")
_DIGIT_RUN = re.compile(r"\d{7,}")  # whole runs: the scan goes left to right, so each match starts a run


def location_precision(decimals: int, lat: float) -> str:
    """precise_location when printed coordinates pin an area under 3 km², else approx_location."""
    cell = 10.0 ** -decimals
    area = (_KM_PER_DEGREE * cell) * (_KM_PER_DEGREE * cell * max(math.cos(math.radians(lat)), 0.01))
    return "precise_location" if area < PRECISE_AREA_KM2 else "approx_location"


def _close(printed: float, decimals: int, true: float, slack: float = 0.0) -> bool:
    # The printed value is the true one rounded or truncated to `decimals` places; `slack` is how far
    # the profile's own value may be from the device's fix when the tester wrote fewer decimals.
    return abs(printed - true) <= 10.0 ** -decimals + slack + 1e-9


def _written_decimals(value: float) -> int:
    """How many decimals the profile gave (39.9042 -> 4): its precision, not the device's."""
    text = repr(float(value))
    if "e" in text:
        return 6
    # Fewer than 2 would let any place within 10 km pass for the device.
    return max(len(text.split(".", 1)[1].rstrip("0")), 2)


def _decimals(text: str) -> Iterator[re.Match[str]]:
    """The matches of _DECIMAL.finditer(text), found from their dots.

    _DECIMAL opens with a look-behind, which `re` tries at every position of the text: on long layers
    that dominated detection. Each match holds exactly one dot, between two digits, and since no digit
    may precede it, it starts at the whole run of digits before that dot or at a minus sign right before
    that run. Trying just there gives the same matches, and they cannot overlap.
    """
    for dot in _DIGIT_DOT.finditer(text):
        start = dot.start() - 1
        while start > 0 and text[start - 1].isdecimal():
            start -= 1
        if dot.start() - start > 3:
            continue
        match = _signed_match(_DECIMAL, text, start)
        if match is not None:
            yield match


def _signed_match(pattern: re.Pattern[str], text: str, start: int) -> re.Match[str] | None:
    """`pattern` matched at a run of digits, from the minus sign right before it when there is one."""
    match = pattern.match(text, start - 1) if start > 0 and text[start - 1] == "-" else None
    return match if match is not None else pattern.match(text, start)


def _micro_degrees(text: str) -> Iterator[re.Match[str]]:
    """The matches of _MICRO_DEGREES.finditer(text), found from their runs of digits (as `_decimals`)."""
    for run in _DIGIT_RUN.finditer(text):
        start, end = run.span()
        if end - start > 9:
            continue
        match = _signed_match(_MICRO_DEGREES, text, start)
        if match is not None:
            yield match


class LocationMatcher:
    """Whether a text carries one device location, with the cheap gates worked out once.

    Both coordinates must be in the same text; micro-degree integers (lat * 1e6, as several Chinese ad
    SDKs send them) count as 6 decimals.
    """

    def __init__(self, lat: float, lon: float) -> None:
        self.lat, self.lon = lat, lon
        # A tester often writes the location to 4 or 5 decimals while the phone's fix has more: a value
        # sent with more decimals is still this location when it lies within the profile's precision.
        written = min(_written_decimals(lat), _written_decimals(lon))
        self.slack = 10.0 ** -written if written < 6 else 0.0
        # Both integer parts must appear in a text that holds the location, else no regex work at all.
        self._integers = str(int(abs(lat))), str(int(abs(lon)))
        # The digits that every close-enough micro-degree integer contains (a sign may precede them).
        self._micro_lat = _micro_degree_digits(lat, written)
        self._micro_lon = _micro_degree_digits(lon, written)

    def match(self, text: str) -> tuple[str, int] | None:
        """(data type, decimals) when `text` carries the location, else None."""
        if self._integers[0] not in text or self._integers[1] not in text:
            return None
        lat, lon, slack = self.lat, self.lon, self.slack
        best_lat = best_lon = 0
        for m in _decimals(text):
            decimals = len(m.group(1))
            value = float(m.group(0))
            if _close(value, decimals, lat, slack):
                best_lat = max(best_lat, decimals)
            if _close(value, decimals, lon, slack):
                best_lon = max(best_lon, decimals)
        # Micro-degrees can only help when each coordinate is found already or its digits are there.
        if ((not best_lat or not best_lon)
                and (best_lat or any(map(text.__contains__, self._micro_lat)))
                and (best_lon or any(map(text.__contains__, self._micro_lon)))):
            for m in _micro_degrees(text):
                value = int(m.group(0)) / 1e6
                if _close(value, 6, lat, slack):
                    best_lat = 6
                if _close(value, 6, lon, slack):
                    best_lon = 6
        if best_lat and best_lon:
            decimals = min(best_lat, best_lon)
            return location_precision(decimals, lat), decimals
        return None


def _micro_degree_digits(true: float, written: int = 6) -> tuple[str, ...]:
    if written >= 6:
        center = round(true * 1e6)
        return tuple(str(abs(n)) for n in range(center - 3, center + 4) if _close(n / 1e6, 6, true))
    # Fewer decimals in the profile: every close micro-degree integer starts with one of these.
    center = round(true * 10 ** written)
    return tuple(str(abs(n)) for n in range(center - 1, center + 2))


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


def shape_hits(layer: Layer, lowered: str, profile: DeviceProfile, keys: KeyLookup | None = None) -> list[Hit]:
    """Likely personal data by form alone, for kinds the profile has no value of."""
    hits: list[Hit] = []
    enc = layer.encodings
    keys = keys if keys is not None else KeyLookup(layer)
    identifiers = profile.identifiers
    if not profile.email and "@" in lowered:
        for m in _EMAIL_RE.finditer(lowered):
            hits.append(Hit("email", None, None, LIKELY, keys(m.group(0)), enc, value_ref(m.group(0))))
    if "imei" not in identifiers:
        for m in _IMEI_RE.finditer(lowered):
            digits = m.group(0)
            if not luhn_ok(digits):
                continue
            key = keys(digits)
            if digits[:2] in _RBI or (key and _IMEI_KEY.search(key)):
                hits.append(Hit("device_id", "imei", None, LIKELY, key, enc, value_ref(digits)))
    need_mac = "mac_address" not in identifiers
    if need_mac and ("-" in lowered or ":" in lowered):  # _MAC_RE needs a separator
        for m in _MAC_RE.finditer(lowered):
            mac = m.group(0).replace("-", ":")
            if mac not in _FAKE_MACS:
                hits.append(Hit("device_id", "mac_address", None, LIKELY, keys(m.group(0)), enc, value_ref(mac)))
    need_ad = "advertising_id" not in identifiers and "oaid" not in identifiers
    need_location = profile.location is None
    if not (need_ad or need_mac or need_location) or layer.echo:
        return hits  # the rest looks at key/value pairs only for these kinds (an echo's were its form's)
    lat: tuple[float, int] | None = None
    lon: tuple[float, int] | None = None
    for key, value in layer.pairs:
        v = value.strip().lower()
        if (need_ad and _UUID_RE.match(v) and v.replace("-", "") != _ZERO_UUID.replace("-", "")
                and _AD_KEY.search(key)):
            kind = "oaid" if "oaid" in key.lower() else "advertising_id"
            hits.append(Hit("device_id", kind, None, LIKELY, key, enc, value_ref(v)))
        elif (need_mac and _MAC_KEY.search(key)
              and re.fullmatch(r"[0-9a-f]{12}", v) and v != "000000000000" and v != "020000000000"):
            hits.append(Hit("device_id", "mac_address", None, LIKELY, key, enc, value_ref(":".join(v[i:i + 2] for i in range(0, 12, 2)))))
        if need_location:
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
    keys = KeyLookup(layer) if matcher.shapes_needed else None  # else made by scan on its first hit
    hits = matcher.scan(layer, lowered, keys)
    profile = matcher.profile
    if matcher.location is not None:
        found = matcher.location.match(layer.text)
        if found:
            data_type, decimals = found
            hits.append(Hit(data_type, None, "location", CONFIRMED, _location_key(layer),
                            layer.encodings + (f"{decimals}-decimals",)))
    if matcher.shapes_needed:
        hits.extend(shape_hits(layer, lowered, profile, keys))
    if layer.pairs and not layer.echo:  # an echo's pairs are its form's, detected there
        hits.extend(identifier_hits(layer, matcher.key_kinds, profile.identifiers))
    return hits


def _location_key(layer: Layer) -> str | None:
    for k, _ in layer.pairs:
        if _LAT_KEY.match(k) or _PAIR_KEY.match(k):
            return k
    return layer.key


# ---------------------------------------------------------------------------------------------
# Generic identifiers: an identifier-like key holding an identifier-like value, where no protocol knows the field
# ---------------------------------------------------------------------------------------------

# Key words (after camelCase and separators are split) that name an identifier, and which kind; English and the
# pinyin/abbreviation habits of Chinese SDKs (cuid, utdid, tdid, qimei). Longest names are tried first.
_ID_KEY_KINDS: dict[str, tuple[str, str]] = {
    **{k: ("device_id", "imei") for k in ("imei", "imei1", "imei2", "imeimd5")},
    "meid": ("device_id", "meid"), "imsi": ("device_id", "imsi"), "iccid": ("device_id", "iccid"),
    "oaid": ("device_id", "oaid"), "aaid": ("device_id", "aaid"), "vaid": ("device_id", "vaid"),
    "idfa": ("device_id", "idfa"), "ifa": ("device_id", "advertising_id"),
    **{k: ("device_id", "idfv") for k in ("idfv", "ifv", "vendorid")},
    **{k: ("device_id", "advertising_id") for k in ("gaid", "adid", "advertisingid", "adsid", "googleadid", "gpsadid",
                                                    "aifa", "rdid")},
    **{k: ("device_id", "android_id") for k in ("androidid", "andi", "ssaid")},
    "utdid": ("device_id", "utdid"),
    **{k: ("device_id", "firebase_installation_id") for k in ("fid", "firebaseinstallationid")},
    "appinstanceid": ("device_id", "app_instance_id"),
    **{k: ("device_id", "install_id") for k in ("installid", "installationid", "installuuid", "iid")},
    **{k: ("device_id", "vendor_device_id") for k in ("udid", "cuid", "deviceid", "did", "devid", "hardwareid", "tdid",
                                                      "qimei", "uuid", "guid", "deviceuuid", "umid", "openudid",
                                                      "devicefingerprintid", "clientuniqueid")},
    **{k: ("device_id", "vendor_visitor_id") for k in ("distinctid", "anonid", "anonymousid", "visitorid", "clientid",
                                                       "cid", "vid", "mid", "ecid", "mcid", "trackingid",
                                                       "persistentid")},
    **{k: ("user_account", "user_id") for k in ("userid", "uid", "accountid", "memberid", "customeruserid",
                                                "externaluserid", "appuserid", "loginid")},
}
# Words that make a key a secret, a one-time value or a grouping of requests, never a person or device id:
# signatures and nonces change per request, API / app keys and tokens are the same for every user of an app,
# session and request ids last minutes. Any of them anywhere in the key wins over the id words.
_NOT_ID_WORDS = frozenset({
    "sign", "signature", "sig", "nonce", "token", "secret", "key", "apikey", "appkey", "session", "sessionid",
    "sid", "request", "requestid", "trace", "traceid", "span", "event", "eventid", "msg", "message", "messageid",
    "hash", "checksum", "crc", "md5sig", "timestamp", "ts", "time", "expires", "ttl", "salt", "auth",
    "authorization", "password", "pwd", "csrf", "xsrf", "transaction", "order", "orderid", "batch", "seq",
    "campaign", "creative", "placement", "slot", "unit", "appid", "sdk", "project", "build", "version",
})
_KEY_SPLIT = re.compile(r"[^a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_HEX16 = re.compile(r"^[0-9a-f]{16}$")
_FID = re.compile(r"^[cdef][A-Za-z0-9_-]{21}$")
_TOKENISH = re.compile(r"^[A-Za-z0-9+/_=.:|-]{16,128}$")
_ZEROISH = frozenset("0-:.")
_KEY_MEMO_SIZE = 8192


def _key_kind(key: str, memo: dict[str, tuple[str, str] | None]) -> tuple[str, str] | None:
    """The (data type, identifier kind) an identifier-like key names, or None (no id word, or a secret's word)."""
    found = memo.get(key, MISSING_KIND)
    if found is not MISSING_KIND:
        return found  # type: ignore[return-value]
    last = key.rsplit(".", 1)[-1].lstrip("$#_")
    words = [w for w in _KEY_SPLIT.split(_CAMEL.sub("_", last).lower()) if w]
    joined = "".join(words)
    kind: tuple[str, str] | None = None
    if words and not (_NOT_ID_WORDS.intersection(words) or joined in _NOT_ID_WORDS):
        kind = _ID_KEY_KINDS.get(joined)
        if kind is None and len(words) > 1:
            # "device_id_v2", "x_oaid", "user_uuid": the longest run of words that names an id.
            for n in range(len(words), 0, -1):
                for i in range(len(words) - n + 1):
                    kind = _ID_KEY_KINDS.get("".join(words[i:i + n]))
                    if kind is not None:
                        break
                if kind is not None:
                    break
    if len(memo) >= _KEY_MEMO_SIZE:
        memo.clear()
    memo[key] = kind
    return kind


MISSING_KIND = object()


def id_shape(value: str) -> str | None:
    """The identifier shape of a value (uuid, hex16, imei, mac, fid, random) or None.

    Pure numbers other than a Luhn-valid 15-digit IMEI are not ids here: they are counters, timestamps and
    prices far more often. Long tokens must look random (high entropy, letters and digits mixed)."""
    v = value.strip()
    if len(v) < 12 or len(v) > 128 or set(v) <= _ZEROISH:
        return None
    low = v.lower()
    if _UUID_RE.match(low):
        return "uuid" if low.replace("-", "") != "0" * 32 else None
    if v.isdigit():
        return "imei" if len(v) == 15 and luhn_ok(v) else None
    if _HEX16.match(low):
        return "hex16"
    if _MAC_RE.fullmatch(low):
        return "mac" if low.replace("-", ":") not in _FAKE_MACS else None
    if _FID.match(v):
        return "fid"
    if (len(v) >= 16 and _TOKENISH.match(v) and any(c.isdigit() for c in v) and any(c.isalpha() for c in v)
            and entropy_bits(v) >= 3.0):
        return "random"
    return None


def identifier_hits(layer: Layer, memo: dict[str, tuple[str, str] | None], known: Mapping[str, str] | None = None
                    ) -> list[Hit]:
    """Likely identifiers: a key that names one (see _ID_KEY_KINDS) holding a value of an identifier's shape.

    As with the other shapes, a kind the profile has a value of is not guessed: that value is matched exactly,
    and another UUID under `gaid` is then not the device's advertising id."""
    hits: list[Hit] = []
    enc = layer.encodings
    for key, value in layer.pairs:
        # Looked up here first: every key of every layer comes this way, and nearly all are known.
        kind: tuple[str, str] | None = memo.get(key, MISSING_KIND)  # type: ignore[arg-type]
        if kind is MISSING_KIND:
            kind = _key_kind(key, memo)
        if kind is None:
            continue
        data_type, identifier = kind
        if known and identifier in known:
            continue
        shape = id_shape(value)
        if shape is None:
            continue
        if identifier == "imei" and shape not in ("imei", "hex16", "random"):
            continue  # an "imei" key holding a UUID is some vendor's device id, not an IMEI
        hits.append(Hit(data_type, identifier, None, LIKELY, key, enc, value_ref(value)))
    return hits
