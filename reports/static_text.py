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
