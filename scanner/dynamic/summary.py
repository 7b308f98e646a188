"""Writers for a TrafficReport: JSON document and a plain-text summary (strings only; the CLI decides where)."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from scanner.model import DATA_TYPES, TrafficReport, to_jsonable


class TrafficFormat(enum.StrEnum):
    TEXT = "text"
    JSON = "json"

    def render(self, report: TrafficReport) -> str:
        import json

        if self is TrafficFormat.JSON:
            return json.dumps(traffic_document(report), indent=2, ensure_ascii=False) + "\n"
        return render_text(report)


def traffic_document(report: TrafficReport) -> dict[str, Any]:
    return {"schema": TrafficReport.SCHEMA, **to_jsonable(report)}


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _label(data_type: str) -> str:
    info = DATA_TYPES.get(data_type)
    return info.label if info else data_type


def render_text(report: TrafficReport) -> str:
    lines: list[str] = []
    obs = report.observations
    lines.append(f"{report.flows} flows, {len(obs)} observations of personal data, "
                 f"{len(report.destinations)} destinations")
    if report.marks:
        lines.append("marks: " + ", ".join(f"{m['name']} at {_when(m['time'])}" for m in report.marks))
    if report.frequency:
        lines.append("")
        lines.append("What went where (flows, peak per minute):")
        for row in report.frequency:
            who = row["sdk"] or row["party"] + " party"
            owner = f", {row['owner']}" if row.get("owner") else ""
            ids = f" [{', '.join(row['identifiers'])}]" if row["identifiers"] else ""
            phases = ", ".join(f"{k} {v}" for k, v in row["phases"].items() if k != "unknown")
            flags = []
            if row["cleartext"]:
                flags.append("CLEARTEXT")
            if row["confidence"] != "confirmed":
                flags.append(row["confidence"])  # protocol (a tracker's documented field) or likely (a shape)
            lines.append(f"  {_label(row['data_type'])}{ids} -> {row['destination']} ({who}{owner}): "
                         f"{row['count']}x, peak {row['peak_per_minute']}/min"
                         + (f"; {phases}" if phases else "") + (f"  {' '.join(flags)}" if flags else ""))
    if report.linkage:
        lines.append("")
        lines.append("Identifiers that tie recipients together (value fingerprints):")
        for li in report.linkage:
            what = _label(li.data_type) + (f" [{li.identifier}]" if li.identifier else "")
            persistent = f"; the same in {len(li.captures)} captures" if li.persistent else ""
            lines.append(f"  {what} {li.value_ref}: {', '.join(li.organisations)} via {', '.join(li.hosts)} "
                         f"({li.flows} flows{persistent})")
    if report.destinations:
        lines.append("")
        lines.append("Destinations:")
        for row in report.destinations:
            sdk = f" {row['sdk_name']} ({row['owner']}, {row['country']})" if row["sdk"] else ""
            data = ", ".join(row["data_types"]) or "no personal data seen"
            clear = f", {row['cleartext_flows']} over plain HTTP" if row["cleartext_flows"] else ""
            lines.append(f"  {row['host']} [{row['party']} party{sdk}]: {row['flows']} flows{clear}; {data}")
    if report.warnings:
        lines.append("")
        lines.append("Warnings:")
        lines.extend(f"  {w}" for w in report.warnings)
    return "\n".join(lines) + "\n"
