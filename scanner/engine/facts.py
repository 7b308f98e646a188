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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from scanner.engine.conditions import field_values
from scanner.errors import DivulgeError
from scanner.gcpause import gc_paused
from scanner.knowledge import regulation
from scanner.knowledge.apis import load_api_catalog
from scanner.knowledge.recipients import recipient_country
from scanner.knowledge.sdks import shared_catalog
from scanner.knowledge.special_access import load_special_access
from scanner.model import (
    DATA_TYPES,
    LINKING_TYPES,
    LOCAL_SDK_CATEGORIES,
    Declaration,
    Evidence,
    Observation,
    RuntimeReport,
    SdkRole,
    StaticReport,
    TrafficReport,
    Transfer,
    link_identifiers,
    recipient_organisation,
)

Fact = dict[str, Any]

BEHAVIOUR_KINDS = frozenset({"observation", "frequency", "runtime_call", "linkable_identifier"})
# iOS (issue 17): what an IPA shows beyond the kinds it shares with an APK; static capability evidence like them.
IOS_KINDS = frozenset({"ios_app", "privacy_manifest", "required_reason_api", "ios_framework"})
CAPABILITY_KINDS = frozenset({"permission", "capability", "api_use", "sdk", "sdk_data", "endpoint", "manifest",
                              "special_access"}) | IOS_KINDS
STATIC_KINDS = CAPABILITY_KINDS
INPUTS = ("static", "traffic", "declaration", "category", "runtime")

# Every kind with its fields and their defaults (a fact in a rule test case may leave out any of them).
FACT_FIELDS: dict[str, dict[str, Any]] = {
    "app": {"package": None, "label": None, "target_sdk": None, "min_sdk": None, "version_name": None,
            "category": None, "play_category": None, "markets": [], "audience": None, "for_children": False},
    "permission": {"name": None, "short_name": None, "protection_level": "dangerous", "data_types": [],
                   "max_sdk": None},
    "capability": {"data_type": None, "source": None, "via": None, "sdk": None, "caller": None,
                   "identifier": None, "scope": None},
    "api_use": {"api": None, "data_type": None, "identifier": None, "caller": "", "sdk": None,
                "permission": None, "origin": "app", "reached_from": None, "dormant": False},
    "special_access": {"access": None, "label": None, "source": None, "via": None, "origin": "app", "sdk": None,
                       "component": None, "data_types": [], "can_retrieve_window_content": None, "packages": [],
                       "event_types": [], "policies": [], "reached_from": None, "dormant": False, "sees": None,
                       "whose": None, "user_action": None, "label_zh": None, "sees_zh": None, "whose_zh": None},
    "sdk": {"id": None, "name": None, "owner": "", "country": "", "categories": [], "status": "wired",
            "auto_init": False, "data_types": [], "bases": [], "disclosed": False, "disclosed_data_types": [],
            "role": None, "role_setting": None, "role_source": None, "role_manifest": [],
            "families_certified": False, "abroad_from_cn": False},
    "sdk_data": {"sdk": None, "sdk_name": None, "data_type": None, "status": "wired", "disclosed": False,
                 "categories": [], "role": None, "role_setting": None},
    "endpoint": {"url": None, "host": None, "scheme": None, "source": None, "sdk": None, "cleartext": False},
    "manifest": {"uses_cleartext_traffic": None, "cleartext_permitted_base": None, "cleartext_allowed": False,
                 "cleartext_reason": "", "cleartext_domains": [], "allow_backup": None, "debuggable": False, "auto_init_providers": [],
                 "queries_broad": None, "queries_packages": []},
    "observation": {"data_type": None, "identifier": None, "host": "", "url": "", "method": "GET",
                    "party": "first", "sdk": None, "owner": None, "where": "body", "encodings": [], "time": 0.0,
                    "phase": None, "cleartext": False, "confidence": "confirmed", "flow_id": "", "key": None,
                    "registrable_domain": None, "recipient": None, "recipient_disclosed": False,
                    "recipient_data_types": None, "recipient_role": None, "recipient_role_setting": None,
                    "recipient_country": None, "recipient_country_source": None, "abroad_from_cn": False,
                    "outside_eea": False, "adequacy": None, "recipient_categories": [], "value_ref": None,
                    "capture": None, "consent": None, "consent_source": None},
    "frequency": {"data_type": None, "identifier": None, "host": "", "sdk": None, "count": 0, "span_s": 0.0,
                  "per_minute": 0.0},
    # Linkage (issue 13): one identifier value reaching several organisations or several captures.
    "linkable_identifier": {"value_ref": None, "data_type": None, "identifier": None, "organisations": [],
                            "hosts": [], "captures": [], "flows": 0, "cross_party": False, "persistent": False},
    "declaration": {"format": None, "path": None, "package": None, "language": None, "markets": [],
                    "first_party_domains": [], "audience": None, "guardian_consent": None,
                    "cross_border_consent": None},
    "declared": {"data_type": None, "collected": False, "shared": False, "purposes": [], "shared_purposes": [],
                 "optional": None, "ephemeral": None, "denied": False, "source": None, "confidence": "stated"},
    "disclosed": {"name": None, "sdk_id": None, "data_types": [], "purposes": [], "source": None, "role": None},
    # What the runtime monitor saw (divulge monitor): reads of one API by one caller in one consent phase.
    "runtime_call": {"api": None, "data_type": None, "identifier": None, "caller": "", "sdk": None, "origin": "app",
                     "reached_from": None, "phase": None, "count": 1, "per_minute": 0.0, "first": 0.0, "last": 0.0,
                     "values": 0, "stack": [], "kind_of_code": "java", "sdk_disclosed": False, "who": None,
                     "screen": None},
    "necessary_pi": {"category": None, "data_type": None},
    "low_relevance_permission": {"category": None, "permission": None},
    # The policy text's own completeness: one fact per topic a regulator checks, found or not -- from a policy read
    # as text only (a privacy.yaml says nothing of its controller or retention).
    "policy_topic": {"topic": None, "group": None, "label": None, "label_zh": None, "found": False, "source": None,
                     "section": None, "path": None},
    # One per entry of the policy's SDK list; `missing` names what the entry leaves out ("purpose, company").
    "policy_sdk_entry": {"name": None, "sdk_id": None, "company": None, "missing": "", "source": None, "path": None},
    # iOS: the app's Info.plist and its own privacy manifest; manifest_data_types and tracking_domains join every
    # manifest in the IPA (the app's and its frameworks'), since the App Store reads them together.
    "ios_app": {"bundle_id": None, "minimum_os": None, "tracking_usage_description": None,
                "has_tracking_description": False, "ats_allows_arbitrary_loads": False,
                "ats_arbitrary_loads_in_web_content": False, "ats_insecure_domains": [], "url_schemes": [],
                "linked_frameworks": [], "encrypted": False, "has_privacy_manifest": False, "tracking": None,
                "tracking_domains": [], "manifest_data_types": []},
    "privacy_manifest": {"bundle": None, "path": None, "sdk": None, "tracking": None, "tracking_domains": [],
                         "data_types": [], "tracking_data_types": [], "api_categories": []},
    # via: the symbols, classes and selectors that show the use, as one string (evidence markers hash it)
    "required_reason_api": {"category": None, "label": None, "via": "", "binary": None, "bundle": None, "sdk": None,
                            "declared": False, "reasons": []},
    "ios_framework": {"name": None, "path": None, "sdk": None, "apple_listed": None, "listed": False,
                      "privacy_manifest": None, "has_privacy_manifest": False, "signed": False},
}
# Kinds `derive` makes or the declaration brings; a rule test case gives the others.
DERIVED_KINDS = frozenset({"capability", "sdk_data", "frequency", "linkable_identifier", "necessary_pi",
                           "low_relevance_permission", "declared", "disclosed", "declaration"})
POLICY_KINDS = frozenset({"policy_topic", "policy_sdk_entry"})

# Fields that identify a fact across runs: they make fingerprints, never timestamps or line numbers.
IDENTITY: dict[str, tuple[str, ...]] = {
    "app": ("package",), "permission": ("name",), "capability": ("data_type", "source", "via"),
    "api_use": ("api", "caller", "identifier"), "special_access": ("access", "source", "via", "component"),
    "sdk": ("id",), "sdk_data": ("sdk", "data_type"),
    "endpoint": ("url",), "manifest": (), "observation": ("data_type", "identifier", "host", "where", "key"),
    "frequency": ("data_type", "identifier", "host"), "declaration": (), "declared": ("data_type",),
    "linkable_identifier": ("data_type", "identifier", "organisations"),
    "disclosed": ("name",), "necessary_pi": ("category", "data_type"),
    "runtime_call": ("api", "data_type", "identifier", "caller", "phase"),
    "low_relevance_permission": ("category", "permission"), "policy_topic": ("topic",),
    "policy_sdk_entry": ("name",), "ios_app": ("bundle_id",), "privacy_manifest": ("bundle",),
    "required_reason_api": ("category", "bundle"), "ios_framework": ("name",),
}


def ios_facts(report: StaticReport) -> list[Fact]:
    """The iOS kinds of an IPA's report (none for an APK)."""
    ios = report.ios
    if ios is None:
        return []
    app_manifest = next((m for m in ios.privacy_manifests if m.bundle == "app"), None)
    declared_types = sorted({t for m in ios.privacy_manifests for c in m.collected for t in c.data_types})
    facts = [make_fact(
        "ios_app", bundle_id=ios.bundle_id, minimum_os=ios.minimum_os,
        tracking_usage_description=ios.tracking_usage_description,
        has_tracking_description=bool(ios.tracking_usage_description),
        ats_allows_arbitrary_loads=ios.ats_allows_arbitrary_loads,
        ats_arbitrary_loads_in_web_content=ios.ats_arbitrary_loads_in_web_content,
        ats_insecure_domains=list(ios.ats_insecure_domains), url_schemes=list(ios.url_schemes),
        linked_frameworks=list(ios.linked_frameworks), encrypted=bool(ios.encrypted_binaries),
        has_privacy_manifest=app_manifest is not None, tracking=app_manifest.tracking if app_manifest else None,
        tracking_domains=sorted({d for m in ios.privacy_manifests for d in m.tracking_domains}),
        manifest_data_types=declared_types)]
    for m in ios.privacy_manifests:
        facts.append(make_fact(
            "privacy_manifest", bundle=m.bundle, path=m.path, sdk=m.sdk, tracking=m.tracking,
            tracking_domains=list(m.tracking_domains), data_types=sorted({t for c in m.collected for t in c.data_types}),
            tracking_data_types=sorted({t for c in m.collected if c.tracking for t in c.data_types}),
            api_categories=sorted(m.accessed_api_types)))
    for use in ios.required_reason_apis:
        facts.append(make_fact("required_reason_api", category=use.category, label=use.label, via=", ".join(use.via),
                               binary=use.binary, bundle=use.bundle, sdk=use.sdk, declared=use.declared,
                               reasons=list(use.reasons)))
    for fw in ios.frameworks:
        facts.append(make_fact("ios_framework", name=fw.name, path=fw.path, sdk=fw.sdk, apple_listed=fw.apple_listed,
                               listed=fw.apple_listed is not None, privacy_manifest=fw.privacy_manifest,
                               has_privacy_manifest=fw.privacy_manifest is not None, signed=fw.signed))
    return facts


def _ios_evidence(fact: Fact) -> Evidence | None:
    kind = fact["kind"]
    if kind == "required_reason_api":
        where = "the app" if fact.get("bundle") == "app" else f"{fact.get('bundle')}.framework"
        return Evidence(kind="api_call", summary=f"{where} uses {fact.get('label')} ({fact.get('category')}): "
                        f"{fact.get('via')}", location=fact.get("binary"),
                        details={k: fact.get(k) for k in ("category", "bundle", "sdk", "declared", "reasons")})
    if kind == "ios_framework":
        manifest = fact.get("privacy_manifest") or "no PrivacyInfo.xcprivacy"
        return Evidence(kind="manifest", summary=f"embedded framework {fact.get('name')}: {manifest}",
                        location=fact.get("path"), details={k: fact.get(k) for k in ("sdk", "apple_listed", "signed")})
    if kind == "privacy_manifest":
        return Evidence(kind="manifest", summary=f"privacy manifest of {fact.get('bundle')}: NSPrivacyTracking "
                        f"{fact.get('tracking')}, collected {', '.join(fact.get('data_types') or []) or 'nothing'}",
                        location=fact.get("path"))
    if kind == "ios_app":
        return Evidence(kind="manifest", summary=f"Info.plist of {fact.get('bundle_id')}: NSUserTrackingUsageDescription "
                        f"{'set' if fact.get('has_tracking_description') else 'missing'}, NSAllowsArbitraryLoads "
                        f"{str(bool(fact.get('ats_allows_arbitrary_loads'))).lower()}", location="Info.plist")
    return None


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
            data_types=list(sdk.data_types), bases=sdk.bases, role=sdk.role, role_setting=sdk.role_setting,
            role_source=sdk.role_source, role_manifest=list(sdk.role_manifest),
            evidence=[{"basis": e.basis, "detail": e.detail} for e in sdk.evidence[:5]]))
    for use in report.api_uses:
        facts.append(make_fact("api_use", api=use.api, data_type=use.data_type, identifier=use.identifier,
                               caller=use.caller, sdk=use.sdk, permission=use.permission, origin=use.origin,
                               reached_from=use.reached_from, dormant=use.dormant))
    for access in report.special_access:
        config = access.config
        facts.append(make_fact(
            "special_access", access=access.kind, label=access.label, source=access.source, via=access.via,
            origin=access.origin, sdk=access.sdk, component=access.component, data_types=list(access.data_types),
            can_retrieve_window_content=config.get("can_retrieve_window_content"),
            packages=list(config.get("packages", [])), event_types=list(config.get("event_types", [])),
            policies=list(config.get("policies", [])), reached_from=access.reached_from,
            user_action=config.get("user_action"), dormant=access.dormant))
    for endpoint in report.endpoints:
        scheme = endpoint.url.split(":", 1)[0].lower() if ":" in endpoint.url else None
        facts.append(make_fact("endpoint", url=endpoint.url, host=endpoint.host, scheme=scheme,
                               source=endpoint.source, sdk=endpoint.sdk, cleartext=scheme == "http"))
    m = report.manifest
    cleartext_allowed, cleartext_reason = _cleartext(m.cleartext_permitted_base, m.uses_cleartext_traffic,
                                                     report.app.target_sdk)
    if report.ios is not None:  # App Transport Security, not a network security config, decides on iOS
        cleartext_reason = ("Info.plist NSAppTransportSecurity sets NSAllowsArbitraryLoads=true" if cleartext_allowed
                            else "App Transport Security forbids HTTP by default")
        facts.extend(ios_facts(report))
    facts.append(make_fact(
        "manifest", uses_cleartext_traffic=m.uses_cleartext_traffic, cleartext_permitted_base=m.cleartext_permitted_base,
        cleartext_allowed=cleartext_allowed, cleartext_reason=cleartext_reason,
        cleartext_domains=list(m.cleartext_domains), allow_backup=m.allow_backup, debuggable=m.debuggable,
        auto_init_providers=list(m.auto_init_providers), queries_broad=m.queries_broad,
        queries_packages=list(m.queries_packages)))
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


def runtime_facts(report: RuntimeReport) -> list[Fact]:
    return [make_fact("runtime_call", api=c.api, data_type=c.data_type, identifier=c.identifier, caller=c.caller,
                      sdk=c.sdk, origin=c.origin, reached_from=c.reached_from, phase=c.phase, count=c.count,
                      per_minute=c.per_minute, first=c.first, last=c.last, values=c.values, stack=list(c.stack),
                      kind_of_code=c.kind, screen=c.screen) for c in report.calls]


def traffic_facts(report: TrafficReport) -> list[Fact]:
    return [observation_fact(o) for o in report.observations]


def declaration_facts(declaration: Declaration) -> list[Fact]:
    facts: list[Fact] = [make_fact("declaration", format=declaration.kind, path=declaration.path,
                                   package=declaration.package, language=declaration.language,
                                   markets=list(declaration.markets),
                                   first_party_domains=list(declaration.first_party_domains),
                                   audience=declaration.audience, guardian_consent=declaration.guardian_consent,
                                   cross_border_consent=declaration.cross_border_consent)]
    for item in declaration.data_types.values():
        facts.append(make_fact(
            "declared", data_type=item.data_type, collected=item.collected and not item.denied,
            shared=item.shared and not item.denied, purposes=item.purposes, shared_purposes=item.shared_purposes,
            optional=item.optional, ephemeral=item.ephemeral, denied=item.denied, source=item.source,
            confidence=item.confidence))
    for party in declaration.parties:
        facts.append(make_fact("disclosed", name=party.name, sdk_id=party.sdk_id, data_types=party.data_types,
                               purposes=party.purposes, source=party.source, role=party.role))
        if party.listed:
            facts.append(make_fact("policy_sdk_entry", name=party.name, sdk_id=party.sdk_id, company=party.company,
                                   missing=", ".join(party.list_gaps), source=party.source, path=declaration.path))
    facts.extend(make_fact("policy_topic", topic=t.topic, group=t.group, label=t.label, label_zh=t.label_zh,
                           found=t.found, source=t.source, section=t.section, path=declaration.path)
                 for t in declaration.policy_topics)
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


_Recipient = tuple[Any, bool, list[str] | None, str | None, str | None]


def _recipient(who: tuple[Any, ...], sdk_names: dict[str, list[str]], parties: list[Fact],
               roles: Mapping[str, SdkRole]) -> _Recipient:
    """Who received an observation (sdk, owner, domain, host, party), whether the declaration discloses that party,
    the data types it lists for it, the party's role and the setting a `depends` role turns on."""
    sdk_id, owner, domain, host, party = who
    names = sdk_names.get(sdk_id or "", [sdk_id or "", owner or ""])
    # Who received it, in words a reader knows: the SDK's name, else its owner, else the domain.
    sdk_label = names[1] if sdk_id in sdk_names and names[1] else sdk_id
    label = sdk_label or owner or domain or host
    matched = [p for p in parties if _party_matches(p, sdk_id, names)] if party == "third" else []
    listed = sorted({t for p in matched for t in p.get("data_types", [])}) if matched else None
    if party != "third":
        return label, bool(matched), listed, None, None
    known = roles.get(sdk_id or "")
    role, setting = (known.role, known.setting) if known is not None else (None, None)
    # The catalog's role stands (a developer calling an ad network "our service provider" does not make it one);
    # where the catalog leaves it open (`depends`, or no role known) the declaration's word decides: the developer
    # knows the setting, or the host outside the catalog.
    if role in (None, "depends"):
        stated = next((p["role"] for p in matched if p.get("role") in ("service_provider", "third_party")), None)
        role = stated or role
    return label, bool(matched), listed, role, setting


def _whose(fact: Fact) -> tuple[str, str]:
    """Whose code or component shows a special access, for the message (English, Chinese)."""
    if fact.get("sdk"):
        return f"SDK {fact['sdk']}", f"第三方SDK {fact['sdk']}"
    if fact.get("origin") == "library":
        if fact.get("reached_from"):
            return f"library code called from {fact['reached_from']}", f"由 {fact['reached_from']} 调用的库代码"
        return "library code", "库代码"
    if fact.get("source") == "permission":
        return "the app's manifest", "应用清单"
    return "the app's own code", "应用自身代码"


_PERMISSION_SCOPE = {
    "android.permission.PACKAGE_USAGE_STATS": "usage access lists every app the user opens, whatever <queries> says",
    "android.permission.GET_TASKS": "GET_TASKS shows other apps' tasks only on Android 4 and older; since Android 5 "
                                    "it returns the app's own",
}


def _package_visibility(by_kind: dict[str, list[Fact]]) -> str:
    """How much of the installed-app list Android hands this app, in words for the finding (Android 11 package
    visibility: from target SDK 30 the list holds only what <queries> names, unless QUERY_ALL_PACKAGES)."""
    app = next(iter(by_kind.get("app", [])), {})
    target = app.get("target_sdk")
    names = {p.get("name") for p in by_kind.get("permission", [])}
    manifest = next(iter(by_kind.get("manifest", [])), {})
    if "android.permission.QUERY_ALL_PACKAGES" in names:
        return "the list is complete: the app requests QUERY_ALL_PACKAGES"
    if manifest.get("queries_broad"):
        return "every app with a launcher icon is visible through its <queries> MAIN intent"
    if target is None and app.get("package") is None:
        return "the target SDK is unknown, so whether Android filters the list is too"
    implied = ""
    if target is None:  # no targetSdkVersion: Android takes the minSdkVersion, else 1
        target = app.get("min_sdk") or 1
        implied = " (no targetSdkVersion: Android takes the minSdkVersion, else 1)"
    if int(target) < 30:
        return f"the list is complete: target SDK {target}{implied} predates Android 11's package visibility filter"
    declared = len(manifest.get("queries_packages") or [])
    return (f"at target SDK {target}{implied} without QUERY_ALL_PACKAGES Android filters the list to the "
            f"{declared} package(s) named in <queries> and the intents declared there")


def _times(raw: list[Any]) -> list[float]:
    """Observation times as floats, a missing or empty time as 0."""
    try:
        return list(map(float, raw))
    except (TypeError, ValueError):  # None or "" among them
        return [float(t or 0.0) for t in raw]


def derive(facts: list[Fact], *, category: str | None, sdk_aliases: dict[str, list[str]] | None = None,
           sdk_roles: Mapping[str, SdkRole] | None = None) -> list[Fact]:
    """Add joined and regulation facts in place; returns the same list.

    `sdk_roles` (by SDK id, from the catalog) fills the role of SDK facts that have none and of observations' SDKs
    that static analysis did not see; without it, the built-in catalog's roles are used."""
    with gc_paused():
        return _derive(facts, category, sdk_aliases, shared_catalog().roles if sdk_roles is None else sdk_roles)


def _derive(facts: list[Fact], category: str | None, sdk_aliases: dict[str, list[str]] | None,
            catalog_roles: Mapping[str, SdkRole]) -> list[Fact]:
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
        # Library code nobody in the app or its SDKs was seen calling is dormant: it is reported, it opens nothing.
        if use.get("dormant") or not apis.opens_capability(use["api"] or ""):
            continue
        derived.append(make_fact("capability", data_type=use["data_type"], source="api", via=use["api"],
                                 sdk=use.get("sdk"), caller=use.get("caller"), identifier=use.get("identifier")))

    for manifest in by_kind.get("manifest", []):
        if manifest.get("queries_broad"):
            derived.append(make_fact("capability", data_type="apps_on_device", source="manifest",
                                     via=manifest["queries_broad"]))
    scope = _package_visibility(by_kind)
    for cap in derived:
        if cap["data_type"] == "apps_on_device":
            cap["scope"] = _PERMISSION_SCOPE.get(cap["via"], scope)

    kinds = load_special_access().by_id
    for access in by_kind.get("special_access", []):
        access_kind = kinds.get(access.get("access") or "")
        if access_kind is not None:
            access["label"] = access.get("label") or access_kind.label
            access["sees"] = access.get("sees") or access_kind.sees
            access["label_zh"] = access.get("label_zh") or access_kind.label_zh
            access["sees_zh"] = access.get("sees_zh") or access_kind.sees_zh
            access["data_types"] = access.get("data_types") or list(access_kind.data_types)
        access["whose"], access["whose_zh"] = _whose(access)

    sdk_names: dict[str, list[str]] = {}
    # The roles of this app's SDKs as its SDK facts give them (a test case may set one), else as the catalog does.
    roles: dict[str, SdkRole] = {}
    def names_of(sdk_id: str, name: str | None) -> list[str]:
        return [sdk_id, name or "", *sdk_aliases.get(sdk_id, [])]

    for sdk in by_kind.get("sdk", []):
        names = sdk_names[sdk["id"]] = names_of(sdk["id"], sdk.get("name"))
        matched = [p for p in parties if _party_matches(p, sdk["id"], names)]
        sdk["disclosed"] = bool(matched)
        sdk["disclosed_data_types"] = sorted({t for p in matched for t in p.get("data_types", [])})
        if sdk.get("role") is None and sdk["id"] in catalog_roles:
            listed_role = catalog_roles[sdk["id"]]
            sdk["role"], sdk["role_setting"], sdk["role_source"] = \
                listed_role.role, listed_role.setting, listed_role.source
        setting = sdk.get("role_setting")
        if setting and sdk.get("role_manifest"):
            setting = f"{setting} (the app's manifest sets {', '.join(sdk['role_manifest'])})"
        roles[sdk["id"]] = SdkRole(sdk.get("role"), setting, sdk.get("role_source"))
        for data_type in sdk.get("data_types", []):
            derived.append(make_fact("sdk_data", sdk=sdk["id"], sdk_name=sdk.get("name"), data_type=data_type,
                                     status=sdk.get("status"), disclosed=sdk["disclosed"],
                                     categories=sdk.get("categories", []), role=sdk.get("role"),
                                     role_setting=sdk.get("role_setting")))
    roles_of = {**catalog_roles, **roles}

    for call in by_kind.get("runtime_call", []):
        # Who to name in a message: for library code, the app or SDK frame that called it.
        call["who"] = call.get("caller") if not call.get("reached_from") else \
            f"{call['reached_from']} (through {call.get('caller')})"
        sdk_id = call.get("sdk")
        if sdk_id:
            # An SDK static analysis did not report (runtime events alone) is named as the catalog names it.
            in_catalog = shared_catalog(None).entries.get(sdk_id)
            names = sdk_names.get(sdk_id) or names_of(sdk_id, in_catalog.name if in_catalog else None)
            call["sdk_disclosed"] = any(_party_matches(p, sdk_id, names) for p in parties)

    observations = by_kind.get("observation", [])
    # Observations are many and alike: read the fields that decide the recipient and the frequency key in one
    # pass, then do the work once per distinct combination; per observation only what must be per fact is left.
    fields = (*_WHO, "data_type", "identifier")
    try:
        rows = list(map(operator.itemgetter(*fields), observations))
    except KeyError:  # an observation without one of the fields: it reads as None
        rows = [tuple(map(obs.get, fields)) for obs in observations]
    recipients: dict[tuple[Any, ...], _Recipient] = {}
    # row -> its recipient (label, disclosed, listed data types, role, setting) and the positions of its observations
    at_row: dict[tuple[Any, ...], tuple[Any, bool, list[str] | None, str | None, str | None, list[int]]] = {}
    for position, (obs, row) in enumerate(zip(observations, rows, strict=True)):
        entry = at_row.get(row)
        if entry is None:
            who = row[:len(_WHO)]
            known = recipients.get(who)
            if known is None:
                known = recipients[who] = _recipient(who, sdk_names, parties, roles_of)
            entry = at_row[row] = (*known, [])
        label, disclosed, listed, role, setting, positions = entry
        positions.append(position)
        obs["recipient"] = label
        obs["recipient_disclosed"] = disclosed
        obs["recipient_data_types"] = list(listed) if listed is not None else None
        obs["recipient_role"] = role
        obs["recipient_role_setting"] = setting

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

    _locate(by_kind)
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
# --- markets, audience and where recipients are (issue 18) ------------------------------------------------------

# Declaration languages that place an app in the EEA market when the declaration does not name its markets.
_EEA_LANGUAGES = frozenset({"de", "fr", "it", "es", "nl", "pl", "pt", "sv", "da", "fi", "cs", "sk", "sl", "hu", "ro",
                            "bg", "el", "hr", "lt", "lv", "et", "ga", "mt", "is", "no", "nb", "nn"})


def app_markets(declared: Sequence[str], category: str | None, language: str | None,
                first_party_domains: Iterable[str], label: str | None = None) -> list[str]:
    """Where an app is offered: the declaration's `markets` when it names them, else inferred.

    Chinese market (PIPL): a 2021 necessary-scope category is set (whoever set it reads the app under Chinese
    rules), the declaration is in Chinese, a first-party domain is under .cn, or the app's name is Chinese.
    EEA market (GDPR): a first-party domain under an EEA country's TLD or .eu, or a declaration in an EEA
    language.  Inference errs towards naming a market (a transfer finding is cheaper to dismiss than to miss);
    `markets:` in privacy.yaml settles it, and `[other]` turns the inference off."""
    if declared:
        return sorted(set(declared))
    markets: set[str] = set()
    domains = [d.lower().rstrip(".") for d in first_party_domains]
    tlds = {d.rsplit(".", 1)[-1] for d in domains}
    cjk = sum(1 for ch in label or "" if "\u4e00" <= ch <= "\u9fff")
    if category or language == "zh" or "cn" in tlds or (label and cjk * 2 >= len(label.strip() or "x")):
        markets.add("cn")
    eea = regulation.transfer_regimes().eea
    if language in _EEA_LANGUAGES or any(tld.upper() in eea for tld in tlds):
        markets.add("eea")
    return sorted(markets)


def _leaves(market: str, country: str | None, regimes: Any) -> bool:
    """Whether data to a recipient in `country` leaves `market`: out of the Chinese mainland (PIPL Art. 38), or out
    of the EEA to a country without an adequacy decision (GDPR Chapter V)."""
    if country is None:
        return False
    if market == "cn":
        return country not in regimes.cn_home
    return market == "eea" and country not in regimes.eea and country not in regimes.adequate


def _locate(by_kind: dict[str, list[Fact]]) -> None:
    """Mark the app's markets and audience, SDKs' Families certification, and each observation's recipient
    country and whether its transfer leaves the app's market (PIPL Art. 38 from China; GDPR Chapter V from the
    EEA to a country without an adequacy decision)."""
    declaration = next(iter(by_kind.get("declaration", [])), {})
    regimes = regulation.transfer_regimes()
    families = regulation.families_ads_sdks()
    for app in by_kind.get("app", []):
        # A test case (or a caller) may give the markets; otherwise the declaration and the app decide.
        app["markets"] = app.get("markets") or app_markets(declaration.get("markets") or [], app.get("category"),
                                     declaration.get("language"), declaration.get("first_party_domains") or [],
                                     app.get("label"))
        app["audience"] = app.get("audience") or declaration.get("audience")
        app["for_children"] = app["audience"] in ("children", "mixed")
    markets = set(next(iter(by_kind.get("app", [])), {}).get("markets") or [])
    countries: dict[str, str] = {}
    for sdk in by_kind.get("sdk", []):
        sdk["families_certified"] = sdk.get("id") in families.sdks
        sdk["abroad_from_cn"] = "cn" in markets and _leaves("cn", sdk.get("country") or None, regimes)
        if sdk.get("country"):
            countries[sdk["id"]] = sdk["country"]
    entries = shared_catalog().entries
    located: dict[tuple[Any, ...], tuple[str | None, str | None, list[str]]] = {}
    for obs in by_kind.get("observation", []):
        key = (obs.get("sdk"), obs.get("host"), obs.get("registrable_domain"))
        where = located.get(key)
        if where is None:
            sdk_id = obs.get("sdk") or ""
            entry = entries.get(sdk_id)
            found = recipient_country(obs.get("host") or "", obs.get("registrable_domain"),
                                      countries.get(sdk_id) or (entry.country if entry else None))
            categories = list(entry.categories) if entry else []
            where = located[key] = (found.country, found.source, categories) if found else (None, None, categories)
        country, source, categories = where
        obs["recipient_country"], obs["recipient_country_source"] = country, source
        obs["recipient_categories"] = list(categories)
        third = obs.get("party") == "third"
        obs["abroad_from_cn"] = third and "cn" in markets and _leaves("cn", country, regimes)
        outside = third and "eea" in markets and _leaves("eea", country, regimes)
        obs["outside_eea"] = outside
        obs["adequacy"] = (regimes.adequate_if_certified.get(country or "") if outside else None)


def transfers_of(facts: Sequence[Fact]) -> list[Transfer]:
    """The app's transfers out of its markets, one per (market, recipient, country): what the traffic shows, and
    for SDKs nothing was seen talking to, what their catalog entry says they collect (capability)."""
    found: dict[tuple[str, str, str], Transfer] = {}
    seen_sdks: set[str] = set()
    for fact in facts:
        if fact["kind"] != "observation" or not (fact.get("abroad_from_cn") or fact.get("outside_eea")):
            continue
        market = "cn" if fact.get("abroad_from_cn") else "eea"
        recipient = str(fact.get("recipient") or fact.get("host"))
        key = (market, recipient, fact["recipient_country"])
        transfer = found.get(key)
        if transfer is None:
            transfer = found[key] = Transfer(
                recipient=recipient, country=fact["recipient_country"],
                country_source=fact.get("recipient_country_source") or "", market=market, sdk=fact.get("sdk"),
                disclosed=bool(fact.get("recipient_disclosed")), adequacy=fact.get("adequacy"))
        if fact.get("data_type") not in transfer.data_types:
            transfer.data_types.append(fact["data_type"])
        if fact.get("host") and fact["host"] not in transfer.hosts:
            transfer.hosts.append(fact["host"])
        if fact.get("sdk"):
            seen_sdks.add(fact["sdk"])
    regimes = regulation.transfer_regimes()
    app = next((f for f in facts if f["kind"] == "app"), {})
    markets = app.get("markets") or []
    for sdk in (f for f in facts if f["kind"] == "sdk"):
        country = sdk.get("country")
        if not country or sdk["id"] in seen_sdks or sdk.get("status") not in ("present", "wired") \
                or not sdk.get("data_types") or set(sdk.get("categories") or ["other"]) <= LOCAL_SDK_CATEGORIES:
            continue
        for market in markets:
            if _leaves(market, country, regimes):
                found[(market, sdk["id"], country)] = Transfer(
                    recipient=sdk.get("name") or sdk["id"], country=country, country_source="catalog", market=market,
                    data_types=list(sdk["data_types"]), sdk=sdk["id"], disclosed=bool(sdk.get("disclosed")),
                    adequacy=regimes.adequate_if_certified.get(country) if market == "eea" else None,
                    basis="capability")
    return sorted(found.values(), key=lambda t: (t.market, t.basis, t.recipient))


def build_facts(static: StaticReport | None, traffic: TrafficReport | None, declaration: Declaration | None, *,
                category: str | None = None, sdk_aliases: dict[str, list[str]] | None = None,
                sdk_roles: Mapping[str, SdkRole] | None = None, runtime: RuntimeReport | None = None) -> FactSet:
    """All facts of one scan.  `category` overrides the declaration's app category."""
    facts: list[Fact] = []
    inputs: set[str] = set()
    if runtime is not None:
        facts.extend(runtime_facts(runtime))
        inputs.add("runtime")
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
    derive(facts, category=category, sdk_aliases=sdk_aliases, sdk_roles=sdk_roles)
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
        if kind not in FACT_FIELDS or kind in DERIVED_KINDS:
            given = ", ".join(k for k in FACT_FIELDS if k not in DERIVED_KINDS)
            raise DivulgeError(f"{where}: fact {index} has kind {kind!r}; a test case gives {given} facts "
                               "(the others are derived, or come from `declaration:`)")
        values = {k: v for k, v in item.items() if k != "kind"}
        if kind == "observation" and values.get("data_type") not in DATA_TYPES:
            raise DivulgeError(f"{where}: fact {index}: unknown data type {values.get('data_type')!r}")
        facts.append(make_fact(kind, **values))
    kinds = {f["kind"] for f in facts}
    present = set(inputs) if inputs is not None else (
        ({"static"} if kinds & STATIC_KINDS or "app" in kinds else set())
        | ({"traffic"} if "observation" in kinds else set())
        | ({"runtime"} if "runtime_call" in kinds else set())
        | ({"declaration"} if kinds & POLICY_KINDS else set()))  # read from a policy
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
    if kind in IOS_KINDS:
        found = _ios_evidence(fact)
        if found is not None:
            return found
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
        who = f" in SDK {fact['sdk']}" if fact.get("sdk") else (
            f" in library code, called from {fact['reached_from']}" if fact.get("reached_from") else
            " in library code" if fact.get("origin") == "library" else "")
        return Evidence(kind="api_call", summary=f"calls {fact['api']}{who} ({_label(fact['data_type'])})",
                        location=fact.get("caller") or None,
                        details={k: fact.get(k) for k in ("api", "identifier", "sdk", "permission")})
    if kind == "runtime_call":
        what = _label(fact["data_type"]) + (f" ({fact['identifier']})" if fact.get("identifier") else "")
        who = f"SDK {fact['sdk']}" if fact.get("sdk") else (
            f"library code called from {fact['reached_from']}" if fact.get("reached_from") else
            "library code" if fact.get("origin") == "library" else "the app")
        phase = _PHASE_WORDS.get(fact.get("phase") or "", "")
        rate = f", {fact['per_minute']} per minute" if fact.get("per_minute") else ""
        summary = f"{fact.get('api')} read {what} {fact.get('count', 1)} time(s){rate}{phase}, by {who}"
        return Evidence(kind="runtime", summary=summary, location=fact.get("caller") or None,
                        details={"stack": list(fact.get("stack") or [])[:12], "first": fact.get("first"),
                                 "last": fact.get("last"), "values": fact.get("values"),
                                 "origin": fact.get("origin"), "sdk": fact.get("sdk"), "screen": fact.get("screen")})
    if kind == "special_access":
        owner = {"sdk": f" in SDK {fact.get('sdk')}", "library": " in library code"}.get(fact.get("origin") or "", "")
        summary = f"{fact.get('label') or fact.get('access')}{owner}: {fact.get('via')}"
        if fact.get("can_retrieve_window_content"):
            summary += "; its configuration lets it read the content of other apps' windows"
        if fact.get("packages"):
            summary += f"; it watches {', '.join(fact['packages'])}"
        if fact.get("reached_from"):
            summary += f"; called from {fact['reached_from']}"
        return Evidence(kind="manifest" if fact.get("source") in ("component", "permission", "fgs_type") else "api_call",
                        summary=summary, location=fact.get("component") or fact.get("via"),
                        details={k: fact.get(k) for k in ("access", "source", "origin", "sdk", "data_types",
                                                          "event_types", "packages", "policies")})
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
    if kind == "policy_topic":
        if fact.get("found"):
            return Evidence(kind="policy_text", summary=f"the policy states {fact.get('label')}",
                            location=fact.get("source"), details={"topic": fact.get("topic")})
        return Evidence(kind="policy_text", summary=f"the policy does not state {fact.get('label')} (no sentence found)",
                        location=fact.get("path"), details={"topic": fact.get("topic"), "absent": True})
    if kind == "policy_sdk_entry":
        return Evidence(kind="policy_text", summary=f"the SDK list entry for {fact.get('name')} does not state its "
                        f"{fact.get('missing')}", location=fact.get("source"), details={"sdk": fact.get("sdk_id")})
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
