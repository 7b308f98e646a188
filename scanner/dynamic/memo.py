"""A memo bounded in entries and in the text it holds, for analysis results that depend on their inputs alone."""

from __future__ import annotations

from typing import Any

MISSING: Any = object()  # what `get` returns for a key it does not hold (None is a value worth remembering)


class BoundedMemo:
    """Apps send the same headers, ids, blobs and beacons in flow after flow; remembering what analysing them
    gave makes repeats free. Bounded in entries and in the characters of text the entries hold (a short token
    can inflate to megabytes, a body is megabytes): when either bound would be passed, everything is
    forgotten and the memo starts again. One entry larger than a sixteenth of the budget is not kept.
    """

    def __init__(self, max_entries: int = 8192, max_chars: int = 32 * 1024 * 1024) -> None:
        self._entries: dict[Any, Any] = {}
        self._chars = 0
        self._max_entries, self._max_chars = max_entries, max_chars

    def get(self, key: Any) -> Any:
        """The remembered value, or MISSING."""
        return self._entries.get(key, MISSING)

    def put(self, key: Any, value: Any, chars: int) -> None:
        """Remember a value holding about `chars` characters of text (key included)."""
        if chars > self._max_chars // 16:
            return
        if len(self._entries) >= self._max_entries or self._chars + chars > self._max_chars:
            self._entries.clear()
            self._chars = 0
        self._entries[key] = value
        self._chars += chars
