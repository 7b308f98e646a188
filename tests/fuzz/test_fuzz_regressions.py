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


def test_flow_with_an_unknown_field_is_skipped(tmp_path: Path) -> None:
    # Found by bench/fuzz.py (flows, seed 16, mutant 499): mitmproxy's set_state asserts no key is left over.
    flows = _flows()
    flows[0]["x"] = flows[0]["comment"]
    path = _write_flows(tmp_path / "extra.flows", flows)
    code, _, stderr = divulge("traffic", str(path), "--device", str(DEVICE), "--format", "json")
    assert code == 0 and "flow 1 skipped: AssertionError" in stderr, stderr


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


# --- size bounds: what a user can hand us that is far too big is refused before it is read ----------------------


def test_oversized_datasafety_csv_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from scanner.policy import datasafety_csv

    monkeypatch.setattr(datasafety_csv, "MAX_CSV_BYTES", 1000)
    path = tmp_path / "big.csv"
    path.write_bytes((FIXTURES / "declarations" / "weather.datasafety.csv").read_bytes())
    code, _, stderr = divulge("policy", "validate", str(path))
    assert code == 2 and "too large for a Data safety CSV" in one_line_naming(stderr, path)


@pytest.mark.parametrize("limit, message", [("MAX_RULE_FILES", "over 2 rule files"),
                                            ("MAX_PACK_BYTES", "rule files over 0 MiB in all")])
def test_oversized_rule_pack_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, limit: str,
                                        message: str) -> None:
    from scanner.engine import loader

    monkeypatch.setattr(loader, limit, 2 if limit == "MAX_RULE_FILES" else 100)
    rules = tmp_path / "pack"
    rules.mkdir()
    for name in ("DVG-COLLECT-001.yaml", "DVG-SDK-001.yaml", "DVG-APPS-001.yaml"):
        shutil.copyfile(REPO / "rules" / "packs" / "builtin" / name, rules / name)
    code, _, stderr = divulge("rules", "validate", str(rules))
    assert code == 2 and message in one_line_naming(stderr, rules)


# --- a rule whose `in` list holds a mapping: TypeError (unhashable dict) was an internal error ------------------


def test_rule_with_a_mapping_in_an_in_list(tmp_path: Path) -> None:
    # Found by bench/fuzz.py (rules, seed 15, mutant 454): `status: {in: [present, {v: wired}]}`.
    rules = tmp_path / "pack"
    rules.mkdir()
    text = (REPO / "rules" / "packs" / "builtin" / "DVG-SDK-001.yaml").read_text(encoding="utf-8")
    assert "status: {in: [present, wired]}" in text
    (rules / "DVG-SDK-001.yaml").write_text(text.replace("{in: [present, wired]}", "{in: [present, {v: wired}]}"),
                                            encoding="utf-8")
    code, _, stderr = divulge("rules", "validate", str(rules))
    assert code == 2
    path = rules / "DVG-SDK-001.yaml"
    assert "`in` takes a list of plain values, not mappings" in one_line_naming(stderr, path)


# --- HAR streaming: a UTF-8-encoded surrogate passes yajl but not Python's decoder --------------------------------


@pytest.mark.parametrize("big", [False, True])
def test_har_with_an_encoded_surrogate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, big: bool) -> None:
    # Found by bench/fuzz.py (har, seed 17, mutants 102 and 902). `big`: too large to re-parse for the position.
    from scanner.dynamic import har

    if big:
        monkeypatch.setattr(har, "_REPARSE_FOR_POSITION", 0)
    path = tmp_path / "surrogate.har"
    path.write_bytes(b'{"log": {"entries": [{"request": {"url": "http://a.example/\xed\xa0\x80"}}]}}')
    code, _, stderr = divulge("traffic", str(path))
    assert code == 2 and "not a HAR file: not UTF-8 text" in one_line_naming(stderr, path)


def test_har_streamed_past_the_reparse_size_still_names_the_syntax_error(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from scanner.dynamic import har

    monkeypatch.setattr(har, "_REPARSE_FOR_POSITION", 0)
    path = tmp_path / "cut.har"
    path.write_bytes((FIXTURES / "captures" / "weather.har").read_bytes()[:3000])
    code, _, stderr = divulge("traffic", str(path))
    assert code == 2 and "not a HAR file: invalid JSON (" in one_line_naming(stderr, path)


def test_zhar_is_inflated_as_it_is_read_and_capped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import zlib

    from scanner.dynamic import har

    path = tmp_path / "weather.zhar"
    path.write_bytes(zlib.compress((FIXTURES / "captures" / "weather.har").read_bytes()))
    code, stdout, stderr = divulge("traffic", str(path), "--device", str(DEVICE), "--format", "json")
    _, plain, _ = divulge("traffic", str(FIXTURES / "captures" / "weather.har"), "--device", str(DEVICE),
                          "--format", "json")
    def observations(text: str) -> list[dict[str, object]]:  # `capture` names the file each came from
        return [{k: v for k, v in o.items() if k != "capture"} for o in json.loads(text)["observations"]]

    assert code == 0 and observations(stdout) == observations(plain)
    monkeypatch.setattr(har, "MAX_INFLATED_BYTES", 1000)
    code, _, stderr = divulge("traffic", str(path))
    assert code == 2 and "compressed HAR inflates to over" in one_line_naming(stderr, path)
