"""The collector pause used by traffic analysis, the engine and the report writers."""

from __future__ import annotations

import gc
import weakref

import pytest

from scanner.gcpause import gc_checkpoint, gc_paused


class _Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


def test_state_is_restored_after_an_error() -> None:
    assert gc.isenabled()
    with pytest.raises(RuntimeError), gc_paused():
        assert not gc.isenabled()
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_a_disabled_collector_stays_disabled() -> None:
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_checkpoint_bounds_unforeseen_cycles() -> None:
    gc.collect()
    with gc_paused():
        first = weakref.ref(_Node())
        gc_checkpoint()  # few allocations so far: nothing collected yet
        assert first() is not None
        keep = [[] for _ in range(1_100_000)]  # tracked containers, past the young-generation limit
        gc_checkpoint()
        assert first() is None
        del keep
