"""Run a rule pack over a fact set: match, group, test aggregates, gather evidence, render messages -> findings."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from scanner.engine.conditions import Context, Fact, getter
from scanner.engine.facts import IDENTITY, FactSet, basis_of, evidence_for
from scanner.engine.loader import _TEMPLATE_VAR, Rule
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
    for rule in rules:
        if not rule.enabled:
            continue
        missing = sorted(rule.requires - factset.inputs)
        if missing:
            outcome.skipped.append({"rule_id": rule.id, "missing": missing})
            continue
        ctx.params = {**rule.params, **params.get(rule.id, {})}
        outcome.findings.extend(_run_one(rule, ctx, severities.get(rule.id)))
        outcome.evaluated += 1
    outcome.findings.sort(key=lambda f: (-int(f.severity), f.rule_id, f.data_type or "", f.sdk or "", f.fingerprint))
    return outcome


def _group_key_of(rule: Rule) -> Any:
    """fact -> its group: the rule's group_by fields, else the fact's identity (one finding per distinct fact)."""
    if rule.group_by:
        getters = [getter(f) for f in rule.group_by]
        return lambda fact: tuple(_hashable(g(fact)) for g in getters)
    return lambda fact: (fact["kind"], *(_hashable(fact.get(f)) for f in IDENTITY[fact["kind"]]))


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _run_one(rule: Rule, ctx: Context, severity: Severity | None) -> list[Finding]:
    assert rule.where is not None
    where = rule.where
    if rule.prefilter is not None:
        field_name, values = rule.prefilter
        candidates = [f for v in values for f in ctx.lookup(rule.kinds, (field_name,), (v,))]
        source: Any = (rule.kinds, rule.prefilter)
    else:
        candidates = ctx.facts(rule.kinds)
        source = rule.kinds
    group_key = _group_key_of(rule)
    # Facts that agree on every field the rule reads get the same answer: test one per bucket.
    bucketed: dict[tuple[Any, ...], list[list[Fact]]] = {}
    for bucket in ctx.buckets(source, candidates, rule.key_fields):
        first = bucket[0]
        if where(first, first, ctx):
            key = group_key(first)
            parts = bucketed.get(key)
            if parts is None:
                bucketed[key] = [bucket]
            else:
                parts.append(bucket)
    findings = []
    for key, parts in bucketed.items():
        group = parts[0] if len(parts) == 1 else [f for part in parts for f in part]
        primary = group[0]
        if rule.having is not None and not rule.having(group, primary, ctx):
            continue
        findings.append(_finding(rule, key, group, ctx, severity, [part[0] for part in parts]))
    return findings


def _finding(rule: Rule, key: tuple[Any, ...], group: list[Fact], ctx: Context, severity: Severity | None,
             heads: list[Fact]) -> Finding:
    """One finding for a group; `heads` holds one fact per bucket (equal in every field in rule.key_fields)."""
    primary = group[0]
    corroborating: list[Fact] = []
    in_group = {id(f) for f in group} if rule.finders else set()
    for find in rule.finders:
        # Only a few corroborating facts are shown; looking for more than that is wasted work.
        corroborating.extend(f for f in find(primary, ctx, MAX_CORROBORATING + len(group))
                             if id(f) not in in_group)
    evidence = _evidence(group, MAX_EVIDENCE) + _evidence(corroborating, MAX_CORROBORATING)
    kinds = {f["kind"] for f in group} | {f["kind"] for f in corroborating}
    data_type = primary.get("data_type")
    by_type = heads if "data_type" in rule.key_fields else group
    if "data_type" not in rule.group_by and any(f.get("data_type") != data_type for f in by_type):
        data_type = None
    sdk = _sdk_of(primary)
    by_sdk = heads if {"sdk", "id"} & set(rule.key_fields) else group
    if not ({"sdk", "id"} & set(rule.group_by)) and any(_sdk_of(f) != sdk for f in by_sdk):
        sdk = None
    variables = _variables(primary, group, ctx)
    variables["__heads__"] = (heads, rule.key_fields)
    fingerprint = hashlib.sha256("\x1f".join(
        [rule.id, str(data_type or ""), str(sdk or ""), *(str(v) for v in key)]).encode()).hexdigest()[:20]
    return Finding(
        rule_id=rule.id, severity=severity if severity is not None else rule.severity, confidence=rule.confidence,
        title=rule.title, message=render(rule.message, variables), basis=basis_of(kinds),
        data_type=data_type if data_type in DATA_TYPES else None, sdk=sdk, evidence=evidence,
        references=list(rule.references), remediation=rule.remediation, fingerprint=fingerprint,
        title_zh=rule.title_zh, message_zh=render(rule.message_zh, variables, "zh") if rule.message_zh else None,
        remediation_zh=rule.remediation_zh)


def _sdk_of(fact: Fact) -> str | None:
    if fact["kind"] == "sdk":
        return fact.get("id")
    value = fact.get("sdk")
    return value if isinstance(value, str) else None


def _evidence(facts: list[Fact], limit: int) -> list[Evidence]:
    """Evidence of the first `limit` distinct facts, plus a note of how many more there are.

    Only the shown facts are formatted: a group can hold thousands of flows, and formatting each costs more
    than matching it."""
    out: list[Evidence] = []
    seen: set[tuple[Any, ...]] = set()
    used = 0
    for fact in facts:
        if len(out) >= limit:
            break
        used += 1
        marker = (fact["kind"], *(_hashable(fact.get(f)) for f in IDENTITY[fact["kind"]]),
                  fact.get("phase"), fact.get("method"), fact.get("url"), fact.get("source"), fact.get("via"))
        if marker in seen:
            continue
        seen.add(marker)
        out.append(evidence_for(fact))
    extra = len(facts) - len(out)
    if extra and out:
        out[-1].details = {**out[-1].details, "more": extra}
        out.append(Evidence(kind=out[-1].kind, summary=f"... and {extra} more of the same kind"))
    return out


class _Variables(dict[str, Any]):
    pass


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
    """Fill {field}, {field|label}, {count}, {values.FIELD} and {params.NAME}; no code runs.

    lang="zh" gives data types their Chinese names and lists joined the Chinese way (for message_zh).
    """
    group: list[Fact] = variables.get("__group__", [])
    cache: dict[tuple[str, str | None, str], str] = variables.setdefault("__cache__", {})
    words = _WORDS.get(lang, _WORDS["en"])

    def cached(name: str, flt: str | None) -> str:
        key = (name, flt, lang)
        if key not in cache:
            cache[key] = value_of(name, flt)
        return cache[key]

    def value_of(name: str, flt: str | None) -> str:
        if name.startswith("values."):
            fld = name.split(".", 1)[1]
            get = getter(fld)
            distinct: dict[Any, None] = {}
            heads, key_fields = variables.get("__heads__", (None, ()))
            for fact in (heads if heads is not None and fld in key_fields else group):
                v = get(fact)
                for item in (v if isinstance(v, list) else [v]):
                    if item is not None:
                        distinct[_hashable(item)] = None
            seen = list(distinct)
            if flt == "label":
                seen = [_label(v, lang) for v in seen]
            return _listing(sorted(seen, key=str), lang)
        if name.startswith("params."):
            value = variables.get("__params__", {}).get(name.split(".", 1)[1])
        else:
            value = getter(name)(variables)
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

    return _TEMPLATE_VAR.sub(lambda m: cached(m.group(1), m.group(2)), template)


def _label(value: Any, lang: str = "en") -> str:
    info = DATA_TYPES.get(str(value))
    if info is None:
        return str(value)
    return info.label_zh if lang == "zh" else info.label
