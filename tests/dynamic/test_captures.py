"""Committed captures of the scenarios: every format gives the same story, and bad input is survivable."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from scanner.dynamic.readers import CaptureFormat, detect_format, open_capture
from scanner.dynamic.traffic import TrafficOptions, analyse_traffic
from scanner.errors import BadCapture

from .conftest import CAPTURES, DEVICE, SCENARIOS

APPS = ("shopping", "news_cn", "weather")


def _key(o) -> tuple:
    return (o.data_type, o.identifier, o.host, o.where, o.phase, o.cleartext, o.confidence, round(o.time, 3))


@pytest.mark.parametrize("app", APPS)
def test_scenario_expectations_hold(app: str) -> None:
    scenario = yaml.safe_load((SCENARIOS / f"{app}.yaml").read_text())
    report = analyse_traffic(TrafficOptions(captures=(CAPTURES / f"{app}.session",)))
    for expected in scenario["expect"]:
        rows = [r for r in report.frequency if r["data_type"] == expected["data_type"]
                and r["destination"] == expected.get("destination", r["destination"])
                and (not expected.get("identifier") or expected["identifier"] in r["identifiers"])]
        if expected.get("absent"):
            assert not rows, f"{app}: {expected} should not be observed"
            continue
        assert rows, f"{app}: {expected} not observed; got {[(r['data_type'], r['destination']) for r in report.frequency]}"
        if "party" in expected:
            assert rows[0]["party"] == expected["party"]
        if "cleartext" in expected:
            assert any(r["cleartext"] for r in rows) == expected["cleartext"]
        for phase in expected.get("phases", []):
            assert any(phase in r["phases"] for r in rows), f"{app}: {expected} lacks phase {phase}"


@pytest.mark.parametrize("app", APPS)
def test_session_flow_file_and_har_agree(app: str) -> None:
    by_format = {}
    for name in (f"{app}.session", f"{app}.flows", f"{app}.har"):
        options = TrafficOptions(captures=(CAPTURES / name,), device=DEVICE, first_party=("divulge-fixture.example",))
        report = analyse_traffic(options)
        by_format[name] = ({(o.data_type, o.identifier, o.host, o.where) for o in report.observations}, report.flows)
    sets = list(by_format.values())
    assert sets[0][0], f"{app}: nothing observed"
    assert sets[0] == sets[1] == sets[2], by_format


def test_capture_marks_give_phases_without_session() -> None:
    # A HAR has no marks.jsonl: the divulge.mark request inside it is the timeline.
    report = analyse_traffic(TrafficOptions(captures=(CAPTURES / "shopping.har",), device=DEVICE))
    assert [m["name"] for m in report.marks] == ["consent"]
    assert {o.phase for o in report.observations} == {"before_consent", "after_consent"}


def test_recipients_from_catalog() -> None:
    report = analyse_traffic(TrafficOptions(captures=(CAPTURES / "news_cn.har",), device=DEVICE,
                                            first_party=("divulge-fixture.example",)))
    by_host = {d["host"]: d for d in report.destinations}
    assert by_host["ulogs.umeng.com"]["sdk"] and by_host["ulogs.umeng.com"]["party"] == "third"
    assert by_host["tsis.jpush.cn"]["registrable_domain"] == "jpush.cn"
    assert by_host["news.divulge-fixture.example"]["party"] == "first"
    assert by_host["news.divulge-fixture.example"]["cleartext_flows"] == 3
    flows_report = analyse_traffic(TrafficOptions(captures=(CAPTURES / "news_cn.flows",), device=DEVICE))
    assert any("claims Content-Encoding gzip" in w for w in flows_report.warnings)  # HAR bodies come decoded
    gzip_lie = [o for o in report.observations if o.host == "news.divulge-fixture.example" and o.identifier == "imei"]
    assert len({o.flow_id for o in gzip_lie}) == 2


def test_frequency_counts_and_peak() -> None:
    report = analyse_traffic(TrafficOptions(captures=(CAPTURES / "news_cn.session",)))
    umeng_imei = next(r for r in report.frequency if r["destination"] == "umeng.com")
    assert umeng_imei["count"] == 3 and umeng_imei["peak_per_minute"] == 3
    assert umeng_imei["phases"] == {"after_refusal": 2, "before_consent": 1}
    assert umeng_imei["last"] - umeng_imei["first"] == 17


def test_har_not_json(tmp_path: Path) -> None:
    bad = tmp_path / "bad.har"
    bad.write_text('{"log": {"entries": [ oops')
    with pytest.raises(BadCapture, match=r"bad\.har:1: not a HAR file: invalid JSON"):
        analyse_traffic(TrafficOptions(captures=(bad,), device=DEVICE))
    # Beside a good capture, the bad one is a warning and the good one is analysed.
    report = analyse_traffic(TrafficOptions(captures=(bad, CAPTURES / "weather.har"), device=DEVICE))
    assert report.flows == 3 and any("bad.har" in w for w in report.warnings)


def test_truncated_flow_file(tmp_path: Path) -> None:
    data = (CAPTURES / "news_cn.flows").read_bytes()
    cut = tmp_path / "cut.flows"
    cut.write_bytes(data[: int(len(data) * 0.7)])
    report = analyse_traffic(TrafficOptions(captures=(cut,), device=DEVICE))
    assert any("truncated or corrupt after flow" in w for w in report.warnings)
    assert 0 < report.flows < 9 and report.observations


def test_garbage_flow_file(tmp_path: Path) -> None:
    bad = tmp_path / "x.flows"
    bad.write_bytes(b"12345:garbage")
    with pytest.raises(BadCapture, match="not a mitmproxy flow file"):
        analyse_traffic(TrafficOptions(captures=(bad,)))


def test_bad_har_entry_skipped(tmp_path: Path) -> None:
    har = json.loads((CAPTURES / "weather.har").read_text())
    del har["log"]["entries"][0]["request"]["url"]
    path = tmp_path / "w.har"
    path.write_text(json.dumps(har))
    report = analyse_traffic(TrafficOptions(captures=(path,), device=DEVICE))
    assert report.flows == 2 and any("entry 0 skipped" in w for w in report.warnings)


def test_format_enum_is_exhaustive(tmp_path: Path) -> None:
    for fmt in CaptureFormat:
        assert fmt.reader(tmp_path).format is fmt
    assert detect_format(CAPTURES / "weather.har") is CaptureFormat.HAR
    assert detect_format(CAPTURES / "weather.flows") is CaptureFormat.FLOWS
    assert detect_format(CAPTURES / "weather.session") is CaptureFormat.SESSION
    copy = tmp_path / "capture.bin"
    shutil.copyfile(CAPTURES / "weather.har", copy)
    assert open_capture(copy).format is CaptureFormat.HAR  # by content, not by name


def test_chrome_har_websocket_messages(tmp_path: Path) -> None:
    har = {"log": {"version": "1.2", "entries": [{
        "startedDateTime": "2026-01-01T10:00:00.000Z",
        "request": {"method": "GET", "url": "wss://push.example.net/ws", "headers": [], "httpVersion": "HTTP/1.1"},
        "response": {"status": 101},
        "_webSocketMessages": [{"type": "send", "time": 1767261601.0, "opcode": 1,
                                "data": json.dumps({"imei": "356938035643809"})},
                               {"type": "receive", "time": 1767261602.0, "opcode": 1, "data": "{}"}],
    }]}}
    path = tmp_path / "chrome.har"
    path.write_text(json.dumps(har))
    report = analyse_traffic(TrafficOptions(captures=(path,), device=DEVICE))
    assert [(o.identifier, o.cleartext, "websocket" in o.encodings) for o in report.observations] == [
        ("imei", False, True)]


def test_har_odd_entries_keep_what_they_can(tmp_path: Path) -> None:
    def entry(url: str, **extra: object) -> dict[str, object]:
        return {"startedDateTime": "2026-01-01T10:00:00.000+0800",
                "request": {"method": "GET", "url": url, "headers": [], "httpVersion": "h2"}, **extra}

    frames = [{"type": "send", "time": 1767261601.0, "opcode": 2, "data": "@@ not base64 @@"},
              {"type": "send", "time": 1767261602.0, "opcode": 1, "data": json.dumps({"imei": "356938035643809"})}]
    no_time = entry("https://a.example.com/")
    del no_time["startedDateTime"]
    har = {"log": {"version": "1.2", "entries": [
        entry("wss://push.example.net/ws", _webSocketMessages=frames),
        entry("not a url"),
        no_time,
        entry("https://b.example.com/?imei=356938035643809"),
    ]}}
    path = tmp_path / "odd.har"
    path.write_text(json.dumps(har))
    report = analyse_traffic(TrafficOptions(captures=(path,), device=DEVICE))
    # The bad binary frame costs only itself; the text frame after it and the other good entries are analysed.
    assert report.flows == 3
    assert sorted(o.host for o in report.observations) == ["b.example.com", "push.example.net"]
    assert any("entry 0: WebSocket frame 0 skipped" in w for w in report.warnings)
    assert any("entry 1 skipped" in w and "URL without a host" in w for w in report.warnings)
    # An entry without a time keeps its data, placed at the time of the entry before it.
    assert any("entry 2: no startedDateTime; placed at the time of the entry before it" in w for w in report.warnings)


def test_har_times_as_exporters_write_them(tmp_path: Path) -> None:
    def entry(when: object, host: str) -> dict[str, object]:
        return {"startedDateTime": when, "request": {"method": "GET", "url": f"https://{host}/?imei=356938035643809",
                                                     "headers": []}}

    har = {"log": {"version": "1.2", "entries": [
        entry("not a time", "lost.example.com"),  # nothing before it to place it by: skipped, with the reason
        entry("2026-01-01T10:00:00.000+08:00", "iso.example.com"),
        entry("Thu, 01 Jan 2026 02:00:01 GMT", "http-date.example.com"),
        entry(1767232802000, "epoch-ms.example.com"),
        entry("2026-01-01 02:00:03", "naive.example.com"),  # no offset: UTC, the same on every machine
        entry("yesterday", "odd.example.com"),
    ]}}
    path = tmp_path / "times.har"
    path.write_text(json.dumps(har))
    report = analyse_traffic(TrafficOptions(captures=(path,), device=DEVICE))
    times = {o.host: o.time for o in report.observations}
    assert times == {"iso.example.com": 1767232800.0, "http-date.example.com": 1767232801.0,
                     "epoch-ms.example.com": 1767232802.0, "naive.example.com": 1767232803.0,
                     "odd.example.com": 1767232803.0}
    assert any("entry 0 skipped" in w and "unreadable startedDateTime 'not a time'" in w for w in report.warnings)
    assert any("entry 5: unreadable startedDateTime 'yesterday'; placed" in w for w in report.warnings)
