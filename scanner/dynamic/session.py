"""Session directories written by `divulge capture`: their layout and reading them back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from scanner.dynamic.flowfile import read_flow_file
from scanner.dynamic.marks import MARKS_FILE, read_jsonl, read_marks
from scanner.dynamic.readers import CaptureContents, CaptureFormat, CaptureReader
from scanner.errors import BadCapture

SESSION_FILE = "session.json"  # settings the capture ran with (mode, first party, device profile copy)
FLOWS_FILE = "flows.mitm"  # mitmproxy's own flow format, appended per flow
OBSERVATIONS_FILE = "observations.jsonl"  # live observations, one JSON object per line
DEVICE_FILE = "device.yaml"  # copy of the device profile, so the session can be re-analysed alone
PROXY_FILE = "proxy.json"  # where the running proxy listens (written once it is up)
TLS_FAILURES_FILE = "tls_failures.jsonl"  # connections the app would not let us read (pinning, untrusted CA)
SESSION_SCHEMA = "divulge/session/1"


class SessionReader(CaptureReader):
    format = CaptureFormat.SESSION

    def read(self) -> CaptureContents:
        contents = CaptureContents(timeline=True)
        settings_path = self.path / SESSION_FILE
        flows_path = self.path / FLOWS_FILE
        if not settings_path.exists() and not flows_path.exists():
            raise BadCapture(f"not a divulge session: neither {SESSION_FILE} nor {FLOWS_FILE} in it",
                             path=str(self.path))
        if settings_path.exists():
            try:
                contents.settings = json.loads(settings_path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                contents.warnings.append(f"{settings_path}: unreadable, settings ignored ({exc})")
        if flows_path.exists() and flows_path.stat().st_size:
            read_flow_file(flows_path, contents)
        contents.marks = read_marks(self.path / MARKS_FILE, contents.warnings)
        contents.tls_failures = read_tls_failures(self.path / TLS_FAILURES_FILE, contents.warnings)
        device = self.path / DEVICE_FILE
        if device.exists():
            contents.settings.setdefault("device_file", str(device))
        return contents


def read_tls_failures(path: Path, warnings: list[str]) -> list[dict[str, Any]]:
    """The TLS failures a capture recorded; a line cut by a killed proxy is skipped with a warning."""
    return read_jsonl(path, "TLS failure", lambda raw: {
        "time": float(raw["time"]), "host": str(raw["host"]), "kind": str(raw["kind"]),
        "error": str(raw.get("error") or "")}, warnings)
