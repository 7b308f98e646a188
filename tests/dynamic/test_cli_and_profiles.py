"""`divulge traffic` / `addon-path` end to end, device profiles, recipients and the consent timeline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner.cli import main
from scanner.dynamic.capture import addon_path
from scanner.dynamic.device import load_device_profile, parse_device_profile
from scanner.dynamic.marks import Mark, Timeline, append_mark, mark_name, read_marks
from scanner.dynamic.summary import TrafficFormat
from scanner.errors import BadDeviceProfile
from scanner.knowledge.recipients import Recipients, registrable_domain

from .conftest import CAPTURES, DEVICE


def test_traffic_json_schema_and_fields() -> None:
    result = CliRunner().invoke(main, ["traffic", str(CAPTURES / "news_cn.flows"), "--device", str(DEVICE),
                                       "--first-party", "divulge-fixture.example", "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["schema"] == "divulge/traffic/1" and doc["flows"] == 9
    assert {"observations", "flows", "destinations", "frequency"} <= doc.keys()
    fields = {"data_type", "identifier", "host", "url", "method", "party", "sdk", "owner", "where", "encodings",
              "time", "phase", "cleartext", "confidence", "flow_id"}
    assert all(fields <= o.keys() for o in doc["observations"])
    umeng = [o for o in doc["observations"] if o["host"] == "ulogs.umeng.com" and o["identifier"] == "imei"]
    assert umeng[0]["encodings"] == ["base64", "gzip", "md5"] and umeng[0]["key"] == "imei_md5"
    assert "356938035643809" not in result.stdout.split('"observations"')[1]  # values never, labels only


def test_traffic_text_lists_cleartext() -> None:
    result = CliRunner().invoke(main, ["traffic", str(CAPTURES / "news_cn.session")])
    assert result.exit_code == 0
    assert "CLEARTEXT" in result.stdout and "umeng.com" in result.stdout and "refuse at" in result.stdout


def test_traffic_bad_har_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "x.har"
    bad.write_text("<html>not json</html>")
    result = CliRunner().invoke(main, ["traffic", str(bad)])
    assert result.exit_code == 2 and "not a HAR file" in result.output and "Traceback" not in result.output


def test_addon_path_command() -> None:
    result = CliRunner().invoke(main, ["addon-path"])
    assert result.exit_code == 0 and Path(result.stdout.strip()) == addon_path() and addon_path().is_file()


def test_formats_enum_exhaustive() -> None:
    from scanner.model import TrafficReport

    report = TrafficReport(observations=[], flows=0)
    assert {f.value for f in TrafficFormat} == {"text", "json"}
    for fmt in TrafficFormat:
        assert fmt.render(report)


@pytest.mark.parametrize("text,message", [
    ("imei: '12345'\n", r"p\.yaml:1: imei: '12345' does not look like 14 to 16 digits"),
    ("name: Al\nfoo: 1\n", r"p\.yaml:2: .*foo"),
    ("location: {lat: 95, lon: 1}\n", r"p\.yaml:1: .*95"),
    ("- a list\n", "must be a YAML mapping"),
    ("imei: [\n", "invalid YAML"),
])
def test_bad_profiles(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(text)
    with pytest.raises(BadDeviceProfile, match=message):
        load_device_profile(path)


def test_fixture_profile_has_thirty_values() -> None:
    profile = load_device_profile(DEVICE)
    assert profile.value_count == 30 and profile.identifiers["imei"] == "356938035643809"
    assert parse_device_profile("").value_count == 0


def test_registrable_domain_offline() -> None:
    assert registrable_domain("tsis.jpush.cn") == "jpush.cn"
    assert registrable_domain("a.b.example.co.uk") == "example.co.uk"
    assert registrable_domain("news.divulge-fixture.example") == "divulge-fixture.example"
    assert registrable_domain("10.0.2.2") == "10.0.2.2"


def test_first_party_and_sdk(tmp_path: Path) -> None:
    class Entry:
        id, name, owner, country, categories = "umeng", "Umeng", "Alibaba", "CN", ["analytics"]

    class Catalog:
        def sdk_for_host(self, host: str):
            return Entry() if host.endswith("umeng.com") else None

    recipients = Recipients(Catalog(), ["https://divulge-fixture.example/"])
    assert recipients.resolve("api.divulge-fixture.example").party == "first"
    assert recipients.resolve("evil-divulge-fixture.example").party == "third"
    umeng = recipients.resolve("ulogs.umeng.com")
    assert (umeng.party, umeng.sdk, umeng.owner, umeng.registrable_domain) == ("third", "umeng", "Alibaba", "umeng.com")


def test_timeline_phases(tmp_path: Path) -> None:
    assert Timeline().phase_at(5) is None  # no timeline at all: unknown
    timeline = Timeline([Mark(10, "consent"), Mark(20, "refuse"), Mark(15, "opened-settings")])
    assert [timeline.phase_at(t) for t in (5, 10, 15, 25)] == [
        "before_consent", "after_consent", "after_consent", "after_refusal"]
    assert mark_name("Accept") == "consent" and mark_name("deny") == "refuse"
    with pytest.raises(ValueError):
        mark_name("no spaces please")
    append_mark(tmp_path, "consent", when=1.0)
    (tmp_path / "marks.jsonl").open("a").write("garbage\n")
    warnings: list[str] = []
    assert [m.name for m in read_marks(tmp_path / "marks.jsonl", warnings)] == ["consent"] and warnings


def test_mark_cli_into_session(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["mark", "refuse", "--session", str(tmp_path)])
    assert result.exit_code == 0 and read_marks(tmp_path / "marks.jsonl")[0].name == "refuse"
    bad = CliRunner().invoke(main, ["mark", "a b", "--session", str(tmp_path)])
    assert bad.exit_code == 2


def test_mark_cli_without_proxy_is_a_clear_error() -> None:
    result = CliRunner().invoke(main, ["mark", "consent", "--proxy", "127.0.0.1:9"])
    assert result.exit_code == 2 and "cannot reach the capture proxy" in result.output
