"""Every input the fuzzer (or a user) ever broke a reader with, reduced to the smallest bytes that did it.

Each goes through the real `divulge` CLI: exit 2 with one line naming the file, or exit 0 when the damaged part
can be skipped with a warning, never exit 3 (internal error) or a hang.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from mitmproxy.io import tnetstring

from scanner.cli import main

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures"
REFERENCE_TRAFFIC = REPO.parent / "shared" / "reference" / "traffic"
DEVICE = FIXTURES / "devices" / "test-phone.yaml"


def divulge(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def one_line_naming(stderr: str, path: Path) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("divulge: error:")]
    assert len(lines) == 1, stderr
    assert str(path) in lines[0], lines[0]
    assert "internal error" not in stderr and "Traceback" not in stderr
    return lines[0]


def _flows() -> list[dict]:
    stream, flows = io.BytesIO((FIXTURES / "captures" / "weather.flows").read_bytes()), []
    while True:
        try:
            flows.append(tnetstring.load(stream))
        except ValueError:
            return flows


def _write_flows(path: Path, flows: list[dict]) -> Path:
    with open(path, "wb") as fh:
        for flow in flows:
            tnetstring.dump(flow, fh)
    return path


# --- YAML with a control character: yaml.reader.ReaderError was an internal error -------------------------


@pytest.mark.parametrize("option, name, text, line", [
    ("--device", "phone.yaml", 'imei: "35693803564380\x01"\n', 1),
    ("--policy", "privacy.yaml", "schema: divulge/privacy/1\napp: \x1b[31mweather\n", 2),
])
def test_control_character_in_yaml_is_a_one_line_error(tmp_path: Path, option: str, name: str, text: str,
                                                       line: int) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    args = (["traffic", str(FIXTURES / "captures" / "weather.har"), "--device", str(path)] if option == "--device"
            else ["scan", str(FIXTURES / "apks" / "weather.apk"), "--policy", str(path)])
    code, _, stderr = divulge(*args)
    assert code == 2, stderr
    assert f"{path}:{line}: invalid YAML: special characters are not allowed (U+00" in one_line_naming(stderr, path)


def test_control_character_line_is_the_line_it_is_on(tmp_path: Path) -> None:
    path = tmp_path / "phone.yaml"
    path.write_text('label: x\nimei: "356938035643809"\nserial: "a\x07"\n', encoding="utf-8")
    code, _, stderr = divulge("traffic", str(FIXTURES / "captures" / "weather.har"), "--device", str(path))
    assert code == 2 and f"{path}:3: invalid YAML" in stderr, stderr


# --- damaged flow files: KeyError 'cipher' / 'metadata' / 'timestamp_start' were internal errors -------------


@pytest.mark.parametrize("damage", ["metadata", "client_conn.cipher", "request.timestamp_start"])
def test_flow_missing_a_field_is_skipped_and_the_rest_analysed(tmp_path: Path, damage: str) -> None:
    flows = _flows()
    target = flows[0]
    *parents, key = damage.split(".")
    for parent in parents:
        target = target[parent]
    del target[key]
    path = _write_flows(tmp_path / "damaged.flows", flows)
    code, stdout, stderr = divulge("traffic", str(path), "--device", str(DEVICE), "--format", "json")
    assert code == 0, stderr
    skipped = [line for line in stderr.splitlines() if "flow 1 skipped:" in line]
    assert len(skipped) == 1 and key in skipped[0], stderr
    _, whole, _ = divulge("traffic", str(FIXTURES / "captures" / "weather.flows"), "--device", str(DEVICE),
                          "--format", "json")
    assert json.loads(stdout)["flows"] == json.loads(whole)["flows"] - 1


def test_flow_file_of_only_damaged_flows_is_a_one_line_error(tmp_path: Path) -> None:
    flows = _flows()[:2]
    for flow in flows:
        del flow["metadata"]
    path = _write_flows(tmp_path / "all-damaged.flows", flows)
    code, _, stderr = divulge("traffic", str(path))
    assert code == 2
    assert "no readable flow among 2 records (flow 1: missing field 'metadata')" in one_line_naming(stderr, path)


def test_flow_whose_version_never_migrates_does_not_hang(tmp_path: Path) -> None:
    # Found by bench/fuzz.py: a version a converter does not advance made mitmproxy's migrate_flow loop forever.
    path = _write_flows(tmp_path / "loop.flows", [{b"version": 7, "version": 7}])
    code, _, stderr = divulge("traffic", str(path))
    assert code == 2
    assert "flow format version 7 does not migrate" in one_line_naming(stderr, path)


def test_flow_of_an_unknown_version_is_named(tmp_path: Path) -> None:
    path = _write_flows(tmp_path / "future.flows", [{"version": 999}])
    code, _, stderr = divulge("traffic", str(path))
    assert code == 2 and "flow format version 999 is not one mitmproxy" in one_line_naming(stderr, path)


def test_a_record_that_is_not_a_flow_is_skipped(tmp_path: Path) -> None:
    path = _write_flows(tmp_path / "list.flows", [[1, 2, 3], *_flows()])  # type: ignore[list-item]
    code, _, stderr = divulge("traffic", str(path), "--device", str(DEVICE), "--format", "json")
    assert code == 0 and "flow 1 skipped: TypeError: a list, not a flow" in stderr, stderr


def test_truncated_flow_file_keeps_the_flows_before_the_cut(tmp_path: Path) -> None:
    data = (FIXTURES / "captures" / "weather.flows").read_bytes()
    path = tmp_path / "cut.flows"
    path.write_bytes(data[: len(data) - 40])
    code, _, stderr = divulge("traffic", str(path), "--device", str(DEVICE), "--format", "json")
    assert code == 0 and "truncated or corrupt after flow" in stderr, stderr


# --- a real flow file of format 7 with WebSocket messages: TypeError (str content) was an internal error -----


def test_mitmproxy_dumpfile_7_with_websocket_messages(tmp_path: Path) -> None:
    source = REFERENCE_TRAFFIC / "mitmproxy__mitmproxy__dumpfile-7-websocket.mitm"
    if not source.is_file():
        pytest.skip("shared reference traffic not present")
    path = tmp_path / source.name  # read from a copy: the reference stays untouched
    shutil.copyfile(source, path)
    code, stdout, stderr = divulge("traffic", str(path), "--format", "json")
    assert code == 0, stderr
    assert '"flows": 6' in stdout
    assert '"scheme": "ws' in stdout or "ws://" in stdout or "wss://" in stdout


# --- a .docx whose zip directory is intact but whose deflate stream is not: zlib.error was an internal error ----


def test_docx_with_a_damaged_deflate_stream() -> None:
    path = FIXTURES / "bad" / "damaged-deflate.docx"  # found by bench/fuzz.py (policy_docx, seed 15, mutant 261)
    code, _, stderr = divulge("policy", "validate", str(path))
    assert code == 2
    assert "unreadable .docx (error: Error -3 while decompressing data" in one_line_naming(stderr, path)
