"""Find a privacy consent dialog in a uiautomator hierarchy dump and the button for a consent path.

The dump is what `uiautomator dump` writes on the phone (a <hierarchy> of <node text= resource-id= class= bounds=
clickable=...>). Which texts make a consent dialog and which buttons accept or refuse are data
(rules/catalogs/consent_dialogs.yaml, read by scanner.knowledge.consent_dialogs), so a tester extends them
without code.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from scanner.errors import DivulgeError
from scanner.knowledge.consent_dialogs import WHERE, ConsentWords, consent_words, normalise_label

PATHS = ("accept", "refuse")
_BOUNDS = re.compile(r"^\[(-?\d+),(-?\d+)\]\[(-?\d+),(-?\d+)\]$")
MAX_DUMP_BYTES = 8 << 20


class DialogNotFound(DivulgeError):
    """No consent dialog (or no button for the chosen path) on the screen; exit 2, the session keeps its evidence."""


@dataclass(frozen=True)
class Node:
    text: str
    resource_id: str
    cls: str
    package: str
    clickable: bool
    bounds: tuple[int, int, int, int]

    @property
    def center(self) -> tuple[int, int]:
        x1, y1, x2, y2 = self.bounds
        return (x1 + x2) // 2, (y1 + y2) // 2


@dataclass(frozen=True)
class ConsentButton:
    path: str  # accept | refuse
    text: str
    center: tuple[int, int]
    bounds: tuple[int, int, int, int]
    dialog_text: str  # the cue that made this a consent dialog, for the evidence
    resource_id: str = ""


def parse_dump(xml: bytes | str, where: str = "ui dump") -> list[Node]:
    """The visible nodes of a uiautomator dump; a dump that is not that XML is a one-line error."""
    raw = xml.encode("utf-8") if isinstance(xml, str) else xml
    if len(raw) > MAX_DUMP_BYTES:
        raise DivulgeError(f"UI dump over {MAX_DUMP_BYTES:,} bytes", path=where)
    start = raw.find(b"<?xml")
    start = start if start >= 0 else raw.find(b"<hierarchy")
    if start < 0:
        raise DivulgeError("not a uiautomator dump: no <hierarchy>", path=where)
    try:
        root = ET.fromstring(raw[start:raw.rfind(b">") + 1])
    except ET.ParseError as exc:
        raise DivulgeError(f"malformed uiautomator dump ({exc})", path=where) from None
    nodes = []
    for element in root.iter("node"):
        match = _BOUNDS.match(element.get("bounds", ""))
        if not match:
            continue
        x1, y1, x2, y2 = (int(v) for v in match.groups())
        if x2 <= x1 or y2 <= y1:
            continue  # off screen or collapsed: not something a user could tap
        label = element.get("text") or element.get("content-desc") or ""
        nodes.append(Node(text=label.strip(), resource_id=element.get("resource-id", ""),
                          cls=element.get("class", ""), package=element.get("package", ""),
                          clickable=element.get("clickable") == "true", bounds=(x1, y1, x2, y2)))
    return nodes


def _matches(text: str, words: tuple[str, ...]) -> int:
    """How well a normalised button label matches a normalised word list: 2 exact, 1 starts with a word, 0 not."""
    if not text:
        return 0
    if text in words:
        return 2
    return 1 if len(text) <= 12 and any(text.startswith(w) for w in words if len(w) >= 2) else 0


def find_button(nodes: list[Node], path: str, words: ConsentWords | None = None) -> ConsentButton:
    """The button to tap for `path` on a screen showing a consent dialog; DialogNotFound otherwise."""
    if path not in PATHS:
        raise DivulgeError(f"consent path {path!r}: use accept or refuse")
    words = words or consent_words()
    cue = next((n.text for n in nodes if any(c in normalise_label(n.text) for c in words.dialog_cues)), None)
    if cue is None:
        raise DialogNotFound("no privacy consent dialog on the screen (no text names a privacy policy or terms)")
    mine, other = (words.accept, words.refuse) if path == "accept" else (words.refuse, words.accept)
    candidates: list[tuple[int, int, Node]] = []
    for node in nodes:
        label = normalise_label(node.text)
        if label in words.not_buttons or len(node.text) > 24:
            continue
        score = _matches(label, mine)
        # "不同意" starts with "同意"'s negation, not with "同意": a label that is the other path's word is not ours.
        if score and _matches(label, other) < 2:
            clickable = 1 if node.clickable or node.cls.endswith(("Button", "TextView")) else 0
            candidates.append((score, clickable, node))
    if not candidates:
        raise DialogNotFound(f"a consent dialog is on the screen, but no button for {path!r} "
                             f"(add its text to {WHERE})")
    candidates.sort(key=lambda c: (c[0], c[1], c[2].bounds[1]), reverse=True)  # exact, tappable, lowest
    best = candidates[0][2]
    return ConsentButton(path=path, text=best.text, center=best.center, bounds=best.bounds, dialog_text=cue[:120],
                         resource_id=best.resource_id)
