"""The condition language of rules: field tests, all/any/not, exists/none joins over facts, group and count.

Conditions are YAML data compiled once into Python closures — nothing is ever passed to eval.  A fact is a
plain dict with a `kind` ("observation", "permission", "declared", ...).  Values starting with `$` refer to a
field of the fact the rule is matching (`$data_type`) or to a rule parameter (`$params.max_per_minute`).
See docs/rules.md for the language with examples.
"""

from __future__ import annotations

import itertools
import operator
import re
from collections import defaultdict
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
    """Per-run state shared by every rule: facts indexed by kind and, lazily, by join fields; join results."""

    def __init__(self, facts: Sequence[Fact], params: dict[str, Any] | None = None) -> None:
        self.by_kind: dict[str, list[Fact]] = {}
        for fact in facts:
            self.by_kind.setdefault(fact["kind"], []).append(fact)
        self.params: dict[str, Any] = params or {}
        # (kind, fields) -> index; a one-field index is keyed by the value itself, not by a 1-tuple.
        self._indexes: dict[tuple[str, tuple[str, ...]], dict[Any, list[Fact]]] = {}
        self._values: dict[tuple[str, str], list[Any]] = {}
        self._every_fact_has: set[tuple[str, str]] = set()  # (kind, field) of the columns in _values
        # What a join needs of the facts it looks at (see Compiler.query and .finder), built on first use.
        self.selections: dict[object, Any] = {}
        self._buckets: dict[tuple[Any, tuple[str, ...]], list[list[Fact]]] = {}

    def facts(self, kinds: tuple[str, ...]) -> list[Fact]:
        if len(kinds) == 1:
            return self.by_kind.get(kinds[0], [])
        return [f for k in kinds for f in self.by_kind.get(k, [])]

    def buckets(self, name: Any, facts: Sequence[Fact], fields: tuple[str, ...]) -> list[list[Fact]]:
        """facts split by their values of `fields`, cached under `name` (rules that read the same fields share it)."""
        cached = self._buckets.get((name, fields))
        if cached is None:
            if len(fields) == 1 and isinstance(name, tuple) and len(name) == 1 and facts is self.by_kind.get(name[0]):
                # Every fact of a kind by one field: the index on that field already holds these buckets.
                index = self._index_of(name[0], fields)
                # _partition keys a list value, or a missing field, apart from the plain values: not here.
                if (name[0], fields[0]) in self._every_fact_has and not any(isinstance(v, tuple) for v in index):
                    cached = self._buckets[(name, fields)] = list(index.values())
                    return cached
            cached = self._buckets[(name, fields)] = _partition(facts, fields)
        return cached

    def lookup(self, kinds: tuple[str, ...], fields: tuple[str, ...], key: tuple[Any, ...]) -> list[Fact]:
        """Facts of `kinds` whose `fields` equal `key`, in fact order; the list is shared: do not change it."""
        if len(kinds) > 1:  # built from the one-kind indexes, which other rules share
            return [f for kind in kinds for f in self.lookup((kind,), fields, key)]
        return self._index_of(kinds[0], fields).get(key[0] if len(fields) == 1 else key, _NOTHING)

    def _index_of(self, kind: str, fields: tuple[str, ...]) -> dict[Any, list[Fact]]:
        index = self._indexes.get((kind, fields))
        if index is None:
            index = self._indexes[(kind, fields)] = _index(self.by_kind.get(kind, []), fields,
                                                           self.values(kind, fields[0]) if len(fields) == 1 else None)
        return index

    def values(self, kind: str, path: str) -> list[Any]:
        """One field of every fact of a kind, in fact order."""
        found = self._values.get((kind, path))
        if found is None:
            facts = self.by_kind.get(kind, [])
            found = self._values[(kind, path)] = field_values(facts, path)
            if "." not in path and all(path in fact for fact in facts):
                self._every_fact_has.add((kind, path))
        return found


_NOTHING: list[Fact] = []


def _where_in(facts: Sequence[Fact], values: Sequence[Any], accepted: Sequence[Any]) -> list[Fact]:
    """The facts (values[i] is a field of facts[i]) whose value is one of accepted, compared as a dict key would be."""
    members = frozenset(accepted)
    try:
        return list(itertools.compress(facts, map(members.__contains__, values)))
    except TypeError:  # a list value: it matches as a tuple
        return [f for f, v in zip(facts, values, strict=True) if _hashable(v) in members]


def _index(facts: Sequence[Fact], fields: tuple[str, ...], values: list[Any] | None = None) -> dict[Any, list[Fact]]:
    """field value (one field) or tuple of values -> facts, lists read as tuples; a missing field reads as None.

    `values`, when given, is the one field of every fact (Context.values keeps it for other uses)."""
    index: defaultdict[Any, list[Fact]] = defaultdict(list)
    if len(fields) == 1:
        for fact, value in zip(facts, values if values is not None else field_values(facts, fields[0]), strict=True):
            try:
                index[value].append(fact)
            except TypeError:  # a list value
                index[_hashable(value)].append(fact)
    else:
        getters = [getter(f) for f in fields]
        for fact in facts:
            index[tuple(_hashable(g(fact)) for g in getters)].append(fact)
    return dict(index)


def _partition(facts: Sequence[Fact], fields: tuple[str, ...]) -> list[list[Fact]]:
    """facts grouped by their values of `fields`, groups and their facts in the order of the facts."""
    grouped: defaultdict[Any, list[Fact]] = defaultdict(list)
    if all("." not in f for f in fields) and facts and all(f in facts[0] for f in fields):
        pick: Callable[[Fact], Any] = operator.itemgetter(*fields) if fields else (lambda fact: ())
        try:
            keys = list(map(pick, facts))
        except KeyError:  # a fact without one of the fields
            keys = [_plain_key(fact, pick, fields) for fact in facts]
        single = len(fields) == 1
        for fact, key in zip(facts, keys, strict=True):
            try:
                grouped[key].append(fact)
            except TypeError:  # a list value: it groups as a tuple (a one-field key as a 1-tuple), as in _plain_key
                grouped[(_hashable(key),) if single else tuple(map(_hashable, key))].append(fact)
    else:
        getters = [getter(f) for f in fields]
        for fact in facts:
            grouped[tuple(_hashable(g(fact)) for g in getters)].append(fact)
    return list(grouped.values())


def _plain_key(fact: Fact, pick: Callable[[Fact], Any], fields: tuple[str, ...]) -> Any:
    try:
        key = pick(fact)
        hash(key)
    except (KeyError, TypeError):
        return tuple(_hashable(fact.get(f)) for f in fields)
    return key


def field_values(facts: Sequence[Fact], path: str) -> list[Any]:
    """One field of every fact (None where missing), read at C speed when every fact has it."""
    get = getter(path)
    if "." in path:
        return list(map(get, facts))
    try:
        return list(map(operator.itemgetter(path), facts))
    except KeyError:  # some fact lacks the field: it reads as None
        return list(map(get, facts))


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


@dataclass(frozen=True)
class _Join:
    """A compiled exists/none/corroborate query: equality joins on $refs, and the rest of its `where`."""

    kinds: tuple[str, ...]
    fields: tuple[str, ...]  # fields of the joined facts that must equal ...
    values: tuple[Callable[[Fact, Context], Any], ...]  # ... these values read from the primary fact
    rest: Predicate | None
    rest_refs: bool  # the rest reads the primary fact, so it cannot be evaluated ahead of it
    narrow: tuple[str, tuple[Any, ...]] | None  # a literal equality of the rest: candidates from an index
    narrow_only: bool  # the rest is just that equality: the facts it selects need no other test
    share: object  # equal queries of different rules select the same facts
    ref: str | None  # the primary's field when the join is on one plain $field (the usual case, read directly)

    def key(self, primary: Fact, ctx: Context) -> Any:
        """The join key as Context.lookup takes it: the value for one field, else a tuple of values."""
        if self.ref is not None:
            value = primary.get(self.ref)
            return tuple(value) if isinstance(value, list) else value
        if len(self.values) == 1:
            return _hashable(self.values[0](primary, ctx))
        return tuple(_hashable(v(primary, ctx)) for v in self.values)

    def candidates(self, primary: Fact, ctx: Context) -> list[Fact]:
        if not self.fields:
            return ctx.facts(self.kinds)
        key = self.key(primary, ctx)
        return ctx.lookup(self.kinds, self.fields, (key,) if len(self.fields) == 1 else key)

    def pool(self, ctx: Context) -> list[Fact]:
        """The facts that pass the rest's literal equality (all facts of the kinds without one), in fact order."""
        if self.narrow is None:
            return ctx.facts(self.kinds)
        name, accepted = self.narrow
        if len(accepted) == 1:
            return ctx.lookup(self.kinds, (name,), accepted)
        return [f for kind in self.kinds for f in _where_in(ctx.by_kind.get(kind, []), ctx.values(kind, name), accepted)]

    def matched(self, ctx: Context) -> list[Fact]:
        """The facts the rest accepts, in fact order (only when the rest does not read the primary fact)."""
        found = ctx.selections.get(("matched", self.share))
        if found is None:
            pool = self.pool(ctx)
            found = pool if self.rest is None or self.narrow_only else [c for c in pool if self.rest(c, c, ctx)]
            ctx.selections[("matched", self.share)] = found
        return found

    def keys(self, ctx: Context) -> set[Any]:
        """The join keys of every fact the rest accepts."""
        if len(self.fields) > 1:
            getters = [getter(f) for f in self.fields]
            return {tuple(_hashable(g(c)) for g in getters) for c in self.matched(ctx)}
        if self.rest is None and len(self.kinds) == 1:
            values = ctx.values(self.kinds[0], self.fields[0])
        else:
            values = field_values(self.matched(ctx), self.fields[0])
        try:
            return set(values)
        except TypeError:  # list values
            return set(map(_hashable, values))


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
            if any(isinstance(a, dict) or (isinstance(a, list) and any(isinstance(b, (dict, list)) for b in a))
                   for a in arg):  # a fact value is a scalar or a list of scalars; a mapping never equals one
                raise ConditionError(f"`{op}` takes a list of plain values, not mappings or nested lists", path)
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

    def _select(self, spec: Any, path: list[Any], what: str) -> _Join:
        """Split a query into equality joins on $refs and the rest of its `where`."""
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
        equalities = literal_equalities(rest)
        narrow = equalities[0] if equalities else None
        # A flag test must not match 1 (see _literal_test); selecting by value would.
        narrow_only = narrow is not None and len(rest) == 1 and not any(isinstance(v, bool) for v in narrow[1])
        # Queries written alike in several rules select the same facts: they share the work, unless a rule
        # parameter (which differs between rules) takes part.
        text = repr((kinds, join_fields, rest))
        share: object = text if "$params." not in text else object()
        refs = [where[f].get("eq") if isinstance(where[f], dict) else where[f] for f in join_fields]
        ref = refs[0][1:] if len(refs) == 1 and "." not in refs[0] else None
        return _Join(kinds, tuple(join_fields), tuple(join_values), rest_pred, rest_refs, narrow, narrow_only, share,
                     ref)

    def query(self, spec: Any, path: list[Any]) -> Callable[[Fact, Context], bool]:
        """exists/none: is there a fact of `kind` matching `where`?

        Unless the rest of `where` reads the primary fact, the facts it accepts are found once per run and
        only their join values are kept: each test is then one set lookup."""
        join = self._select(spec, path, "exists/none")
        rest = join.rest
        if join.rest_refs:
            assert rest is not None

            def run_each(primary: Fact, ctx: Context) -> bool:
                return any(rest(c, primary, ctx) for c in join.candidates(primary, ctx))

            return run_each
        if not join.fields:
            def run_any(primary: Fact, ctx: Context) -> bool:
                found = ctx.selections.get(("any", join.share))
                if found is None:
                    pool = join.pool(ctx)
                    found = ctx.selections[("any", join.share)] = \
                        bool(pool) if rest is None or join.narrow_only else any(rest(c, c, ctx) for c in pool)
                return bool(found)

            return run_any

        slot = ("keys", join.share)
        ref = join.ref

        def run_keyed(primary: Fact, ctx: Context) -> bool:
            keys = ctx.selections.get(slot)
            if keys is None:
                keys = ctx.selections[slot] = join.keys(ctx)
            if ref is None:
                return join.key(primary, ctx) in keys
            value = primary.get(ref)  # join.key, inlined: this runs once per bucket
            return (tuple(value) if isinstance(value, list) else value) in keys

        return run_keyed

    def finder(self, spec: Any, path: list[Any]) -> Callable[..., list[Fact]]:
        """Like exists, but returns the matching facts in fact order (for corroborating evidence)."""
        join = self._select(spec, path, "a corroborate entry")
        rest = join.rest
        if rest is None or join.rest_refs:
            def find_each(primary: Fact, ctx: Context, limit: int = 1_000_000) -> list[Fact]:
                found_in = join.candidates(primary, ctx)
                if rest is None:
                    return list(found_in[:limit])
                out: list[Fact] = []
                for c in found_in:
                    if rest(c, primary, ctx):
                        out.append(c)
                        if len(out) >= limit:
                            break
                return out

            return find_each

        def find_selected(primary: Fact, ctx: Context, limit: int = 1_000_000) -> list[Fact]:
            selected = ctx.selections.get(("find", join.share))
            if selected is None:
                matched = join.matched(ctx)
                selected = ctx.selections[("find", join.share)] = \
                    _index(matched, join.fields) if join.fields else {(): matched}
            return list(selected.get(join.key(primary, ctx) if join.fields else (), _NOTHING)[:limit])

        return find_selected

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


def literal_equalities(where: dict[str, Any]) -> list[tuple[str, tuple[Any, ...]]]:
    """(field, accepted values) of every top-level literal equality of a `where`, in its order: the facts they
    select can come from an index instead of a scan."""
    found = []
    for key, test in where.items():
        values = literal_values(test) if key not in BOOL_KEYS and "." not in key else None
        if values is not None:
            found.append((key, tuple(values)))
    return found


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
