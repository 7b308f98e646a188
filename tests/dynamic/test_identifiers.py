"""Generic identifier discovery: identifier-like keys with identifier-like values, and what is not an identifier."""

from __future__ import annotations

import pytest

from scanner.dynamic.decode import peel_text
from scanner.dynamic.detect import ValueMatcher, detect, entropy_bits, id_shape
from scanner.dynamic.device import DeviceProfile

MATCHER = ValueMatcher(DeviceProfile())


def _ids(text: str) -> set[tuple[str, str | None, str | None]]:
    return {(h.identifier, h.key, h.confidence) for layer in peel_text(text).layers for h in detect(layer, MATCHER)
            if h.data_type in ("device_id", "user_account")}


@pytest.mark.parametrize(("text", "kind", "key"), [
    ("device_id=C8F9E604-F01A-4BD9-95C6-8E5357DF265D", "vendor_device_id", "device_id"),
    ('{"distinct_id":"4e3d2c1b-0a9f-48e7-d6c5-b4a392817060"}', "vendor_visitor_id", "distinct_id"),
    ('{"anonymousId":"507f191e810c19729de860ea"}', "vendor_visitor_id", "anonymousId"),
    ("idfv=2B4D6F8A-0C1E-4A3B-9D5F-7E9A1C3B5D7F", "idfv", "idfv"),
    ("cuid=0A1B2C3D4E5F60718293A4B5C6D7E8F9", "vendor_device_id", "cuid"),
    ("utdid=XYZ1AbCdEfGhIjKlMnOpQrSt", "utdid", "utdid"),
    ("android_id=9f2c4e6a8b0d1f3e", "android_id", "android_id"),
    ("imei=490154203237518", "imei", "imei"),
    ('{"fid":"cXNxYTJkNzQ0YmUxMjM0NT"}', "firebase_installation_id", "fid"),
    ("install_id=0c9d8e7f-6a5b-4c3d-9e2f-1a0b9c8d7e6f", "install_id", "install_id"),
    ('{"user":{"userId":"u8f2a91c3d4e5b6a7"}}', "user_id", "userId"),
    ("x_oaid=a1b2c3d4-e5f6-4788-99aa-bbccddeeff00", "oaid", "x_oaid"),
])
def test_identifier_like_key_and_value_is_likely_an_identifier(text: str, kind: str, key: str) -> None:
    assert (kind, key, "likely") in _ids(text)


@pytest.mark.parametrize("text", [
    "sign=9f2c4e6a8b0d1f3e9f2c4e6a8b0d1f3e",  # request signature
    "nonce=4e3d2c1b-0a9f-48e7-d6c5-b4a392817060",  # one-time value
    "session_id=4e3d2c1b-0a9f-48e7-d6c5-b4a392817060",  # lasts minutes
    "api_key=AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUv",  # same for every user of the app
    "app_key=5f4e3d2c1b0a99887766554433221100",
    "device_token=fCmToken:APA91bHun4MxP5egoKMwt2KZFBaFUH",  # a token is a credential, not named an id here
    "request_id=0c9d8e7f-6a5b-4c3d-9e2f-1a0b9c8d7e6f",
    "uid=1700000000",  # a timestamp-like number
    "device_id=00000000-0000-0000-0000-000000000000",  # no id
    "user_id=guest",  # a word
    "client_id=android",
    "uuid=aaaaaaaaaaaaaaaaaaaa",  # no randomness
    "imei=C8F9E604-F01A-4BD9-95C6-8E5357DF265D",  # an 'imei' key holding a UUID is not an IMEI
    "color=9f2c4e6a8b0d1f3e",  # a hex value under a key that names no id
])
def test_secrets_nonces_sessions_and_non_ids_are_not_identifiers(text: str) -> None:
    assert not [i for i in _ids(text) if i[2] == "likely"]


def test_shapes_and_entropy() -> None:
    assert id_shape("C8F9E604-F01A-4BD9-95C6-8E5357DF265D") == "uuid"
    assert id_shape("9f2c4e6a8b0d1f3e") == "hex16"
    assert id_shape("490154203237518") == "imei" and id_shape("490154203237519") is None  # Luhn
    assert id_shape("02:1a:2b:3c:4d:5e") == "mac" and id_shape("02:00:00:00:00:00") is None
    assert id_shape("cXNxYTJkNzQ0YmUxMjM0NT") == "fid"
    assert id_shape("1700000000123") is None and id_shape("hello-world-again") is None
    assert entropy_bits("aaaaaaaa") == 0 and entropy_bits("0123456789abcdef") == 4


@pytest.mark.parametrize(("text", "kind"), [
    ("ad_id=8be1b7a5-3024-4d33-aa56-f2ddda4d26b1", "advertising_id"),
    ("app_user_id=u8f2a91c3d4e5b6a7", "user_id"),
    ("app_instance_id=cbd7e6f1a2b34c5d8e9f0a1b2c3d4e5f", "app_instance_id"),
])
def test_words_shared_with_app_keys_still_name_ids(text: str, kind: str) -> None:
    assert kind in {i[0] for i in _ids(text)}


@pytest.mark.parametrize("text", ["app_id=1a2b3c4d5e6f7a8b9c0d", "ad_unit_id=ca-app-pub-1234567890123456"])
def test_app_and_ad_unit_ids_are_the_same_for_every_user(text: str) -> None:
    assert not [i for i in _ids(text) if i[2] == "likely"]
