"""The policy-text vocabulary (rules/vocabulary/*.yaml) and the one-pass term matchers built from it.

Every term list is data a regulator can extend without code.  Matching is Aho-Corasick over NFKC-folded,
lower-cased text, leftmost-longest with whole-word checks for Latin-script terms: linear in the text, so a
hostile page cannot make it slow.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import ahocorasick

from scanner.errors import BadRule, DivulgeError
from scanner.knowledge.sdks import shared_catalog
from scanner.model import DATA_TYPES, PURPOSES
from scanner.yaml_lines import YamlDoc, parse_yaml, suggest

log = logging.getLogger(__name__)

CUE_ROLES = ("collect", "share", "share_weak", "sell", "recipient", "processor", "negation", "exception", "legal",
             "conditional", "deidentified", "neutral", "entrusted", "controller", "corporate", "definition")
VERB_ROLES = ("collect", "share", "share_weak", "sell", "recipient", "neutral")
MODIFIER_ROLES = ("negation", "exception", "legal", "conditional", "processor", "deidentified", "neutral",
                  "corporate", "definition")
# What a named party is to the app (issue 19): a service provider processing on its behalf, or a handler using
# the data for its own purposes.  Matched on their own (the `roles` matcher), so they never shadow the verbs.
PARTY_ROLE_CUES = ("entrusted", "controller")
COLUMN_ROLES = ("name", "company", "purpose", "data", "link", "method")
_SPACES = re.compile(r"\s+")
_SDK_KEY_DROP = re.compile(r"[\s\-_·・.,，、:：()（）+]+")


# Typographic apostrophes and dashes as their ASCII forms, one character for one ("don’t" is "don't"), so that
# folded text keeps the offsets of the text it came from.
QUOTE_FOLD = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u2032": "'", "\u2010": "-",
                            "\u2011": "-"})


def fold(text: str) -> str:
    """The matching form of a text: NFKC (full-width -> ASCII), lower case, runs of white space -> one space."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text).casefold().translate(QUOTE_FOLD))


def sdk_key(name: str) -> str:
    """The lookup form of an SDK name: folded, no spaces or punctuation, no trailing 'sdk'."""
    key = _SDK_KEY_DROP.sub("", fold(name))
    for suffix in ("sdk", "软件开发工具包", "插件"):
        key = key.removesuffix(suffix)
    return key


def _is_word(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch == "_")


@dataclass(frozen=True)
class Match:
    start: int
    end: int
    role: str
    value: str  # data type, umbrella id, purpose id, SDK id or the cue itself
    term: str


class TermMatcher:
    """Leftmost-longest, non-overlapping matches of many terms in one pass."""

    def __init__(self, terms: Iterable[tuple[str, str, str]]) -> None:
        self._automaton = ahocorasick.Automaton()
        count = 0
        for term, role, value in terms:
            key = fold(term).strip()
            if not key:
                continue
            _, existing = self._automaton.get(key, (key, ()))
            if (role, value) not in existing:
                self._automaton.add_word(key, (key, (*existing, (role, value))))
            count += 1
        self._empty = count == 0
        if not self._empty:
            self._automaton.make_automaton()

    def find(self, folded: str, accept: Callable[[int, int], bool] | None = None) -> list[Match]:
        """Matches in `folded` (already fold()ed); `accept(start, end)` may veto a CJK match (segmentation)."""
        if self._empty or not folded:
            return []
        candidates: list[tuple[int, int, str, tuple[tuple[str, str], ...]]] = []
        for end_index, (key, payload) in self._automaton.iter(folded):
            start = end_index - len(key) + 1
            end = end_index + 1
            if _is_word(key[0]) and start > 0 and _is_word(folded[start - 1]):
                continue
            if _is_word(key[-1]) and end < len(folded) and _is_word(folded[end]):
                continue
            candidates.append((start, end, key, payload))
        # Leftmost-longest: sort by start, longer first, then sweep once.
        candidates.sort(key=lambda c: (c[0], c[0] - c[1]))
        matches: list[Match] = []
        taken = 0
        for start, end, key, payload in candidates:
            if start < taken:
                continue
            if accept is not None and not _is_word(key[0]) and not accept(start, end):
                continue
            for role, value in payload:
                matches.append(Match(start, end, role, value, key))
            taken = end
        return matches


TOPIC_SECTIONS = ("definitions", "rights")  # section kinds a topic heading can open


@dataclass(frozen=True)
class PolicyTopicSpec:
    """A topic a policy must address (policy_topics.yaml): who runs the app, retention, the user's rights..."""

    id: str
    group: str
    label: str
    label_zh: str
    section: str | None = None  # a heading with this topic opens a section of this kind (TOPIC_SECTIONS)
    patterns: tuple[re.Pattern[str], ...] = ()  # over one folded sentence, for what has no fixed words
    needs_user: bool = False  # a sentence says it only with the user acting in it ("you can delete…")


@dataclass
class Vocabulary:
    data_terms: list[tuple[str, str, str]] = field(default_factory=list)  # (term, role, value)
    umbrella_covers: dict[str, list[str]] = field(default_factory=dict)
    cue_terms: dict[str, list[str]] = field(default_factory=dict)
    purpose_terms: list[tuple[str, str, str]] = field(default_factory=list)
    sdk_aliases: dict[str, str] = field(default_factory=dict)  # alias as written -> SDK id
    ambiguous: set[str] = field(default_factory=set)  # sdk_key()s never matched loose in prose
    columns: dict[str, set[str]] = field(default_factory=dict)  # role -> sdk_key()s of header texts
    files: list[str] = field(default_factory=list)
    topics: dict[str, PolicyTopicSpec] = field(default_factory=dict)
    topic_terms: list[tuple[str, str, str]] = field(default_factory=list)  # (term, "topic", topic id)

    def __post_init__(self) -> None:
        self._matchers: dict[str, TermMatcher] = {}

    def matcher(self, name: str) -> TermMatcher:
        """`data` (data types, umbrella, ignore), `verbs`, `modifiers`, `roles`, `purposes` or `topics`; built once
        each."""
        found = self._matchers.get(name)
        if found is None:
            if name == "data":
                terms = self.data_terms
            elif name == "purposes":
                terms = self.purpose_terms
            elif name == "topics":
                terms = self.topic_terms
            else:
                roles = VERB_ROLES if name == "verbs" else PARTY_ROLE_CUES if name == "roles" else MODIFIER_ROLES
                terms = [(t, role, t) for role in roles for t in self.cue_terms.get(role, [])]
            found = self._matchers[name] = TermMatcher(terms)
        return found

    def column_role(self, header: str) -> str | None:
        key = sdk_key(header)
        for role in COLUMN_ROLES:
            if key in self.columns.get(role, set()):
                return role
        return None


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------


def _builtin_files() -> list[tuple[str, str]]:
    root = resources.files("scanner.rules").joinpath("vocabulary")
    out = []
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.name.endswith((".yaml", ".yml")):
            out.append((f"rules/vocabulary/{entry.name}", entry.read_text(encoding="utf-8")))
    return out


def _terms(doc: YamlDoc, path: list[Any], value: Any) -> list[str]:
    """A {en: [...], zh: [...]} mapping or a plain list -> its terms, each a non-empty string."""
    if isinstance(value, dict):
        unknown = set(value) - {"en", "zh"}
        if unknown:
            raise BadRule(f"unknown language key {sorted(unknown)[0]!r}: use `en` and `zh`", path=doc.path,
                          line=doc.line_of(path))
        items: list[Any] = [t for lang in ("en", "zh") for t in (value.get(lang) or [])]
    elif isinstance(value, list):
        items = value
    else:
        raise BadRule("expected a list of terms or a mapping with `en` and `zh` lists", path=doc.path,
                      line=doc.line_of(path))
    for index, item in enumerate(items):
        if not isinstance(item, (str, int)) or not str(item).strip():
            raise BadRule(f"term {item!r} must be non-empty text", path=doc.path,
                          line=doc.line_of([*path, index]) if isinstance(value, list) else doc.line_of(path))
    return [str(item) for item in items]


def _check_ids(doc: YamlDoc, path: list[Any], ids: Iterable[str], known: Iterable[str], what: str) -> None:
    known_set = set(known)
    for item in ids:
        if item not in known_set:
            line = doc.key_line(path, item) if isinstance(item, str) else None
            raise BadRule(f"unknown {what} {item!r}{suggest(str(item), known_set)}", path=doc.path,
                          line=line or doc.line_of(path))


def load_vocabulary(extra_dir: Path | None = None, *, sdk_names: dict[str, str] | None = None) -> Vocabulary:
    """The built-in vocabulary plus every *.yaml in `extra_dir` (same format); `sdk_names` maps catalog names."""
    sources = _builtin_files()
    if extra_dir is not None:
        if not extra_dir.is_dir():
            raise BadRule("vocabulary directory not found", path=str(extra_dir))
        for file in sorted(extra_dir.glob("*.y*ml")):
            sources.append((str(file), file.read_text(encoding="utf-8")))
    vocab = Vocabulary()
    seen_data: dict[str, str] = {}
    for where, text in sources:
        doc = parse_yaml(text, where, BadRule)
        vocab.files.append(where)
        if not isinstance(doc.data, dict):
            raise BadRule("expected a mapping at the top level", path=where, line=1)
        _read_doc(doc, vocab, seen_data)
    # Catalog names fill in what the alias table lacks, unless they read as a data term ("短信验证码").
    known = {sdk_key(a) for a in vocab.sdk_aliases}
    taken = {fold(t).strip() for t, _, _ in vocab.data_terms}
    for name, sdk_id in (sdk_names or {}).items():
        if sdk_key(name) not in known and fold(name).strip() not in taken:
            vocab.sdk_aliases.setdefault(name, sdk_id)
    return vocab


def _read_doc(doc: YamlDoc, vocab: Vocabulary, seen_data: dict[str, str]) -> None:
    data = doc.data

    def add_data(term: str, role: str, value: str, path: list[Any]) -> None:
        key = fold(term).strip()
        previous = seen_data.get(key)
        if previous is not None and previous != f"{role}:{value}":
            raise BadRule(f"term {term!r} is listed twice ({previous} and {role}:{value}); keep one",
                          path=doc.path, line=doc.line_of(path))
        seen_data[key] = f"{role}:{value}"
        vocab.data_terms.append((term, role, value))

    for key in data:
        if key not in ("data_types", "umbrella", "ignore", "purposes", "aliases", "ambiguous", "columns", "topics",
                       *CUE_ROLES):
            raise BadRule(f"unknown section {key!r}", path=doc.path, line=doc.key_line([], str(key)))
    for data_type, value in (data.get("data_types") or {}).items():
        _check_ids(doc, ["data_types"], [data_type], DATA_TYPES, "data type")
        for term in _terms(doc, ["data_types", data_type], value):
            add_data(term, "data", data_type, ["data_types", data_type])
    for index, entry in enumerate(data.get("umbrella") or []):
        where = ["umbrella", index]
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str) or not entry.get("covers"):
            raise BadRule("an umbrella entry needs `id`, `covers` and `en`/`zh` terms", path=doc.path,
                          line=doc.line_of(where))
        _check_ids(doc, [*where, "covers"], entry["covers"], DATA_TYPES, "data type")
        vocab.umbrella_covers[entry["id"]] = list(entry["covers"])
        for term in _terms(doc, where, {k: v for k, v in entry.items() if k in ("en", "zh")}):
            add_data(term, "umbrella", entry["id"], where)
    if "ignore" in data:
        for term in _terms(doc, ["ignore"], data["ignore"]):
            add_data(term, "ignore", "", ["ignore"])
    for role in CUE_ROLES:
        if role in data:
            vocab.cue_terms.setdefault(role, []).extend(_terms(doc, [role], data[role]))
    for purpose, value in (data.get("purposes") or {}).items():
        _check_ids(doc, ["purposes"], [purpose], PURPOSES, "purpose")
        vocab.purpose_terms.extend((t, "purpose", purpose) for t in _terms(doc, ["purposes", purpose], value))
    for sdk_id, names in (data.get("aliases") or {}).items():
        for name in _terms(doc, ["aliases", sdk_id], names):
            vocab.sdk_aliases[name] = str(sdk_id)
    if "ambiguous" in data:
        vocab.ambiguous.update(sdk_key(t) for t in _terms(doc, ["ambiguous"], data["ambiguous"]))
    for topic_id, entry in (data.get("topics") or {}).items():
        _read_topic(doc, vocab, str(topic_id), entry)
    for role, value in (data.get("columns") or {}).items():
        if role not in COLUMN_ROLES:
            raise BadRule(f"unknown column role {role!r}: one of {', '.join(COLUMN_ROLES)}", path=doc.path,
                          line=doc.key_line(["columns"], str(role)))
        vocab.columns.setdefault(role, set()).update(sdk_key(t) for t in _terms(doc, ["columns", role], value))


def _read_topic(doc: YamlDoc, vocab: Vocabulary, topic_id: str, entry: Any) -> None:
    where = ["topics", topic_id]
    if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in ("group", "label", "label_zh")):
        raise BadRule(f"topic {topic_id!r} needs `group`, `label` and `label_zh`", path=doc.path,
                      line=doc.line_of(where))
    section = entry.get("section")
    if section is not None and section not in TOPIC_SECTIONS:
        raise BadRule(f"topic {topic_id!r}: unknown section {section!r}: one of {', '.join(TOPIC_SECTIONS)}",
                      path=doc.path, line=doc.line_of([*where, "section"]))
    patterns = []
    for index, pattern in enumerate(entry.get("patterns") or []):
        try:
            patterns.append(re.compile(str(pattern)))
        except re.error as exc:
            raise BadRule(f"topic {topic_id!r}: bad pattern: {exc}", path=doc.path,
                          line=doc.line_of([*where, "patterns", index])) from None
    vocab.topics[topic_id] = PolicyTopicSpec(topic_id, entry["group"], entry["label"], entry["label_zh"], section,
                                             tuple(patterns), bool(entry.get("needs_user")))
    terms = _terms(doc, where, {k: v for k, v in entry.items() if k in ("en", "zh") and v})
    vocab.topic_terms.extend((term, "topic", topic_id) for term in terms)


_GENERIC_FEATURES = frozenset({"一键登录", "号码认证", "本机号码认证", "实名认证", "消息推送", "统计分析", "崩溃上报",
                               "app events", "sdk core", "push notifications", "crash reporting", "analytics",
                               "attribution", "advertising", "login", "payments", "maps"})


_GENERIC_WORDS = frozenset({"ad", "ads", "advertising", "tracking", "analytics", "app", "apps", "events", "push",
                            "campaigns", "mode", "manager", "open", "source", "feature", "features", "management",
                            "insights", "engagement", "crash", "reporting", "reports", "sdk", "mobile", "kit",
                            "login", "share", "creative", "data", "cloud", "services", "service"})


def catalog_names() -> dict[str, str]:
    """Names of every SDK catalog entry -> id: the name before '(' and each '/'-separated name inside it."""
    try:
        catalog = shared_catalog()
    except DivulgeError as exc:  # the policy reader still works from the alias table alone
        log.warning("SDK catalog unavailable, matching SDK names from the alias table only: %s", exc)
        return {}
    names: dict[str, str] = {}
    for entry in catalog.entries.values():
        outer, _, inner = entry.name.partition("(")
        outer_names = re.split(r" / ", outer)
        inner_names = re.split(r"[/,;]| and ", inner.rstrip(")")) if inner else []
        for position, part in enumerate(outer_names + inner_names):
            part = part.strip()
            inner_part = position >= len(outer_names)
            # Inside the parentheses, a lone English word is a feature list ("Support, Chat", "consent"), not a
            # name; an acronym ("UMP") or a Chinese name ("友盟+") is one.
            if inner_part and re.fullmatch(r"[A-Za-z][a-z]+", part):
                continue
            # A description beside the first name ("ACRA (open source)", "TalkingData App Analytics / Ad Tracking")
            # names no SDK: all lower case, or only generic words, it would match ordinary prose.
            if position > 0 and (re.fullmatch(r"[a-z][a-z\- ]* [a-z\- ]+", part) or all(
                    w in _GENERIC_WORDS for w in re.split(r"[\s-]+", part.casefold()))):
                continue
            # Skip the descriptive tails ("also Pangle global", "formerly AdsMogo", "login, share").
            if len(part) < 3 or len(part) > 40 or re.match(r"(also|formerly|retired|still|login|share|payment)\b",
                                                             part, re.I):
                continue
            # A feature every carrier and several vendors offer names none of them ("一键登录").
            if part.casefold() in _GENERIC_FEATURES:
                continue
            names.setdefault(part, entry.id)
    return names


@functools.lru_cache(maxsize=4)
def shared_vocabulary(extra_dir: Path | None = None) -> Vocabulary:
    """The built-in vocabulary (plus `extra_dir`) with the SDK catalog's names, built once per process."""
    return load_vocabulary(extra_dir, sdk_names=catalog_names())
