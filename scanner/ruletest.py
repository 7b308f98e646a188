"""Rule test cases: `DVG-X.test.yaml` beside each rule gives facts + declaration in and expected findings out.

    rule: DVG-COLLECT-001
    must_fire:
      - name: location sent, not declared
        facts: [{kind: observation, data_type: precise_location, host: api.example.com}]
        declaration: {data_types: {device_id: {collected: true}}}
        expect: {count: 1, findings: [{data_type: precise_location, basis: behaviour}]}
    must_not_fire:
      - name: declared
        ...

No APK, proxy or network is needed: the case's facts go through the same derivation as a real scan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scanner.engine.facts import facts_from_case
from scanner.engine.loader import TEST_SUFFIX, Rule, rule_files
from scanner.engine.runner import run_rules
from scanner.errors import BadDeclaration, BadRule, DivulgeError
from scanner.model import Finding
from scanner.policy.declaration import declaration_from_mapping
from scanner.yaml_lines import YamlDoc, load_yaml

CASE_KEYS = {"name", "facts", "declaration", "category", "inputs", "expect", "params"}
EXPECT_FIELDS = {"rule_id", "severity", "confidence", "basis", "data_type", "sdk", "message_contains",
                 "evidence_kinds", "articles"}


@dataclass
class CaseResult:
    rule_id: str
    name: str
    must_fire: bool
    passed: bool
    detail: str = ""
    path: str = ""
    line: int | None = None


@dataclass
class RuleTestRun:
    results: list[CaseResult] = field(default_factory=list)
    untested: list[str] = field(default_factory=list)  # rules without a must-fire and a must-not-fire case

    @property
    def ok(self) -> bool:
        return all(r.passed for r in self.results) and not self.untested


def case_file_for(rule: Rule) -> Path:
    return Path(rule.path).with_name(rule.id + TEST_SUFFIX)


def load_cases(path: Path) -> tuple[YamlDoc, str]:
    doc = load_yaml(path, BadRule)
    data = doc.data
    if not isinstance(data, dict) or not isinstance(data.get("rule"), str):
        raise BadRule("a test file is a mapping with `rule`, `must_fire` and `must_not_fire`", path=str(path),
                      line=doc.line_of([]))
    unknown = set(data) - {"rule", "must_fire", "must_not_fire"}
    if unknown:
        raise BadRule(f"unknown key {sorted(unknown)[0]!r} (allowed: rule, must_fire, must_not_fire)",
                      path=str(path), line=doc.key_line([], sorted(unknown)[0]))
    for section in ("must_fire", "must_not_fire"):
        cases = data.get(section, [])
        if not isinstance(cases, list):
            raise BadRule(f"`{section}` is a list of cases", path=str(path), line=doc.line_of([section]))
        for index, case in enumerate(cases):
            if not isinstance(case, dict) or not isinstance(case.get("name"), str):
                raise BadRule("a case is a mapping with at least `name` and `facts`", path=str(path),
                              line=doc.line_of([section, index]))
            extra = set(case) - CASE_KEYS
            if extra:
                key = sorted(extra)[0]
                raise BadRule(f"unknown key {key!r} in case (allowed: {', '.join(sorted(CASE_KEYS))})",
                              path=str(path), line=doc.key_line([section, index], key))
    return doc, data["rule"]


def run_case(rule: Rule, case: dict[str, Any], doc: YamlDoc, json_path: list[Any],
             sdk_aliases: dict[str, list[str]] | None = None) -> list[Finding]:
    where = f"{doc.path}:{doc.line_of(json_path)}"
    declaration = None
    if case.get("declaration") is not None:
        try:
            sub = YamlDoc(data=case["declaration"], node=_node(doc, json_path + ["declaration"]), path=doc.path)
            declaration = declaration_from_mapping(case["declaration"], doc.path, sub)
        except BadDeclaration as exc:
            raise BadRule(f"case {case['name']!r}: declaration: {exc.message}", path=doc.path, line=exc.line) from None
    try:
        factset = facts_from_case(case.get("facts") or [], declaration, category=case.get("category"),
                                  inputs=case.get("inputs"), sdk_aliases=sdk_aliases, where=where)
    except DivulgeError as exc:
        raise BadRule(exc.message) from None
    params = {rule.id: case["params"]} if case.get("params") else None
    return run_rules([rule], factset, params=params).findings


def _node(doc: YamlDoc, json_path: list[Any]) -> Any:
    from scanner.yaml_lines import _child

    node = doc.node
    for step in json_path:
        node = _child(node, step) if node is not None else None
    return node


def _check_expect(findings: list[Finding], expect: dict[str, Any]) -> str:
    if "count" in expect and len(findings) != expect["count"]:
        return f"expected {expect['count']} finding(s), got {len(findings)}"
    for wanted in expect.get("findings", []):
        unknown = set(wanted) - EXPECT_FIELDS
        if unknown:
            return f"unknown expectation field {sorted(unknown)[0]!r} (allowed: {', '.join(sorted(EXPECT_FIELDS))})"
        if not any(_matches(f, wanted) for f in findings):
            got = "; ".join(f"{f.data_type}/{f.sdk}/{f.basis}: {f.message}" for f in findings) or "none"
            return f"no finding matches {wanted} (got: {got})"
    return ""


def _matches(finding: Finding, wanted: dict[str, Any]) -> bool:
    for key, value in wanted.items():
        if key == "message_contains":
            if str(value) not in finding.message:
                return False
        elif key == "evidence_kinds":
            if not set(value) <= {e.kind for e in finding.evidence}:
                return False
        elif key == "articles":  # every one of these is the article of one of the finding's references
            if not set(value) <= {r.article for r in finding.references}:
                return False
        elif key == "severity":
            if str(finding.severity) != str(value):
                return False
        elif getattr(finding, key) != value:
            return False
    return True


def run_tests(rules: list[Rule], sdk_aliases: dict[str, list[str]] | None = None) -> RuleTestRun:
    """Run every rule's test file; a rule without one, or without both kinds of case, is reported as untested."""
    run = RuleTestRun()
    by_id = {r.id: r for r in rules}
    seen_files: set[Path] = set()
    for rule in rules:
        path = case_file_for(rule)
        if not path.is_file():
            run.untested.append(f"{rule.id}: no test file {path.name}")
            continue
        seen_files.add(path)
        doc, target = load_cases(path)
        if target != rule.id:
            raise BadRule(f"test file is for rule {target}, expected {rule.id}", path=str(path), line=doc.line_of(["rule"]))
        data = doc.data
        if not data.get("must_fire") or not data.get("must_not_fire"):
            run.untested.append(f"{rule.id}: needs at least one must_fire and one must_not_fire case")
        for section in ("must_fire", "must_not_fire"):
            for index, case in enumerate(data.get(section) or []):
                json_path = [section, index]
                findings = run_case(by_id[target], case, doc, json_path, sdk_aliases)
                fire = section == "must_fire"
                if fire:
                    detail = "did not fire" if not findings else _check_expect(findings, case.get("expect") or {})
                else:
                    detail = ("fired: " + "; ".join(f.message for f in findings)) if findings else ""
                run.results.append(CaseResult(rule.id, case["name"], fire, not detail, detail, str(path),
                                              doc.line_of(json_path)))
    return run


def orphan_tests(directory: Path, rules: list[Rule]) -> list[str]:
    """Test files whose rule does not exist (a renamed rule leaves its tests behind)."""
    ids = {r.id for r in rules}
    files = [p for p in directory.rglob("*" + TEST_SUFFIX)] if directory.is_dir() else []
    return [str(p) for p in files if p.name[: -len(TEST_SUFFIX)] not in ids]


__all__ = ["CaseResult", "RuleTestRun", "load_cases", "orphan_tests", "rule_files", "run_case", "run_tests", "case_file_for"]
