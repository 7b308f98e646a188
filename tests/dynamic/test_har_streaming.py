"""The HAR reader streams: one entry in memory at a time, and the same records as reading the document whole."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from scanner.dynamic.har import HarReader, iter_har_entries, load_har, record_from_entry
from scanner.errors import BadCapture

REPO = Path(__file__).resolve().parents[2]
REFERENCE_TRAFFIC = REPO.parent / "shared" / "reference" / "traffic"
HARS = sorted((REPO / "fixtures" / "captures").glob("*.har")) + sorted(
    p for p in REFERENCE_TRAFFIC.glob("*.*har") if "broken" not in p.name)


@pytest.mark.parametrize("path", HARS, ids=lambda p: p.name)
def test_streamed_records_equal_the_whole_document_ones(path: Path) -> None:
    streamed = HarReader(path).read()
    warnings: list[str] = []
    whole = []
    for index, entry in enumerate(load_har(path)["log"]["entries"]):
        try:
            whole.append(record_from_entry(entry, index, str(path), {}, warnings,
                                           whole[-1].time if whole else None))
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
    assert streamed.records == whole and streamed.records


def test_memory_is_bounded_by_the_entry_not_the_file(tmp_path: Path) -> None:
    body = "x" * 20_000
    entry = {"startedDateTime": "2026-01-01T00:00:00Z", "request": {"method": "GET", "url": "https://a.example/",
             "headers": []}, "response": {"status": 200, "content": {"text": body}}}
    path = tmp_path / "big.har"
    with open(path, "w", encoding="utf-8") as out:  # ~40 MB, 2,000 entries of 20 KB each
        out.write('{"log": {"entries": [')
        out.write(",".join(json.dumps(entry) for _ in range(2000)))
        out.write("]}}")
    tracemalloc.start()
    try:
        count = sum(1 for _ in iter_har_entries(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 2000
    # Whole, the parsed document would be over 40 MB; streamed, a few entries and the parser's buffers.
    assert peak < 4 * 1024 * 1024, peak


def _write(tmp_path: Path, text: str, name: str = "c.har") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_entries_larger_than_a_read_piece_and_members_in_any_order(tmp_path: Path) -> None:
    # A 1.5 MB body spans several pieces of the file; numbers at the end of a piece must not be cut.
    big = {"request": {"url": "https://a.example/", "postData": {"text": "y" * 1_500_000}}, "n": 12345678901234}
    doc = {"meta": [1, 2.5, None, True], "log": {"entries": [big, {"n": 1}] * 3, "version": "1.2",
                                                 "creator": {"name": "x"}}}
    path = _write(tmp_path, json.dumps(doc, indent=2))
    assert list(iter_har_entries(path)) == doc["log"]["entries"]


@pytest.mark.parametrize(("text", "reason"), [
    ("[]", "no log.entries list"),
    ('{"log": {"entries": {}}}', "no log.entries list"),
    ('{"log": []}', "no log.entries list"),
    ("hello", "invalid JSON"),
    ("", "invalid JSON"),
    ('{"log": {"entries": [{"a": 1}, {"a": 2', "invalid JSON"),
    ('{"log": {"entries": [{"a": 1} {"a": 2}]}}', "invalid JSON"),
    ('{"log": {"entries": []}} trailing', "invalid JSON"),
])
def test_what_is_not_a_har_is_named(tmp_path: Path, text: str, reason: str) -> None:
    with pytest.raises(BadCapture, match=reason):
        list(iter_har_entries(_write(tmp_path, text)))


def test_an_empty_entries_list_is_a_har_without_flows(tmp_path: Path) -> None:
    assert list(iter_har_entries(_write(tmp_path, '{"log": {"version": "1.2", "entries": [ ]}}'))) == []


def test_many_small_entries_across_pieces_and_a_bad_one_after_them(tmp_path: Path) -> None:
    # Entries decoded where they stand in the buffer, the buffer topped up between them: every one comes out once,
    # in order, whatever piece boundary it straddles; an error far into the file still names the file as broken.
    entries = [{"request": {"url": f"https://a.example/{i}", "postData": {"text": "z" * (i % 997)}}, "i": i}
               for i in range(3000)]
    doc = {"log": {"version": "1.2", "entries": entries}}
    path = _write(tmp_path, json.dumps(doc))
    assert list(iter_har_entries(path)) == entries
    broken = _write(tmp_path, json.dumps(doc)[:-40] + "}, {oops}]}}", name="broken.har")
    with pytest.raises(BadCapture, match="invalid JSON"):
        list(iter_har_entries(broken))
