"""Evidence manifests: a hash chain over an app's inputs, versions, command line, outputs and times; and `verify`.

Each entry's `hash` is SHA-256 over the previous entry's hash and the entry's own canonical JSON, so editing,
dropping or reordering any entry breaks the chain from there on. Inputs and outputs carry a hash per line (and an
APK its zip entries' CRCs), so `verify` says which line or which entry changed, not just "hash mismatch".
A forger who rewrites a whole manifest consistently is caught by the batch index (evidence-index.json), which
chains every app's head; the index head itself is printed and stored in the runs table, for the case file.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import platform
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scanner.batch.appscan import hash_input, line_hashes, zip_entries
from scanner.errors import DivulgeError

MANIFEST_NAME = "evidence.json"
INDEX_NAME = "evidence-index.json"
SCHEMA = "divulge/evidence/1"
INDEX_SCHEMA = "divulge/evidence-index/1"
GENESIS = "0" * 64


class BadEvidence(DivulgeError):
    """The folder holds no evidence manifest, or one that is not JSON of the expected schema."""


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def entry_hash(prev: str, entry: dict[str, Any]) -> str:
    body = {k: v for k, v in entry.items() if k != "hash"}
    return hashlib.sha256(prev.encode("ascii") + b"\n" + canonical(body)).hexdigest()


def chain(entries: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Number the entries, link each to the previous one and seal it with its hash."""
    sealed: list[dict[str, Any]] = []
    prev = GENESIS
    for seq, raw in enumerate(entries):
        entry = {**raw, "seq": seq, "prev": prev}
        entry["hash"] = prev = entry_hash(prev, entry)
        sealed.append(entry)
    return sealed


def output_record(name: str, data: bytes) -> dict[str, Any]:
    return {"kind": "output", "file": name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data),
            "lines": line_hashes(data)}


def build_manifest(*, app_id: str, status: str, inputs: list[dict[str, Any]], outputs: dict[str, bytes],
                   tool_version: str, rule_pack: dict[str, Any], catalog: dict[str, Any], argv: list[str],
                   started: str, finished: str, recorded: str, app_dir: Path) -> dict[str, Any]:
    entries: list[dict[str, Any]] = [
        {"kind": "tool", "name": "divulge", "version": tool_version, "python": platform.python_version()},
        {"kind": "rule_pack", **{k: rule_pack.get(k) for k in ("name", "version", "sha256", "rules")}},
        {"kind": "catalog", **{k: catalog.get(k) for k in ("name", "version", "sha256", "entries")}},
        {"kind": "command", "argv": argv},
    ]
    for record in inputs:
        rel = _relative(Path(record["path"]), app_dir)
        entries.append({**record, "rel": rel})
    entries.extend(output_record(name, data) for name, data in sorted(outputs.items()))
    entries.append({"kind": "timestamps", "started": started, "finished": finished, "recorded": recorded})
    sealed = chain(entries)
    return {"schema": SCHEMA, "app_id": app_id, "status": status, "entries": sealed, "head": sealed[-1]["hash"]}


def build_index(heads: list[tuple[str, str]], recorded: str) -> dict[str, Any]:
    sealed = chain({"kind": "app", "app_id": app_id, "head": head} for app_id, head in sorted(heads))
    return {"schema": INDEX_SCHEMA, "recorded": recorded, "entries": sealed,
            "head": sealed[-1]["hash"] if sealed else GENESIS}


def _relative(path: Path, base: Path) -> str | None:
    """The input's path relative to the result folder, so results and inputs can move together."""
    try:
        return os.path.relpath(path.resolve(), base.resolve())
    except ValueError:  # another drive on Windows
        return None


# ---- verification -----------------------------------------------------------------------------------------------


@dataclass
class Verdict:
    """What `verify` found in one manifest: problems (the evidence no longer holds) and notes (worth a look)."""

    where: str
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    checked_files: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def _line_changes(old: list[str], new: list[str], new_text: list[bytes], limit: int = 8) -> list[str]:
    """Which lines differ, as 'line 12 changed' / 'lines 3-5 removed' / 'line 9 added' (1-based, old numbering),
    with the first changed line as it reads now."""
    changes: list[str] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag == "replace":
            what = _span(i1, i2) + " changed" + ("" if (i2 - i1) == (j2 - j1) else f" (now {_span(j1, j2)})")
        elif tag == "delete":
            what = _span(i1, i2) + " removed"
        else:
            what = f"{_span(j1, j2)} added (after line {i1})"
        if j2 > j1:
            what += f", now {_excerpt(new_text[j1])}"
        changes.append(what)
    if len(changes) > limit:
        changes = changes[:limit] + [f"… and {len(changes) - limit} more changes"]
    return changes


def _excerpt(line: bytes, width: int = 80) -> str:
    text = line.decode("utf-8", "replace").strip()
    return repr(text if len(text) <= width else text[:width] + "…")


def _span(a: int, b: int) -> str:
    return f"line {a + 1}" if b - a == 1 else f"lines {a + 1}-{b}"


def _entry_changes(old: dict[str, list[int]], new: dict[str, list[int]] | None) -> list[str]:
    if new is None:
        return ["it is no longer a readable zip"]
    out = [f"entry {n} changed" for n in sorted(old.keys() & new.keys()) if list(old[n]) != list(new[n])]
    out += [f"entry {n} removed" for n in sorted(old.keys() - new.keys())]
    out += [f"entry {n} added" for n in sorted(new.keys() - old.keys())]
    return out[:8] + ([f"… and {len(out) - 8} more"] if len(out) > 8 else [])


def _check_file(verdict: Verdict, entry: dict[str, Any], path: Path | None, label: str) -> None:
    if path is None or not path.is_file():
        verdict.problems.append(f"{label}: file missing")
        return
    verdict.checked_files += 1
    # An input (an APK can be large) is read by hash_input only; its text again only when it changed.
    current = hash_input(entry["kind"], path) if entry["kind"] != "output" else output_record(entry["file"],
                                                                                            path.read_bytes())
    if current.get("sha256") == entry.get("sha256"):
        return
    detail: list[str] = []
    if entry.get("lines") is not None and current.get("lines") is not None:
        detail = _line_changes(entry["lines"], current["lines"], path.read_bytes().splitlines())
    elif entry.get("entries") is not None:
        detail = _entry_changes(entry["entries"], zip_entries(path))
    if not detail and entry.get("size") != current.get("size"):
        detail = [f"size {entry.get('size')} -> {current.get('size')} bytes"]
    if not detail:
        detail = ["content changed (same lines and size: whitespace at line ends or bytes inside a line)"]
    verdict.problems.append(f"{label}: changed since it was recorded: {'; '.join(detail)} "
                            f"(sha256 was {str(entry.get('sha256'))[:16]}…, now {str(current.get('sha256'))[:16]}…)")


def verify_manifest(manifest_path: Path, *, inputs_root: Path | None = None) -> Verdict:
    app_dir = manifest_path.parent
    verdict = Verdict(where=str(app_dir))
    manifest = _load(manifest_path, SCHEMA)
    entries = manifest.get("entries")
    if not isinstance(entries, list) or not entries:
        raise BadEvidence("manifest has no entries", path=str(manifest_path))
    prev = GENESIS
    chain_ok = True
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            verdict.problems.append(f"manifest entry {i} is not an object")
            chain_ok = False
            continue
        kind = entry.get("kind", "?")
        if entry.get("seq") != i or entry.get("prev") != prev:
            verdict.problems.append(f"manifest entry {i} ({kind}) does not follow entry {i - 1}: an entry was "
                                    "removed, inserted or reordered")
            chain_ok = False
        if entry_hash(str(entry.get("prev")), entry) != entry.get("hash"):
            verdict.problems.append(f"manifest entry {i} ({kind}{_entry_name(entry)}) was altered after it was "
                                    "recorded: its hash no longer matches its content")
            chain_ok = False
        prev = str(entry.get("hash"))
    if manifest.get("head") != prev:
        verdict.problems.append("manifest head does not match its last entry: entries were appended or removed")
        chain_ok = False
    if not chain_ok:
        verdict.notes.append("the chain is broken, so the file checks compared against recorded hashes that may "
                             "themselves have been edited")
    recorded = {e.get("file") for e in entries if isinstance(e, dict) and e.get("kind") == "output"}
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        kind = entry.get("kind")
        if kind == "output":
            _check_file(verdict, entry, app_dir / str(entry.get("file")), f"output {entry.get('file')}")
        elif kind in ("apk", "declaration", "capture"):
            located = _locate_input(entry, app_dir, inputs_root)
            _check_file(verdict, entry, located, f"{kind} {located or entry.get('path')}")
    for extra in sorted(p.name for p in app_dir.iterdir() if p.is_file() and p.name != MANIFEST_NAME):
        if extra not in recorded:
            verdict.notes.append(f"file {extra} is not covered by the manifest")
    return verdict


def _entry_name(entry: dict[str, Any]) -> str:
    name = entry.get("file") or entry.get("path")
    return f" {name}" if name else ""


def _locate_input(entry: dict[str, Any], app_dir: Path, inputs_root: Path | None) -> Path | None:
    """Where the input is now: beside the results as it was (a case folder moved or copied whole), else at the
    recorded absolute path, else under --inputs-root."""
    candidates = [app_dir / str(entry["rel"])] if entry.get("rel") else []
    candidates.append(Path(str(entry.get("path"))))
    if inputs_root is not None:
        candidates.append(inputs_root / Path(str(entry.get("path"))).name)
    return next((c.resolve() for c in candidates if c.is_file()), None)


def _load(path: Path, schema: str) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadEvidence(f"cannot read evidence: {exc}", path=str(path)) from exc
    if not isinstance(data, dict) or data.get("schema") != schema:
        raise BadEvidence(f"not a {schema} file", path=str(path))
    return data


def verify_tree(root: Path, *, inputs_root: Path | None = None) -> list[Verdict]:
    """Verify one app folder, or a batch folder (every app manifest plus the index that chains them)."""
    if (root / MANIFEST_NAME).is_file():
        return [verify_manifest(root / MANIFEST_NAME, inputs_root=inputs_root)]
    manifests = sorted(root.glob(f"apps/*/{MANIFEST_NAME}")) or sorted(root.glob(f"*/{MANIFEST_NAME}"))
    index_path = root / INDEX_NAME
    if not manifests and not index_path.is_file():
        raise BadEvidence(f"no {MANIFEST_NAME} here or in apps/*/ (is this a divulge result folder?)", path=str(root))
    verdicts = [verify_manifest(m, inputs_root=inputs_root) for m in manifests]
    if index_path.is_file():
        verdicts.insert(0, _verify_index(index_path, manifests))
    return verdicts


def _verify_index(index_path: Path, manifests: list[Path]) -> Verdict:
    verdict = Verdict(where=str(index_path))
    index = _load(index_path, INDEX_SCHEMA)
    entries = index.get("entries") or []
    prev = GENESIS
    for i, entry in enumerate(entries):
        if entry.get("prev") != prev or entry_hash(str(entry.get("prev")), entry) != entry.get("hash"):
            verdict.problems.append(f"index entry {i} (app {entry.get('app_id')}) was altered, removed or reordered")
        prev = str(entry.get("hash"))
    if index.get("head", GENESIS) != prev:
        verdict.problems.append("index head does not match its last entry")
    recorded = {str(e.get("app_id")): e.get("head") for e in entries}
    present: dict[str, str | None] = {}
    for path in manifests:
        try:
            present[path.parent.name] = json.loads(path.read_text(encoding="utf-8")).get("head")
        except (OSError, ValueError):
            present[path.parent.name] = None
    for app_id, head in sorted(recorded.items()):
        if app_id not in present:
            verdict.problems.append(f"app {app_id}: its result folder or manifest is missing")
        elif present[app_id] != head:
            verdict.problems.append(f"app {app_id}: its manifest was replaced (head differs from the index)")
    for app_id in sorted(present.keys() - recorded.keys()):
        verdict.notes.append(f"app {app_id} is not in the index (added after the batch finished?)")
    verdict.checked_files = len(manifests)
    return verdict


def check_recorded_output(path: Path) -> None:
    """Raise BadEvidence (one line) when `path` sits beside an evidence manifest whose hash chain is broken or which
    recorded this file with another SHA-256: a report must not be rendered from findings changed after the scan.
    A file with no manifest beside it is not checked (a plain `divulge scan -o` writes none)."""
    manifest_path = path.parent / MANIFEST_NAME
    if not manifest_path.is_file():
        return
    manifest = _load(manifest_path, SCHEMA)
    entries = manifest.get("entries")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise BadEvidence("evidence manifest has no entry list", path=str(manifest_path))
    resealed = chain({k: v for k, v in e.items() if k not in ("seq", "prev", "hash")} for e in entries)
    if resealed != entries or (entries and manifest.get("head") != entries[-1].get("hash")):
        raise BadEvidence(f"evidence manifest's hash chain is broken; `divulge verify {path.parent}` shows where",
                          path=str(manifest_path))
    recorded = next((e for e in entries if e.get("kind") == "output" and e.get("file") == path.name), None)
    if recorded is not None and recorded.get("sha256") != hashlib.sha256(path.read_bytes()).hexdigest():
        raise BadEvidence(f"changed after the scan: its SHA-256 differs from the one {MANIFEST_NAME} recorded; "
                          f"`divulge verify {path.parent}` shows which lines", path=str(path))
