"""The consent timeline: moments the tester marks (consent, refuse, or any name) and the phase of a time."""

from __future__ import annotations

import bisect
import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scanner.errors import BadCapture

MARK_HOST = "divulge.mark"  # requests to http://divulge.mark/NAME through the proxy set a mark
CONSENT = "consent"
REFUSE = "refuse"
_ALIASES = {"refusal": REFUSE, "reject": REFUSE, "deny": REFUSE, "decline": REFUSE, "withdraw": REFUSE,
            "accept": CONSENT, "agree": CONSENT}
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")

BEFORE_CONSENT = "before_consent"
AFTER_CONSENT = "after_consent"
AFTER_REFUSAL = "after_refusal"


@dataclass(frozen=True, slots=True)
class Mark:
    time: float
    name: str
    source: str = "cli"  # cli | proxy | capture (a mark request found in an imported capture)

    def as_dict(self) -> dict[str, object]:
        return {"time": self.time, "name": self.name, "source": self.source}


def mark_name(raw: str) -> str:
    """Normalise and check a mark name; aliases like `accept` become `consent`."""
    name = raw.strip().strip("/").lower()
    name = _ALIASES.get(name, name)
    if not _NAME.match(name):
        raise ValueError(f"mark name {raw!r}: use letters, digits, '.', '_' or '-' (at most 64)")
    return name


def mark_from_url(host: str, path: str) -> str | None:
    """The mark name of a request to http://divulge.mark/NAME, else None."""
    if host.lower().rstrip(".") != MARK_HOST:
        return None
    try:
        return mark_name(path.split("?", 1)[0] or "mark")
    except ValueError:
        return None


class Timeline:
    """Phase of any moment given the marks so far; `active` False means the capture had no timeline."""

    def __init__(self, marks: list[Mark] | None = None, *, active: bool = False) -> None:
        self.marks: list[Mark] = sorted(marks or [], key=lambda m: m.time)
        self.active = active or bool(self.marks)
        self._rebuild()

    def _rebuild(self) -> None:
        decisive = [m for m in self.marks if m.name in (CONSENT, REFUSE)]
        self._times = [m.time for m in decisive]
        self._names = [m.name for m in decisive]

    def add(self, mark: Mark) -> None:
        bisect.insort(self.marks, mark, key=lambda m: m.time)
        self.active = True
        self._rebuild()

    def phase_at(self, when: float) -> str | None:
        if not self.active:
            return None
        i = bisect.bisect_right(self._times, when)
        if i == 0:
            return BEFORE_CONSENT
        return AFTER_CONSENT if self._names[i - 1] == CONSENT else AFTER_REFUSAL


# ---------------------------------------------------------------------------------------------
# marks.jsonl in a session directory
# ---------------------------------------------------------------------------------------------

MARKS_FILE = "marks.jsonl"


def append_mark(session_dir: Path, name: str, *, when: float | None = None, source: str = "cli") -> Mark:
    """Append one mark to SESSION/marks.jsonl, flushed and synced so a crash right after keeps it."""
    mark = Mark(time=time.time() if when is None else when, name=mark_name(name), source=source)
    session_dir.mkdir(parents=True, exist_ok=True)
    with open(session_dir / MARKS_FILE, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(mark.as_dict()) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return mark


def read_marks(path: Path, warnings: list[str] | None = None) -> list[Mark]:
    """Marks of a marks.jsonl; a bad line is a warning (the rest is kept), an unreadable file an error."""
    return read_jsonl(path, "mark", lambda raw: Mark(float(raw["time"]), mark_name(str(raw["name"])),
                                                     str(raw.get("source", "cli"))), warnings)


def read_jsonl[T](path: Path, what: str, parse: Callable[[Any], T], warnings: list[str] | None = None) -> list[T]:
    """The records of a JSON Lines file a session appends to as things happen (marks, TLS failures).

    A line that does not parse (cut by a killed process, an undecodable byte) is a warning and the rest is kept;
    a file that cannot be read at all is an error."""
    if not path.exists():
        return []
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        raise BadCapture(f"cannot read {what}s: {exc}", path=str(path)) from None
    records: list[T] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            records.append(parse(json.loads(line)))
        except (ValueError, KeyError, TypeError) as exc:
            if warnings is not None:
                warnings.append(f"{path}:{number}: unreadable line skipped ({what}: {type(exc).__name__}: {exc})")
    return records
