"""`.divulge.yml`: enable/disable rules, change severities and parameters, suppress findings, compare to a baseline.

A suppression names a rule (and optionally a fingerprint, data type or SDK), a justification and an expiry date;
an expired suppression stops suppressing and says so.  A baseline is an earlier findings JSON: findings whose
fingerprint it holds are marked `in_baseline` so CI fails only on new ones.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scanner.engine.loader import Rule
from scanner.errors import BadConfig
from scanner.knowledge.regulation import schema
from scanner.model import DATA_TYPES, Finding, ScanResult, Severity
from scanner.yaml_lines import YamlDoc, load_yaml, raise_schema_errors, suggest

log = logging.getLogger(__name__)

CONFIG_NAMES = (".divulge.yml", ".divulge.yaml")


@dataclass(frozen=True)
class Suppression:
    rule: str
    justification: str
    expires: dt.date
    fingerprint: str | None = None
    data_type: str | None = None
    sdk: str | None = None
    where: str = ""

    def matches(self, finding: Finding) -> bool:
        return (finding.rule_id == self.rule
                and (self.fingerprint is None or finding.fingerprint == self.fingerprint)
                and (self.data_type is None or finding.data_type == self.data_type)
                and (self.sdk is None or finding.sdk == self.sdk))


@dataclass
class Config:
    path: str | None = None
    fail_on: str | None = None
    category: str | None = None
    rules_dirs: list[Path] = field(default_factory=list)
    baseline: Path | None = None
    disable: list[str] = field(default_factory=list)
    enable: list[str] = field(default_factory=list)
    severities: dict[str, Severity] = field(default_factory=dict)
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    suppressions: list[Suppression] = field(default_factory=list)
    doc: YamlDoc | None = None


def find_config(start: Path) -> Path | None:
    """The .divulge.yml in `start` (a directory), if any; divulge does not search parents, to stay predictable."""
    for name in CONFIG_NAMES:
        candidate = start / name
        if candidate.is_file():
            return candidate
    return None


def load_config(path: Path) -> Config:
    doc = load_yaml(path, BadConfig)
    data = doc.data
    if data is None:
        return Config(path=str(path), doc=doc)
    if not isinstance(data, dict):
        raise BadConfig("expected a mapping at the top level", path=str(path), line=1)
    raise_schema_errors(doc, schema("config.schema.json"), BadConfig)
    base = path.parent
    rules = data.get("rules") or {}
    config = Config(
        path=str(path), fail_on=data.get("fail_on"), category=data.get("category"),
        rules_dirs=[base / d for d in data.get("rules_dirs", [])],
        baseline=base / data["baseline"] if data.get("baseline") else None,
        disable=list(rules.get("disable", [])), enable=list(rules.get("enable", [])),
        severities={k: Severity.parse(v) for k, v in (rules.get("severity") or {}).items()},
        params={k: dict(v) for k, v in (rules.get("params") or {}).items()}, doc=doc)
    for index, item in enumerate(data.get("suppress") or []):
        line = doc.line_of(["suppress", index])
        try:
            expires = dt.date.fromisoformat(item["expires"])
        except ValueError:
            raise BadConfig(f"bad expiry date {item['expires']!r} (use YYYY-MM-DD)", path=str(path),
                            line=doc.line_of(["suppress", index, "expires"])) from None
        if item.get("data_type") and item["data_type"] not in DATA_TYPES:
            raise BadConfig(f"unknown data type {item['data_type']!r}{suggest(item['data_type'], DATA_TYPES)}",
                            path=str(path), line=doc.line_of(["suppress", index, "data_type"]))
        config.suppressions.append(Suppression(
            rule=item["rule"], justification=item["justification"], expires=expires,
            fingerprint=item.get("fingerprint"), data_type=item.get("data_type"), sdk=item.get("sdk"),
            where=f"{path}:{line}"))
    return config


def check_rule_ids(config: Config, rules: list[Rule]) -> None:
    """Every rule id the config names must exist: a typo would silently disable nothing."""
    known = {r.id for r in rules}
    doc = config.doc

    def fail(rule_id: str, json_path: list[Any]) -> None:
        line = doc.line_of(json_path) if doc else None
        raise BadConfig(f"unknown rule id {rule_id!r}{suggest(rule_id, known)}", path=config.path, line=line)

    for section, ids in (("disable", config.disable), ("enable", config.enable)):
        for index, rule_id in enumerate(ids):
            if rule_id not in known:
                fail(rule_id, ["rules", section, index])
    for section, mapping in (("severity", config.severities), ("params", config.params)):
        for rule_id in mapping:
            if rule_id not in known:
                fail(rule_id, ["rules", section, rule_id])
    for rule_id, values in config.params.items():
        rule = next(r for r in rules if r.id == rule_id)
        for name in values:
            if name not in rule.params:
                raise BadConfig(f"rule {rule_id} has no parameter {name!r} (it has: "
                                f"{', '.join(rule.params) or 'none'})", path=config.path,
                                line=doc.line_of(["rules", "params", rule_id, name]) if doc else None)
    for index, item in enumerate(config.suppressions):
        if item.rule not in known:
            fail(item.rule, ["suppress", index, "rule"])


def apply_rule_settings(rules: list[Rule], config: Config) -> list[Rule]:
    """Rules to run: enabled by default unless disabled; `enable` turns on rules that ship disabled."""
    out = []
    for rule in rules:
        enabled = (rule.enabled or rule.id in config.enable) and rule.id not in config.disable
        if enabled != rule.enabled:
            from dataclasses import replace

            rule = replace(rule, enabled=enabled)
        out.append(rule)
    return out


def apply_suppressions(findings: list[Finding], config: Config, *, today: dt.date | None = None) -> list[str]:
    """Mark suppressed findings in place; returns warnings (expired or unused suppressions)."""
    today = today or dt.date.today()
    warnings: list[str] = []
    for item in config.suppressions:
        if item.expires < today:
            warnings.append(f"{item.where}: suppression of {item.rule} expired on {item.expires.isoformat()}; "
                            "its findings count again")
            continue
        used = False
        for finding in findings:
            if finding.suppressed is None and item.matches(finding):
                finding.suppressed = f"{item.justification} (until {item.expires.isoformat()}, {item.where})"
                used = True
        if not used:
            warnings.append(f"{item.where}: suppression of {item.rule} matched no finding")
    return warnings


def load_baseline(path: Path) -> set[str]:
    """Fingerprints of an earlier `divulge scan --format json` output."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BadConfig(f"cannot read baseline: {exc.strerror or exc}", path=str(path)) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadConfig(f"baseline is not JSON: {exc}", path=str(path)) from None
    if not isinstance(data, dict) or data.get("schema") != ScanResult.SCHEMA:
        raise BadConfig(f"baseline is not a divulge findings file (schema {ScanResult.SCHEMA!r} expected, got "
                        f"{data.get('schema') if isinstance(data, dict) else type(data).__name__!r})", path=str(path))
    findings = data.get("findings")
    if not isinstance(findings, list):
        raise BadConfig("baseline has no `findings` list", path=str(path))
    return {str(f.get("fingerprint")) for f in findings if isinstance(f, dict) and f.get("fingerprint")}


def apply_baseline(findings: list[Finding], fingerprints: set[str]) -> int:
    """Mark findings already in the baseline; returns how many are new."""
    new = 0
    for finding in findings:
        finding.in_baseline = finding.fingerprint in fingerprints
        new += not finding.in_baseline
    return new
