"""`divulge capture` as a user runs it: a subprocess, --app for first parties, a mark, Ctrl-C, then analysis."""

from __future__ import annotations

import json
import os
import re
import signal
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
from click.testing import CliRunner

from scanner.cli import main

from .conftest import DEVICE, REPO

DIVULGE = [sys.executable, "-c", "from scanner.cli import main; main()"]


def _wait_for_line(process: subprocess.Popen, pattern: str, timeout: float = 30.0) -> re.Match[str]:
    assert process.stderr is not None
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        seen.append(line)
        match = re.search(pattern, line)
        if match:
            return match
    raise AssertionError(f"no line matching {pattern!r} in: {''.join(seen)}")


def test_capture_with_app_mark_and_ctrl_c(tmp_path: Path) -> None:
    session = tmp_path / "session"
    process = subprocess.Popen(
        [*DIVULGE, "capture", "-o", str(session), "--listen-port", "0", "--mode", "sinkhole",
         "--app", str(REPO / "fixtures" / "apks" / "shopping.apk"), "--device", str(DEVICE),
         "--confdir", str(tmp_path / "ca")],
        stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        address = _wait_for_line(process, r"proxy:\s+(127\.0\.0\.1:\d+)")[1]
        ca = _wait_for_line(process, r"CA certificate: (\S+)")[1]
        proxy = f"http://{address}"
        with httpx.Client(proxy=proxy, verify=ssl.create_default_context(cafile=ca), timeout=10) as client:
            client.post("https://api.shop.divulge-fixture.example/v1/login", json={"email": "alice.tester@example.com"})
            marked = CliRunner().invoke(main, ["mark", "consent", "--proxy", address])
            assert marked.exit_code == 0, marked.output
            client.post("https://graph.facebook.com/v17.0/1/activities", data={"anon_id": "x",
                                                                               "email": "alice.tester@example.com"})
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
    settings = json.loads((session / "session.json").read_text())
    assert "divulge-fixture.example" in settings["first_party"], "first parties from the app's own endpoints"
    observed = [json.loads(line) for line in (session / "observations.jsonl").read_text().splitlines()]
    email = {(o["host"], o["party"], o["phase"]) for o in observed if o["data_type"] == "email"}
    assert email == {("api.shop.divulge-fixture.example", "first", "before_consent"),
                     ("graph.facebook.com", "third", "after_consent")}
