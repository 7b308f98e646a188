"""Known-value and shape detection, including the negative cases that must not match."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import zlib

import brotli
import pytest
import zstandard

from scanner.dynamic.decode import Layer, peel_body, peel_text, protobuf_leaves
from scanner.dynamic.detect import ValueMatcher, detect, location_precision, luhn_ok
from scanner.dynamic.device import DeviceProfile, parse_device_profile

IMEI = "356938035643809"
ADID = "38400000-8cf0-11bd-b23e-10b96e40000d"


@pytest.fixture(scope="module")
def matcher(profile: DeviceProfile) -> ValueMatcher:
    return ValueMatcher(profile)


def hits_in_body(matcher: ValueMatcher, body: bytes, ctype: str = "", cenc: str = "") -> set[tuple]:
    peeled = peel_body(body, ctype, cenc)
    return {(h.data_type, h.identifier, h.confidence) for layer in peeled.layers for h in detect(layer, matcher)}


def hits_in_text(matcher: ValueMatcher, text: str) -> set[tuple]:
    return {(h.data_type, h.identifier, h.confidence) for layer in peel_text(text).layers for h in detect(layer, matcher)}


IMEI_HIT = ("device_id", "imei", "confirmed")


@pytest.mark.parametrize("text", [
    f"imei={IMEI}",
    f"id={hashlib.md5(IMEI.encode()).hexdigest()}",
    f"id={hashlib.md5(IMEI.encode()).hexdigest().upper()}",
    f"id={hashlib.sha1(IMEI.encode()).hexdigest()}",
    f"id={hashlib.sha256(IMEI.encode()).hexdigest()}",
    "h=" + base64.b64encode(hashlib.sha256(IMEI.encode()).digest()).decode(),
    "h=" + base64.urlsafe_b64encode(hashlib.md5(IMEI.encode()).digest()).decode().rstrip("="),
    "d=" + base64.b64encode(json.dumps({"imei": IMEI}).encode()).decode(),
    "d=" + base64.urlsafe_b64encode(gzip.compress(json.dumps({"k": IMEI}).encode(), mtime=0)).decode(),
    "x=" + json.dumps({"inner": IMEI}).encode().hex(),
    '{"payload": "{\\"imei\\": \\"' + IMEI + '\\"}"}',
    f"/v1/device/{IMEI}/config",
])
def test_imei_found_in_every_layer(matcher: ValueMatcher, text: str) -> None:
    assert IMEI_HIT in hits_in_text(matcher, text)


@pytest.mark.parametrize("coding,compress", [
    ("gzip", gzip.compress), ("deflate", zlib.compress), ("br", brotli.compress),
    ("zstd", lambda b: zstandard.ZstdCompressor().compress(b)),
])
def test_compressed_bodies(matcher: ValueMatcher, coding: str, compress) -> None:
    body = compress(json.dumps({"device": {"imei": IMEI}}).encode())
    assert IMEI_HIT in hits_in_body(matcher, body, "application/json", coding)


@pytest.mark.parametrize("mac", ["02:1A:2B:3C:4D:5E", "02-1a-2b-3c-4d-5e", "021A2B3C4D5E", "021a2b3c4d5e"])
def test_mac_any_separator_and_case(matcher: ValueMatcher, mac: str) -> None:
    assert ("device_id", "mac_address", "confirmed") in hits_in_text(matcher, f"mac={mac}")


@pytest.mark.parametrize("phone", ["+8613800138000", "8613800138000", "13800138000", "008613800138000"])
def test_phone_with_and_without_country_code(matcher: ValueMatcher, phone: str) -> None:
    assert ("phone", "phone_number", "confirmed") in hits_in_text(matcher, f"tel={phone}")


def test_email_any_case_and_hashed(matcher: ValueMatcher) -> None:
    assert ("email", None, "confirmed") in hits_in_text(matcher, "e=Alice.Tester%40EXAMPLE.com")
    digest = hashlib.sha256(b"alice.tester@example.com").hexdigest()
    assert ("email", None, "confirmed") in hits_in_text(matcher, f"em={digest}")


def test_protobuf_without_schema(matcher: ValueMatcher) -> None:
    inner = b"\x0a" + bytes([len(ADID)]) + ADID.encode()
    body = b"\x0a" + bytes([len(inner)]) + inner + b"\x10\x96\x01"
    assert protobuf_leaves(body) == [("1.1", ADID), ("2", "150")]
    assert ("device_id", "advertising_id", "confirmed") in hits_in_body(matcher, body, "application/x-protobuf")


def test_multipart_form(matcher: ValueMatcher) -> None:
    body = (b"--XyZ\r\nContent-Disposition: form-data; name=\"meta\"\r\nContent-Type: application/json\r\n\r\n"
            + json.dumps({"aid": "9774d56d682e549c"}).encode() + b"\r\n--XyZ--\r\n")
    assert ("device_id", "android_id", "confirmed") in hits_in_body(matcher, body, "multipart/form-data; boundary=XyZ")


def test_xml_body(matcher: ValueMatcher) -> None:
    assert IMEI_HIT in hits_in_body(matcher, f"<req><imei>{IMEI}</imei></req>".encode(), "text/xml")


def test_body_claiming_gzip_but_plain_is_still_analysed(matcher: ValueMatcher) -> None:
    peeled = peel_body(json.dumps({"imei": IMEI}).encode(), "application/json", "gzip")
    assert any("claims Content-Encoding gzip but is not" in w for w in peeled.warnings)
    assert IMEI_HIT in {(h.data_type, h.identifier, h.confidence) for la in peeled.layers for h in detect(la, matcher)}


def test_installed_apps_need_more_than_one(matcher: ValueMatcher) -> None:
    from scanner.dynamic.analysis import FlowAnalyzer
    from scanner.dynamic.readers import FlowRecord
    from scanner.knowledge.recipients import Recipients

    analyzer = FlowAnalyzer(matcher.profile, Recipients(None))
    one = FlowRecord("a", 0.0, "GET", "https", "x.example", 443, "/?pkg=com.tencent.mm")
    many = FlowRecord("b", 0.0, "GET", "https", "x.example", 443, "/?apps=com.tencent.mm,com.sina.weibo")
    assert not analyzer.analyse(one).observations
    assert [o.data_type for o in analyzer.analyse(many).observations] == ["apps_on_device"]


# -- negatives -------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "n=3569380356438091",          # the IMEI with a digit more
    "n=1356938035643809",          # … or in front
    "n=356938035643808",           # one digit off
    "ts=356938035643809123456",    # inside a longer number
    f"h={hashlib.md5(b'356938035643808').hexdigest()}",
])
def test_look_alike_numbers_do_not_match(matcher: ValueMatcher, text: str) -> None:
    assert not {h for h in hits_in_text(matcher, text) if h[1] == "imei"}


def test_random_uuid_is_not_the_advertising_id(matcher: ValueMatcher) -> None:
    text = json.dumps({"gaid": "5f0c2a4e-1b3d-4e5f-8a9b-0c1d2e3f4a5b", "request_id": "b3c1..."})
    assert not hits_in_text(matcher, text)


def test_other_coordinates_do_not_match(matcher: ValueMatcher) -> None:
    assert not hits_in_text(matcher, "lat=48.856613&lon=2.352222")  # Paris, not the device in Beijing
    assert not hits_in_text(matcher, "lat=39.95&lon=116.45")  # near, but not the device's rounding


def test_device_location_precise_and_approx(matcher: ValueMatcher) -> None:
    assert ("precise_location", None, "confirmed") in hits_in_text(matcher, "lat=39.9042&lng=116.4074")
    assert ("approx_location", None, "confirmed") in hits_in_text(matcher, "lat=39.9&lng=116.4")
    assert ("precise_location", None, "confirmed") in hits_in_text(matcher, "la=39904211&lo=116407395")


def test_device_fix_finer_than_the_profile() -> None:
    # The tester wrote 39.9042,116.4074 (4 decimals); the phone's own fix has more, within that precision.
    coarse = ValueMatcher(DeviceProfile(location=(39.9042, 116.4074)))
    assert ("precise_location", None, "confirmed") in hits_in_text(coarse, "lat=39.904211&lng=116.407395")
    assert ("precise_location", None, "confirmed") in hits_in_text(coarse, "la=39904249&lo=116407351")
    assert not hits_in_text(coarse, "lat=39.904411&lng=116.407395")  # 20 m off: beyond what was written
    assert not hits_in_text(coarse, "la=39904411&lo=116407351")
    fine = ValueMatcher(DeviceProfile(location=(39.904211, 116.407395)))  # 6 decimals given: no slack
    assert not hits_in_text(fine, "lat=39.904251&lng=116.407395")


# -- shapes ----------------------------------------------------------------------------------

EMPTY = ValueMatcher(DeviceProfile())


def test_shapes_without_profile() -> None:
    assert luhn_ok("356938035643809") and not luhn_ok("356938035643808")
    assert ("device_id", "imei", "likely") in hits_in_text(EMPTY, "x=490154203237518")
    assert ("device_id", "advertising_id", "likely") in hits_in_text(EMPTY, json.dumps({"gaid": ADID}))
    assert ("device_id", "mac_address", "likely") in hits_in_text(EMPTY, "m=a4:5e:60:c1:22:0f")
    assert ("email", None, "likely") in hits_in_text(EMPTY, "to=someone@example.org")
    assert ("precise_location", None, "likely") in hits_in_text(EMPTY, "lat=48.8566&lon=2.3522")
    assert ("approx_location", None, "likely") in hits_in_text(EMPTY, json.dumps({"ll": "48.9,2.4"}))


def test_shapes_negatives() -> None:
    assert not hits_in_text(EMPTY, json.dumps({"request_id": ADID, "trace": ADID}))  # UUID under no telling key
    assert not hits_in_text(EMPTY, json.dumps({"gaid": "00000000-0000-0000-0000-000000000000"}))  # LAT opt-out
    assert not hits_in_text(EMPTY, "x=490154203237517")  # fails Luhn
    assert not hits_in_text(EMPTY, "m=02:00:00:00:00:00")  # Android's placeholder MAC
    assert not hits_in_text(EMPTY, "version=1.25&build=3.75")


def test_precision_line() -> None:
    assert location_precision(2, 39.9) == "precise_location"  # ~1.1 x 0.85 km
    assert location_precision(1, 39.9) == "approx_location"  # ~11 x 8.5 km
    assert location_precision(2, 0.0) == "precise_location"


def test_layer_key_is_reported(matcher: ValueMatcher) -> None:
    layer = peel_text(f"a=1&device_imei={IMEI}").layers[0]
    assert isinstance(layer, Layer)
    assert {h.key for h in detect(layer, matcher) if h.identifier == "imei"} == {"device_imei"}


def test_profile_from_text() -> None:
    p = parse_device_profile("imei: 356938035643809\nlocation: {lat: 1.5, lon: 2.5}\n")
    assert p.identifiers == {"imei": IMEI} and p.location == (1.5, 2.5)
