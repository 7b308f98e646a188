"""React Native, Flutter and Unity apps keep their own code outside the dex: endpoints are read there too."""

from __future__ import annotations

import random

from scanner.static.analyze import analyze_apk


def test_react_native_bundle_over_the_text_asset_limit(weather_with) -> None:
    # A real RN bundle runs to several MB; the URL sits past the 4 MB that plain text assets get.
    filler = b"var a=function(){return 1};\n" * (5 * (1 << 20) // 28)
    bundle = filler + b'fetch("https://api.rnshop.divulge-fixture.example/v1/track?uid="+u);\n'
    report = analyze_apk(weather_with({"assets/index.android.bundle": bundle}))
    found = {e.url: e.source for e in report.endpoints}
    assert found["https://api.rnshop.divulge-fixture.example/v1/track?uid="] == "assets/index.android.bundle"


def test_flutter_dart_code_read_once_for_all_abis(weather_with) -> None:
    noise = random.Random(7).randbytes(200_000)
    dart = noise + b"\x00https://api.flutterapp.divulge-fixture.example/graphql\x00" + noise
    report = analyze_apk(weather_with({"lib/arm64-v8a/libapp.so": dart,
                                                  "lib/armeabi-v7a/libapp.so": dart}))
    sources = [e.source for e in report.endpoints if e.host == "api.flutterapp.divulge-fixture.example"]
    assert sources == ["lib/arm64-v8a/libapp.so"]


def test_unity_metadata_and_other_native_libraries(weather_with) -> None:
    report = analyze_apk(weather_with({
        "assets/bin/Data/Managed/Metadata/global-metadata.dat": b"\x00\x01https://ads.unitygame.divulge-fixture.example/v2\x00",
        # An ordinary native library is not read for URLs: engines carry many that the app never calls.
        "lib/arm64-v8a/libengine.so": b"\x00https://engine.divulge-fixture.example/docs\x00",
    }))
    hosts = {e.host for e in report.endpoints}
    assert "ads.unitygame.divulge-fixture.example" in hosts
    assert "engine.divulge-fixture.example" not in hosts


def test_reference_links_in_app_code_are_not_first_party(weather_with) -> None:
    from scanner.first_party import first_party_from_apk

    bundle = (b'/* @license MIT https://github.com/facebook/react/blob/main/LICENSE */\n'
              b'// see https://reactnative.dev/docs/network and https://fb.me/react-warning-keys\n'
              b'fetch("https://api.rnshop.shop-fixture.test/v1/cart");\n')
    domains = first_party_from_apk(weather_with({"assets/index.android.bundle": bundle}))
    assert "shop-fixture.test" in domains
    assert not {"github.com", "reactnative.dev", "fb.me"} & set(domains)
