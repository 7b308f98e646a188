"""Fuzz every reader with mutated real inputs and print ok / rejected / internal / hang per kind.

    python bench/fuzz.py [--mutants 10000] [--seed 15] [--workers 2] [--limit 10] [--kinds har,flows]

Mutants are spread evenly over the kinds and are reproducible from (--seed, kind, index): a failure line
names all three, and `--replay KIND:INDEX` runs that one input again with its traceback.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import random
import sys
import tempfile
import time
import traceback
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.fuzzkit import KINDS, OUTCOMES, Outcome, attempt, mutant  # noqa: E402

_SCRATCH = Path(tempfile.gettempdir())


def _rng(seed: int, kind: str, index: int) -> random.Random:
    return random.Random(f"{seed}:{kind}:{index}")


def _one(job: tuple[int, str, int, float]) -> tuple[int, Outcome]:
    seed, kind, index, limit = job
    data = mutant(KINDS[kind], _SCRATCH, _rng(seed, kind, index))
    return index, attempt(KINDS[kind], data, limit=limit)


def _warm() -> None:
    # Readers log what they tolerate (pypdf above all); ten thousand mutants would bury the table.
    logging.disable(logging.CRITICAL)
    # Catalogs, the rule pack and jieba load once per worker process, not inside the first input's time limit.
    from scanner import knowledge

    knowledge.warm()
    for kind in KINDS.values():
        kind.seed_bytes(_SCRATCH)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutants", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--limit", type=float, default=10.0, help="seconds per input before it counts as a hang")
    parser.add_argument("--kinds", help="comma-separated subset of: " + ", ".join(KINDS))
    parser.add_argument("--replay", help="KIND:INDEX: run one mutant again and print its traceback")
    args = parser.parse_args()
    if args.replay:
        kind, index = args.replay.split(":")
        data = mutant(KINDS[kind], _SCRATCH, _rng(args.seed, kind, int(index)))
        Path(f"fuzz-{kind}-{index}.bin").write_bytes(data)
        print(f"wrote fuzz-{kind}-{index}.bin ({len(data)} bytes): {attempt(KINDS[kind], data, limit=args.limit)}")
        try:
            KINDS[kind].run(Path(f"fuzz-{kind}-{index}.bin")) if not KINDS[kind].place else None
        except Exception:  # a replay exists to show the traceback
            traceback.print_exc()
        return 0
    kinds = args.kinds.split(",") if args.kinds else list(KINDS)
    per_kind = -(-args.mutants // len(kinds))
    jobs = [(args.seed, kind, index, args.limit) for index in range(per_kind) for kind in kinds]
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    failures: list[str] = []
    started = time.perf_counter()
    with multiprocessing.get_context("forkserver").Pool(args.workers, initializer=_warm) as pool:
        for index, outcome in pool.imap_unordered(_one, jobs, chunksize=8):
            counts[outcome.kind][outcome.status] += 1
            if outcome.status in ("internal", "hang"):
                failures.append(f"{outcome.kind}:{index} {outcome.status}: {outcome.detail}")
    elapsed = time.perf_counter() - started
    print(f"{'kind':16}" + "".join(f"{o:>10}" for o in OUTCOMES))
    for kind in kinds:
        print(f"{kind:16}" + "".join(f"{counts[kind][o]:>10}" for o in OUTCOMES))
    total = Counter[str]()
    for c in counts.values():
        total.update(c)
    print(f"{'all':16}" + "".join(f"{total[o]:>10}" for o in OUTCOMES))
    print(f"{sum(total.values())} mutants in {elapsed:.0f} s (seed {args.seed}, {args.workers} workers, "
          f"{args.limit:g} s limit per input)")
    distinct = Counter(f.split(" ", 1)[1] for f in failures)
    for line, n in distinct.most_common(40):
        example = next(f.split(" ", 1)[0] for f in failures if f.endswith(line))
        print(f"  {n:5} x {line}  (e.g. --replay {example})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
