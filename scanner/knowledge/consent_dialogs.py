"""The words that make a privacy consent dialog and its accept and refuse buttons (rules/catalogs/
consent_dialogs.yaml), normalised once: `divulge run` compares them with every label on every screen it looks at."""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from scanner.errors import BadCatalog
from scanner.knowledge import shipped_text
from scanner.yaml_lines import parse_yaml

WHERE = "rules/catalogs/consent_dialogs.yaml"
_KEYS = ("dialog_cues", "accept", "refuse", "not_buttons")


def normalise_label(text: str) -> str:
    """A label as compared: NFKC, lower case, no spaces or punctuation ("I  Agree!" -> "iagree")."""
    return re.sub(r"[\s\W_]+", "", unicodedata.normalize("NFKC", text).lower())


@dataclass(frozen=True)
class ConsentWords:
    """Each list as written in the catalog, normalised (normalise_label), empty entries dropped."""

    dialog_cues: tuple[str, ...]
    accept: tuple[str, ...]
    refuse: tuple[str, ...]
    not_buttons: frozenset[str]


@functools.cache
def consent_words() -> ConsentWords:
    text = shipped_text("catalogs/consent_dialogs.yaml")
    doc = parse_yaml(text, WHERE, BadCatalog)
    data = doc.data if isinstance(doc.data, dict) else {}
    lists: dict[str, tuple[str, ...]] = {}
    for key in _KEYS:
        value = data.get(key)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise BadCatalog(f"{key} must be a list of texts", path=WHERE, line=doc.line_of([key]))
        lists[key] = tuple(dict.fromkeys(n for v in value if (n := normalise_label(v))))
    return ConsentWords(dialog_cues=lists["dialog_cues"], accept=lists["accept"], refuse=lists["refuse"],
                        not_buttons=frozenset(lists["not_buttons"]))
