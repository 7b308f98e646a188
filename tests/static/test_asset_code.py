"""Code kept in assets and loaded at run time (SDK plug-ins, hot updates) is read like the app's own dex."""

from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path

from scanner.static.analyze import analyze_apk

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def _news_dex() -> bytes:
    with zipfile.ZipFile(FIXTURES / "apks" / "news_cn.apk") as archive:
        return archive.read("classes.dex")


def _jar(dex: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as jar:
        jar.writestr("classes.dex", dex)
    return buf.getvalue()


def test_sdk_in_a_plugin_jar_is_found_with_its_calls(weather_with) -> None:
    plain = analyze_apk(FIXTURES / "apks" / "weather.apk")
    assert not {s.id for s in plain.sdks} & {"umeng-analytics", "jpush"}
    report = analyze_apk(weather_with({"assets/plugins/feed.jar": _jar(_news_dex())}))
    sdks = {s.id: s for s in report.sdks}
    assert "umeng-analytics" in sdks and "jpush" in sdks
    assert "assets/plugins/feed.jar!classes.dex" in report.dex_files
    assert any(u.sdk == "jpush" and u.identifier == "mac_address" for u in report.api_uses)
    assert any("code loaded at run time from assets was read too" in w for w in report.warnings)


def test_bare_dex_asset_and_unreadable_code(weather_with) -> None:
    noise = random.Random(3).randbytes(4096)
    report = analyze_apk(weather_with({
        "assets/hot.dex": _news_dex(),
        "assets/secure.jar": b"PK\x03\x04" + noise,  # looks like a zip, is not one: a packer's payload, say
        "assets/fonts.zip": noise,  # not code at all: ignored without a word
    }))
    assert "assets/hot.dex" in report.dex_files and "umeng-analytics" in {s.id for s in report.sdks}
    note = next(w for w in report.warnings if "could not be read as dex" in w)
    assert "assets/secure.jar" in note and "fonts.zip" not in note
