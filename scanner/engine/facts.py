"""StaticReport + TrafficReport + Declaration -> facts: flat dicts with a `kind` that rules match.

Kinds and their fields are listed in FACT_FIELDS (and docs/rules.md).  Besides the facts read from the inputs,
`derive` adds joined facts that keep rules simple: `capability` (a data type reachable through a permission or an
API call), `sdk_data` (a data type an SDK is known to collect), `frequency` (how often one data type went to one
host), `necessary_pi` / `low_relevance_permission` (the regulation data for the app's category), and marks SDKs
and observations with what the declaration discloses about them.
"""

from __future__ import annotations

import dataclasses
import itertools
import operator
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from scanner.engine.conditions import field_values
from scanner.errors import DivulgeError
from scanner.gcpause import gc_paused
from scanner.knowledge import regulation
from scanner.knowledge.apis import load_api_catalog
from scanner.model import (
    DATA_TYPES,
    LINKING_TYPES,
    Declaration,
    Evidence,
    Observation,
    StaticReport,
    TrafficReport,
    link_identifiers,
    recipient_organisation,
)

Fact = dict[str, Any]

BEHAVIOUR_KINDS = frozenset({"observation", "frequency", "linkable_identifier"})
CAPABILITY_KINDS = frozenset({"permission", "capability", "api_use", "sdk", "sdk_data", "endpoint", "manifest"})
STATIC_KINDS = CAPABILITY_KINDS
INPUTS = ("static", "traffic", "declaration", "category")

# Every kind with its fields and their defaults (a fact in a rule test case may leave out any of them).
FACT_FIELDS: dict[str, dict[str, Any]] = {
    "app": {"package": None, "label": None, "target_sdk": None, "min_sdk": None, "version_name": None,
            "category": None, "play_category": None},
    "permission": {"name": None, "short_name": None, "protection_level": "dangerous", "data_types": [],
                   "max_sdk": None},
    "capability": {"data_type": None, "source": None, "via": None, "sdk": None, "caller": None,
                   "identifier": None},
    "api_use": {"api": None, "data_type": None, "identifier": None, "caller": "", "sdk": None,
                "permission": None},
    "sdk": {"id": None, "name": None, "owner": "", "country": "", "categories": [], "status": "wired",
            "auto_init": False, "data_types": [], "bases": [], "disclosed": False, "disclosed_data_types": []},
    "sdk_data": {"sdk": None, "sdk_name": None, "data_type": None, "status": "wired", "disclosed": False,
                 "categories": []},
    "endpoint": {"url": None, "host": None, "scheme": None, "source": None, "sdk": None, "cleartext": False},
    "manifest": {"uses_cleartext_traffic": None, "cleartext_permitted_base": None, "cleartext_allowed": False,
                 "cleartext_reason": "", "cleartext_domains": [], "allow_backup": None, "debuggable": False, "auto_init_providers": []},
    "observation": {"data_type": None, "identifier": None, "host": "", "url": "", "method": "GET",
                    "party": "first", "sdk": None, "owner": None, "where": "body", "encodings": [], "time": 0.0,
                    "phase": None, "cleartext": False, "confidence": "confirmed", "flow_id": "", "key": None,
                    "registrable_domain": None, "recipient": None, "recipient_disclosed": False,
                    "recipient_data_types": None, "value_ref": None, "capture": None, "consent": None,
                    "consent_source": None},
    "frequency": {"data_type": None, "identifier": None, "host": "", "sdk": None, "count": 0, "span_s": 0.0,
                  "per_minute": 0.0},
    # Linkage (issue 13): one identifier value reaching several organisations or several captures.
    "linkable_identifier": {"value_ref": None, "data_type": None, "identifier": None, "organisations": [],
                            "hosts": [], "captures": [], "flows": 0, "cross_party": False, "persistent": False},
    "declaration": {"format": None, "path": None, "package": None},
    "declared": {"data_type": None, "collected": False, "shared": False, "purposes": [], "shared_purposes": [],
                 "optional": None, "ephemeral": None, "denied": False, "source": None, "confidence": "stated"},
    "disclosed": {"name": None, "sdk_id": None, "data_types": [], "purposes": [], "source": None},
    "necessary_pi": {"category": None, "data_type": None},
    "low_relevance_permission": {"category": None, "permission": None},
}

# Fields that identify a fact across runs: they make fingerprints, never timestamps or line numbers.
IDENTITY: dict[str, tuple[str, ...]] = {
    "app": ("package",), "permission": ("name",), "capability": ("data_type", "source", "via"),
    "api_use": ("api", "caller", "identifier"), "sdk": ("id",), "sdk_data": ("sdk", "data_type"),
    "endpoint": ("url",), "manifest": (), "observation": ("data_type", "identifier", "host", "where", "key"),
    "frequency": ("data_type", "identifier", "host"), "declaration": (), "declared": ("data_type",),
    "linkable_identifier": ("data_type", "identifier", "organisations"),
    "disclosed": ("name",), "necessary_pi": ("category", "data_type"),
    "low_relevance_permission": ("category", "permission"),
}


@dataclass
class FactSet:
    facts: list[Fact]
    inputs: frozenset[str]
    warnings: list[str] = field(default_factory=list)


def make_fact(kind: str, **values: Any) -> Fact:
    fields = FACT_FIELDS[kind]
    fact: Fact = {"kind": kind, **fields}
    fact.update(values)  # extra fields are allowed; rules may read them
    # Facts never share a list of a known field, given or default.
    for name, value in values.items():
        if isinstance(value, list) and name in fields:
            fact[name] = list(value)
    for name in _LIST_FIELDS[kind]:
        if name not in values:
            fact[name] = list(fields[name])
    return fact


_LIST_FIELDS = {kind: tuple(n for n, default in fields.items() if isinstance(default, list))
                for kind, fields in FACT_FIELDS.items()}


# ---------------------------------------------------------------------------
# From the inputs
# ---------------------------------------------------------------------------


def static_facts(report: StaticReport) -> list[Fact]:
    perm_map = regulation.permission_data_types()
    facts: list[Fact] = [make_fact(
        "app", package=report.app.package, label=report.app.label, target_sdk=report.app.target_sdk,
        min_sdk=report.app.min_sdk, version_name=report.app.version_name)]
    for perm in report.permissions:
        facts.append(make_fact("permission", name=perm.name, short_name=perm.name.rsplit(".", 1)[-1],
                               protection_level=perm.protection_level,
                               data_types=list(perm.data_types or perm_map.get(perm.name, ())), max_sdk=perm.max_sdk))
    for sdk in report.sdks:
        facts.append(make_fact(
            "sdk", id=sdk.id, name=sdk.name, owner=sdk.owner, country=sdk.country, categories=list(sdk.categories),
            status=sdk.status.value if hasattr(sdk.status, "value") else str(sdk.status), auto_init=sdk.auto_init,
            data_types=list(sdk.data_types), bases=sdk.bases,
            evidence=[{"basis": e.basis, "detail": e.detail} for e in sdk.evidence[:5]]))
    for use in report.api_uses:
        facts.append(make_fact("api_use", api=use.api, data_type=use.data_type, identifier=use.identifier,
                               caller=use.caller, sdk=use.sdk, permission=use.permission))
    for endpoint in report.endpoints:
        scheme = endpoint.url.split(":", 1)[0].lower() if ":" in endpoint.url else None
        facts.append(make_fact("endpoint", url=endpoint.url, host=endpoint.host, scheme=scheme,
                               source=endpoint.source, sdk=endpoint.sdk, cleartext=scheme == "http"))
    m = report.manifest
    cleartext_allowed, cleartext_reason = _cleartext(m.cleartext_permitted_base, m.uses_cleartext_traffic,
                                                     report.app.target_sdk)
    facts.append(make_fact(
        "manifest", uses_cleartext_traffic=m.uses_cleartext_traffic, cleartext_permitted_base=m.cleartext_permitted_base,
        cleartext_allowed=cleartext_allowed, cleartext_reason=cleartext_reason,
        cleartext_domains=list(m.cleartext_domains), allow_backup=m.allow_backup, debuggable=m.debuggable,
        auto_init_providers=list(m.auto_init_providers)))
    return facts


def _cleartext(base: bool | None, attribute: bool | None, target_sdk: int | None) -> tuple[bool, str]:
    """Whether cleartext HTTP is allowed, and which setting decides, in the words a developer would search for.

    Android's default: cleartext allowed below target SDK 28 unless the app says otherwise."""
    if base is not None:
        return base, f"the network security config's base-config sets cleartextTrafficPermitted={str(base).lower()}"
    if attribute is not None:
        return attribute, f'android:usesCleartextTraffic="{str(attribute).lower()}"'
    allowed = (target_sdk or 0) < 28
    sdk = "unknown" if target_sdk is None else str(target_sdk)
    return allowed, (f"neither usesCleartextTraffic nor a network security config sets it, and targetSdk {sdk} "
                     f"{'allows' if allowed else 'forbids'} it by default")


def observation_fact(o: Observation) -> Fact:
    return make_fact(
        "observation", data_type=o.data_type, identifier=o.identifier, host=o.host, url=o.url, method=o.method,
        party=o.party, sdk=o.sdk, owner=o.owner, where=o.where, encodings=list(o.encodings), time=o.time,
        phase=o.phase, cleartext=o.cleartext, confidence=o.confidence, flow_id=o.flow_id, key=o.key,
        registrable_domain=o.registrable_domain, value_label=o.value_label, value_ref=o.value_ref, capture=o.capture,
        consent=o.consent, consent_source=o.consent_source)


def traffic_facts(report: TrafficReport) -> list[Fact]:
    return [observation_fact(o) for o in report.observations]


def declaration_facts(declaration: Declaration) -> list[Fact]:
    facts: list[Fact] = [make_fact("declaration", format=declaration.kind, path=declaration.path,
                                   package=declaration.package)]
    for item in declaration.data_types.values():
        facts.append(make_fact(
            "declared", data_type=item.data_type, collected=item.collected and not item.denied,
            shared=item.shared and not item.denied, purposes=item.purposes, shared_purposes=item.shared_purposes,
            optional=item.optional, ephemeral=item.ephemeral, denied=item.denied, source=item.source,
            confidence=item.confidence))
    for party in declaration.parties:
        facts.append(make_fact("disclosed", name=party.name, sdk_id=party.sdk_id, data_types=party.data_types,
                               purposes=party.purposes, source=party.source))
    return facts


# ---------------------------------------------------------------------------
# Derived facts
# ---------------------------------------------------------------------------


def _norm(name: str | None) -> str:
    return re.sub(r"[^0-9a-z\u4e00-\u9fff]+", "", (name or "").lower())


def _party_matches(party: Fact, sdk_id: str | None, names: Iterable[str]) -> bool:
    if sdk_id and party.get("sdk_id") and _norm(party["sdk_id"]) == _norm(sdk_id):
        return True
    disclosed = _norm(party.get("name"))
    if not disclosed:
        return False
    for name in names:
        candidate = _norm(name)
        if not candidate:
            continue
        if candidate == disclosed:
            return True
        # "Google Firebase Analytics" discloses "Firebase Analytics" and the reverse; short names must be exact.
        if min(len(candidate), len(disclosed)) >= 5 and (candidate in disclosed or disclosed in candidate):
            return True
    return False


_FREQUENCY_DEFAULTS = FACT_FIELDS["frequency"]
assert not _LIST_FIELDS["frequency"], "frequency facts are built without make_fact, which copies list defaults"
_WHO = ("sdk", "owner", "registrable_domain", "host", "party")  # what decides an observation's recipient


def _recipient(who: tuple[Any, ...], sdk_names: dict[str, list[str]],
               parties: list[Fact]) -> tuple[Any, bool, list[str] | None]:
    """Who received an observation (sdk, owner, domain, host, party), whether the declaration discloses that party,
    and the data types it lists for it."""
    sdk_id, owner, domain, host, party = who
    names = sdk_names.get(sdk_id or "", [sdk_id or "", owner or ""])
    # Who received it, in words a reader knows: the SDK's name, else its owner, else the domain.
    sdk_label = names[1] if sdk_id in sdk_names and names[1] else sdk_id
    label = sdk_label or owner or domain or host
    matched = [p for p in parties if _party_matches(p, sdk_id, names)] if party == "third" else []
    listed = sorted({t for p in matched for t in p.get("data_types", [])}) if matched else None
    return label, bool(matched), listed


def _times(raw: list[Any]) -> list[float]:
    """Observation times as floats, a missing or empty time as 0."""
    try:
        return list(map(float, raw))
    except (TypeError, ValueError):  # None or "" among them
        return [float(t or 0.0) for t in raw]


def derive(facts: list[Fact], *, category: str | None, sdk_aliases: dict[str, list[str]] | None = None) -> list[Fact]:
    """Add joined and regulation facts in place; returns the same list."""
    with gc_paused():
        return _derive(facts, category, sdk_aliases)


def _derive(facts: list[Fact], category: str | None, sdk_aliases: dict[str, list[str]] | None) -> list[Fact]:
    sdk_aliases = sdk_aliases or {}
    by_kind: dict[str, list[Fact]] = {}
    for fact in facts:
        by_kind.setdefault(fact["kind"], []).append(fact)
    parties = by_kind.get("disclosed", [])
    perm_map = regulation.permission_data_types()
    derived: list[Fact] = []

    for perm in by_kind.get("permission", []):
        if not perm.get("data_types"):
            perm["data_types"] = list(perm_map.get(perm["name"], ()))
        if not perm.get("short_name") and perm.get("name"):
            perm["short_name"] = perm["name"].rsplit(".", 1)[-1]
        for data_type in perm["data_types"]:
            derived.append(make_fact("capability", data_type=data_type, source="permission", via=perm["name"]))
    apis = load_api_catalog()
    for use in by_kind.get("api_use", []):
        if not apis.opens_capability(use["api"] or ""):
            continue
        derived.append(make_fact("capability", data_type=use["data_type"], source="api", via=use["api"],
                                 sdk=use.get("sdk"), caller=use.get("caller"), identifier=use.get("identifier")))

    sdk_names: dict[str, list[str]] = {}
    for sdk in by_kind.get("sdk", []):
        names = [sdk["id"], sdk.get("name") or "", *sdk_aliases.get(sdk["id"], [])]
        sdk_names[sdk["id"]] = names
        matched = [p for p in parties if _party_matches(p, sdk["id"], names)]
        sdk["disclosed"] = bool(matched)
        sdk["disclosed_data_types"] = sorted({t for p in matched for t in p.get("data_types", [])})
        for data_type in sdk.get("data_types", []):
            derived.append(make_fact("sdk_data", sdk=sdk["id"], sdk_name=sdk.get("name"), data_type=data_type,
                                     status=sdk.get("status"), disclosed=sdk["disclosed"],
                                     categories=sdk.get("categories", [])))

    observations = by_kind.get("observation", [])
    # Observations are many and alike: read the fields that decide the recipient and the frequency key in one
    # pass, then do the work once per distinct combination; per observation only what must be per fact is left.
    fields = (*_WHO, "data_type", "identifier")
    try:
        rows = list(map(operator.itemgetter(*fields), observations))
    except KeyError:  # an observation without one of the fields: it reads as None
        rows = [tuple(map(obs.get, fields)) for obs in observations]
    recipients: dict[tuple[Any, ...], tuple[Any, bool, list[str] | None]] = {}
    # row -> its recipient (label, disclosed, listed data types) and the positions of its observations
    at_row: dict[tuple[Any, ...], tuple[Any, bool, list[str] | None, list[int]]] = {}
    for position, (obs, row) in enumerate(zip(observations, rows, strict=True)):
        entry = at_row.get(row)
        if entry is None:
            who = row[:len(_WHO)]
            known = recipients.get(who)
            if known is None:
                known = recipients[who] = _recipient(who, sdk_names, parties)
            entry = at_row[row] = (*known, [])
        label, disclosed, listed, positions = entry
        positions.append(position)
        obs["recipient"] = label
        obs["recipient_disclosed"] = disclosed
        obs["recipient_data_types"] = list(listed) if listed is not None else None

    # Rows come in the order of their first observation, so frequency keys do too.
    runs: dict[tuple[Any, ...], list[list[int]]] = {}
    for row, entry in at_row.items():
        runs.setdefault((row[-2], row[-1], row[3]), []).append(entry[-1])
    times = _times(field_values(observations, "time"))
    for (data_type, identifier, host), parts in runs.items():
        positions = parts[0] if len(parts) == 1 else sorted(itertools.chain.from_iterable(parts))
        seen = operator.itemgetter(*positions)(times) if len(positions) > 1 else (times[positions[0]],)
        count, first, last = len(seen), min(seen), max(seen)
        span = last - first
        # Requests per minute over the observed span; a burst inside one second counts as one minute.
        per_minute = round((count - 1) / (span / 60.0), 2) if span >= 1.0 and count > 1 else 0.0
        # As make_fact builds it (frequency has no list field to copy), without its per-field loop: one per key.
        derived.append({"kind": "frequency", **_FREQUENCY_DEFAULTS, "data_type": data_type, "identifier": identifier,
                        "host": host, "sdk": rows[positions[0]][0], "count": count, "span_s": round(span, 1),
                        "per_minute": per_minute})

    derived.extend(linkage_facts(observations))

    if category:
        app_type = regulation.app_types()[category]
        for data_type in app_type.necessary:
            derived.append(make_fact("necessary_pi", category=category, data_type=data_type))
        for perm_name in regulation.low_relevance_permissions(category):
            derived.append(make_fact("low_relevance_permission", category=category, permission=perm_name))
    facts.extend(derived)
    return facts


# --- linkage (issue 13) -----------------------------------------------------------------------------------------


def linkage_facts(observations: Sequence[Fact]) -> list[Fact]:
    """linkable_identifier facts: identifier values that reached two or more organisations or captures.

    Derived from observation facts (so rule test cases can state observations with a value_ref), with the same
    grouping as the traffic report's linkage table (model.link_identifiers)."""
    sightings = [(o["value_ref"], o["data_type"], o.get("identifier"),
                  recipient_organisation(o.get("party"), o.get("owner"), o.get("registrable_domain"), o.get("host") or ""),
                  o.get("host") or "", o.get("capture"), o.get("flow_id") or str(i))
                 for i, o in enumerate(observations) if o.get("value_ref") and o.get("data_type") in LINKING_TYPES]
    return [make_fact("linkable_identifier", **dataclasses.asdict(linked)) for linked in link_identifiers(sightings)]


def build_facts(static: StaticReport | None, traffic: TrafficReport | None, declaration: Declaration | None, *,
                category: str | None = None, sdk_aliases: dict[str, list[str]] | None = None) -> FactSet:
    """All facts of one scan.  `category` overrides the declaration's app category."""
    facts: list[Fact] = []
    inputs: set[str] = set()
    if static is not None:
        facts.extend(static_facts(static))
        inputs.add("static")
    if traffic is not None:
        facts.extend(traffic_facts(traffic))
        inputs.add("traffic")
    if declaration is not None:
        facts.extend(declaration_facts(declaration))
        inputs.add("declaration")
    category = category or (declaration.category_cn if declaration else None)
    if category:
        inputs.add("category")
    apps = [f for f in facts if f["kind"] == "app"]
    if not apps:
        apps = [make_fact("app", package=declaration.package if declaration else None)]
        facts.insert(0, apps[0])
    apps[0]["category"] = category
    apps[0]["play_category"] = declaration.play_category if declaration else None
    derive(facts, category=category, sdk_aliases=sdk_aliases)
    return FactSet(facts=facts, inputs=frozenset(inputs))


def facts_from_case(raw: Sequence[Any], declaration: Declaration | None, *, category: str | None,
                    inputs: Iterable[str] | None, sdk_aliases: dict[str, list[str]] | None = None,
                    where: str = "test case") -> FactSet:
    """Facts of a rule test case: raw facts (defaults filled in) + the declaration + derived facts."""
    facts: list[Fact] = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict) or "kind" not in item:
            raise DivulgeError(f"{where}: fact {index} must be a mapping with a `kind`")
        kind = item["kind"]
        if kind not in FACT_FIELDS or kind in ("capability", "sdk_data", "frequency", "linkable_identifier", "necessary_pi",
                                                "low_relevance_permission", "declared", "disclosed", "declaration"):
            raise DivulgeError(f"{where}: fact {index} has kind {kind!r}; a test case gives "
                               "app, permission, api_use, sdk, endpoint, manifest or observation facts "
                               "(the others are derived, or come from `declaration:`)")
        values = {k: v for k, v in item.items() if k != "kind"}
        if kind == "observation" and values.get("data_type") not in DATA_TYPES:
            raise DivulgeError(f"{where}: fact {index}: unknown data type {values.get('data_type')!r}")
        facts.append(make_fact(kind, **values))
    kinds = {f["kind"] for f in facts}
    present = set(inputs) if inputs is not None else (
        ({"static"} if kinds & STATIC_KINDS or "app" in kinds else set())
        | ({"traffic"} if "observation" in kinds else set()))
    if declaration is not None:
        facts.extend(declaration_facts(declaration))
        present.add("declaration")
    category = category or (declaration.category_cn if declaration else None)
    if category:
        present.add("category")
    apps = [f for f in facts if f["kind"] == "app"]
    if not apps:
        apps = [make_fact("app")]
        facts.insert(0, apps[0])
    apps[0]["category"] = category
    derive(facts, category=category, sdk_aliases=sdk_aliases)
    return FactSet(facts=facts, inputs=frozenset(present))


# ---------------------------------------------------------------------------
# Evidence
# ---------------------------------------------------------------------------


def _label(data_type: str | None) -> str:
    info = DATA_TYPES.get(data_type or "")
    return info.label if info else str(data_type)


_PHASE_WORDS = {"before_consent": ", before consent", "after_refusal": ", after refusal",
                "after_consent": ", after consent"}
_FLOW_DETAILS = ("flow_id", "method", "where", "key", "encodings", "phase", "time", "cleartext", "party", "sdk", "owner",
                 "identifier", "confidence")


def evidence_for(fact: Fact) -> Evidence:
    """One piece of evidence a person can check, from one fact."""
    kind = fact["kind"]
    if kind == "observation":
        what = _label(fact["data_type"]) + (f" ({fact['identifier']})" if fact.get("identifier") else "")
        where = fact.get("where") or "request"
        if fact.get("key"):
            where += f" key {fact['key']!r}"
        chain = " > ".join(fact.get("encodings") or [])
        phase = _PHASE_WORDS.get(fact.get("phase") or "", "")
        summary = f"{fact.get('method') or 'GET'} {fact.get('host')}: {what} in {where}" \
                  + (f" ({chain})" if chain else "") + phase + (", over cleartext HTTP" if fact.get("cleartext") else "")
        details = {k: fact.get(k) for k in _FLOW_DETAILS}
        return Evidence(kind="flow", summary=summary, location=fact.get("url") or fact.get("host"), details=details)
    if kind == "frequency":
        return Evidence(kind="flow", summary=f"{_label(fact['data_type'])} sent to {fact['host']} {fact['count']} times "
                        f"in {fact['span_s']:.0f} s ({fact['per_minute']} per minute)", location=fact.get("host"),
                        details={k: fact.get(k) for k in ("count", "span_s", "per_minute", "identifier")})
    if kind == "linkable_identifier":
        what = _label(fact["data_type"]) + (f" ({fact['identifier']})" if fact.get("identifier") else "")
        parts = []
        if fact.get("cross_party"):
            parts.append(f"sent to {len(fact['organisations'])} organisations: {', '.join(fact['organisations'])}")
        if fact.get("persistent"):
            parts.append(f"the same in {len(fact['captures'])} captures")
        return Evidence(kind="flow", summary=f"one {what} value {'; '.join(parts)} ({fact['flows']} flows)",
                        location=", ".join(fact.get("hosts") or []) or None,
                        details={k: fact.get(k) for k in ("value_ref", "identifier", "organisations", "hosts",
                                                           "captures", "flows", "cross_party", "persistent")})
    if kind == "permission":
        return Evidence(kind="permission", summary=f"requests {fact['name']} ({fact.get('protection_level')})",
                        location=f'AndroidManifest.xml <uses-permission android:name="{fact["name"]}">',
                        details={"data_types": fact.get("data_types", [])})
    if kind == "api_use":
        who = f" in SDK {fact['sdk']}" if fact.get("sdk") else ""
        return Evidence(kind="api_call", summary=f"calls {fact['api']}{who} ({_label(fact['data_type'])})",
                        location=fact.get("caller") or None,
                        details={k: fact.get(k) for k in ("api", "identifier", "sdk", "permission")})
    if kind == "capability":
        return Evidence(kind="permission" if fact["source"] == "permission" else "api_call",
                        summary=f"{_label(fact['data_type'])} reachable through {fact['source']} {fact['via']}",
                        location=fact.get("caller") or fact.get("via"),
                        details={k: fact.get(k) for k in ("source", "via", "sdk", "identifier")})
    if kind in ("sdk", "sdk_data"):
        sdk_id = fact["id"] if kind == "sdk" else fact["sdk"]
        name = fact.get("name") if kind == "sdk" else fact.get("sdk_name")
        bases = ", ".join(fact.get("bases") or []) if kind == "sdk" else ""
        summary = f"SDK {name or sdk_id} ({sdk_id}) is {fact.get('status')}" + (f" [{bases}]" if bases else "")
        if kind == "sdk_data":
            summary += f"; it is known to collect {_label(fact['data_type'])}"
        elif fact.get("auto_init"):
            summary += "; it initialises itself at app start"
        return Evidence(kind="sdk", summary=summary, location=sdk_id,
                        details={"evidence": fact.get("evidence", []), "owner": fact.get("owner")})
    if kind == "endpoint":
        return Evidence(kind="manifest" if not fact.get("source") else "api_call",
                        summary=f"URL {fact['url']} in {fact.get('source') or 'the app'}", location=fact.get("source"))
    if kind == "manifest":
        setting = fact.get("cleartext_reason") or (
            f"usesCleartextTraffic={fact.get('uses_cleartext_traffic')}, "
            f"network security config base={fact.get('cleartext_permitted_base')}")
        return Evidence(kind="manifest", summary=f"AndroidManifest.xml <application> network settings: {setting}",
                        location="AndroidManifest.xml <application>",
                        details={"auto_init_providers": fact.get("auto_init_providers", [])})
    if kind == "declared":
        if fact.get("denied"):
            summary = f"the declaration says {_label(fact['data_type'])} is not collected"
        else:
            verbs = [v for v, on in (("collected", fact.get("collected")), ("shared", fact.get("shared"))) if on]
            summary = f"declared {' and '.join(verbs) or 'neither collected nor shared'}: {_label(fact['data_type'])}"
            if fact.get("purposes"):
                summary += f" for {', '.join(fact['purposes'])}"
        return Evidence(kind="declaration", summary=summary, location=fact.get("source"))
    if kind == "disclosed":
        return Evidence(kind="declaration", summary=f"discloses third party {fact['name']} receiving "
                        f"{', '.join(fact.get('data_types') or []) or 'no listed data types'}", location=fact.get("source"))
    if kind == "declaration":
        return Evidence(kind="declaration", summary=f"declaration ({fact.get('format')}) for {fact.get('package')}",
                        location=fact.get("path"))
    if kind == "necessary_pi":
        return Evidence(kind="declaration", summary=f"{_label(fact['data_type'])} is necessary for {fact['category']}")
    if kind == "low_relevance_permission":
        return Evidence(kind="permission", summary=f"{fact['permission']} has low relevance to {fact['category']} apps "
                        "(GB/T 41391 Annex E reading)")
    if kind == "app":
        return Evidence(kind="manifest", summary=f"app {fact.get('package')} targets SDK {fact.get('target_sdk')}",
                        location="AndroidManifest.xml <uses-sdk>")
    return Evidence(kind=kind, summary=str({k: v for k, v in fact.items() if k != "kind"}))


def basis_of(kinds: Iterable[str]) -> str:
    kinds = set(kinds)
    behaviour = bool(kinds & BEHAVIOUR_KINDS)
    capability = bool(kinds & CAPABILITY_KINDS)
    if behaviour and capability:
        return "both"
    if behaviour:
        return "behaviour"
    if capability:
        return "capability"
    return "declaration"
