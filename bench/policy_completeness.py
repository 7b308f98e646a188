"""Precision and recall of the completeness rules (DVG-POLICY-010..018) against hand labels.

A finding is a checked topic the reader did not find (`PolicyTopic.found` false); it is right when the hand labels
in fixtures/policies/completeness.expected.yaml say the policy does not state that topic.  Policies whose text is
not in the repository (see fixtures/policies/real/README.md) are read from --extra DIR when given, else skipped.
Usage: python bench/policy_completeness.py [-v] [--extra DIR]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from scanner.policy.text import load_policy_text  # noqa: E402

POLICY_DIR = REPO / "fixtures" / "policies"
LABELS = POLICY_DIR / "completeness.expected.yaml"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="list every wrong finding and miss")
    parser.add_argument("--extra", type=Path, help="directory holding policies not stored in the repository")
    args = parser.parse_args(argv)
    labels = yaml.safe_load(LABELS.read_text(encoding="utf-8"))["policies"]
    tp = fp = fn = 0
    print(f"{'policy':28} findings  right  wrong  missed")
    for name, present in labels.items():
        path = POLICY_DIR / name
        if not path.exists() and args.extra is not None:
            path = args.extra / Path(name).name
        if not path.exists():
            print(f"{name:28} (text not stored, skipped)")
            continue
        topics = load_policy_text(path).policy_topics
        findings = {t.topic for t in topics if not t.found}
        absent = {t.topic for t in topics} - set(present)
        right, wrong, missed = findings & absent, findings - absent, absent - findings
        tp, fp, fn = tp + len(right), fp + len(wrong), fn + len(missed)
        print(f"{name:28} {len(findings):8} {len(right):6} {len(wrong):6} {len(missed):7}")
        if args.verbose:
            for topic in sorted(wrong):
                print(f"    wrong finding  {topic} (the policy states it)")
            for topic in sorted(missed):
                print(f"    missed         {topic} (found, but the policy does not state it)")
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    print(f"TOTAL findings precision {precision:.2f}, recall {recall:.2f} ({tp + fp} findings, {tp + fn} absent topics)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
