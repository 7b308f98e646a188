"""Shannon entropy, the one measure both eyes use: of a value's characters (is this key's value a random id?) and of
a file's bytes (is this asset encrypted?)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable


def entropy_bits(value: str | bytes) -> float:
    """Bits per symbol (character or byte); 0 for an empty value."""
    total = len(value)
    if not total:
        return 0.0
    # Identifier values are short: counting each distinct character beats a Counter there (this runs per value on
    # the traffic path); a file sample is long and has at most 256 symbols, where a Counter is faster.
    counts: Iterable[int] = Counter(value).values() if isinstance(value, bytes) else map(value.count, set(value))
    return -sum(n / total * math.log2(n / total) for n in counts)
