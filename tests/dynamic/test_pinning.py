"""Hosts the app will not let the proxy read (untrusted CA, certificate pinning) are recorded as blind spots.

A real mitmdump with our addon; the "app" is a TLS client through its CONNECT tunnel that either distrusts the
proxy's CA or completes the handshake and hangs up without a request, as OkHttp's CertificatePinner does.
"""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from scanner.dynamic.traffic import TrafficOptions, analyse_traffic

from .conftest import RunningProxy, connect_tunnel, start_proxy

IMEI = "356938035643809"


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningProxy]:
    running = start_proxy(tmp_path_factory.mktemp("pinning"), "sinkhole")
    yield running
    running.process.stop()


def _failures(session: Path, count: int) -> list[dict]:
    path = session / "tls_failures.jsonl"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lines = path.read_text().splitlines() if path.exists() else []
        if len(lines) >= count:
            return [json.loads(line) for line in lines]
        time.sleep(0.05)
    raise AssertionError(f"expected {count} TLS failures in {path}")


def test_rejected_certificate_and_pinned_hang_up_are_blind_spots(proxy: RunningProxy) -> None:
    # 1. An app that does not trust the proxy's CA (Android 7+ without a network security config opt-in).
    raw = connect_tunnel(proxy, "untrusting.divulge-fixture.example")
    strict = ssl.create_default_context()  # the system's CAs only: the proxy's certificate is refused
    with pytest.raises(ssl.SSLCertVerificationError):
        strict.wrap_socket(raw, server_hostname="untrusting.divulge-fixture.example")
    raw.close()
    # 2. A pinned host: the handshake succeeds (the CA is trusted), then the app checks its pins and hangs up.
    raw = connect_tunnel(proxy, "pinned.divulge-fixture.example")
    trusting = ssl.create_default_context(cafile=str(proxy.ca))
    tls = trusting.wrap_socket(raw, server_hostname="pinned.divulge-fixture.example")
    tls.close()
    # 3. A host the app does talk to through the proxy: no blind spot.
    with httpx.Client(proxy=proxy.url, verify=str(proxy.ca), timeout=10) as client:
        assert client.get(f"https://seen.divulge-fixture.example/v1?imei={IMEI}").status_code == 204

    failures = _failures(proxy.session, 2)
    assert sorted((f["host"], f["kind"]) for f in failures) == [
        ("pinned.divulge-fixture.example", "closed_without_request"),
        ("untrusting.divulge-fixture.example", "handshake_failed")]
    assert "does not trust" in next(f["error"] for f in failures if f["kind"] == "handshake_failed")

    time.sleep(0.5)  # the sinkhole flow is written after its response
    report = analyse_traffic(TrafficOptions(captures=(proxy.session,)))
    assert [(u["host"], u["kind"], u["count"]) for u in report.unseen] == [
        ("pinned.divulge-fixture.example", "closed_without_request", 1),
        ("untrusting.divulge-fixture.example", "handshake_failed", 1)]
    warning = next(w for w in report.warnings if w.startswith("TLS interception failed"))
    assert "2 host(s)" in warning and "lower bound" in warning
    assert "seen.divulge-fixture.example" not in warning
    assert any(o.host == "seen.divulge-fixture.example" for o in report.observations)


def test_a_line_cut_by_a_killed_proxy_is_skipped(tmp_path: Path) -> None:
    session = tmp_path / "session"
    session.mkdir()
    (session / "session.json").write_text(json.dumps({"schema": "divulge/session/1"}))
    (session / "tls_failures.jsonl").write_text(
        json.dumps({"time": 1.0, "host": "a.example", "kind": "handshake_failed", "error": "x"}) + "\n"
        + '{"time": 2.0, "host": "b.exa')
    report = analyse_traffic(TrafficOptions(captures=(session,)))
    assert [u["host"] for u in report.unseen] == ["a.example"]
    assert any("tls_failures.jsonl:2: unreadable line skipped" in w for w in report.warnings)


def test_an_unreadable_tls_failure_log_is_one_line_and_exit_2(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from scanner.cli import main

    session = tmp_path / "session"
    (session / "tls_failures.jsonl").mkdir(parents=True)  # a directory where the log should be: not readable
    (session / "session.json").write_text(json.dumps({"schema": "divulge/session/1"}))
    result = CliRunner().invoke(main, ["traffic", str(session)])
    assert result.exit_code == 2
    assert "cannot read TLS failures" in result.output and "Traceback" not in result.output
