"""Evidence manifests and `divulge verify`: a changed APK, report line or manifest entry is found and named."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from scanner.batch.evidence import BadEvidence, chain, verify_tree

GOOD = ("weather", "shopping")


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory, make_input, run_divulge) -> Path:
    """One small batch: inputs in base/in, results in base/out."""
    base = tmp_path_factory.mktemp("evidence")
    source = make_input(base / "in", good=GOOD, bad=("truncated",))
    proc = run_divulge("batch", str(source), "-o", str(base / "out"), "--workers", "2")
    assert proc.returncode == 0, proc.stderr
    return base


@pytest.fixture
def evidence_batch(pristine: Path, tmp_path: Path) -> Path:
    """A copy of the case folder (inputs beside results) that a test may alter."""
    shutil.copytree(pristine, tmp_path, dirs_exist_ok=True)
    return tmp_path / "out"


def test_manifest_content(evidence_batch: Path) -> None:
    manifest = json.loads((evidence_batch / "apps" / "weather" / "evidence.json").read_text())
    kinds = [e["kind"] for e in manifest["entries"]]
    assert kinds[:4] == ["tool", "rule_pack", "catalog", "command"] and kinds[-1] == "timestamps"
    assert kinds.count("apk") == 1 and kinds.count("output") == 3  # report.html, findings.json, pia.html (the default formats)
    apk = next(e for e in manifest["entries"] if e["kind"] == "apk")
    assert len(apk["sha256"]) == 64 and "classes.dex" in apk["entries"]
    assert len(manifest["entries"][1]["sha256"]) == 64  # the rule pack hash
    assert len(manifest["entries"][2]["sha256"]) == 64  # the SDK catalog hash
    assert "batch" in manifest["entries"][3]["argv"]
    assert manifest["head"] == manifest["entries"][-1]["hash"]


def test_untouched_batch_verifies(evidence_batch: Path, run_divulge) -> None:
    proc = run_divulge("verify", str(evidence_batch))
    assert proc.returncode == 0, proc.stdout
    assert "4 intact, 0 changed" in proc.stdout  # the index and three apps


def test_changed_apk_is_named(evidence_batch: Path, run_divulge) -> None:
    apk = evidence_batch.parent / "in" / "weather.apk"
    with zipfile.ZipFile(apk, "a") as zf:
        zf.writestr("assets/injected.txt", "tampered")
    proc = run_divulge("verify", str(evidence_batch))
    assert proc.returncode == 1
    assert "CHANGED" in proc.stdout and "apps/weather" in proc.stdout
    assert f"apk {apk.resolve()}: changed since it was recorded: entry assets/injected.txt added" in proc.stdout
    assert "3 intact, 1 changed" in proc.stdout


def test_changed_report_line_is_named(evidence_batch: Path, run_divulge) -> None:
    report = evidence_batch / "apps" / "shopping" / "findings.json"
    lines = report.read_text().splitlines(keepends=True)
    lines[3] = lines[3].replace('"', "'", 2)
    report.write_text("".join(lines))
    proc = run_divulge("verify", str(evidence_batch / "apps" / "shopping"))
    assert proc.returncode == 1
    assert "output findings.json: changed since it was recorded: line 4 changed, now" in proc.stdout


def test_tampered_manifest_entry_is_named(evidence_batch: Path) -> None:
    path = evidence_batch / "apps" / "weather" / "evidence.json"
    manifest = json.loads(path.read_text())
    apk = next(e for e in manifest["entries"] if e["kind"] == "apk")
    apk["sha256"] = "0" * 64  # claim another APK was scanned
    path.write_text(json.dumps(manifest))
    (verdict,) = verify_tree(path.parent)
    assert any(p.startswith(f"manifest entry {apk['seq']} (apk ") and "was altered" in p for p in verdict.problems)


def test_rechained_forgery_is_caught_by_the_index(evidence_batch: Path) -> None:
    """Rewrite a manifest with a consistent new chain: only the batch index can tell, and it does."""
    path = evidence_batch / "apps" / "weather" / "evidence.json"
    manifest = json.loads(path.read_text())
    entries = [{k: v for k, v in e.items() if k not in ("seq", "prev", "hash")} for e in manifest["entries"]]
    entries[0]["version"] = "0.0.1-forged"
    manifest["entries"] = chain(entries)
    manifest["head"] = manifest["entries"][-1]["hash"]
    path.write_text(json.dumps(manifest))
    assert verify_tree(path.parent)[0].ok  # the app folder alone is self-consistent …
    index = verify_tree(evidence_batch)[0]
    assert "app weather: its manifest was replaced (head differs from the index)" in index.problems


def test_moved_results_and_inputs_still_verify(evidence_batch: Path) -> None:
    verdicts = verify_tree(evidence_batch)  # a copy elsewhere: inputs are found beside the results
    assert all(v.ok for v in verdicts), [v.problems for v in verdicts]


def test_missing_evidence_is_an_input_error(tmp_path: Path, run_divulge) -> None:
    with pytest.raises(BadEvidence, match="no evidence.json"):
        verify_tree(tmp_path)
    proc = run_divulge("verify", str(tmp_path))
    assert proc.returncode == 2 and "no evidence.json" in proc.stderr
