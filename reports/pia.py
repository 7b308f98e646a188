"""A personal-information impact assessment draft (PIPL Art. 55-56, GB/T 39335-2020) built from a scan's findings.

The draft holds what divulge knows -- processing activities, sensitive data, recipients and their countries,
transfers abroad, risks ranked from the findings with their evidence, the measures their fix-its imply -- and
leaves every statement it cannot know (legal basis, retention, the handler's security measures, the
conclusion) as an explicit gap for a person to fill in: `None` here, "[to be completed]" in the rendered text.
The Markdown, HTML and JSON writers render this one value.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from scanner.reports.i18n import Translator

from scanner.model import LOCAL_SDK_CATEGORIES, Finding, ScanResult, Severity

PIA_SCHEMA = "divulge/pia/1"

# Sensitive personal information in the sense of PIPL Art. 28, as the data types DVG-SENS-001 and DVG-XBORDER-002
# list (tests/reports/test_pia.py keeps the three lists equal).
SENSITIVE_DATA_TYPES: frozenset[str] = frozenset({
    "precise_location", "credit_debit_bank_account_number", "credit_score", "health", "fitness", "sms_call_log",
    "emails", "other_messages", "contacts", "photos", "videos", "audio", "race_ethnicity", "political_religious",
    "sexual_orientation_gender_identity"})

# Finding families whose presence makes a PIPL Art. 55 circumstance apply.
_PROVISION_RULES = ("DVG-SHARE-", "DVG-SDK-001", "DVG-SENS-")
_TRANSFER_RULES = ("DVG-XBORDER-",)
_CONFIDENCE_ORDER = {"high": 0, "medium": 1, "low": 2}
_BASIS_ORDER = {"both": 0, "behaviour": 1, "capability": 2, "declaration": 3}


@dataclass
class PiaApp:
    name: str | None
    package: str | None
    version: str | None
    sha256: str | None
    markets: list[str]
    audience: str | None
    for_children: bool


@dataclass
class PiaTrigger:
    """One circumstance of PIPL Art. 55 that requires an assessment; `applies` None: divulge cannot tell."""

    id: str  # sensitive | provision | cross_border | entrusted | automated_decision | public_disclosure
    article: str
    applies: bool | None
    evidence: list[str] = field(default_factory=list)


@dataclass
class PiaActivity:
    """One data type the app processes: where divulge saw it, why the declaration says it is processed, who gets it."""

    data_type: str
    sensitive: bool
    seen_in: list[str]  # traffic | code | declaration
    purposes: list[str]  # Play purpose ids from the declaration; empty: to be completed
    recipients: list[str]
    legal_basis: str | None = None  # never known to divulge: to be completed
    retention: str | None = None  # idem


@dataclass
class PiaParty:
    name: str
    sdk: str | None
    owner: str | None
    country: str | None
    country_source: str | None  # catalog | domain | cctld (approximate) | None
    role: str | None
    disclosed: bool | None  # None: no declaration to compare with
    in_app: bool
    in_traffic: bool
    data_types: list[str]
    hosts: list[str]


@dataclass
class PiaTransfer:
    recipient: str
    country: str
    country_source: str
    market: str
    data_types: list[str]
    hosts: list[str]
    disclosed: bool
    adequacy: str | None
    basis: str
    route: str | None = None  # the legal route (assessment, certification, standard contract, SCCs): to be completed


@dataclass
class PiaRisk:
    rank: int
    rule_id: str
    severity: str
    confidence: str
    basis: str
    title: str
    message: str
    data_type: str | None
    sdk: str | None
    evidence: list[str]
    references: list[str]
    fingerprint: str
    likelihood: str | None = None  # the assessor's rating: to be completed
    impact: str | None = None


@dataclass
class PiaMeasure:
    rule_id: str
    measure: str
    findings: int
    owner: str | None = None  # who carries it out: to be completed
    due: str | None = None


@dataclass
class PiaDraft:
    schema: str
    lang: str
    tool_version: str
    generated: str
    app: PiaApp
    inputs: list[str]
    triggers: list[PiaTrigger]
    activities: list[PiaActivity]
    sensitive: list[str]
    parties: list[PiaParty]
    transfers: list[PiaTransfer]
    risks: list[PiaRisk]
    measures: list[PiaMeasure]
    # The questions only the handler can answer (GB/T 39335-2020 5.4-5.6): ids of i18n strings pia.gap.*
    gaps: list[str]


_GAPS = ("handler", "dpo", "scope", "retention", "security", "automated_decision", "rights", "conclusion")


def _sorted_unique(values: Iterable[str | None]) -> list[str]:
    return sorted({v for v in values if v})


def _party_key(sdk: str | None, domain: str | None, host: str) -> str:
    return f"sdk:{sdk}" if sdk else f"domain:{domain or host}"


def build_pia(result: ScanResult, lang: str = "en") -> PiaDraft:
    """The draft of one scan; pure, so every writer renders the same sections."""
    t = Translator(lang)
    static, traffic, declaration = result.static, result.traffic, result.declaration
    app_identity = result.app or (static.app if static else None)
    app = PiaApp(
        name=app_identity.label if app_identity else None,
        package=(app_identity.package if app_identity else None) or (declaration.package if declaration else None),
        version=app_identity.version_name if app_identity else None,
        sha256=app_identity.sha256 if app_identity else None,
        markets=list(result.markets), audience=result.audience,
        for_children=result.audience in ("children", "mixed"))

    # Who receives what: SDKs in the APK and hosts in the traffic, one party per SDK or registrable domain.
    parties: dict[str, PiaParty] = {}
    sdk_names: dict[str, str] = {}
    for sdk in static.sdks if static else []:
        if str(sdk.status) == "referenced" or set(sdk.categories or ["other"]) <= LOCAL_SDK_CATEGORIES:
            continue  # only a name in the code, or a library that sends nothing: no recipient
        sdk_names[sdk.id] = sdk.name
        parties[_party_key(sdk.id, None, "")] = PiaParty(
            name=sdk.name, sdk=sdk.id, owner=sdk.owner or None, country=sdk.country or None,
            country_source="catalog" if sdk.country else None, role=sdk.role, disclosed=None, in_app=True,
            in_traffic=False, data_types=list(sdk.data_types), hosts=[])
    destinations = {row.get("host"): row for row in (traffic.destinations if traffic else [])}
    recipients_of: dict[str, set[str]] = {}
    for obs in traffic.observations if traffic else []:
        if obs.party != "third":
            recipients_of.setdefault(obs.data_type, set()).add(t("pia.first_party"))
            continue
        row = destinations.get(obs.host, {})
        key = _party_key(obs.sdk, obs.registrable_domain, obs.host)
        party = parties.get(key)
        if party is None:
            name = sdk_names.get(obs.sdk or "") or row.get("sdk_name") or obs.owner or obs.registrable_domain or obs.host
            party = parties[key] = PiaParty(
                name=str(name), sdk=obs.sdk, owner=obs.owner or row.get("owner"), country=row.get("country"),
                country_source=row.get("country_source") or ("catalog" if row.get("country") else None),
                role=None, disclosed=None, in_app=False, in_traffic=True, data_types=[], hosts=[])
        party.in_traffic = True
        if obs.data_type not in party.data_types:
            party.data_types.append(obs.data_type)
        if obs.host not in party.hosts:
            party.hosts.append(obs.host)
        recipients_of.setdefault(obs.data_type, set()).add(party.name)
    if declaration is not None:
        named = {p.sdk_id for p in declaration.parties if p.sdk_id}
        names = {p.name.casefold() for p in declaration.parties}
        for party in parties.values():
            party.disclosed = bool((party.sdk and party.sdk in named) or party.name.casefold() in names)
    # What the SDK-disclosure findings already decided beats the name comparison above (aliases, fuzzy names).
    undisclosed = {f.sdk for f in result.findings if f.rule_id == "DVG-SDK-001" and f.sdk}
    for party in parties.values():
        if party.sdk in undisclosed:
            party.disclosed = False
    for party in parties.values():
        if party.in_app and not party.in_traffic:
            for data_type in party.data_types:
                recipients_of.setdefault(data_type, set()).add(party.name)

    # Processing activities: every data type seen in traffic, reachable in code, or declared.
    seen_in: dict[str, set[str]] = {}
    for obs in traffic.observations if traffic else []:
        seen_in.setdefault(obs.data_type, set()).add("traffic")
    for use in static.api_uses if static else []:
        if use.data_type:
            seen_in.setdefault(use.data_type, set()).add("code")
    for perm in static.permissions if static else []:
        for data_type in perm.data_types:
            seen_in.setdefault(data_type, set()).add("code")
    declared = {k: v for k, v in (declaration.data_types if declaration else {}).items() if not v.denied}
    for data_type in declared:
        seen_in.setdefault(data_type, set()).add("declaration")
    order = ("traffic", "code", "declaration")
    activities = [PiaActivity(
        data_type=data_type, sensitive=data_type in SENSITIVE_DATA_TYPES,
        seen_in=[s for s in order if s in where],
        purposes=_sorted_unique([*declared[data_type].purposes, *declared[data_type].shared_purposes])
        if data_type in declared else [],
        recipients=sorted(recipients_of.get(data_type, ())))
        for data_type, where in sorted(seen_in.items(), key=lambda kv: (kv[0] not in SENSITIVE_DATA_TYPES, kv[0]))]

    active = [f for f in result.findings if not f.suppressed]
    risks = [_risk(rank, f, t) for rank, f in enumerate(sorted(active, key=_risk_order), start=1)]
    measures: dict[str, PiaMeasure] = {}
    for f in sorted(active, key=_risk_order):
        remediation = t.remediation(f)
        if f.rule_id in measures:
            measures[f.rule_id].findings += 1
        elif remediation is not None:
            measures[f.rule_id] = PiaMeasure(rule_id=f.rule_id, measure=" ".join(remediation.text.split()), findings=1)

    transfers = [PiaTransfer(recipient=x.recipient, country=x.country, country_source=x.country_source,
                             market=x.market, data_types=list(x.data_types), hosts=list(x.hosts),
                             disclosed=x.disclosed, adequacy=x.adequacy, basis=x.basis) for x in result.transfers]
    sensitive = [a.data_type for a in activities if a.sensitive]
    third = [p for p in parties.values() if p.in_traffic or p.data_types]
    triggers = [
        PiaTrigger("sensitive", "PIPL Art. 55(1), 28", bool(sensitive), [t.data_type(d) for d in sensitive]),
        PiaTrigger("provision", "PIPL Art. 55(3), 21, 23", bool(third) or any(f.rule_id.startswith(_PROVISION_RULES)
                                                                         for f in active),
                   sorted({p.name for p in third})[:12]),
        PiaTrigger("cross_border", "PIPL Art. 55(4), 38-39", _cross_border(result, transfers, active),
                   [f"{x.recipient} ({x.country})" for x in transfers][:12]),
        PiaTrigger("children", "PIPL Art. 55(1), 28, 31", None if app.audience is None else app.for_children,
                   [t(f"pia.audience.{app.audience}")] if app.audience else []),
        PiaTrigger("automated_decision", "PIPL Art. 55(2), 24", None),
        PiaTrigger("public_disclosure", "PIPL Art. 55(3), 25", None),
    ]
    inputs = [f"{i.get('kind')}: {i.get('path')}" for i in result.inputs if i.get("path")]
    return PiaDraft(
        schema=PIA_SCHEMA, lang=lang, tool_version=result.tool_version, generated=result.finished or result.started,
        app=app, inputs=inputs, triggers=triggers, activities=activities, sensitive=sensitive,
        parties=sorted(parties.values(), key=lambda p: (not p.in_traffic, p.name.casefold())),
        transfers=transfers, risks=risks, measures=list(measures.values()), gaps=list(_GAPS))


def _cross_border(result: ScanResult, transfers: list[PiaTransfer], active: list[Finding]) -> bool | None:
    """Whether data leaves the app's markets: yes when a transfer or a transfer finding shows it; no when the markets
    are known (China, the EEA) and nothing leaves them; unknown when divulge does not know where the app is offered."""
    if transfers or any(f.rule_id.startswith(_TRANSFER_RULES) for f in active):
        return True
    return False if set(result.markets) & {"cn", "eea"} else None


def _risk_order(f: Finding) -> tuple[int, int, int, str, str]:
    return (-int(f.severity), _CONFIDENCE_ORDER.get(f.confidence, 3), _BASIS_ORDER.get(f.basis, 4), f.rule_id,
            f.fingerprint)


def _risk(rank: int, f: Finding, t: Translator) -> PiaRisk:
    refs = [" ".join(x for x in (r.title, r.article or "") if x) + f" <{r.url}>" for r in f.references]
    evidence = [e.summary + (f" ({e.location})" if e.location and e.location not in e.summary else "")
                for e in f.evidence[:3]]
    return PiaRisk(rank=rank, rule_id=f.rule_id, severity=str(Severity(f.severity)), confidence=f.confidence,
                   basis=f.basis, title=t.title(f).text, message=t.message(f).text, data_type=f.data_type,
                   sdk=f.sdk, evidence=evidence, references=refs, fingerprint=f.fingerprint)
