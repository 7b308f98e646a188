"""Run a rule pack over a fact set: match, group, test aggregates, gather evidence, render messages -> findings."""

from __future__ import annotations

import functools
import hashlib
import itertools
import logging
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from scanner.engine.conditions import Context, Fact, field_values, getter, kinds_of
from scanner.engine.facts import FACT_FIELDS, IDENTITY, FactSet, basis_of, evidence_for
from scanner.engine.loader import _TEMPLATE_VAR, Rule
from scanner.gcpause import gc_paused
from scanner.model import DATA_TYPES, Evidence, Finding, Severity

log = logging.getLogger(__name__)

MAX_EVIDENCE = 8  # per finding from the matched facts; corroborating facts add up to 4 more
MAX_CORROBORATING = 4
MAX_LISTED = 6  # values listed by {values.FIELD} before "and N more"


@dataclass
class RunOutcome:
    findings: list[Finding]
    skipped: list[dict[str, Any]] = field(default_factory=list)  # rule id and the inputs it lacked
    evaluated: int = 0


def run_rules(rules: Sequence[Rule], factset: FactSet, *, params: dict[str, dict[str, Any]] | None = None,
              severities: dict[str, Severity] | None = None) -> RunOutcome:
    """Findings of every enabled rule whose required inputs are present, sorted by severity then rule id."""
    params = params or {}
    severities = severities or {}
    ctx = Context(factset.facts)
    outcome = RunOutcome(findings=[])
    memo = _Memo()
    with gc_paused():
        for rule in rules:
            if not rule.enabled:
                continue
            missing = sorted(rule.requires - factset.inputs)
            if missing:
                outcome.skipped.append({"rule_id": rule.id, "missing": missing})
                continue
            ctx.params = {**rule.params, **params.get(rule.id, {})}
            outcome.findings.extend(_run_one(rule, ctx, severities.get(rule.id), memo))
            outcome.evaluated += 1
    outcome.findings.sort(key=lambda f: (-int(f.severity), f.rule_id, f.data_type or "", f.sdk or "", f.fingerprint))
    return outcome


def _group_key_of(rule: Rule) -> Any:
    """fact -> its group: the rule's group_by fields, else the fact's identity (one finding per distinct fact)."""
    if rule.group_by and all("." not in f for f in rule.group_by):
        pick = operator.itemgetter(*rule.group_by)
        single = len(rule.group_by) == 1
        getters = [getter(f) for f in rule.group_by]

        def by_fields(fact: Fact) -> tuple[Any, ...]:
            try:
                return _hashable_key((pick(fact),) if single else pick(fact))
            except KeyError:  # a fact without one of the fields: it reads as None
                return tuple(_hashable(g(fact)) for g in getters)

        return by_fields
    if rule.group_by:
        getters = [getter(f) for f in rule.group_by]
        return lambda fact: tuple(_hashable(g(fact)) for g in getters)
    return lambda fact: _hashable_key((fact["kind"], *[fact.get(f) for f in IDENTITY[fact["kind"]]]))


def _hashable_key(key: tuple[Any, ...]) -> tuple[Any, ...]:
    try:
        hash(key)
    except TypeError:  # a list value
        return tuple(map(_hashable, key))
    return key


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


@dataclass
class _Memo:
    """What one run works out once for all its rules; facts and buckets are known by id (they outlive the run)."""

    shown: dict[int, Evidence] = field(default_factory=dict)  # fact -> its evidence
    # (bucket, question, value) -> (bucket, answer): rules that share buckets (Context caches them) ask alike
    per_bucket: dict[tuple[int, str, Any], tuple[list[Fact], Any]] = field(default_factory=dict)


def _run_one(rule: Rule, ctx: Context, severity: Severity | None, memo: _Memo) -> list[Finding]:
    assert rule.where is not None
    where = rule.where
    if rule.prefilter is not None:
        prefilter = rule.prefilter
        if len(prefilter[1]) == 1:
            # Any one-value equality gives the matching facts in the same order; the narrowest is the cheapest.
            # (Several values give them value by value, so the first equality must stay then.)
            prefilter = min((p for p in rule.prefilters if len(p[1]) == 1),
                            key=lambda p: len(ctx.lookup(rule.kinds, (p[0],), p[1])))
        field_name, values = prefilter
        found = [ctx.lookup(rule.kinds, (field_name,), (v,)) for v in values]
        if rule.key_fields == (field_name,) and len(set(values)) == len(values):
            buckets = [facts for facts in found if facts]  # the facts of each value are already a bucket
        else:
            buckets = ctx.buckets((rule.kinds, prefilter), found[0] if len(found) == 1 else
                                  [f for facts in found for f in facts], rule.key_fields)
    else:
        buckets = ctx.buckets(rule.kinds, ctx.facts(rule.kinds), rule.key_fields)
    group_key = _group_key_of(rule)
    # Facts that agree on every field the rule reads get the same answer: test one per bucket.
    bucketed: dict[tuple[Any, ...], list[list[Fact]]] = {}
    for bucket in buckets:
        first = bucket[0]
        if where(first, first, ctx):
            key = group_key(first)
            parts = bucketed.get(key)
            if parts is None:
                bucketed[key] = [bucket]
            else:
                parts.append(bucket)
    findings = []
    shape = _Shape.of(rule)
    for key, parts in bucketed.items():
        group = parts[0] if len(parts) == 1 else [f for part in parts for f in part]
        primary = group[0]
        if rule.having is not None and not rule.having(group, primary, ctx):
            continue
        findings.append(_finding(rule, shape, key, group, parts, ctx, severity, memo))
    return findings


@dataclass(frozen=True)
class _Shape:
    """What building a rule's findings needs to know about the rule, worked out once per rule, not per finding."""

    check_type: bool  # data_type is not grouped on: a finding has one only if its whole group agrees
    type_on_heads: bool  # ... and one fact per bucket shows the group's data types
    check_sdk: bool
    sdk_on_heads: bool
    corroborate_overlaps: bool  # corroborating facts may be of the kinds matched, so may be in the group

    @classmethod
    def of(cls, rule: Rule) -> _Shape:
        return cls(check_type="data_type" not in rule.group_by, type_on_heads="data_type" in rule.key_fields,
                   check_sdk=not ({"sdk", "id"} & set(rule.group_by)),
                   sdk_on_heads=bool({"sdk", "id"} & set(rule.key_fields)),
                   corroborate_overlaps=any(k in rule.kinds for c in rule.corroborate
                                            for k in kinds_of(c["kind"], [])))


def _finding(rule: Rule, shape: _Shape, key: tuple[Any, ...], group: list[Fact], parts: list[list[Fact]],
             ctx: Context, severity: Severity | None, memo: _Memo) -> Finding:
    """One finding for a group, made of buckets (`parts`: facts equal in every field in rule.key_fields)."""
    primary = group[0]
    heads = [part[0] for part in parts]
    corroborating: list[Fact] = []
    if rule.finders:
        in_group = {id(f) for f in group} if shape.corroborate_overlaps else set()
        for find in rule.finders:
            # Only a few corroborating facts are shown; looking for more than that is wasted work.
            corroborating.extend(f for f in find(primary, ctx, MAX_CORROBORATING + len(group))
                                 if id(f) not in in_group)
    evidence = _evidence(group, MAX_EVIDENCE, memo.shown) + _evidence(corroborating, MAX_CORROBORATING, memo.shown)
    kinds = set(rule.kinds) if len(rule.kinds) == 1 else {f["kind"] for f in heads}
    kinds |= {f["kind"] for f in corroborating}
    # A group of one bucket may be asked again by another rule sharing the bucket: its answers are kept.
    shared = memo if len(parts) == 1 else None
    data_type = primary.get("data_type")
    if shape.check_type and (_any_differs(heads, "data_type", data_type) if shape.type_on_heads else
                             _bucket_answer(shared, group, "data_type differs", data_type,
                                            lambda p, v: _any_differs(p, "data_type", v))):
        data_type = None
    sdk = _sdk_of(primary)
    if shape.check_sdk:
        sdk_kind = "sdk" in rule.kinds
        if not (_same_sdk(heads, sdk, sdk_kind) if shape.sdk_on_heads else
                _bucket_answer(shared, group, "same sdk", sdk, lambda p, v: _same_sdk(p, v, sdk_kind))):
            sdk = None
    variables = _variables(primary, group, ctx)
    variables["__heads__"] = (heads, rule.key_fields)
    variables["__shared__"] = shared
    fingerprint = hashlib.sha256("\x1f".join(
        [rule.id, str(data_type or ""), str(sdk or ""), *(str(v) for v in key)]).encode()).hexdigest()[:20]
    variant = next((v for v in rule.variants if v.when(primary, primary, ctx)), None) if rule.variants else None
    confidence, message, message_zh, references = rule.confidence, rule.message, rule.message_zh, rule.references
    if variant is not None:
        confidence = variant.confidence or confidence
        message = variant.message or message
        message_zh = variant.message_zh or message_zh
        references = variant.references if variant.references is not None else references
    return Finding(
        rule_id=rule.id, severity=severity if severity is not None else rule.severity, confidence=confidence,
        title=rule.title, message=render(message, variables), basis=basis_of(kinds),
        data_type=data_type if data_type in DATA_TYPES else None, sdk=sdk, evidence=evidence,
        references=list(references), fingerprint=fingerprint,
        # A fix-it may name what the finding found ({values.via}), so it asks only what the app has.
        remediation=render(rule.remediation, variables) if rule.remediation else rule.remediation,
        title_zh=rule.title_zh, message_zh=render(message_zh, variables, "zh") if message_zh else None,
        remediation_zh=render(rule.remediation_zh, variables, "zh") if rule.remediation_zh else None)


def _bucket_answer(memo: _Memo | None, bucket: list[Fact], question: str, value: Any,
                   answer: Callable[[list[Fact], Any], Any]) -> Any:
    """answer(bucket, value), kept in the memo (when given) for the next rule asking about the same bucket."""
    if memo is None:
        return answer(bucket, value)
    key = (id(bucket), question, value)
    try:
        known = memo.per_bucket.get(key)
    except TypeError:  # a list value: asked rarely enough to answer afresh
        return answer(bucket, value)
    if known is None:
        # The bucket is kept with its answer: while the memo lives, no other list can take its id.
        known = memo.per_bucket[key] = (bucket, answer(bucket, value))
    return known[1]


def _any_differs(facts: list[Fact], name: str, value: Any) -> bool:
    """any(f.get(name) != value for f in facts), compared in C: groups can hold thousands of facts."""
    try:
        return any(map(operator.ne, map(operator.itemgetter(name), facts), itertools.repeat(value)))
    except KeyError:  # a fact without the field: it reads as None
        return any(f.get(name) != value for f in facts)


def _same_sdk(facts: list[Fact], sdk: str | None, sdk_kind: bool) -> bool:
    """Whether every fact has this SDK (as _sdk_of reads it)."""
    if not sdk_kind and not _any_differs(facts, "sdk", sdk):
        return True
    if not sdk_kind and isinstance(sdk, str):  # every other value, str or not, differs from it
        return False
    return all(_sdk_of(f) == sdk for f in facts)


def _sdk_of(fact: Fact) -> str | None:
    if fact["kind"] == "sdk":
        return fact.get("id")
    value = fact.get("sdk")
    return value if isinstance(value, str) else None


def _evidence(facts: list[Fact], limit: int, shown: dict[int, Evidence]) -> list[Evidence]:
    """Evidence of the first `limit` distinct facts, plus a note of how many more there are.

    Only the shown facts are formatted: a group can hold thousands of flows, and formatting each costs more
    than matching it.  A fact shown by an earlier finding is formatted once (`shown`, by fact id); each
    finding still gets evidence objects of its own."""
    out: list[Evidence] = []
    seen: set[tuple[Any, ...]] = set()
    for fact in facts:
        if len(out) >= limit:
            break
        kind = fact["kind"]
        present, pick, absent = _MARKERS[kind]
        try:
            marker = (kind, pick(fact), *[fact.get(f) for f in absent])
        except KeyError:  # a fact without one of its kind's fields: it reads as None
            marker = (kind, tuple(map(fact.get, present)), *[fact.get(f) for f in absent])
        try:
            new = marker not in seen
        except TypeError:  # a list among the identity fields: compared as a tuple
            identity = IDENTITY[kind]
            marker = (kind, tuple(_hashable(fact.get(f)) if f in identity else fact.get(f) for f in present),
                      *[_hashable(fact.get(f)) if f in identity else fact.get(f) for f in absent])
            new = marker not in seen
        if new:
            seen.add(marker)
            known = shown.get(id(fact))
            if known is None:
                out.append(evidence_for(fact))
                shown[id(fact)] = out[-1]
            else:
                out.append(Evidence(kind=known.kind, summary=known.summary, location=known.location,
                                    details=dict(known.details)))
    extra = len(facts) - len(out)
    if extra and out:
        last = out[-1]  # replaced, not changed: it may be the one `shown` keeps
        out[-1] = Evidence(kind=last.kind, summary=last.summary, location=last.location,
                           details={**last.details, "more": extra})
        out.append(Evidence(kind=last.kind, summary=f"... and {extra} more of the same kind"))
    return out


# Facts equal in these fields show the same evidence: a fact's identity, then how and where it was seen.  Per
# kind: the fields its facts have (read at once), how to read them, and the fields they lack (read as None).
_MARKED = {kind: (*fields, "phase", "method", "url", "source", "via") for kind, fields in IDENTITY.items()}


def _marker_reader(kind: str) -> tuple[tuple[str, ...], Callable[[Fact], tuple[Any, ...]], tuple[str, ...]]:
    present = tuple(f for f in _MARKED[kind] if f in FACT_FIELDS[kind])
    absent = tuple(f for f in _MARKED[kind] if f not in FACT_FIELDS[kind])
    if len(present) > 1:
        return present, operator.itemgetter(*present), absent
    return present, lambda fact: tuple(fact[f] for f in present), absent


_MARKERS = {kind: _marker_reader(kind) for kind in _MARKED}


def _variables(primary: Fact, group: list[Fact], ctx: Context) -> dict[str, Any]:
    values: dict[str, Any] = dict(primary)
    values["count"] = len(group)
    values["__group__"] = group
    values["__params__"] = ctx.params
    return values


def _listing(items: list[Any], lang: str = "en") -> str:
    shown = [str(i) for i in items[:MAX_LISTED]]
    more = len(items) - len(shown)
    if lang == "zh":
        return "、".join(shown) + (f"等{len(items)}项" if more > 0 else "")
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


_WORDS = {"en": {"unknown": "unknown", True: "yes", False: "no"}, "zh": {"unknown": "未知", True: "是", False: "否"}}


def render(template: str, variables: dict[str, Any], lang: str = "en") -> str:
    """Fill {field}, {field|label}, {count}, {values.FIELD}, {total.FIELD} and {params.NAME}; no code runs.

    lang="zh" gives data types their Chinese names and lists joined the Chinese way (for message_zh).
    """
    cache: dict[tuple[Any, ...], Any] = variables.setdefault("__cache__", {})
    pieces = _pieces(template)
    out = [pieces[0]]
    for at in range(1, len(pieces), 3):
        out.append(_text_of(pieces[at], pieces[at + 1], variables, lang, cache))
        out.append(pieces[at + 2])
    return "".join(out)


def _text_of(name: str, flt: str | None, variables: dict[str, Any], lang: str, cache: dict[tuple[Any, ...], Any]) -> str:
    if name.startswith("values."):
        fld = name.split(".", 1)[1]
        seen = cache.get(("values", fld))  # the same in every language: found once
        if seen is None:
            heads, key_fields = variables.get("__heads__", (None, ()))
            if heads is not None and fld in key_fields:
                seen = _distinct(heads, fld)
            else:
                seen = _bucket_answer(variables.get("__shared__"), variables.get("__group__", []), "values", fld,
                                      _distinct)
            cache[("values", fld)] = seen
        if flt == "label":
            seen = [_label(v, lang) for v in seen]
        return _listing(sorted(seen, key=str), lang)
    if name.startswith("total."):  # a numeric field summed over the group: reads counted per fact
        fld = name.split(".", 1)[1]
        total = sum(float(f.get(fld) or 0) for f in variables.get("__group__", []))
        return str(int(total)) if total.is_integer() else f"{total:g}"
    if name.startswith("params."):
        value = variables.get("__params__", {}).get(name.split(".", 1)[1])
    else:
        value = variables.get(name) if "." not in name else getter(name)(variables)
    words = _WORDS.get(lang, _WORDS["en"])
    if value is None:
        return words["unknown"]
    if isinstance(value, list):
        return _listing([_label(v, lang) if flt == "label" else v for v in value], lang)
    if flt == "label":
        return _label(value, lang)
    if flt == "upper":
        return str(value).upper()
    if flt == "lower":
        return str(value).lower()
    if isinstance(value, bool):
        return words[value]
    return str(value)


@functools.lru_cache(maxsize=1024)
def _pieces(template: str) -> tuple[Any, ...]:
    """text, name, filter (or None), text, name, filter, ..., text: a template parsed once, not per finding."""
    return tuple(_TEMPLATE_VAR.split(template))


def _distinct(facts: list[Fact], fld: str) -> set[Any]:
    """The distinct values of a field over facts, items of list values counted one by one, None left out.

    In no particular order: the caller sorts them by their text."""
    values = field_values(facts, fld)
    try:
        distinct = set(values)
    except TypeError:  # a list value: its items count, not the list
        distinct = set()
        for v in values:
            for item in (v if isinstance(v, list) else [v]):
                distinct.add(_hashable(item))
    distinct.discard(None)
    return distinct


def _label(value: Any, lang: str = "en") -> str:
    info = DATA_TYPES.get(str(value))
    if info is None:
        return str(value)
    return info.label_zh if lang == "zh" else info.label
