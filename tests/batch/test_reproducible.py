"""Same inputs and versions -> the same findings, in the store and in every app's findings.json."""

from __future__ import annotations

import json
from pathlib import Path

KEYS = ("rule_id", "severity", "confidence", "title", "message", "basis", "data_type", "sdk", "fingerprint")


def findings_of(out: Path) -> dict[str, list[tuple]]:
    result = {}
    for path in sorted((out / "apps").glob("*/findings.json")):
        doc = json.loads(path.read_text())
        result[path.parent.name] = [tuple(json.dumps(f.get(k), sort_keys=True) for k in KEYS) for f in doc["findings"]]
    return result


def test_rerun_reproduces_findings(finished_batch: Path, tmp_path: Path, run_divulge, db_rows) -> None:
    again = tmp_path / "again"
    proc = run_divulge("batch", str(finished_batch.parent / "in"), "-o", str(again), "--workers", "1")
    assert proc.returncode == 0, proc.stderr
    first, second = findings_of(finished_batch), findings_of(again)
    assert first == second and sum(map(len, first.values())) > 0
    query = "SELECT app_id, seq, rule_id, severity, message, fingerprint FROM findings ORDER BY app_id, seq"
    assert db_rows(finished_batch / "batch.sqlite", query) == db_rows(again / "batch.sqlite", query)
    errors = "SELECT app_id, kind, message FROM errors ORDER BY app_id"
    assert db_rows(finished_batch / "batch.sqlite", errors) == db_rows(again / "batch.sqlite", errors)
    # The evidence of both runs names the same inputs and versions (only times and the command differ).
    heads = []
    for out in (finished_batch, again):
        manifest = json.loads((out / "apps" / "shopping" / "evidence.json").read_text())
        heads.append([{k: v for k, v in e.items() if k not in ("seq", "prev", "hash", "rel")}
                      for e in manifest["entries"] if e["kind"] in ("apk", "rule_pack", "catalog", "tool")])
    assert heads[0] == heads[1]
