"""The service behind `divulge scan`: APK + traffic + declaration + rules + config -> ScanResult.

Each input is optional (at least an APK or traffic is needed); rules that need a missing input are skipped and
listed in `result.rule_pack["skipped"]`.  The CLI only parses options into ScanOptions and renders the result.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scanner import __version__
from scanner.engine.facts import build_facts, transfers_of
from scanner.engine.loader import RulePack, load_pack
from scanner.engine.runner import run_rules
from scanner.engine.suppress import (
    Config,
    apply_baseline,
    apply_rule_settings,
    apply_suppressions,
    check_rule_ids,
    load_baseline,
    load_config,
)
from scanner.errors import BadConfig, DivulgeError
from scanner.knowledge import regulation
from scanner.model import Declaration, Finding, RuntimeReport, ScanResult, Severity, StaticReport, TrafficReport
from scanner.policy.declaration import load_declaration
from scanner.traffic_json import is_traffic_json, load_traffic_json

log = logging.getLogger(__name__)

FAIL_ON_CHOICES = ("info", "low", "medium", "high", "critical", "none")
DEFAULT_FAIL_ON = "high"


@dataclass(frozen=True)
class ScanOptions:
    apk: Path | None = None
    policy: Path | None = None
    traffic: tuple[Path, ...] = ()
    runtime: tuple[Path, ...] = ()  # runtime.jsonl files or session directories of `divulge monitor`
    device: Path | None = None
    category: str | None = None
    rules_dirs: tuple[Path, ...] = ()
    config: Path | None = None
    fail_on: str | None = None  # a severity or "none"; None -> the config's, else DEFAULT_FAIL_ON
    baseline: Path | None = None
    sdk_db: Path | None = None
    builtin_rules: bool = True
    first_party: tuple[str, ...] = ()  # first-party domains given by the user, beside those learned
    today: dt.date | None = None  # for suppression expiry; None -> today
    # Already parsed catalog and rule pack (batch workers parse them once, not per app); None -> read the files.
    # A preloaded pack must have been loaded from rules_dirs plus the config's rules (see pack_for).
    catalog: Any = field(default=None, compare=False, repr=False)
    pack: RulePack | None = field(default=None, compare=False, repr=False)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def resolve_fail_on(text: str | None) -> Severity | None:
    """'high' -> Severity.HIGH; 'none' -> None (never fail on findings)."""
    value = (text or DEFAULT_FAIL_ON).strip().lower()
    if value == "none":
        return None
    if value not in FAIL_ON_CHOICES:
        raise DivulgeError(f"unknown severity {value!r} for --fail-on (choose from {', '.join(FAIL_ON_CHOICES)})")
    return Severity.parse(value)


def failing_findings(result: ScanResult) -> list[Finding]:
    """Findings that make the scan fail: at or above fail_on, not suppressed, not already in the baseline."""
    if result.fail_on is None:  # --fail-on none
        return []
    threshold = Severity.parse(result.fail_on)
    return [f for f in result.findings if f.severity >= threshold and not f.suppressed and not f.in_baseline]


def summarize(result: ScanResult) -> dict[str, Any]:
    """Counts for the findings JSON `summary` and the CLI's last line."""
    active = [f for f in result.findings if not f.suppressed]
    by_severity = Counter(str(f.severity) for f in active)
    return {
        "total": len(result.findings),
        "by_severity": {str(s): by_severity.get(str(s), 0) for s in sorted(Severity, reverse=True)},
        "by_basis": dict(Counter(f.basis for f in active)),
        "suppressed": sum(1 for f in result.findings if f.suppressed),
        "in_baseline": sum(1 for f in result.findings if f.in_baseline),
        "new": sum(1 for f in active if not f.in_baseline),
        "fail_on": result.fail_on,
        "failing": len(failing_findings(result)),
        "skipped_rules": result.rule_pack.get("skipped", []),
    }


def findings_document(result: ScanResult) -> dict[str, Any]:
    """The `divulge/findings/1` JSON; the reports package renders the full one, this is the fallback and test aid."""
    from scanner.model import to_jsonable

    return {"schema": ScanResult.SCHEMA, "tool": {"name": "divulge", "version": result.tool_version},
            "app": to_jsonable(result.app), "findings": to_jsonable(result.findings), "summary": summarize(result),
            "rule_pack": result.rule_pack, "inputs": result.inputs}


def scan_config(path: Path | None) -> Config:
    if path is None:
        return Config()
    if not path.is_file():
        raise BadConfig("no such config file", path=str(path))
    return load_config(path)


def pack_for(rules_dirs: tuple[Path, ...], config: Config, builtin: bool = True) -> RulePack:
    """The rule pack a scan with these --rules and this config runs."""
    return load_pack(list(rules_dirs) + config.rules_dirs, builtin=builtin)


def catalog_for(options: ScanOptions) -> Any:
    if options.catalog is not None:
        return options.catalog
    from scanner.knowledge.sdks import shared_catalog

    return shared_catalog(options.sdk_db)


def _aliases(catalog: Any) -> dict[str, list[str]]:
    if catalog is None:
        return {}
    out: dict[str, list[str]] = {}
    for entry_id, entry in getattr(catalog, "entries", {}).items():
        out[entry_id] = [entry.name, *getattr(entry, "aliases", [])]
    return out


def analyse_app_traffic(paths: list[Path], options: ScanOptions, static: StaticReport | None,
                        declaration: Declaration | None, catalog: Any) -> TrafficReport:
    from scanner.dynamic.traffic import TrafficOptions, analyse_traffic
    from scanner.first_party import app_domains, names_of
    from scanner.knowledge.recipients import AppNames

    first_party = set(declaration.first_party_domains if declaration else []) | set(options.first_party)
    names = None
    if static is not None:  # the app's own endpoints (not SDKs') are first party, and domains named after it
        first_party.update(app_domains(static, catalog))
        names = names_of(static)
    elif declaration is not None and declaration.package:
        names = AppNames(declaration.package, None)
    traffic_options = TrafficOptions(captures=tuple(paths), device=options.device, first_party=tuple(sorted(first_party)),
                                     app=names)
    report: TrafficReport = analyse_traffic(traffic_options, catalog)
    return report


def merge_traffic(reports: list[TrafficReport]) -> TrafficReport | None:
    from scanner.dynamic.analysis import linkage

    if not reports:
        return None
    if len(reports) == 1:
        return reports[0]
    merged = TrafficReport(observations=[], flows=0)
    for report in reports:
        merged.observations.extend(report.observations)
        merged.flows += report.flows
        merged.destinations.extend(report.destinations)
        merged.frequency.extend(report.frequency)
        merged.marks.extend(report.marks)
        merged.warnings.extend(report.warnings)
        merged.flow_index.extend(report.flow_index)
        merged.unseen.extend(report.unseen)
    merged.linkage = linkage(merged.observations)  # values shared between the reports link them too
    return merged


def read_runtime_inputs(options: ScanOptions, catalog: Any) -> RuntimeReport | None:
    """Runtime events given with --runtime, and those a --traffic session directory holds beside its flows."""
    from scanner.dynamic.runtime import read_runtime, runtime_file

    paths = list(options.runtime) + [p for p in options.traffic if p.is_dir() and runtime_file(p).is_file()]
    reports = [read_runtime(p, catalog) for p in dict.fromkeys(paths)]
    if not reports:
        return None
    if len(reports) == 1:
        return reports[0]
    return RuntimeReport(calls=[c for r in reports for c in r.calls], events=sum(r.events for r in reports),
                         session=None, java=any(r.java for r in reports),
                         warnings=[w for r in reports for w in r.warnings])


def run_scan(options: ScanOptions) -> ScanResult:
    """Scan: every input error is a DivulgeError subclass with the file (and line) it concerns."""
    if options.apk is None and not options.traffic and not options.runtime:
        raise DivulgeError("nothing to scan: give an APK, --traffic captures and/or --runtime events")
    started = _now()
    config = scan_config(options.config)
    fail_on = options.fail_on or config.fail_on
    threshold = resolve_fail_on(fail_on)  # reject a bad value before the slow part
    inputs: list[dict[str, Any]] = []

    for path, kind in ([(options.apk, "apk")] if options.apk else []) + \
            ([(options.policy, "declaration")] if options.policy else []) + [(p, "traffic") for p in options.traffic] + \
            [(p, "runtime") for p in options.runtime]:
        if kind in ("traffic", "runtime") and path.is_dir():  # a session directory of `divulge capture` / `monitor`
            files = sorted(p for p in path.rglob("*") if p.is_file())
            inputs.extend({"path": str(p), "kind": kind, "sha256": _sha256(p)} for p in files)
            continue
        if not path.is_file():
            raise DivulgeError(f"{kind} file not found", path=str(path))
        inputs.append({"path": str(path), "kind": kind, "sha256": _sha256(path)})

    pack = options.pack if options.pack is not None else pack_for(options.rules_dirs, config, options.builtin_rules)
    check_rule_ids(config, pack.rules)
    rules = apply_rule_settings(pack.rules, config)

    category_text = options.category or config.category
    declaration = load_declaration(options.policy) if options.policy else None
    category = None
    if category_text:
        app_type = regulation.resolve_category(category_text)
        category = app_type.id if app_type else None

    catalog = catalog_for(options)
    static: StaticReport | None = None
    if options.apk is not None:
        from scanner.static import analyze_apk

        static = analyze_apk(options.apk, catalog=catalog)

    json_paths = [p for p in options.traffic if is_traffic_json(p)]
    capture_paths = [p for p in options.traffic if p not in json_paths]
    reports = [load_traffic_json(p) for p in json_paths]
    if capture_paths:
        reports.append(analyse_app_traffic(capture_paths, options, static, declaration, catalog))
    traffic = merge_traffic(reports)
    runtime = read_runtime_inputs(options, catalog)

    factset = build_facts(static, traffic, declaration, category=category, sdk_aliases=_aliases(catalog),
                          sdk_roles=getattr(catalog, "roles", None), runtime=runtime)
    outcome = run_rules(rules, factset, params=config.params, severities=config.severities)
    findings = outcome.findings
    for warning in apply_suppressions(findings, config, today=options.today):
        log.warning("%s", warning)
    baseline_path = options.baseline or config.baseline
    if baseline_path is not None:
        apply_baseline(findings, load_baseline(baseline_path))
    for skipped in outcome.skipped:
        log.info("rule %s skipped: needs %s", skipped["rule_id"], ", ".join(skipped["missing"]))

    pack_info = pack.info()
    pack_info["skipped"] = outcome.skipped
    pack_info["evaluated"] = outcome.evaluated
    catalog_info = ({"version": getattr(catalog, "version", ""), "sha256": getattr(catalog, "sha256", ""),
                     "entries": len(getattr(catalog, "entries", {}))} if catalog is not None else {})
    app = static.app if static is not None else None
    app_fact = next((f for f in factset.facts if f["kind"] == "app"), {})
    return ScanResult(
        app=app, findings=findings, static=static, traffic=traffic, declaration=declaration,
        tool_version=__version__, rule_pack=pack_info, catalog=catalog_info, started=started, finished=_now(),
        inputs=inputs, fail_on=None if threshold is None else str(threshold), runtime=runtime,
        markets=list(app_fact.get("markets") or []), audience=app_fact.get("audience"),
        transfers=transfers_of(factset.facts))


def format_text(result: ScanResult) -> str:
    """A plain-text listing, used when the reports package has no text writer."""
    lines = []
    for f in result.findings:
        flag = " (suppressed)" if f.suppressed else " (baseline)" if f.in_baseline else ""
        lines.append(f"[{str(f.severity).upper():8}] {f.rule_id} {f.title}{flag}")
        lines.append(f"           {f.message} [{f.basis}]")
    summary = summarize(result)
    counts = ", ".join(f"{n} {s}" for s, n in summary["by_severity"].items() if n)
    lines.append(f"{summary['total']} finding(s){': ' + counts if counts else ''}")
    return "\n".join(lines) + "\n"
