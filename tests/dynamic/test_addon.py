"""The addon inside mitmproxy's test harness: options, sinkhole answers, marks, analysis of flows and messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mitmproxy import exceptions, http
from mitmproxy.test import taddons, tflow, tutils
from mitmproxy.websocket import WebSocketMessage
from wsproto.frame_protocol import Opcode

from scanner.dynamic.addon import Divulge
from scanner.dynamic.flowfile import load_flows
from scanner.knowledge.sdks import shared_catalog as load_sdk_catalog

from .conftest import DEVICE

IMEI = "356938035643809"


def _flow(url: str, body: bytes = b"", method: str = "POST") -> http.HTTPFlow:
    req = http.Request.make(method, url, body, http.Headers(content_type="application/json"))
    flow = tflow.tflow(req=req)
    return flow


@pytest.fixture
def addon() -> Divulge:
    return Divulge(catalog=load_sdk_catalog())


def test_options_are_checked_in_configure(addon: Divulge, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("imei: 12\n")
    with taddons.context(addon) as tctx:
        with pytest.raises(exceptions.OptionsError, match=r"bad\.yaml:1: imei: '12' does not look like"):
            tctx.configure(addon, divulge_device=str(bad))
        with pytest.raises(exceptions.OptionsError, match="sinkhole_status"):
            tctx.configure(addon, divulge_sinkhole_status=99)
        with pytest.raises(exceptions.OptionsError):
            tctx.configure(addon, divulge_mode="teleport")


def test_sinkhole_answers_and_switches_to_lazy(addon: Divulge) -> None:
    from mitmproxy.addons.proxyserver import Proxyserver

    with taddons.context(addon, Proxyserver()) as tctx:
        tctx.configure(addon, divulge_mode="sinkhole", divulge_sinkhole_status=418, divulge_device=str(DEVICE))
        assert tctx.options.connection_strategy == "lazy"
        flow = _flow("https://t.appsflyer.com/api", json.dumps({"imei": IMEI}).encode())
        addon.request(flow)
        assert flow.response is not None and flow.response.status_code == 418
        addon.response(flow)
        obs = flow.metadata["divulge"]
        assert [(o["identifier"], o["sdk"], o["phase"]) for o in obs] == [("imei", "appsflyer", "before_consent")]


def test_forward_mode_does_not_answer(addon: Divulge) -> None:
    with taddons.context(addon) as tctx:
        tctx.configure(addon, divulge_mode="forward")
        flow = _flow("https://example.org/")
        addon.request(flow)
        assert flow.response is None


def test_mark_request_sets_phase_and_is_written(addon: Divulge, tmp_path: Path) -> None:
    with taddons.context(addon) as tctx:
        tctx.configure(addon, divulge_device=str(DEVICE), divulge_session=str(tmp_path))
        mark = _flow("http://divulge.mark/consent", method="GET")
        addon.request(mark)
        assert mark.response is not None and b"marked consent" in (mark.response.content or b"")
        addon.response(mark)
        later = _flow("https://ulogs.umeng.com/unify_logs", f"mac=02:1a:2b:3c:4d:5e&imei={IMEI}".encode())
        later.request.timestamp_start = mark.request.timestamp_start + 1
        later.response = tutils.tresp()
        addon.response(later)
        addon.done()
    assert [json.loads(line)["name"] for line in (tmp_path / "marks.jsonl").read_text().splitlines()] == ["consent"]
    lines = [json.loads(line) for line in (tmp_path / "observations.jsonl").read_text().splitlines()]
    assert {(o["identifier"], o["phase"]) for o in lines} == {("imei", "after_consent"), ("mac_address", "after_consent")}
    assert len(load_flows(tmp_path / "flows.mitm")) == 2  # the mark request is part of the capture


def test_marks_from_another_terminal_are_picked_up(addon: Divulge, tmp_path: Path) -> None:
    from scanner.dynamic.marks import append_mark

    with taddons.context(addon) as tctx:
        tctx.configure(addon, divulge_device=str(DEVICE), divulge_session=str(tmp_path))
        flow = _flow("https://ulogs.umeng.com/x", IMEI.encode())
        append_mark(tmp_path, "refuse", when=flow.request.timestamp_start - 1)
        flow.response = tutils.tresp()
        addon.response(flow)
        assert flow.metadata["divulge"][0]["phase"] == "after_refusal"
        addon.done()


def test_websocket_client_messages(addon: Divulge) -> None:
    with taddons.context(addon) as tctx:
        tctx.configure(addon, divulge_device=str(DEVICE))
        flow = tflow.twebsocketflow(messages=False)
        assert flow.websocket is not None
        flow.websocket.messages.append(WebSocketMessage(Opcode.TEXT, True, json.dumps({"imei": IMEI}).encode()))
        addon.websocket_message(flow)
        flow.websocket.messages.append(WebSocketMessage(Opcode.TEXT, False, json.dumps({"echo": IMEI}).encode()))
        addon.websocket_message(flow)  # server-to-client: not data leaving the device
        obs = flow.metadata["divulge"]
        assert [(o["identifier"], o["where"], "websocket" in o["encodings"]) for o in obs] == [("imei", "body", True)]


def test_addon_file_loads_as_mitmdump_script() -> None:
    from mitmproxy.addons import script

    from scanner.dynamic.capture import addon_path

    module = script.load_script(str(addon_path()))
    assert module is not None and type(module.addons[0]).__name__ == "Divulge"
