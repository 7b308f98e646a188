"""SARIF 2.1.0 for code-scanning dashboards: one rule descriptor per rule, one result per finding and location."""

from __future__ import annotations

import hashlib
import json
from typing import Any, ClassVar

from scanner.reports.base import ReportOptions, ReportWriter
from scanner.reports.summary import sort_key

from scanner.model import Evidence, Finding, ScanResult, Severity

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"

LEVEL = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "note",
         Severity.INFO: "note"}
# GitHub code scanning buckets security-severity: >= 9 critical, >= 7 high, >= 4 medium, > 0 low.
SECURITY_SEVERITY = {Severity.CRITICAL: "9.5", Severity.HIGH: "8.0", Severity.MEDIUM: "5.5", Severity.LOW: "3.0",
                     Severity.INFO: "0.0"}
PRECISION = {"high": "high", "medium": "medium", "low": "low"}


def _apk_uri(result: ScanResult) -> str:
    for item in result.inputs:
        if item.get("kind") == "apk" and item.get("path"):
            return str(item["path"])
    if result.app and result.app.file_name:
        return result.app.file_name
    return "app.apk"


def _capture_uri(result: ScanResult) -> str | None:
    for item in result.inputs:
        if item.get("kind") in ("capture", "traffic", "har") and item.get("path"):
            return str(item["path"])
    return None


def _declaration_uri(result: ScanResult) -> str | None:
    if result.declaration and result.declaration.path:
        return result.declaration.path
    return None


def _logical(evidence: Evidence) -> dict[str, Any] | None:
    """class/method for code, the element for the manifest, the URL for a request."""
    d = evidence.details
    if evidence.kind == "api_call":
        caller = str(d.get("caller") or evidence.location or "")
        if not caller:
            return None
        return {"fullyQualifiedName": caller, "name": caller.rsplit(".", 1)[-1], "kind": "function"}
    if evidence.kind in ("manifest", "permission"):
        where = str(evidence.location or d.get("element") or "")
        return {"fullyQualifiedName": f"AndroidManifest.xml/{where}", "name": where, "kind": "element"} if where else None
    if evidence.kind == "flow":
        url = str(d.get("url") or evidence.location or "")
        return {"fullyQualifiedName": url, "name": url.split("?", 1)[0], "kind": "resource"} if url else None
    if evidence.location:
        return {"fullyQualifiedName": evidence.location, "kind": evidence.kind}
    return None


def _location(result: ScanResult, evidence: Evidence | None) -> tuple[dict[str, Any], str]:
    """A SARIF location and the stable key that identifies it (no times, no line numbers)."""
    uri = _apk_uri(result)
    if evidence is not None and evidence.kind == "flow":
        uri = _capture_uri(result) or uri
    elif evidence is not None and evidence.kind in ("declaration", "policy_text"):
        uri = _declaration_uri(result) or uri
    location: dict[str, Any] = {"physicalLocation": {"artifactLocation": {"uri": uri}}}
    logical = _logical(evidence) if evidence is not None else None
    key = uri
    if logical:
        location["logicalLocations"] = [logical]
        key = f"{uri}|{logical['fullyQualifiedName']}"
    if evidence is not None:
        location["message"] = {"text": evidence.summary}
    return location, key


def _fingerprint(finding: Finding, location_key: str) -> str:
    base = finding.fingerprint or f"{finding.rule_id}|{finding.data_type or ''}|{finding.sdk or ''}"
    return hashlib.sha256(f"{base}|{location_key}".encode()).hexdigest()


def _rule(finding: Finding) -> dict[str, Any]:
    refs = [r for r in finding.references if r.url.startswith(("https://", "http://"))]
    help_lines = [finding.remediation or finding.title]
    help_lines += [f"- {r.title}: {r.url}" for r in refs]
    help_md = (finding.remediation or finding.title) + "\n\n" + "\n".join(
        f"- [{r.title}]({r.url})" for r in refs)
    rule: dict[str, Any] = {
        "id": finding.rule_id,
        "name": "".join(w.capitalize() for w in finding.rule_id.replace("-", " ").split()),
        "shortDescription": {"text": finding.title},
        "fullDescription": {"text": finding.title},
        "help": {"text": "\n".join(help_lines), "markdown": help_md.strip()},
        "defaultConfiguration": {"level": LEVEL[finding.severity]},
        "properties": {
            "security-severity": SECURITY_SEVERITY[finding.severity],
            "precision": PRECISION.get(finding.confidence, "medium"),
            "problem.severity": "error" if finding.severity >= Severity.HIGH else "warning",
            "tags": ["privacy", "security"],
            "references": [{"title": r.title, "url": r.url, **({"article": r.article} if r.article else {})}
                           for r in finding.references],
        },
    }
    if refs:
        rule["helpUri"] = refs[0].url
    return rule


class SarifWriter(ReportWriter):
    format_name: ClassVar[str] = "sarif"
    file_name: ClassVar[str] = "findings.sarif"
    media_type: ClassVar[str] = "application/sarif+json"

    def render(self, result: ScanResult, options: ReportOptions) -> str:
        findings = sorted(result.findings, key=sort_key)
        rules: dict[str, dict[str, Any]] = {}
        for f in findings:  # the worst finding of a rule sets its default level
            rules.setdefault(f.rule_id, _rule(f))
        index = {rule_id: i for i, rule_id in enumerate(rules)}
        results: list[dict[str, Any]] = []
        for f in findings:
            located: list[Evidence | None] = [e for e in f.evidence if e.location or e.details]
            for evidence in located or [None]:
                location, key = _location(result, evidence)
                item: dict[str, Any] = {
                    "ruleId": f.rule_id,
                    "ruleIndex": index[f.rule_id],
                    "level": LEVEL[f.severity],
                    "message": {"text": f.message},
                    "locations": [location],
                    "partialFingerprints": {"divulgeFindingHash/v1": _fingerprint(f, key)},
                    "properties": {"severity": str(f.severity), "confidence": f.confidence, "basis": f.basis,
                                   **({"dataType": f.data_type} if f.data_type else {}),
                                   **({"sdk": f.sdk} if f.sdk else {})},
                }
                if f.suppressed:
                    item["suppressions"] = [{"kind": "external", "justification": f.suppressed}]
                results.append(item)
        artifacts = [{"location": {"uri": _apk_uri(result)}, "roles": ["analysisTarget"]}]
        if result.app and result.app.sha256:
            artifacts[0]["hashes"] = {"sha-256": result.app.sha256}
        run: dict[str, Any] = {
            "tool": {"driver": {"name": "divulge", "version": result.tool_version or "0",
                                "semanticVersion": result.tool_version or "0.0.0",
                                "rules": list(rules.values())}},
            "artifacts": artifacts,
            "results": results,
            "columnKind": "unicodeCodePoints",
            "properties": {"app": result.app.package if result.app else None,
                           "rulePack": result.rule_pack, "catalog": result.catalog},
        }
        invocation: dict[str, Any] = {"executionSuccessful": True}
        if result.started:
            invocation["startTimeUtc"] = result.started
        if result.finished:
            invocation["endTimeUtc"] = result.finished
        run["invocations"] = [invocation]
        log = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
        return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
