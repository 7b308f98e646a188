"""Tracker protocols as data: every endpoint's own example request, the loader's errors, and the matching rules."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from scanner.cli import main
from scanner.dynamic.analysis import FlowAnalyzer
from scanner.dynamic.device import DeviceProfile
from scanner.dynamic.readers import FlowRecord
from scanner.errors import BadCatalog
from scanner.knowledge.protocols import Endpoint, ProtocolCatalog, load_protocols, shared_protocols
from scanner.knowledge.recipients import Recipients
from scanner.knowledge.sdks import shared_catalog

CATALOG = shared_protocols()


def _record(url: str, body: bytes | None = None, content_type: str | None = None,
            headers: tuple[tuple[str, str], ...] = (), method: str | None = None, flow_id: str = "f") -> FlowRecord:
    u = urlsplit(url)
    assert u.hostname
    all_headers = headers + ((("Content-Type", content_type),) if content_type else ())
    return FlowRecord(id=flow_id, time=0.0, method=method or ("POST" if body else "GET"), scheme=u.scheme,
                      host=u.hostname, port=u.port or 443, path=u.path + ("?" + u.query if u.query else ""),
                      headers=all_headers, body=body or b"")


def _analyzer(profile: DeviceProfile | None = None, protocols: ProtocolCatalog | None = None) -> FlowAnalyzer:
    return FlowAnalyzer(profile, Recipients(shared_catalog(None)), protocols=protocols)


def _example(endpoint: Endpoint) -> FlowRecord:
    ex = endpoint.example
    return _record(ex.url, ex.body, ex.content_type, ex.headers, ex.method, endpoint.id)


@pytest.mark.parametrize("endpoint", CATALOG.endpoints, ids=lambda e: e.id)
def test_example_request_yields_every_documented_field(endpoint: Endpoint) -> None:
    """Each endpoint's request, written to its documentation, is matched to it and gives each field it documents."""
    record = _example(endpoint)
    assert CATALOG.match(record.host, record.path) is endpoint
    observations = _analyzer().analyse(record).observations
    mine = [o for o in observations if o.value_label == f"protocol:{endpoint.id}"]
    got = {(o.data_type, o.identifier, o.where) for o in mine}
    want = {(f.data_type, f.identifier, f.where) for f in endpoint.fields}
    assert want <= got, f"{endpoint.file}:{endpoint.line}: not found {sorted(want - got, key=str)}"
    assert all(o.confidence == "protocol" for o in mine)


def test_shipped_files_pass_the_strict_reading_runs_skip() -> None:
    """Runs read the shipped files fast (libyaml, no schema pass): this is where their schema is enforced."""
    strict = load_protocols(strict=True)
    assert [e.id for e in strict.endpoints] == [e.id for e in CATALOG.endpoints]
    assert all(e.line for e in strict.endpoints)


def test_at_least_80_endpoints_with_unique_ids_sources_and_known_sdks() -> None:
    assert len(CATALOG) >= 80
    ids = [e.id for e in CATALOG.endpoints]
    assert len(ids) == len(set(ids))
    sdk_ids = set(shared_catalog(None).entries)
    unknown = {e.id: e.sdk for e in CATALOG.endpoints if e.sdk and e.sdk not in sdk_ids}
    assert not unknown, f"endpoints naming SDKs the catalog does not have: {unknown}"
    assert all(e.source.startswith("https://") for e in CATALOG.endpoints)


@pytest.mark.parametrize("sdk", [
    "google-firebase-analytics", "google-analytics", "google-admob", "facebook-analytics", "facebook-audience-network",
    "appsflyer", "adjust", "branch", "singular", "kochava", "amplitude", "mixpanel", "segment", "braze", "onesignal",
    "bugsnag", "sentry", "google-firebase-crashlytics", "microsoft-appcenter-analytics", "adobe-mobile-legacy",
    "tealium", "dynatrace", "newrelic", "applovin", "unity-ads", "ironsource", "vungle", "chartboost", "adcolony",
    "yandex-appmetrica", "umeng-analytics", "jpush", "tencent-bugly", "tencent-gdt", "tencent-mta", "pangle",
    "baidu-mobads", "getui", "sensorsdata", "growingio", "talkingdata", "alibaba-ut-analytics", "huawei-hianalytics",
])
def test_the_issue_s_vendors_are_covered(sdk: str) -> None:
    assert any(e.sdk == sdk for e in CATALOG.endpoints)


def test_placeholder_values_are_not_personal_data() -> None:
    """Zero ad ids (limit ad tracking) and empty fields are what an SDK sends when it has no id."""
    record = _record("https://app.adjust.com/session", b"gps_adid=00000000-0000-0000-0000-000000000000&android_uuid="
                     b"&idfv=null&android_id=0", "application/x-www-form-urlencoded")
    assert not [o for o in _analyzer().analyse(record).observations if o.confidence == "protocol"]


def test_a_dotted_json_path_is_not_any_key_of_that_name() -> None:
    """Segment's context.device.id is the device id; an `id` of a product in the same body is not."""
    body = b'{"event":"Viewed","properties":{"id":"sku-00123456"},"context":{"library":{"id":"analytics-android"}}}'
    record = _record("https://api.segment.io/v1/track", body, "application/json")
    kinds = {o.identifier for o in _analyzer().analyse(record).observations if o.confidence == "protocol"}
    assert "vendor_device_id" not in kinds


def test_no_protocol_for_other_hosts_and_paths() -> None:
    assert CATALOG.match("example.org", "/v1/track") is None
    assert CATALOG.match("api.segment.io", "/v1/projects/settings") is None
    assert CATALOG.match("evilsegment.io", "/v1/track") is None  # a suffix of the host name is not its parent


def test_subdomain_and_glob_hosts() -> None:
    assert CATALOG.match("o123.ingest.sentry.io", "/api/42/envelope/") is not None
    catalog = _catalog_from("""
vendor: Example
endpoints:
  - id: glob
    name: Glob host
    hosts: ['*-api.example.net']
    source: https://example.net/docs
    fields: [{query: uid, data_type: user_account, identifier: user_id}]
    example: {url: 'https://eu-api.example.net/x?uid=a1'}
""")
    assert catalog.match("eu-api.example.net", "/x") is not None and catalog.match("api.example.net", "/x") is None


def test_known_value_beats_the_protocol_field_it_sits_in() -> None:
    """With a device profile the advertising id under Adjust's gps_adid is one observation: the known value."""
    adid = "8be1b7a5-3024-4d33-aa56-f2ddda4d26b1"
    profile = DeviceProfile(identifiers={"advertising_id": adid})
    record = _record(f"https://app.adjust.com/session?gps_adid={adid}")
    found = [(o.identifier, o.confidence) for o in _analyzer(profile).analyse(record).observations
             if o.where == "query"]
    assert found == [("advertising_id", "confirmed")]


def test_a_known_value_of_the_same_kind_elsewhere_in_the_part_hides_the_protocol_field() -> None:
    """The profile's advertising id under another key of the query: the protocol's gps_adid (some other value) is no
    second advertising-id observation of that query, and the field is reported once even when the query says it
    twice."""
    adid = "8be1b7a5-3024-4d33-aa56-f2ddda4d26b1"
    profile = DeviceProfile(identifiers={"advertising_id": adid})
    record = _record(f"https://app.adjust.com/session?ad={adid}&gps_adid=0a1b2c3d-0000-4000-8000-00000000abcd")
    found = [(o.identifier, o.confidence, o.key) for o in _analyzer(profile).analyse(record).observations
             if o.where == "query"]
    assert found == [("advertising_id", "confirmed", "ad")]
    record = _record("https://app.adjust.com/session?gps_adid=0a1b2c3d-0000-4000-8000-00000000abcd"
                     "&gps_adid=0a1b2c3d-0000-4000-8000-00000000abcd")
    found = [(o.identifier, o.confidence) for o in _analyzer().analyse(record).observations if o.where == "query"]
    assert found == [("advertising_id", "protocol")]


def test_protocols_can_be_turned_off() -> None:
    record = _example(CATALOG.endpoints[0])
    assert not [o for o in _analyzer(protocols=ProtocolCatalog(())).analyse(record).observations
                if o.confidence == "protocol"]


def _catalog_from(text: str, tmp: Path | None = None) -> ProtocolCatalog:
    import tempfile

    folder = Path(tempfile.mkdtemp()) if tmp is None else tmp
    path = folder / "extra.yaml"
    path.write_text(text, encoding="utf-8")
    return ProtocolCatalog([e for e in load_protocols([path]).endpoints if e.file == str(path)])


@pytest.mark.parametrize(("text", "line", "words"), [
    ("vendor: Xy\nendpoints:\n  - id: a\n    name: Aaa\n    hosts: [x.org]\n    source: https://x.org\n"
     "    fields:\n      - {query: uid, data_type: nme}\n    example: {url: 'https://x.org/'}\n", 8, "unknown data type"),
    ("vendor: Xy\nendpoints:\n  - id: a\n    name: Aaa\n    hosts: [x.org]\n    source: https://x.org\n"
     "    path: '(?P<v>[a-z]+'\n    fields: [{query: uid, data_type: name}]\n    example: {url: 'https://x.org/'}\n",
     7, "not a regular expression"),
    ("vendor: Xy\nendpoints:\n  - id: a\n    name: Aaa\n    hosts: [x.org]\n    source: https://x.org\n"
     "    fields:\n      - {query: uid, form: uid, data_type: name}\n    example: {url: 'https://x.org/'}\n", 8,
     "exactly one of"),
    ("vendor: Xy\nendpoints:\n  - id: a\n    name: Aaa\n  hosts: [x.org]\n", 5, "invalid YAML"),
    ("vendor: Xy\nendpoints:\n  - id: firebase-installations\n    name: Aaa\n    hosts: [x.org]\n    source: https://x.org\n"
     "    fields: [{query: uid, data_type: name}]\n    example: {url: 'https://x.org/'}\n", 3, "also at"),
])
def test_malformed_protocol_file_names_file_and_line(tmp_path: Path, text: str, line: int, words: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(BadCatalog) as caught:
        load_protocols([path])
    assert caught.value.path == str(path) and caught.value.line == line and words in str(caught.value)


def test_cli_exit_2_on_a_malformed_protocol_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("vendor: Xy\nendpoints:\n  - id: a\n    nme: Aaa\n", encoding="utf-8")
    har = tmp_path / "c.har"
    har.write_text('{"log": {"version": "1.2", "entries": []}}', encoding="utf-8")
    result = CliRunner().invoke(main, ["traffic", str(har), "--protocols", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:4:" in result.output


# --- first parties named after the app ------------------------------------------------------------------------


@pytest.mark.parametrize(("package", "label", "host", "party"), [
    ("br.com.example.app", None, "api.example.com.br", "first"),  # the reversed package name
    ("br.com.example.app", "Example Shop", "cdn.exampleshop.com", "first"),  # the label run together
    ("br.com.example.app", None, "static.example.net", "first"),  # a distinctive package word, other suffix
    ("com.spotify.music", "Spotify", "spclient.wg.spotify.com", "first"),
    ("com.spotify.music", "Spotify", "music.com", "third"),  # the product word is no company
    ("br.com.example.app", None, "app.com.br", "third"),  # com.br is a public suffix, nobody's domain
    ("com.weather.forecast", "Weather Forecast", "weatherforecastapi.io", "third"),
    ("com.example.analytics", None, "api.mixpanel.com", "third"),
    ("com.facebook.katana", "Facebook", "graph.facebook.com", "first"),  # an SDK vendor's own app
])
def test_first_party_from_package_name_and_label(package: str, label: str | None, host: str, party: str) -> None:
    from scanner.knowledge.recipients import AppNames

    recipients = Recipients(shared_catalog(None), (), AppNames(package, label))
    assert recipients.resolve(host).party == party


def _brazilian_app_har(tmp_path: Path) -> Path:
    """A HAR with one request of the app br.com.example.app to its own API, carrying a device id."""
    har = tmp_path / "c.har"
    entry = {"startedDateTime": "2026-01-01T00:00:00Z", "time": 1, "request": {
        "method": "GET", "url": "https://api.example.com.br/v1/me?device_id=C8F9E604-F01A-4BD9-95C6-8E5357DF265D",
        "httpVersion": "HTTP/1.1", "headers": [], "queryString": [], "cookies": [], "headersSize": -1,
        "bodySize": 0}, "response": {"status": 200, "statusText": "", "httpVersion": "HTTP/1.1", "headers": [],
                                     "cookies": [], "content": {"size": 0, "mimeType": ""}, "redirectURL": "",
                                     "headersSize": -1, "bodySize": 0}, "cache": {}, "timings": {}}
    har.write_text(json.dumps({"log": {"version": "1.2", "entries": [entry]}}), encoding="utf-8")
    return har


def test_traffic_package_option_makes_the_app_s_domain_first_party(tmp_path: Path) -> None:
    har = _brazilian_app_har(tmp_path)
    parties = {}
    for args in ([], ["--package", "br.com.example.app"]):
        result = CliRunner().invoke(main, ["traffic", str(har), "--format", "json", *args])
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        parties[bool(args)] = {o["party"] for o in report["observations"]}
    assert parties == {False: {"third"}, True: {"first"}}


def test_scan_first_party_option(tmp_path: Path) -> None:
    har = _brazilian_app_har(tmp_path)
    parties = {}
    for args in ([], ["--first-party", "example.com.br"]):
        result = CliRunner().invoke(main, ["scan", "--traffic", str(har), "--format", "json", "--fail-on", "none",
                                           *args])
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        parties[bool(args)] = {o["party"] for o in report["traffic"]["observations"]}
    assert parties == {False: {"third"}, True: {"first"}}
