"""Counts and orderings every format shares: findings by severity, the worst first, the verdict."""

from __future__ import annotations

from dataclasses import dataclass, field

from scanner.model import Finding, ScanResult, Severity

SEVERITIES_DESC: tuple[Severity, ...] = tuple(sorted(Severity, reverse=True))
_BASIS_RANK = {"both": 0, "behaviour": 1, "declaration": 2, "capability": 3}


def sort_key(finding: Finding) -> tuple[int, int, str, str, str]:
    """Worst first: severity, then observed behaviour before mere capability, then stable by rule and subject."""
    return (-int(finding.severity), _BASIS_RANK.get(finding.basis, 9), finding.rule_id,
            finding.data_type or "", finding.sdk or "")


@dataclass
class Summary:
    total: int  # findings not suppressed
    suppressed: int
    by_severity: dict[str, int]
    by_basis: dict[str, int]
    rules: list[str]
    max_severity: str | None
    fail_on: str | None
    failed: bool | None  # None when no --fail-on threshold was given
    active: list[Finding] = field(default_factory=list, repr=False)  # sorted worst first
    suppressed_findings: list[Finding] = field(default_factory=list, repr=False)

    def as_json(self) -> dict[str, object]:
        return {"total": self.total, "suppressed": self.suppressed, "by_severity": self.by_severity,
                "by_basis": self.by_basis, "rules": self.rules, "max_severity": self.max_severity,
                "fail_on": self.fail_on, "failed": self.failed}


def summarize(result: ScanResult) -> Summary:
    active = sorted((f for f in result.findings if not f.suppressed), key=sort_key)
    suppressed = sorted((f for f in result.findings if f.suppressed), key=sort_key)
    by_severity = {str(s): 0 for s in SEVERITIES_DESC}
    by_basis: dict[str, int] = {}
    for f in active:
        by_severity[str(f.severity)] += 1
        by_basis[f.basis] = by_basis.get(f.basis, 0) + 1
    failed: bool | None = None
    if result.fail_on:
        threshold = Severity.parse(result.fail_on)
        failed = any(f.severity >= threshold for f in active)
    return Summary(
        total=len(active), suppressed=len(suppressed), by_severity=by_severity, by_basis=by_basis,
        rules=sorted({f.rule_id for f in result.findings}),
        max_severity=str(active[0].severity) if active else None,
        fail_on=result.fail_on, failed=failed, active=active, suppressed_findings=suppressed,
    )
