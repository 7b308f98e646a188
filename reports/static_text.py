"""Writers for `divulge static`: a readable terminal summary and the versioned JSON document."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from scanner.model import DATA_TYPES, StaticReport, to_jsonable


def static_json(report: StaticReport) -> str:
    body = to_jsonable(report)
    manifest = body.pop("manifest")
    manifest["exported_components"] = [c for c in manifest["components"] if c["exported"]]
    document = {"schema": StaticReport.SCHEMA, **body, "manifest": manifest}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _label(data_type: str) -> str:
    info = DATA_TYPES.get(data_type)
    return info.label if info else data_type


def _who(origin: str, sdk: str | None, reached_from: str | None) -> str:
    if sdk:
        return sdk
    if origin == "library":
        return f"library, called from {reached_from}" if reached_from else "library, dormant: nothing calls it"
    return "app"


def access_notes(config: dict[str, Any]) -> str:
    notes = []
    if config.get("can_retrieve_window_content"):
        notes.append("reads window content")
    elif config.get("can_retrieve_window_content") is False:
        notes.append("events only, no window content")
    if config.get("event_types"):
        notes.append("events: " + ", ".join(config["event_types"]))
    if config.get("packages"):
        notes.append("watches " + ", ".join(config["packages"]))
    elif "packages" in config:
        notes.append("watches every app")
    if config.get("policies"):
        notes.append("policies: " + ", ".join(config["policies"]))
    if config.get("user_action"):
        notes.append(f"on the user's action ({config['user_action']})")
    if config.get("unreadable"):
        notes.append(f"configuration {config.get('file')} unreadable")
    return "; ".join(notes)


def static_text(report: StaticReport) -> str:
    if report.ios is not None:
        return _ios_text(report)
    app, man = report.app, report.manifest
    lines = [
        f"{app.label or '(no label)'}  {app.package}  {app.version_name or '?'} ({app.version_code or '?'})",
        f"  min SDK {app.min_sdk}  target SDK {app.target_sdk}  {len(report.dex_files)} dex, "
        f"{report.class_count:,} classes  sha256 {app.sha256}",
    ]
    if app.parts:
        lines.append(f"  bundle of {len(app.parts)} APKs analysed together: "
                     + ", ".join(part.split(" ", 1)[0] for part in app.parts))
    flags = []
    cleartext = man.uses_cleartext_traffic
    if cleartext is None and man.cleartext_permitted_base is None and (app.target_sdk or 0) < 28:
        flags.append("cleartext HTTP allowed by default (target SDK < 28)")
    elif cleartext or man.cleartext_permitted_base:
        flags.append("cleartext HTTP allowed")
    if man.cleartext_domains:
        flags.append("cleartext allowed for " + ", ".join(man.cleartext_domains))
    if man.allow_backup is not False:
        flags.append("allowBackup")
    if man.debuggable:
        flags.append("DEBUGGABLE")
    if flags:
        lines.append("  manifest: " + "; ".join(flags))

    dangerous = [p for p in report.permissions if p.protection_level == "dangerous"]
    lines.append("")
    lines.append(f"Permissions: {len(report.permissions)} ({len(dangerous)} dangerous)")
    for perm in report.permissions:
        if perm.data_types or perm.protection_level == "dangerous":
            types = ", ".join(_label(t) for t in perm.data_types) or "-"
            lines.append(f"  {perm.protection_level:<10} {perm.name}  -> {types}")

    lines.append("")
    lines.append(f"Third-party SDKs: {len(report.sdks)}")
    for sdk in report.sdks:
        extra = " auto-init before consent" if sdk.auto_init else ""
        lines.append(f"  [{sdk.status.value:<10}] {sdk.name} ({sdk.owner}, {sdk.country or '?'}) "
                     f"- {', '.join(sdk.categories)}{extra}")
        lines.append(f"               found by: {', '.join(sdk.bases)}; e.g. {sdk.evidence[0].detail}")

    lines.append("")
    lines.append(f"Special access: {len(report.special_access)}")
    for access in report.special_access:
        lines.append(f"  {access.label}: {access.via} [{_who(access.origin, access.sdk, access.reached_from)}]")
        notes = access_notes(access.config)
        if notes:
            lines.append(f"      {notes}")

    lines.append("")
    lines.append(f"Personal-data API uses: {len(report.api_uses)}")
    by_type: dict[str, list[str]] = defaultdict(list)
    for use in report.api_uses:
        by_type[use.data_type].append(f"{use.api} from {use.caller} [{_who(use.origin, use.sdk, use.reached_from)}]")
    for data_type in sorted(by_type):
        lines.append(f"  {_label(data_type)}:")
        lines.extend(f"    {entry}" for entry in by_type[data_type][:12])
        if len(by_type[data_type]) > 12:
            lines.append(f"    ... {len(by_type[data_type]) - 12} more (see --format json)")

    lines.append("")
    lines.append(f"Endpoints: {len(report.endpoints)} URLs on {len({e.host for e in report.endpoints})} hosts")
    for endpoint in report.endpoints[:25]:
        lines.append(f"  {endpoint.url}" + (f"  [{endpoint.sdk}]" if endpoint.sdk else ""))
    if len(report.endpoints) > 25:
        lines.append(f"  ... {len(report.endpoints) - 25} more (see --format json)")
    for warning in report.warnings:
        lines.append(f"warning: {warning}")
    return "\n".join(lines) + "\n"


def _ios_text(report: StaticReport) -> str:
    """An IPA: the shared sections in iOS words, then privacy manifests, required-reason APIs and frameworks."""
    app, ios = report.app, report.ios
    assert ios is not None
    lines = [f"{app.label or '(no label)'}  {app.package}  {app.version_name or '?'} ({app.version_code or '?'})",
             f"  iOS app, minimum iOS {ios.minimum_os or '?'}  {len(report.dex_files)} binaries, "
             f"{report.class_count:,} classes  sha256 {app.sha256}"]
    flags = []
    if ios.ats_allows_arbitrary_loads:
        flags.append("App Transport Security off (NSAllowsArbitraryLoads)")
    if ios.ats_insecure_domains:
        flags.append("HTTP allowed for " + ", ".join(ios.ats_insecure_domains))
    flags.append("NSUserTrackingUsageDescription " + ("set" if ios.tracking_usage_description else "missing"))
    if ios.encrypted_binaries:
        flags.append(f"FairPlay-encrypted: {len(ios.encrypted_binaries)} binaries")
    lines.append("  Info.plist: " + "; ".join(flags))
    if ios.linked_frameworks:
        lines.append("  links: " + ", ".join(ios.linked_frameworks))

    lines += ["", f"Purpose strings: {len(report.permissions)}"]
    for perm in report.permissions:
        lines.append(f"  {perm.name}  -> {', '.join(_label(t) for t in perm.data_types) or '-'}")

    lines += ["", f"Privacy manifests: {len(ios.privacy_manifests)}"]
    for manifest in ios.privacy_manifests:
        collected = sorted({t for c in manifest.collected for t in c.data_types})
        lines.append(f"  {manifest.bundle}: NSPrivacyTracking {manifest.tracking}; collects "
                     f"{', '.join(_label(t) for t in collected) or 'nothing'}; reasons for "
                     f"{', '.join(k.removeprefix('NSPrivacyAccessedAPICategory') for k in manifest.accessed_api_types) or 'no API'}")
    missing = [f.name for f in ios.frameworks if f.apple_listed and not f.privacy_manifest]
    if missing:
        lines.append(f"  missing for SDKs on Apple's list: {', '.join(missing)}")

    undeclared = [u for u in ios.required_reason_apis if not u.declared]
    lines += ["", f"Required-reason APIs: {len(ios.required_reason_apis)} uses, {len(undeclared)} without a reason"]
    for reason in ios.required_reason_apis:
        state = f"declared {', '.join(reason.reasons)}" if reason.declared else "NO REASON DECLARED"
        lines.append(f"  {reason.bundle}: {reason.category.removeprefix('NSPrivacyAccessedAPICategory')} "
                     f"({', '.join(reason.via[:4])}) - {state}")

    lines += ["", f"Embedded frameworks: {len(ios.frameworks)}"]
    for fw in ios.frameworks:
        notes = [n for n in (fw.sdk, "on Apple's list" if fw.apple_listed else None,
                             "manifest" if fw.privacy_manifest else "no manifest") if n]
        lines.append(f"  {fw.name}  [{', '.join(notes)}]")

    lines += ["", f"Third-party SDKs: {len(report.sdks)}"]
    for sdk in report.sdks:
        lines.append(f"  [{sdk.status.value:<10}] {sdk.name} ({sdk.owner}, {sdk.country or '?'}) - {', '.join(sdk.categories)}")
        lines.append(f"               found by: {', '.join(sdk.bases)}; e.g. {sdk.evidence[0].detail}")

    lines += ["", f"Personal-data API uses: {len(report.api_uses)}"]
    for use in report.api_uses:
        lines.append(f"  {_label(use.data_type)}: {use.api} in {use.caller} [{use.sdk or 'app'}]")

    lines += ["", f"Endpoints: {len(report.endpoints)} URLs on {len({e.host for e in report.endpoints})} hosts"]
    for endpoint in report.endpoints[:25]:
        lines.append(f"  {endpoint.url}" + (f"  [{endpoint.sdk}]" if endpoint.sdk else ""))
    if len(report.endpoints) > 25:
        lines.append(f"  ... {len(report.endpoints) - 25} more (see --format json)")
    lines.extend(f"warning: {w}" for w in report.warnings)
    return "\n".join(lines) + "\n"
