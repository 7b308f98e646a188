"""`divulge policy draft`: a declaration drafted from what the app can do and does — a start for an honest form.

Data seen in traffic is declared collected (and shared when a third party received it); data a permission or
API reaches, and data an embedded SDK is known to collect, is declared too, with a comment saying why, because
the Data safety form covers what the app *may* send through the paths a capture did not exercise.  Purposes are
suggested from the recipient (an analytics SDK -> analytics); the developer must review them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from scanner import __version__
from scanner.knowledge import regulation
from scanner.model import (
    DATA_TYPES,
    Declaration,
    DeclaredDataType,
    DisclosedParty,
    SdkStatus,
    StaticReport,
    TrafficReport,
)

# SDK category -> the Play purpose it usually serves.
CATEGORY_PURPOSES: dict[str, str] = {
    "analytics": "analytics", "statistics": "analytics", "crash_reporting": "analytics",
    "advertising": "advertising", "attribution": "advertising", "engagement": "advertising",
    "push": "developer_communications", "social": "account_management", "authentication": "account_management",
    "payment": "app_functionality", "maps_location": "app_functionality", "risk_control": "fraud_prevention_security",
    "identification": "fraud_prevention_security", "customer_support": "app_functionality",
    "development": "app_functionality", "app_hardening": "app_functionality", "other": "app_functionality",
}


@dataclass(frozen=True)
class DraftOptions:
    apk: Path
    traffic: tuple[Path, ...] = ()
    device: Path | None = None
    category: str | None = None
    sdk_db: Path | None = None


@dataclass
class Draft:
    declaration: Declaration
    comments: dict[str, str] = field(default_factory=dict)  # data type id or party name -> why it is there


def draft_declaration(options: DraftOptions) -> Draft:
    from scanner.scan import ScanOptions, analyse_app_traffic, catalog_for, merge_traffic
    from scanner.static import analyze_apk
    from scanner.traffic_json import is_traffic_json, load_traffic_json

    scan_options = ScanOptions(apk=options.apk, traffic=options.traffic, device=options.device,
                               sdk_db=options.sdk_db)
    catalog = catalog_for(scan_options)
    static = analyze_apk(options.apk, catalog=catalog)
    reports = [load_traffic_json(p) for p in options.traffic if is_traffic_json(p)]
    captures = [p for p in options.traffic if not is_traffic_json(p)]
    if captures:
        reports.append(analyse_app_traffic(captures, scan_options, static, None, catalog))
    category = regulation.resolve_category(options.category) if options.category else None
    return draft_from_reports(static, merge_traffic(reports), category=category.id if category else None)


def _add(decl: Declaration, data_type: str, *, shared: bool, purpose: str) -> DeclaredDataType:
    item = decl.data_types.get(data_type)
    if item is None:
        item = decl.data_types[data_type] = DeclaredDataType(data_type=data_type, collected=True, source="draft")
    item.shared = item.shared or shared
    if purpose not in item.purposes:
        item.purposes.append(purpose)
    if shared and purpose not in item.shared_purposes:
        item.shared_purposes.append(purpose)
    return item


def draft_from_reports(static: StaticReport, traffic: TrafficReport | None, *, category: str | None = None) -> Draft:
    decl = Declaration(kind="draft", path=None, package=static.app.package, category_cn=category)
    reasons: dict[str, list[str]] = {}

    def why(data_type: str, text: str) -> None:
        notes = reasons.setdefault(data_type, [])
        if text not in notes:
            notes.append(text)

    sdks = {s.id: s for s in static.sdks if s.status.rank >= SdkStatus.PRESENT.rank}

    def sdk_purpose(sdk_id: str | None) -> str:
        sdk = sdks.get(sdk_id or "")
        for cat in (sdk.categories if sdk else []):
            if cat in CATEGORY_PURPOSES:
                return CATEGORY_PURPOSES[cat]
        return "app_functionality"

    def shares(sdk_id: str | None) -> bool:
        """Whether data to this SDK is sharing in Play's sense: not for a service provider (issue 19).

        A `depends` SDK or one of unknown role is drafted as shared: the draft errs on the side the developer
        must look at, and its comment names the setting."""
        sdk = sdks.get(sdk_id or "")
        return sdk is None or sdk.role != "service_provider"

    first_party: set[str] = set()
    for obs in (traffic.observations if traffic else []):
        third = obs.party == "third"
        _add(decl, obs.data_type, shared=third and shares(obs.sdk),
             purpose=sdk_purpose(obs.sdk) if third else "app_functionality")
        why(obs.data_type, f"seen in traffic to {obs.host}" + (f" ({obs.sdk})" if obs.sdk else ""))
        if not third and obs.registrable_domain:
            first_party.add(obs.registrable_domain)
    for sdk in sdks.values():
        for data_type in sdk.data_types:
            if data_type in DATA_TYPES:
                _add(decl, data_type, shared=shares(sdk.id), purpose=sdk_purpose(sdk.id))
                why(data_type, f"collected by SDK {sdk.name} ({sdk.status.value}); verify its configuration")
    for use in static.api_uses:
        if use.data_type in DATA_TYPES:
            _add(decl, use.data_type, shared=bool(use.sdk) and shares(use.sdk), purpose=sdk_purpose(use.sdk) if use.sdk else "app_functionality")
            why(use.data_type, f"code calls {use.api} in {use.caller}; remove if it never leaves the device")
    perm_map = regulation.permission_data_types()
    for perm in static.permissions:
        for data_type in perm.data_types or perm_map.get(perm.name, ()):
            if data_type in DATA_TYPES:
                _add(decl, data_type, shared=False, purpose="app_functionality")
                why(data_type, f"permission {perm.name}; remove if the data never leaves the device")
    for sdk in sdks.values():
        decl.parties.append(DisclosedParty(name=sdk.name, sdk_id=sdk.id, data_types=sorted(sdk.data_types),
                                           purposes=[sdk_purpose(sdk.id)],
                                           role=sdk.role if sdk.role in ("service_provider", "third_party") else None))
    for obs in (traffic.observations if traffic else []):
        if obs.party == "third" and obs.sdk in sdks:
            party = next(p for p in decl.parties if p.sdk_id == obs.sdk)
            if obs.data_type not in party.data_types:
                party.data_types = sorted({*party.data_types, obs.data_type})
    decl.first_party_domains = sorted(first_party)
    decl.data_types = {k: decl.data_types[k] for k in DATA_TYPES if k in decl.data_types}
    comments = {k: "; ".join(v[:3]) + (f" (+{len(v) - 3} more)" if len(v) > 3 else "") for k, v in reasons.items()}
    for sdk in sdks.values():
        comments[sdk.name] = f"{sdk.owner or 'unknown owner'} ({sdk.country or '?'}); found: {', '.join(sdk.bases)}"
        if sdk.role == "depends":
            comments[sdk.name] += (f"; a service provider or a third party depending on {sdk.role_setting}: "
                                   "set role: service_provider if those settings keep the data for you alone")
    return Draft(declaration=decl, comments=comments)


def render_draft(draft: Draft, fmt: str) -> str:
    if fmt == "datasafety-csv":
        from scanner.policy.datasafety_csv import dump_datasafety_csv

        return dump_datasafety_csv(draft.declaration)
    from scanner.policy.declaration import dump_privacy_yaml

    header = (f"Draft declaration for {draft.declaration.package}, written by divulge {__version__}.\n"
              "It lists what the app can reach and what the capture showed it sending. Review every entry:\n"
              "purposes are guesses from the recipient, and data that never leaves the device is not collected.\n"
              "Check it with: divulge policy validate privacy.yaml")
    return dump_privacy_yaml(draft.declaration, comments=draft.comments, header=header)
