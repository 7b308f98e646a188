"""The condition language of rules: field tests, all/any/not, exists/none joins over facts, group and count.

Conditions are YAML data compiled once into Python closures — nothing is ever passed to eval.  A fact is a
plain dict with a `kind` ("observation", "permission", "declared", ...).  Values starting with `$` refer to a
field of the fact the rule is matching (`$data_type`) or to a rule parameter (`$params.max_per_minute`).
See docs/rules.md for the language with examples.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

Fact = dict[str, Any]

BOOL_KEYS = ("all", "any", "not", "exists", "none")
OPERATORS = ("eq", "ne", "in", "not_in", "contains", "contains_any", "gt", "ge", "lt", "le", "present", "empty",
             "matches", "startswith", "endswith")
AGGREGATES = ("count", "distinct", "min", "max", "sum")


class ConditionError(Exception):
    """A malformed condition; `path` is the JSON path inside the rule's condition, for file:line errors."""

    def __init__(self, message: str, path: Sequence[Any]) -> None:
        super().__init__(message)
        self.message = message
        self.path = list(path)


class Context:
    """Per-run state shared by every rule: facts indexed by kind and, lazily, by join fields; join memos."""

    def __init__(self, facts: Sequence[Fact], params: dict[str, Any] | None = None) -> None:
        self.by_kind: dict[str, list[Fact]] = {}
        for fact in facts:
            self.by_kind.setdefault(fact["kind"], []).append(fact)
        self.params: dict[str, Any] = params or {}
        self._indexes: dict[tuple[tuple[str, ...], tuple[str, ...]], dict[tuple[Any, ...], list[Fact]]] = {}
        self.memos: dict[object, dict[tuple[Any, ...], Any]] = {}
        self._buckets: dict[tuple[Any, tuple[str, ...]], list[list[Fact]]] = {}

    def facts(self, kinds: tuple[str, ...]) -> list[Fact]:
        if len(kinds) == 1:
            return self.by_kind.get(kinds[0], [])
        return [f for k in kinds for f in self.by_kind.get(k, [])]

    def buckets(self, name: Any, facts: Sequence[Fact], fields: tuple[str, ...]) -> list[list[Fact]]:
        """facts split by their values of `fields`, cached under `name` (rules that read the same fields share it)."""
        cached = self._buckets.get((name, fields))
        if cached is None:
            grouped: dict[Any, list[Fact]] = {}
            if all("." not in f for f in fields) and facts and all(f in facts[0] for f in fields):
                pick = operator.itemgetter(*fields) if fields else (lambda fact: ())
                for fact in facts:
                    try:
                        key = pick(fact)
                        bucket = grouped.get(key)
                    except (KeyError, TypeError):  # a fact without the field, or with a list value
                        key = tuple(_hashable(fact.get(f)) for f in fields)
                        bucket = grouped.get(key)
                    if bucket is None:
                        grouped[key] = [fact]
                    else:
                        bucket.append(fact)
            else:
                getters = [getter(f) for f in fields]
                for fact in facts:
                    grouped.setdefault(tuple(_hashable(g(fact)) for g in getters), []).append(fact)
            cached = self._buckets[(name, fields)] = list(grouped.values())
        return cached

    def lookup(self, kinds: tuple[str, ...], fields: tuple[str, ...], key: tuple[Any, ...]) -> list[Fact]:
        index = self._indexes.get((kinds, fields))
        if index is None:
            index = {}
            if len(fields) == 1 and "." not in fields[0]:  # the usual join: one plain field, built without getters
                name = fields[0]
                for fact in self.facts(kinds):
                    value = fact.get(name)
                    bucket = index.get((value if not isinstance(value, list) else tuple(value),))
                    if bucket is None:
                        index[(value if not isinstance(value, list) else tuple(value),)] = [fact]
                    else:
                        bucket.append(fact)
            else:
                getters = [getter(f) for f in fields]
                for fact in self.facts(kinds):
                    index.setdefault(tuple(_hashable(g(fact)) for g in getters), []).append(fact)
            self._indexes[(kinds, fields)] = index
        return index.get(key, [])


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def getter(path: str) -> Callable[[Fact], Any]:
    """Field access by dotted path; a missing field reads as None."""
    if "." not in path:
        return lambda fact: fact.get(path)
    parts = path.split(".")

    def get(fact: Fact) -> Any:
        value: Any = fact
        for part in parts:
            if not isinstance(value, dict):
                return None
            value = value.get(part)
        return value

    return get


# A compiled value: (fact being tested, primary fact of the rule, context) -> value
Value = Callable[[Fact, Context], Any]
# A compiled predicate: (candidate fact, primary fact, context) -> bool
Predicate = Callable[[Fact, Fact, Context], bool]
Test = Callable[[Any, Fact, Context], bool]


@dataclass
class Compiler:
    """Compiles one rule's conditions; `uses_refs` records whether a `$field` of the primary fact was read."""

    uses_refs: bool = False
    # Fields of the matched fact a predicate reads: facts equal in these give the same answer (runner buckets).
    fields_read: set[str] = field(default_factory=set)
    query_depth: int = 0

    # -- values ---------------------------------------------------------------------------------
    def value(self, spec: Any, path: list[Any]) -> Callable[[Fact, Context], Any]:
        if isinstance(spec, str) and spec.startswith("$"):
            ref = spec[1:]
            if not ref:
                raise ConditionError("empty reference '$'", path)
            if ref.startswith("params."):
                name = ref[len("params."):]
                return lambda primary, ctx: ctx.params.get(name)
            self.uses_refs = True
            self.fields_read.add(ref.split(".")[0])
            get = getter(ref)
            return lambda primary, ctx: get(primary)
        return lambda primary, ctx: spec

    # -- tests ----------------------------------------------------------------------------------
    def test(self, spec: Any, path: list[Any]) -> Test:
        if isinstance(spec, list):
            raise ConditionError("a list is not a test: write `in: [...]` to test membership", path)
        if not isinstance(spec, dict):
            expected = self.value(spec, path)
            return lambda actual, primary, ctx: actual == expected(primary, ctx)
        if not spec:
            raise ConditionError("empty test", path)
        tests = [self._operator(op, arg, path + [op]) for op, arg in spec.items()]
        if len(tests) == 1:
            return tests[0]
        return lambda actual, primary, ctx: all(t(actual, primary, ctx) for t in tests)

    def _operator(self, op: str, arg: Any, path: list[Any]) -> Test:
        if op not in OPERATORS:
            raise ConditionError(f"unknown operator {op!r}; operators: {', '.join(OPERATORS)}", path)
        if op in ("present", "empty"):
            if not isinstance(arg, bool):
                raise ConditionError(f"`{op}` takes true or false", path)
            if op == "present":
                return lambda actual, primary, ctx: (actual is not None) == arg
            return lambda actual, primary, ctx: (actual is None or actual == [] or actual == "") == arg
        if op == "matches":
            if not isinstance(arg, str):
                raise ConditionError("`matches` takes a regular expression", path)
            try:
                pattern = re.compile(arg)
            except re.error as exc:
                raise ConditionError(f"bad regular expression: {exc}", path) from None
            return lambda actual, primary, ctx: isinstance(actual, str) and pattern.search(actual) is not None
        if op in ("in", "not_in", "contains_any") and isinstance(arg, list):
            members = frozenset(_hashable(a) for a in arg)
            if op == "in":
                return lambda actual, primary, ctx: _hashable(actual) in members
            if op == "not_in":
                return lambda actual, primary, ctx: _hashable(actual) not in members
            return lambda actual, primary, ctx: isinstance(actual, list) and any(a in members for a in actual)
        if isinstance(arg, (list, dict)):
            raise ConditionError(f"`{op}` takes a single value or a $reference", path)
        expected = self.value(arg, path)
        return _BINARY[op](expected)

    # -- predicates -----------------------------------------------------------------------------
    def predicate(self, spec: Any, path: list[Any]) -> Predicate:
        if spec is None:
            return lambda fact, primary, ctx: True
        if isinstance(spec, list):
            parts = [self.predicate(s, path + [i]) for i, s in enumerate(spec)]
            return lambda fact, primary, ctx: all(p(fact, primary, ctx) for p in parts)
        if not isinstance(spec, dict):
            raise ConditionError("a condition is a mapping of field tests or all/any/not/exists/none", path)
        parts = [self._entry(key, value, path + [key]) for key, value in spec.items()]
        return conjunction(parts)

    def _entry(self, key: str, value: Any, path: list[Any]) -> Predicate:
        if key in ("all", "any"):
            if not isinstance(value, list) or not value:
                raise ConditionError(f"`{key}` takes a non-empty list of conditions", path)
            parts = [self.predicate(v, path + [i]) for i, v in enumerate(value)]
            if key == "all":
                return lambda fact, primary, ctx: all(p(fact, primary, ctx) for p in parts)
            return lambda fact, primary, ctx: any(p(fact, primary, ctx) for p in parts)
        if key == "not":
            inner = self.predicate(value, path)
            return lambda fact, primary, ctx: not inner(fact, primary, ctx)
        if key in ("exists", "none") and isinstance(value, list):
            # A list of queries: exists -> all of them exist; none -> none of them exists.
            if not value:
                raise ConditionError(f"`{key}` takes a query or a non-empty list of queries", path)
            queries = [self.query(v, path + [i]) for i, v in enumerate(value)]
            if key == "exists":
                return lambda fact, primary, ctx: all(q(primary, ctx) for q in queries)
            return lambda fact, primary, ctx: not any(q(primary, ctx) for q in queries)
        if key in ("exists", "none"):
            query = self.query(value, path)
            if key == "exists":
                return lambda fact, primary, ctx: query(primary, ctx)
            return lambda fact, primary, ctx: not query(primary, ctx)
        if not isinstance(key, str) or not key:
            raise ConditionError(f"bad field name {key!r}", path)
        if self.query_depth == 0:
            self.fields_read.add(key.split(".")[0])
        get = getter(key)
        fast = _literal_test(key, value)
        if fast is not None:  # the common case, without the generic test machinery
            return fast
        test = self.test(value, path)
        return lambda fact, primary, ctx: test(get(fact), primary, ctx)

    def _select(self, spec: Any, path: list[Any], what: str
                ) -> tuple[Callable[[Fact, Context], tuple[Any, ...]], Callable[[Fact, Context, tuple[Any, ...]], list[Fact]],
                           Predicate | None, bool]:
        """Split a query into indexed equality joins on $refs and the rest; returns (key, candidates, rest, rest_refs)."""
        if not isinstance(spec, dict) or "kind" not in spec:
            raise ConditionError(f"{what} takes a mapping with `kind` and an optional `where`", path)
        unknown = set(spec) - {"kind", "where"}
        if unknown:
            raise ConditionError(f"unknown key {sorted(unknown)[0]!r} in {what} (allowed: kind, where)", path)
        kinds = kinds_of(spec["kind"], path + ["kind"])
        where = spec.get("where") or {}
        if not isinstance(where, dict):
            raise ConditionError("`where` is a mapping of field tests", path + ["where"])
        join_fields: list[str] = []
        join_values: list[Callable[[Fact, Context], Any]] = []
        rest: dict[str, Any] = {}
        for key, test in where.items():
            ref = test.get("eq") if isinstance(test, dict) and len(test) == 1 else test
            if key not in BOOL_KEYS and isinstance(ref, str) and ref.startswith("$") and not ref.startswith("$params."):
                join_fields.append(key)
                join_values.append(self.value(ref, path + ["where", key]))
            else:
                rest[key] = test
        outer_refs = self.uses_refs
        self.uses_refs = False
        self.query_depth += 1
        rest_pred = self.predicate(rest, path + ["where"]) if rest else None
        self.query_depth -= 1
        rest_refs = self.uses_refs
        self.uses_refs = outer_refs or rest_refs or bool(join_fields)
        fields = tuple(join_fields)

        def key_of(primary: Fact, ctx: Context) -> tuple[Any, ...]:
            return tuple(_hashable(v(primary, ctx)) for v in join_values)

        def candidates(primary: Fact, ctx: Context, key: tuple[Any, ...]) -> list[Fact]:
            return ctx.lookup(kinds, fields, key) if fields else ctx.facts(kinds)

        return key_of, candidates, rest_pred, rest_refs

    def query(self, spec: Any, path: list[Any]) -> Callable[[Fact, Context], bool]:
        """exists/none: is there a fact of `kind` matching `where`?  Equalities with $refs use an index."""
        key_of, candidates, rest_pred, rest_refs = self._select(spec, path, "exists/none")
        memo_id = object()  # one memo per compiled query, keyed by the join values
        memoisable = not rest_refs

        def run(primary: Fact, ctx: Context) -> bool:
            key = key_of(primary, ctx)
            if memoisable:
                memo = ctx.memos.setdefault(memo_id, {})
                hit = memo.get(key)
                if hit is not None:
                    return bool(hit)
            found_in = candidates(primary, ctx, key)
            found = bool(found_in) if rest_pred is None else any(rest_pred(c, primary, ctx) for c in found_in)
            if memoisable:
                ctx.memos[memo_id][key] = found
            return found

        return run

    def finder(self, spec: Any, path: list[Any]) -> Callable[..., list[Fact]]:
        """Like exists, but returns the matching facts (for corroborating evidence)."""
        key_of, candidates, rest_pred, _ = self._select(spec, path, "a corroborate entry")

        def find(primary: Fact, ctx: Context, limit: int = 1_000_000) -> list[Fact]:
            found_in = candidates(primary, ctx, key_of(primary, ctx))
            if rest_pred is None:
                return list(found_in[:limit])
            out: list[Fact] = []
            for c in found_in:
                if rest_pred(c, primary, ctx):
                    out.append(c)
                    if len(out) >= limit:
                        break
            return out

        return find

    # -- group tests ----------------------------------------------------------------------------
    def having(self, spec: Any, path: list[Any]) -> Callable[[list[Fact], Fact, Context], bool]:
        if not isinstance(spec, dict) or not spec:
            raise ConditionError("`having` is a mapping of aggregate tests, e.g. count: {ge: 10}", path)
        checks: list[Callable[[list[Fact], Fact, Context], bool]] = []
        for agg, arg in spec.items():
            if agg not in AGGREGATES:
                raise ConditionError(f"unknown aggregate {agg!r}; aggregates: {', '.join(AGGREGATES)}", path + [agg])
            if agg == "count":
                test = self.test(arg, path + [agg])
                checks.append(_count_check(test))
                continue
            if not isinstance(arg, dict) or len(arg) != 1:
                raise ConditionError(f"`{agg}` takes one field and its test, e.g. {agg}: {{host: {{ge: 2}}}}",
                                     path + [agg])
            (fname, ftest), = arg.items()
            test = self.test(ftest, path + [agg, fname])
            get = getter(fname)
            checks.append(_aggregate_check(agg, get, test))
        return lambda group, primary, ctx: all(c(group, primary, ctx) for c in checks)


def _count_check(test: Test) -> Callable[[list[Fact], Fact, Context], bool]:
    return lambda group, primary, ctx: test(len(group), primary, ctx)


def _aggregate_check(name: str, get: Callable[[Fact], Any], test: Test) -> Callable[[list[Fact], Fact, Context], bool]:
    return lambda group, primary, ctx: test(aggregate(name, get, group), primary, ctx)


def conjunction(parts: list[Predicate]) -> Predicate:
    """All of parts, unrolled for the usual two or three (a generator per fact costs more than the tests)."""
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2:
        a, b = parts
        return lambda fact, primary, ctx: a(fact, primary, ctx) and b(fact, primary, ctx)
    if len(parts) == 3:
        a, b, c = parts
        return lambda fact, primary, ctx: a(fact, primary, ctx) and b(fact, primary, ctx) and c(fact, primary, ctx)
    return lambda fact, primary, ctx: all(p(fact, primary, ctx) for p in parts)


def is_literal(value: Any) -> bool:
    return isinstance(value, (int, float, bool)) or (isinstance(value, str) and not value.startswith("$"))


def literal_values(spec: Any) -> list[Any] | None:
    """The literal values a field test accepts by equality (`x`, {eq: x}, {in: [...]}), or None."""
    if is_literal(spec):
        return [spec]
    if isinstance(spec, dict) and len(spec) == 1:
        (op, arg), = spec.items()
        if op == "eq" and is_literal(arg):
            return [arg]
        if op == "in" and isinstance(arg, list) and all(is_literal(a) for a in arg):
            return list(arg)
    return None


def _literal_test(key: str, spec: Any) -> Predicate | None:
    if "." in key:
        return None
    values = literal_values(spec)
    if values is None:
        return None
    if len(values) == 1:
        value = values[0]
        if isinstance(value, bool):  # True == 1 in Python; a flag test must not match the number 1
            return lambda fact, primary, ctx: fact.get(key) is value
        return lambda fact, primary, ctx: fact.get(key) == value
    members = frozenset(values)
    return lambda fact, primary, ctx: _hashable(fact.get(key)) in members


def aggregate(name: str, get: Callable[[Fact], Any], group: list[Fact]) -> Any:
    values = [get(f) for f in group]
    values = [v for v in values if v is not None]
    if name == "distinct":
        return len({_hashable(v) for v in values})
    if not values:
        return None
    if name == "min":
        return min(values)
    if name == "max":
        return max(values)
    return sum(values)


def kinds_of(spec: Any, path: list[Any]) -> tuple[str, ...]:
    if isinstance(spec, str) and spec:
        return (spec,)
    if isinstance(spec, list) and spec and all(isinstance(k, str) for k in spec):
        return tuple(spec)
    raise ConditionError("`kind` is a fact kind or a list of kinds", path)


def _num(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _ordered(compare: Callable[[Any, Any], bool]) -> Callable[[Callable[[Fact, Context], Any]], Test]:
    def make(expected: Callable[[Fact, Context], Any]) -> Test:
        def test(actual: Any, primary: Fact, ctx: Context) -> bool:
            other = expected(primary, ctx)
            return _num(actual) and _num(other) and compare(actual, other)

        return test

    return make


def _member(negate: bool) -> Callable[[Callable[[Fact, Context], Any]], Test]:
    def make(expected: Callable[[Fact, Context], Any]) -> Test:
        def test(actual: Any, primary: Fact, ctx: Context) -> bool:
            container = expected(primary, ctx)
            inside = isinstance(container, (list, tuple, set, frozenset, str)) and actual in container
            return inside != negate

        return test

    return make


def _contains(expected: Callable[[Fact, Context], Any]) -> Test:
    def test(actual: Any, primary: Fact, ctx: Context) -> bool:
        item = expected(primary, ctx)
        if isinstance(actual, str):
            return isinstance(item, str) and item in actual
        return isinstance(actual, (list, tuple, set, frozenset)) and item in actual

    return test


def _contains_any(expected: Callable[[Fact, Context], Any]) -> Test:
    def test(actual: Any, primary: Fact, ctx: Context) -> bool:
        items = expected(primary, ctx)
        return isinstance(actual, list) and isinstance(items, list) and bool(set(actual) & set(items))

    return test


def _string(method: str) -> Callable[[Callable[[Fact, Context], Any]], Test]:
    def make(expected: Callable[[Fact, Context], Any]) -> Test:
        def test(actual: Any, primary: Fact, ctx: Context) -> bool:
            other = expected(primary, ctx)
            return isinstance(actual, str) and isinstance(other, str) and bool(getattr(actual, method)(other))

        return test

    return make


_BINARY: dict[str, Callable[[Callable[[Fact, Context], Any]], Test]] = {
    "eq": lambda e: (lambda actual, primary, ctx: actual == e(primary, ctx)),
    "ne": lambda e: (lambda actual, primary, ctx: actual != e(primary, ctx)),
    "gt": _ordered(lambda a, b: a > b),
    "ge": _ordered(lambda a, b: a >= b),
    "lt": _ordered(lambda a, b: a < b),
    "le": _ordered(lambda a, b: a <= b),
    "in": _member(False),
    "not_in": _member(True),
    "contains": _contains,
    "contains_any": _contains_any,
    "startswith": _string("startswith"),
    "endswith": _string("endswith"),
}
