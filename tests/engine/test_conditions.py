"""The condition language: field tests, joins, groups; compiled without eval; malformed conditions rejected."""

from __future__ import annotations

import pytest

from scanner.engine.conditions import Compiler, ConditionError, Context

FACTS = [
    {"kind": "observation", "data_type": "device_id", "host": "a.example", "time": 1.0, "tags": ["x", "y"], "flow_id": "f1"},
    {"kind": "observation", "data_type": "email", "host": "b.example", "time": 5.0, "tags": [], "flow_id": "f2"},
    {"kind": "declared", "data_type": "email", "collected": True},
]


def matching(where: object, params: dict | None = None) -> list[str]:
    pred = Compiler().predicate(where, [])
    ctx = Context(FACTS, params)
    return [f["data_type"] for f in ctx.facts(("observation",)) if pred(f, f, ctx)]


@pytest.mark.parametrize(("where", "expected"), [
    ({"host": "a.example"}, ["device_id"]),
    ({"host": {"ne": "a.example"}}, ["email"]),
    ({"time": {"gt": 2}}, ["email"]),
    ({"time": {"ge": 1, "lt": 5}}, ["device_id"]),
    ({"data_type": {"in": ["email", "phone"]}}, ["email"]),
    ({"tags": {"contains": "y"}}, ["device_id"]),
    ({"tags": {"empty": True}}, ["email"]),
    ({"host": {"matches": r"^b\."}}, ["email"]),
    ({"missing": {"present": False}}, ["device_id", "email"]),
    ({"any": [{"host": "a.example"}, {"data_type": "email"}]}, ["device_id", "email"]),
    ({"not": {"host": "a.example"}}, ["email"]),
    ({"exists": {"kind": "declared", "where": {"data_type": "$data_type", "collected": True}}}, ["email"]),
    ({"none": {"kind": "declared", "where": {"data_type": "$data_type"}}}, ["device_id"]),
    ({"none": [{"kind": "declared"}, {"kind": "app"}]}, []),
    ({"exists": {"kind": "observation", "where": {"flow_id": "$flow_id", "host": {"ne": "$host"}}}}, []),
    ({"time": {"lt": "$params.limit"}}, ["device_id"]),
])
def test_tests(where: object, expected: list[str]) -> None:
    assert matching(where, {"limit": 3}) == expected


@pytest.mark.parametrize(("where", "needle"), [
    ({"host": ["a", "b"]}, "write `in: [...]`"),
    ({"host": {"like": "a"}}, "unknown operator 'like'"),
    ({"host": {"matches": "("}}, "bad regular expression"),
    ({"all": []}, "non-empty list"),
    ({"exists": {"where": {}}}, "with `kind`"),
    ({"exists": {"kind": "declared", "select": 1}}, "unknown key 'select'"),
    ({"host": {"present": "yes"}}, "takes true or false"),
    ("eval('1')", "a condition is a mapping"),
])
def test_malformed_conditions(where: object, needle: str) -> None:
    with pytest.raises(ConditionError, match=needle.replace("[", r"\[").replace("(", r"\(")):
        Compiler().predicate(where, [])


def test_having_counts_and_distinct() -> None:
    compiler = Compiler()
    having = compiler.having({"count": {"ge": 2}, "distinct": {"host": {"ge": 2}}}, [])
    ctx = Context(FACTS)
    group = ctx.facts(("observation",))
    assert having(group, group[0], ctx)
    assert not having(group[:1], group[0], ctx)
    with pytest.raises(ConditionError, match="unknown aggregate"):
        compiler.having({"avg": {"gt": 1}}, [])


def test_join_memo_is_per_key() -> None:
    """A memoised join must not leak an answer from one join key to another."""
    pred = Compiler().predicate({"exists": {"kind": "declared", "where": {"data_type": "$data_type"}}}, [])
    ctx = Context(FACTS)
    first, second = ctx.facts(("observation",))
    assert [pred(first, first, ctx), pred(second, second, ctx), pred(first, first, ctx)] == [False, True, False]
