"""Whole-policy statements the children's and cross-border rules need: directed to children, guardian consent,
separate consent to transfers abroad (issue 18)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from scanner.knowledge.regulation import StatementCues, policy_statement_cues
from scanner.model import Declaration

_SENTENCE_END = re.compile(r"(?<=[.!?;。！？；])\s*|\n+")
_LATIN = re.compile(r"[a-z]")


def _holds(sentence: str, term: str) -> bool:
    """A term in a sentence; Latin-script terms as whole words ("no" is not in "know")."""
    if not _LATIN.search(term):
        return term in sentence
    return re.search(rf"(?<![a-z]){re.escape(term)}(?![a-z])", sentence) is not None


def _states(sentences: list[str], cues: StatementCues) -> bool:
    for sentence in sentences:
        if not any(_holds(sentence, t) for t in cues.any):
            continue
        if cues.with_ and not any(_holds(sentence, t) for t in cues.with_):
            continue
        if cues.negation and any(_holds(sentence, t) for t in cues.negation):
            continue
        return True
    return False


def read_statements(declaration: Declaration, texts: Iterable[str]) -> None:
    """Set the audience and consent statements a policy text makes; what it does not say stays None, because
    silence is what the rules look for and "not found" must not read as "says no"."""
    folded = unicodedata.normalize("NFKC", "\n".join(texts)).lower()
    sentences = [s for s in _SENTENCE_END.split(folded) if s.strip()]
    cues = policy_statement_cues()
    if declaration.audience is None and _states(sentences, cues["children_app"]):
        declaration.audience = "children"
    if _states(sentences, cues["guardian_consent"]):
        declaration.guardian_consent = True
    if _states(sentences, cues["cross_border_consent"]):
        declaration.cross_border_consent = True
