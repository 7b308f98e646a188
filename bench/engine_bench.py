"""Benchmark: the full built-in rule pack over 25k, 50k and 100k facts (aim: 100k under 2 s, linear growth).

Facts are synthetic but shaped like a long capture of a tracker-heavy app: mostly observations spread over
all 38 data types, 7 identifiers, 45 hosts (5 per SDK, 5 first-party), 8 SDKs, 4 consent phases and ~n/3
flows, plus permissions, API uses (n/20), SDKs and a declaration.  The finding count is printed too: the cost
of a run grows with the facts matched *and* with the findings made (evidence, messages).  Prints derivation and rule time per size.  Run: .venv/bin/python bench/engine_bench.py
"""

from __future__ import annotations

import random
import sys
import time

from scanner.engine.facts import FactSet, declaration_facts, derive, make_fact
from scanner.engine.loader import load_pack
from scanner.engine.runner import run_rules
from scanner.model import DATA_TYPES, Declaration, DeclaredDataType, DisclosedParty

SDKS = ["umeng-analytics", "jpush", "tencent-bugly", "tencent-gdt", "appsflyer", "google-firebase-analytics",
        "facebook-analytics", "google-admob"]
IDENTIFIERS = [None, "imei", "android_id", "advertising_id", "oaid", "mac_address", "serial"]
PHASES = [None, "before_consent", "after_consent", "after_refusal"]
PERMISSIONS = ["android.permission.READ_PHONE_STATE", "android.permission.ACCESS_FINE_LOCATION",
               "android.permission.READ_CONTACTS", "android.permission.QUERY_ALL_PACKAGES",
               "android.permission.CAMERA", "android.permission.ACCESS_BACKGROUND_LOCATION"]


def synthetic_facts(count: int, seed: int = 7) -> list[dict]:
    rnd = random.Random(seed)
    types = list(DATA_TYPES)
    facts = [make_fact("app", package="com.example.bench", target_sdk=34)]
    facts += [make_fact("permission", name=p) for p in PERMISSIONS]
    facts += [make_fact("sdk", id=s, name=s.title(), status="wired", auto_init=i % 2 == 0,
                        data_types=rnd.sample(types, 4)) for i, s in enumerate(SDKS)]
    facts.append(make_fact("manifest", cleartext_allowed=True))
    statics = len(facts)
    for i in range(max(0, count // 20)):
        facts.append(make_fact("api_use", api=f"android.Api.m{i % 50}", data_type=rnd.choice(types),
                               identifier=rnd.choice(IDENTIFIERS), caller=f"com.example.C{i % 300}.run",
                               sdk=rnd.choice(SDKS + [None])))
    while len(facts) < count:
        sdk = rnd.choice(SDKS + [None, None])
        facts.append(make_fact(
            "observation", data_type=rnd.choice(types), identifier=rnd.choice(IDENTIFIERS),
            host=f"h{rnd.randrange(5)}.{sdk or 'example'}.com", party="third" if sdk else "first", sdk=sdk,
            phase=rnd.choice(PHASES), cleartext=rnd.random() < 0.05, time=rnd.uniform(0, 3600),
            flow_id=f"f{rnd.randrange(count // 3 + 1)}", key=f"k{rnd.randrange(30)}"))
    assert len(facts) >= statics
    return facts[:count]


def declaration() -> Declaration:
    decl = Declaration(kind="bench", path="bench.yaml", package="com.example.bench", category_cn="news")
    for data_type in list(DATA_TYPES)[::3]:
        decl.data_types[data_type] = DeclaredDataType(data_type, collected=True, shared=data_type.startswith("d"))
    decl.parties = [DisclosedParty(name="Umeng Analytics", data_types=["device_id"])]
    return decl


def measure(count: int, rules: list) -> tuple[float, float, int]:
    facts = synthetic_facts(count) + declaration_facts(declaration())
    started = time.perf_counter()
    derive(facts, category="news")
    derived = time.perf_counter()
    outcome = run_rules(rules, FactSet(facts=facts, inputs=frozenset({"static", "traffic", "declaration", "category"})))
    done = time.perf_counter()
    return derived - started, done - derived, len(outcome.findings)


def main() -> int:
    pack = load_pack([])
    print(f"rule pack: {pack.name} {pack.version}, {len(pack.rules)} rules")
    totals = []
    for count in (25_000, 50_000, 100_000):
        derive_s, rules_s, findings = measure(count, pack.rules)
        totals.append(derive_s + rules_s)
        print(f"{count:>7} facts: derive {derive_s:6.3f} s + rules {rules_s:6.3f} s = {derive_s + rules_s:6.3f} s"
              f"  ({findings} findings)")
    print(f"growth 25k->100k: x{totals[2] / totals[0]:.2f} for x4 facts (linear = x4)")
    return 0 if totals[2] < 2.0 else 1


if __name__ == "__main__":
    sys.exit(main())
