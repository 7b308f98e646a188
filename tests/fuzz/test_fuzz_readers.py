"""Every reader, fed mutated copies of real inputs: it accepts them or rejects them in one line, nothing else.

A short, derandomized hypothesis budget per kind keeps CI fast and repeatable; `bench/fuzz.py` runs the same
harness over at least 10,000 mutants. Inputs it once broke on are pinned in tests/fuzz/test_fuzz_regressions.py.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.fuzzkit import KINDS, attempt, mutant  # noqa: E402

# Examples per kind: the APK kinds run androguard on every input (~0.3 s each), text kinds take milliseconds.
_BUDGET = {"apk": 6, "bundle": 6, "axml": 6, "dex": 6, "config": 8, "rules": 10, "baseline": 15}
_DEFAULT_BUDGET = 20
# Far above any input's real time, far below a hang; hypothesis's own deadline is off for the same reason.
_LIMIT = 20.0


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz-seeds")


@pytest.mark.parametrize("name", list(KINDS))
def test_mutants_are_accepted_or_rejected_in_one_line(name: str, scratch: Path) -> None:
    kind = KINDS[name]
    assert kind.seed_bytes(scratch), f"no seed inputs for {name}"
    seen: list[str] = []

    @settings(max_examples=_BUDGET.get(name, _DEFAULT_BUDGET), derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.integers(min_value=0, max_value=2**32 - 1))
    def run(seed: int) -> None:
        outcome = attempt(kind, mutant(kind, scratch, random.Random(seed)), limit=_LIMIT)
        seen.append(outcome.status)
        assert outcome.status in ("ok", "rejected"), f"{name} mutant (seed {seed}): {outcome.status}: {outcome.detail}"

    run()
    assert seen


@pytest.mark.parametrize("name", list(KINDS))
def test_unmutated_seeds_are_read(name: str, scratch: Path) -> None:
    # The harness must start from inputs the reader accepts, or the mutants test nothing past the first check.
    # The reference captures include mitmproxy's deliberately broken HAR, which must be rejected cleanly.
    outcomes = [attempt(KINDS[name], seed, limit=_LIMIT) for seed in KINDS[name].seed_bytes(scratch)]
    assert all(o.status in ("ok", "rejected") for o in outcomes), outcomes
    assert any(o.status == "ok" for o in outcomes), outcomes
