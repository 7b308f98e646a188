"""The real thing: mitmdump with the divulge addon on 127.0.0.1, HTTPS clients trusting the session CA."""

from __future__ import annotations

import http.server
import json
import socket
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from mitmproxy import http as mhttp

from scanner.cli import main
from scanner.dynamic.capture import CaptureOptions, check_options
from scanner.dynamic.flowfile import load_flows
from scanner.errors import ProxyError

from .conftest import RunningProxy, h2_request, start_proxy

IMEI = "356938035643809"


def _wait_for(predicate, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    return predicate()


class _Counter(http.server.BaseHTTPRequestHandler):
    hits = 0

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        type(self).hits += 1
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    do_GET = do_POST  # noqa: N815

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def upstream() -> Iterator[tuple[str, int, type[_Counter]]]:
    handler = type("Counter", (_Counter,), {"hits": 0})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "127.0.0.1", server.server_address[1], handler
    server.shutdown()


def test_sinkhole_https_to_a_host_that_resolves_nowhere(sinkhole_proxy: RunningProxy) -> None:
    with httpx.Client(proxy=sinkhole_proxy.url, verify=str(sinkhole_proxy.ca), timeout=10) as client:
        response = client.post("https://sdk.nothing.invalid/collect", json={"imei": IMEI, "t": 1})
    assert response.status_code == 204 and response.headers["x-divulge"] == "sinkhole"
    # Written as it happens: the observation is on disk while the proxy still runs.
    found = _wait_for(lambda: [o for o in sinkhole_proxy.observations() if o["host"] == "sdk.nothing.invalid"])
    assert [(o["identifier"], o["where"], o["cleartext"]) for o in found] == [("imei", "body", False)]


def test_sinkhole_makes_no_outgoing_connection(sinkhole_proxy: RunningProxy, upstream) -> None:
    host, port, handler = upstream
    before = handler.hits
    with httpx.Client(proxy=sinkhole_proxy.url, timeout=10) as client:
        response = client.post(f"http://{host}:{port}/x", content=b"hello")
    assert response.status_code == 204
    assert handler.hits == before  # the real server never heard of it


def test_http2_through_the_proxy(sinkhole_proxy: RunningProxy) -> None:
    status, alpn = h2_request(sinkhole_proxy, "mi.gdt.qq.com", f"/gdt_mview.fcg?muid={IMEI}&posid=1")
    assert (status, alpn) == (204, "h2")
    found = _wait_for(lambda: [o for o in sinkhole_proxy.observations() if o["host"] == "mi.gdt.qq.com"])
    assert found and found[0]["identifier"] == "imei" and found[0]["sdk"] == "tencent-gdt"
    flows = _wait_for(lambda: [f for f in load_flows(sinkhole_proxy.session / "flows.mitm")
                               if isinstance(f, mhttp.HTTPFlow) and f.request.pretty_host == "mi.gdt.qq.com"])
    assert flows[0].request.http_version == "HTTP/2.0"


def test_consent_mark_from_the_cli(sinkhole_proxy: RunningProxy) -> None:
    runner = CliRunner()
    before = runner.invoke(main, ["mark", "consent", "--proxy", f"{sinkhole_proxy.host}:{sinkhole_proxy.port}"])
    assert before.exit_code == 0, before.output
    with httpx.Client(proxy=sinkhole_proxy.url, verify=str(sinkhole_proxy.ca), timeout=10) as client:
        client.get("https://graph.facebook.com/v17.0/1/activities?advertiser_id=38400000-8cf0-11bd-b23e-10b96e40000d")
    found = _wait_for(lambda: [o for o in sinkhole_proxy.observations() if o["host"] == "graph.facebook.com"])
    assert found[0]["phase"] == "after_consent"
    assert "consent" in (sinkhole_proxy.session / "marks.jsonl").read_text()


def test_ca_key_is_owner_only(sinkhole_proxy: RunningProxy) -> None:
    key = sinkhole_proxy.confdir / "mitmproxy-ca.pem"
    assert key.exists() and stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(sinkhole_proxy.confdir.stat().st_mode) == 0o700


def test_forward_mode_relays_and_session_reanalyses(tmp_path: Path, upstream) -> None:
    host, port, handler = upstream
    proxy = start_proxy(tmp_path, "forward")
    try:
        before = handler.hits
        with httpx.Client(proxy=proxy.url, timeout=10) as client:
            response = client.post(f"http://{host}:{port}/feed", data={"mac": "021A2B3C4D5E", "imei": IMEI})
        assert response.status_code == 200 and response.text == "ok" and handler.hits == before + 1
        assert _wait_for(lambda: proxy.observations())
    finally:
        assert proxy.process.stop() == 0
    result = CliRunner().invoke(main, ["traffic", str(proxy.session), "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["schema"] == "divulge/traffic/1" and doc["flows"] == 1
    assert {(o["identifier"], o["cleartext"], o["phase"]) for o in doc["observations"]} == {
        ("imei", True, "before_consent"), ("mac_address", True, "before_consent")}


def test_off_loopback_needs_proxy_auth(tmp_path: Path) -> None:
    with pytest.raises(ProxyError, match="--proxy-auth"):
        check_options(CaptureOptions(output=tmp_path, listen_host="0.0.0.0"))
    warnings = check_options(CaptureOptions(output=tmp_path, listen_host="0.0.0.0", proxy_auth="u:p"))
    assert warnings and "reachable from the network" in warnings[0]
    result = CliRunner().invoke(main, ["capture", "-o", str(tmp_path / "s"), "--listen-host", "0.0.0.0"])
    assert result.exit_code == 2 and "--proxy-auth" in result.output


def test_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    try:
        port = blocker.getsockname()[1]
        from scanner.dynamic.capture import ProxyProcess, mitmdump_command, prepare_confdir

        options = CaptureOptions(output=tmp_path, listen_port=port, confdir=tmp_path / "ca")
        confdir = prepare_confdir(tmp_path / "ca")
        with open(tmp_path / "log", "wb") as log_file:
            with pytest.raises(ProxyError, match="exited with status"):
                ProxyProcess(mitmdump_command(options, [], confdir), tmp_path, confdir, log_file).start()
    finally:
        blocker.close()


def test_scenario_player_live_matches_the_committed_capture(sinkhole_proxy: RunningProxy) -> None:
    import importlib.util

    from .conftest import CAPTURES, SCENARIOS

    spec = importlib.util.spec_from_file_location("divulge_play", SCENARIOS / "play.py")
    assert spec and spec.loader
    play = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(play)
    scenario = play.load_scenario(SCENARIOS / "shopping.yaml")
    assert play.play(scenario, sinkhole_proxy.url, sinkhole_proxy.ca) == len(scenario["steps"])
    hosts = {"app-measurement.com", "t.appsflyer.com", "api.shop.divulge-fixture.example"}
    # The committed capture was recorded before tracker protocols existed: its observations are the profile's
    # values (the protocol fields live are tested in test_addon and test_protocols).
    live = _wait_for(lambda: {(o["data_type"], o["identifier"], o["host"], o["where"])
                              for o in sinkhole_proxy.observations()
                              if o["host"] in hosts and o["confidence"] == "confirmed"})
    committed = {(o["data_type"], o["identifier"], o["host"], o["where"])
                 for o in map(json.loads, (CAPTURES / "shopping.session" / "observations.jsonl").read_text().splitlines())
                 if o["host"] in hosts and o["confidence"] == "confirmed"}
    assert live == committed
