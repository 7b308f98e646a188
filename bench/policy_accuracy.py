"""Accuracy of policy-text extraction on fixtures/policies: precision and recall of (data type, action) pairs
and of disclosed SDKs, per policy and in total.

Each policy `<name>.<html|md|txt>` has a hand-made `<name>.expected.yaml`:
    language: en|zh
    data_types: {data_type: [collected, shared, not_collected, not_shared]}
    sdks: [catalog ids]
Run: .venv/bin/python bench/policy_accuracy.py [--verbose]
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from scanner.model import Declaration
from scanner.policy.text import load_policy_text

POLICY_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "policies"
Pair = tuple[str, str]


@dataclass
class Score:
    name: str
    language: str = ""
    expected_pairs: set[Pair] = field(default_factory=set)
    found_pairs: set[Pair] = field(default_factory=set)
    expected_sdks: set[str] = field(default_factory=set)
    found_sdks: set[str] = field(default_factory=set)
    language_ok: bool = True
    seconds: float = 0.0


def declared_pairs(declaration: Declaration) -> set[Pair]:
    pairs: set[Pair] = set()
    for data_type, entry in declaration.data_types.items():
        for action, flag in (("collected", entry.collected), ("shared", entry.shared),
                             ("not_collected", entry.denied), ("not_shared", entry.share_denied)):
            if flag:
                pairs.add((data_type, action))
    return pairs


def policy_files(directory: Path = POLICY_DIR) -> list[Path]:
    return sorted(p for p in directory.iterdir()
                  if p.suffix in (".html", ".md", ".txt", ".pdf", ".docx") and p.with_suffix(".expected.yaml").exists())


def score_policy(policy: Path) -> Score:
    expected = yaml.safe_load(policy.with_suffix(".expected.yaml").read_text(encoding="utf-8"))
    started = time.perf_counter()
    declaration = load_policy_text(policy)
    score = Score(policy.name, seconds=time.perf_counter() - started)
    score.language = declaration.language or ""
    score.language_ok = declaration.language == expected["language"]
    score.expected_pairs = {(dt, a) for dt, actions in (expected.get("data_types") or {}).items() for a in actions}
    score.found_pairs = declared_pairs(declaration)
    score.expected_sdks = set(expected.get("sdks") or [])
    score.found_sdks = {p.sdk_id for p in declaration.parties if p.sdk_id}
    return score


def precision_recall(expected: set[Pair] | set[str], found: set[Pair] | set[str]) -> tuple[float, float]:
    hits = len(expected & found)  # type: ignore[operator]
    precision = hits / len(found) if found else 1.0
    recall = hits / len(expected) if expected else 1.0
    return precision, recall


def totals(scores: list[Score]) -> dict[str, float]:
    def pool(attr_expected: str, attr_found: str) -> tuple[int, int, int]:
        hits = found = expected = 0
        for s in scores:
            e, f = getattr(s, attr_expected), getattr(s, attr_found)
            hits += len(e & f)
            found += len(f)
            expected += len(e)
        return hits, found, expected

    out = {}
    for label, (e, f) in {"pairs": ("expected_pairs", "found_pairs"), "sdks": ("expected_sdks", "found_sdks")}.items():
        hits, found, expected = pool(e, f)
        out[f"{label}_precision"] = hits / found if found else 1.0
        out[f"{label}_recall"] = hits / expected if expected else 1.0
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", "-v", action="store_true", help="list every miss and false positive")
    parser.add_argument("directory", nargs="?", type=Path, default=POLICY_DIR)
    args = parser.parse_args(argv)
    scores = [score_policy(p) for p in policy_files(args.directory)]
    print(f"{'policy':24} {'lang':4} {'pairs P':>8} {'pairs R':>8} {'SDK P':>6} {'SDK R':>6} {'ms':>6}")
    for s in scores:
        pp, pr = precision_recall(s.expected_pairs, s.found_pairs)
        sp, sr = precision_recall(s.expected_sdks, s.found_sdks)
        lang = s.language + ("" if s.language_ok else "!")
        print(f"{s.name:24} {lang:4} {pp:8.2f} {pr:8.2f} {sp:6.2f} {sr:6.2f} {s.seconds * 1000:6.0f}")
        if args.verbose:
            for pair in sorted(s.expected_pairs - s.found_pairs):
                print(f"    missed          {pair[0]}: {pair[1]}")
            for pair in sorted(s.found_pairs - s.expected_pairs):
                print(f"    false positive  {pair[0]}: {pair[1]}")
            for sdk in sorted(s.expected_sdks - s.found_sdks):
                print(f"    missed SDK      {sdk}")
            for sdk in sorted(s.found_sdks - s.expected_sdks):
                print(f"    extra SDK       {sdk}")
    t = totals(scores)
    pairs = sum(len(s.expected_pairs) for s in scores)
    sdks = sum(len(s.expected_sdks) for s in scores)
    print(f"{'TOTAL':24} {'':4} {t['pairs_precision']:8.2f} {t['pairs_recall']:8.2f} {t['sdks_precision']:6.2f} "
          f"{t['sdks_recall']:6.2f}   ({len(scores)} policies, {pairs} expected pairs, {sdks} expected SDKs)")
    return 0 if all(s.language_ok for s in scores) else 1


if __name__ == "__main__":
    sys.exit(main())
