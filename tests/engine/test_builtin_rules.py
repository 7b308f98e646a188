"""Every built-in rule passes its own test cases, and rules about rules hold for the whole pack."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from scanner.engine.loader import builtin_dir, load_pack, shipped_dirs
from scanner.errors import BadRule
from scanner.model import Finding
from scanner.ruletest import case_file_for, load_cases, orphan_tests, run_case

PACK = load_pack([])
RULES = {r.id: r for r in PACK.rules}


def _cases() -> list[tuple[str, str, int]]:
    out: list[tuple[str, str, int]] = []
    for rule in PACK.rules:
        path = case_file_for(rule)
        if path.is_file():
            doc, _ = load_cases(path)
            for section in ("must_fire", "must_not_fire"):
                out.extend((rule.id, section, i) for i in range(len(doc.data.get(section) or [])))
    return out


def _holds(finding: Finding, key: str, value: Any) -> bool:
    """One expectation of a case, read here independently of scanner.ruletest's reading."""
    if key == "message_contains":
        return str(value) in finding.message
    if key == "evidence_kinds":
        return set(value) <= {e.kind for e in finding.evidence}
    if key == "articles":
        return set(value) <= {r.article for r in finding.references}
    return str(getattr(finding, key)) == str(value)


@pytest.mark.parametrize(("rule_id", "section", "index"), _cases())
def test_rule_case(rule_id: str, section: str, index: int) -> None:
    rule = RULES[rule_id]
    doc, _ = load_cases(case_file_for(rule))
    case = doc.data[section][index]
    findings = run_case(rule, case, doc, [section, index])
    if section == "must_not_fire":
        assert findings == [], f"{case['name']}: fired: {[f.message for f in findings]}"
        return
    assert findings, f"{case['name']}: did not fire"
    expect = case.get("expect") or {}
    if "count" in expect:
        assert len(findings) == expect["count"], [f.message for f in findings]
    for wanted in expect.get("findings", []):
        assert any(all(_holds(f, k, v) for k, v in wanted.items()) for f in findings), \
            (wanted, [(f.data_type, f.sdk, f.basis, f.confidence, f.message) for f in findings])
    for finding in findings:
        assert finding.rule_id == rule_id and finding.fingerprint and "{" not in finding.message


def test_pack_has_at_least_20_rules() -> None:
    assert len(PACK.rules) >= 20


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_rules_about_rules(rule_id: str) -> None:
    """Unique id named like its file, a test file with both kinds of case, every reference with a URL."""
    rule = RULES[rule_id]
    assert re.fullmatch(r"DVG-[A-Z]+-\d{3}", rule.id)
    assert Path(rule.path).name == f"{rule.id}.yaml"
    assert [r.id for r in PACK.rules].count(rule.id) == 1
    doc, target = load_cases(case_file_for(rule))
    assert target == rule.id
    assert doc.data.get("must_fire") and doc.data.get("must_not_fire")
    assert rule.references and all(re.match(r"https?://\S+$", ref.url) for ref in rule.references)
    assert rule.title_zh and rule.remediation_zh and rule.message_zh, "Chinese texts for regulators"
    assert rule.requires <= {"static", "traffic", "declaration", "category", "runtime"}


@pytest.mark.parametrize("directory", shipped_dirs(), ids=lambda d: d.name)
def test_no_orphan_test_files(directory: Path) -> None:
    assert orphan_tests(directory, PACK.rules) == []


def test_policy_pack_ships_with_the_builtin_one() -> None:
    """Policy-text rules run without --rules; naming the shipped directory again is not a duplicate."""
    assert {"DVG-POLICY-001", "DVG-POLICY-002"} <= set(RULES)
    again = load_pack([shipped_dirs()[1]])
    assert [r.id for r in again.rules] == [r.id for r in PACK.rules]
    assert PACK.info()["rule_ids"] == [r.id for r in PACK.rules]


def test_severities_order_behaviour_above_capability() -> None:
    """The issue asks for permission-only capability to rank below traffic-backed behaviour."""
    assert RULES["DVG-COLLECT-002"].severity < RULES["DVG-COLLECT-001"].severity
    assert RULES["DVG-ID-002"].severity < RULES["DVG-ID-001"].severity
    assert RULES["DVG-APPS-002"].severity < RULES["DVG-APPS-001"].severity


def test_duplicate_rule_id_across_dirs_is_an_error(tmp_path: Path) -> None:
    src = builtin_dir() / "DVG-PERM-001.yaml"
    (tmp_path / "DVG-PERM-001.yaml").write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(BadRule, match="duplicate rule id DVG-PERM-001"):
        load_pack([tmp_path])
