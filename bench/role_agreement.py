"""Agreement of the engine with Google Play's definitions of "collected" and "shared" on generated apps (issue 19).

Each case is one app built from public facts: an SDK set (real catalog entries; each vendor's role comes from the
page cited as its `role_source`, its data types from its own data-disclosure page), traffic (each SDK sends some of
the data types its vendor documents, to the vendor's host) and a Data safety label of one of five kinds:

    play           what Play's definitions ask: every type sent is collected; shared only where a third party
                   receives it (a `depends` vendor counts as one when its setting lets it use the data)
    play_stated    the same, and the declaration says what each `depends` vendor is (role: service_provider or
                   third_party under third_parties), as a policy naming "our service provider" does
    both           every type declared collected and shared (over-declaring sharing is no gap)
    missed_share   `play`, but one type a third party receives is declared collected only (a true sharing gap)
    missed_collect `play`, but one type sent is left out of the label (a true collection gap)

Truth per (app, data type) from Play's definitions: a collection gap when the type is sent and not declared
collected; a sharing gap when a third party (or a `depends` vendor with its setting on) receives it and it is not
declared shared.  The engine's verdict: DVG-COLLECT-001 / DVG-SHARE-001 findings of the full built-in pack.  A
DVG-SHARE-001 at low confidence (a `depends` vendor whose setting the APK and the declaration do not show) is a
"review": `strict` counts it as a gap claim (it fails CI like any high finding), `claims` as no claim.

"before" runs the same engine with every role blanked (no catalog roles, none in the declaration): that is the
role-blind DVG-SHARE-001 of before issue 19, which fired on every third-party flow not declared shared.

Run: .venv/bin/python bench/role_agreement.py [--cases 60] [--seed 19] [--verbose]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scanner.engine.facts import build_facts  # noqa: E402
from scanner.engine.loader import RulePack, load_pack  # noqa: E402
from scanner.engine.runner import run_rules  # noqa: E402
from scanner.knowledge.sdks import SdkCatalog, shared_catalog  # noqa: E402
from scanner.model import Declaration, Observation, SdkRole, TrafficReport  # noqa: E402
from scanner.policy.declaration import parse_privacy_yaml  # noqa: E402

# Real catalog entries, by role; each has a domain and documented data types.
POOL: dict[str, tuple[str, ...]] = {
    "service_provider": ("google-firebase-crashlytics", "sentry", "bugsnag", "tencent-bugly", "jpush", "getui",
                         "mixpanel", "amplitude", "google-firebase-messaging"),
    "third_party": ("appsflyer", "adjust", "google-admob", "applovin", "unity-ads", "tencent-gdt", "pangle",
                    "umeng-analytics", "flurry", "yandex-appmetrica"),
    "depends": ("google-firebase-analytics", "facebook-analytics", "google-analytics", "mapbox"),
}
LABELS = ("play", "play_stated", "both", "missed_share", "missed_collect")


@dataclass
class Case:
    name: str
    sdks: list[str]
    sends: dict[str, list[str]]  # sdk -> data types its traffic carries
    setting_on: dict[str, bool]  # depends sdk -> whether its setting lets the vendor use the data
    label: str
    privacy_yaml: str = ""
    truth: dict[str, tuple[bool, bool]] = field(default_factory=dict)  # data type -> (collect gap, share gap)


def _shares(role: str | None, sdk: str, case: Case) -> bool:
    """Whether Play counts data to this SDK as shared, knowing the setting (the truth, not what divulge sees)."""
    return role == "third_party" or (role == "depends" and case.setting_on.get(sdk, False))


def generate_cases(count: int = 60, seed: int = 19, catalog: SdkCatalog | None = None) -> list[Case]:
    catalog = catalog or shared_catalog()
    rng = random.Random(seed)
    cases = []
    for index in range(count):
        # Every app has a service provider and a third party or a `depends` vendor, so all roles meet one label.
        sdks = [rng.choice(POOL["service_provider"])]
        sdks += rng.sample(POOL["third_party"], rng.randint(0, 2))
        if index % 2 == 0 or len(sdks) == 1:
            sdks.append(rng.choice(POOL["depends"]))
        sdks = list(dict.fromkeys(sdks))
        sends = {s: sorted(rng.sample(catalog.entries[s].data_types,
                                      rng.randint(1, min(3, len(catalog.entries[s].data_types))))) for s in sdks}
        setting_on = {s: rng.random() < 0.5 for s in sdks if catalog.entries[s].role == "depends"}
        case = Case(f"app{index:02d}", sdks, sends, setting_on, LABELS[index % len(LABELS)])
        _label(case, catalog, rng)
        cases.append(case)
    return cases


def _label(case: Case, catalog: SdkCatalog, rng: random.Random) -> None:
    sent = sorted({t for types in case.sends.values() for t in types})
    shared_truth = sorted({t for s, types in case.sends.items() for t in types
                           if _shares(catalog.entries[s].role, s, case)})
    collected, shared = set(sent), set(shared_truth)
    if case.label == "both":
        shared = set(sent)
    elif case.label == "missed_share" and shared_truth:
        shared.discard(rng.choice(shared_truth))
    elif case.label == "missed_collect":
        dropped = rng.choice(sent)
        collected.discard(dropped)
        shared.discard(dropped)
    lines = ["data_types:"]
    for data_type in sent:
        if data_type in collected or data_type in shared:
            lines += [f"  {data_type}:", f"    collected: {str(data_type in collected).lower()}",
                      f"    shared: {str(data_type in shared).lower()}"]
    if len(lines) == 1:
        lines[0] = "data_types: {}"
    parties = [(s, "third_party" if on else "service_provider") for s, on in case.setting_on.items()]
    if case.label == "play_stated" and parties:
        lines.append("third_parties:")
        for sdk, role in parties:
            lines += [f"  - name: {catalog.entries[sdk].name!r}", f"    sdk: {sdk}", f"    role: {role}"]
    case.privacy_yaml = "\n".join(lines) + "\n"
    case.truth = {t: (t not in collected, t in shared_truth and t not in shared) for t in sent}


def traffic_of(case: Case, catalog: SdkCatalog) -> TrafficReport:
    observations = []
    for sdk, types in case.sends.items():
        entry = catalog.entries[sdk]
        host = entry.domains[0]
        for data_type in types:
            observations.append(Observation(
                data_type=data_type, identifier=None, host=host, url=f"https://{host}/v1", method="POST",
                party="third", sdk=sdk, owner=entry.owner, where="body", encodings=["json"], time=1.0,
                phase="after_consent", cleartext=False, confidence="confirmed", flow_id=f"{case.name}-{sdk}"))
    return TrafficReport(observations=observations, flows=len(case.sends))


@dataclass
class Tally:
    pairs: int = 0
    strict: int = 0  # verdict agrees, a review counted as a gap claim
    claims: int = 0  # verdict agrees, a review counted as no claim
    reviews: int = 0
    false_alarms: int = 0  # sharing gap claimed (confidence medium or high) where Play sees none
    missed: int = 0  # a true gap (collection or sharing) with no finding at all
    high_share_findings: int = 0

    def add(self, other: Tally) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def rate(self, name: str) -> float:
        return getattr(self, name) / self.pairs if self.pairs else 0.0


def evaluate(case: Case, pack: RulePack, catalog: SdkCatalog, *, roles: bool) -> Tally:
    declaration: Declaration = parse_privacy_yaml(case.privacy_yaml, f"{case.name}.privacy.yaml")
    sdk_roles: dict[str, SdkRole] | None = catalog.roles
    if not roles:
        for party in declaration.parties:
            party.role = None
        sdk_roles = {}
    facts = build_facts(None, traffic_of(case, catalog), declaration, sdk_roles=sdk_roles)
    findings = run_rules(pack.rules, facts).findings
    share: dict[str, str] = {}
    for f in findings:
        if f.rule_id == "DVG-SHARE-001" and f.data_type:
            verdict = "review" if f.confidence == "low" else "gap"
            share[f.data_type] = "gap" if share.get(f.data_type) == "gap" else verdict
    collect = {f.data_type for f in findings if f.rule_id == "DVG-COLLECT-001"}
    tally = Tally(high_share_findings=sum(1 for f in findings if f.rule_id == "DVG-SHARE-001"
                                          and str(f.severity) in ("high", "critical")))
    for data_type, (collect_gap, share_gap) in case.truth.items():
        tally.pairs += 1
        said_collect = data_type in collect
        verdict = share.get(data_type, "none")
        tally.reviews += verdict == "review"
        strict_share, claimed_share = verdict != "none", verdict == "gap"
        tally.strict += said_collect == collect_gap and strict_share == share_gap
        tally.claims += said_collect == collect_gap and claimed_share == share_gap
        tally.false_alarms += claimed_share and not share_gap
        tally.missed += (collect_gap and not said_collect) or (share_gap and verdict == "none")
    return tally


def run(cases: Sequence[Case], *, roles: bool, pack: RulePack | None = None,
        catalog: SdkCatalog | None = None) -> tuple[Tally, dict[str, Tally]]:
    pack = pack or load_pack([])
    catalog = catalog or shared_catalog()
    total, by_label = Tally(), {label: Tally() for label in LABELS}
    for case in cases:
        tally = evaluate(case, pack, catalog, roles=roles)
        total.add(tally)
        by_label[case.label].add(tally)
    return total, by_label


def roles_covered(cases: Sequence[Case], catalog: SdkCatalog | None = None) -> dict[str, int]:
    catalog = catalog or shared_catalog()
    counts = {role: 0 for role in POOL}
    for case in cases:
        for sdk in case.sdks:
            counts[str(catalog.entries[sdk].role)] += 1
    return counts


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=60)
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    pack, catalog = load_pack([]), shared_catalog()
    cases = generate_cases(args.cases, args.seed, catalog)
    covered = roles_covered(cases, catalog)
    print(f"{len(cases)} apps, {sum(len(c.truth) for c in cases)} (app, data type) pairs; SDKs by role: "
          + ", ".join(f"{role} {n}" for role, n in covered.items()))
    print(f"{'label':<16}{'pairs':>6}  {'before strict':>13} {'claims':>7}  {'after strict':>12} {'claims':>7}"
          f"  {'reviews':>7}  {'false alarms b/a':>16}  {'SHARE-001 high b/a':>18}")
    results = {flag: run(cases, roles=flag, pack=pack, catalog=catalog) for flag in (False, True)}
    for label in (*LABELS, "TOTAL"):
        before = results[False][0] if label == "TOTAL" else results[False][1][label]
        after = results[True][0] if label == "TOTAL" else results[True][1][label]
        print(f"{label:<16}{after.pairs:>6}  {before.rate('strict'):>13.1%} {before.rate('claims'):>7.1%}  "
              f"{after.rate('strict'):>12.1%} {after.rate('claims'):>7.1%}  {after.reviews:>7}  "
              f"{before.false_alarms:>8}/{after.false_alarms:<7}  "
              f"{before.high_share_findings:>9}/{after.high_share_findings:<8}")
    if args.verbose:
        for case in cases:
            print(case.name, case.label, case.sdks, case.setting_on, case.truth)
    print(f"({time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
