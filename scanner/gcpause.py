"""Pausing Python's cycle collector around bulk work that makes many long-lived objects."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

# Objects made since the last young collection before `gc_checkpoint` collects anyway: cycles that some
# input might make stay bounded (about a hundred megabytes), and each survivor is walked once.
_YOUNG_LIMIT = 1_000_000


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Collector off inside, back to how it was after.

    Reference counting still frees every acyclic object, so memory does not grow. Used where bulk work
    makes many objects the cyclic collector would walk for nothing: rendering reports (~25 % faster),
    deriving and matching facts in the engine, and reading traffic. A parsed HAR, its records and the observations of a long capture are millions of objects that live
    to the end. Each collection of the old generation walks all of them again and frees nothing: about
    a tenth of `divulge traffic` went there. Analysing a flow makes no reference cycles (the multipart
    parser's header classes were the only ones, see decode._HeaderClasses); long loops still call
    `gc_checkpoint` so that a cycle no one foresaw cannot pile up without bound.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def gc_checkpoint() -> None:
    """Inside gc_paused: collect the young objects once very many have piled up."""
    if gc.get_count()[0] > _YOUNG_LIMIT:
        gc.collect(0)
