"""Shannon entropy, the one measure both eyes use: of a value's characters (is this key's value a random id?) and of
a file's bytes (is this asset encrypted?)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence


def entropy_bits(value: Sequence[object]) -> float:
    """Bits per symbol (character or byte); 0 for an empty value."""
    total = len(value)
    if not total:
        return 0.0
    return -sum(n / total * math.log2(n / total) for n in Counter(value).values())
