"""Rule files: schema errors and bad conditions name the file and line; custom packs load beside the built-ins."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.engine.loader import load_pack
from scanner.errors import BadRule

GOOD = """\
id: ACME-LOC-001
title: Location goes to an ad network
severity: high
confidence: high
description: Any location sent to a host of an advertising company.
remediation: Do not send location to ad networks.
references:
  - {title: GDPR, article: "Art. 5(1)(c)", url: "https://eur-lex.europa.eu/eli/reg/2016/679/oj"}
requires: [traffic]
match:
  kind: observation
  where:
    data_type: {in: [precise_location, approx_location]}
    party: third
  group_by: [host]
message: "{data_type|label} goes to {host} ({count} time(s))."
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return tmp_path


def test_custom_pack_loads_with_builtin(tmp_path: Path) -> None:
    pack = load_pack([write(tmp_path, "ACME-LOC-001.yaml", GOOD)])
    ids = [r.id for r in pack.rules]
    assert "ACME-LOC-001" in ids and "DVG-COLLECT-001" in ids
    assert pack.info()["rules"] == len(ids)


@pytest.mark.parametrize(("old", "new", "line", "needle"), [
    ("severity: high", "severity: severe", 3, "unknown severity 'severe'"),
    ("title: Location goes to an ad network", "titel: Location goes to an ad network", 2, "unknown key 'titel'"),
    ('url: "https://eur-lex.europa.eu/eli/reg/2016/679/oj"', 'url: "eur-lex"', 8, "does not match"),
    ("    party: third", "    party: {equals: third}", 14, "unknown operator 'equals'"),
    ("  kind: observation", "  kind: observations", 11, "unknown fact kind 'observations'"),
    ("  group_by: [host]", "  group_by: [hots]", 15, "group_by field 'hots'"),
    ('message: "{data_type|label}', 'message: "{data_typ|label}', 16, "template variable {data_typ}"),
    ("    party: third", "    party: [third]", 14, "write `in: [...]`"),
    ("    party: third", "    host: {matches: '('}", 14, "bad regular expression"),
])
def test_errors_name_file_and_line(tmp_path: Path, old: str, new: str, line: int, needle: str) -> None:
    assert old in GOOD
    write(tmp_path, "ACME-LOC-001.yaml", GOOD.replace(old, new))
    with pytest.raises(BadRule) as info:
        load_pack([tmp_path], builtin=False)
    assert info.value.path and info.value.path.endswith("ACME-LOC-001.yaml")
    assert info.value.line == line, str(info.value)
    assert needle in str(info.value)


def test_file_must_be_named_after_rule(tmp_path: Path) -> None:
    write(tmp_path, "location.yaml", GOOD)
    with pytest.raises(BadRule, match="rename location.yaml to ACME-LOC-001.yaml"):
        load_pack([tmp_path], builtin=False)


def test_yaml_syntax_error_and_duplicate_keys(tmp_path: Path) -> None:
    write(tmp_path, "ACME-LOC-001.yaml", GOOD + "severity: low\n")
    with pytest.raises(BadRule, match="duplicate key 'severity'") as info:
        load_pack([tmp_path], builtin=False)
    assert info.value.line == 17
    write(tmp_path, "ACME-LOC-001.yaml", GOOD.replace("match:", "match: [\n"))
    with pytest.raises(BadRule, match="invalid YAML"):
        load_pack([tmp_path], builtin=False)


def test_undefined_param_is_an_error(tmp_path: Path) -> None:
    text = GOOD.replace("    party: third", "    time: {gt: $params.after}")
    write(tmp_path, "ACME-LOC-001.yaml", text)
    with pytest.raises(BadRule, match=r"\$params.after is used but not defined"):
        load_pack([tmp_path], builtin=False)


def test_small_pack_file_with_several_rules(tmp_path: Path) -> None:
    second = GOOD.replace("ACME-LOC-001", "ACME-LOC-002")
    body = "rules:\n" + "".join("  - " + "\n    ".join(r.rstrip("\n").splitlines()) + "\n" for r in (GOOD, second))
    write(tmp_path, "acme.yaml", body)
    pack = load_pack([tmp_path], builtin=False)
    assert [r.id for r in pack.rules] == ["ACME-LOC-001", "ACME-LOC-002"]


VARIANTS = GOOD + """\
variants:
  - when: {recipient_role: service_provider}
    confidence: low
    message: "{data_type|label} goes to {host}, a service provider."
    references:
      - {title: PIPL, article: "Art. 21", url: "http://www.npc.gov.cn/npc/c30834/202108/a8c4e3672c74491a80b53a172bb753fe.shtml"}
"""


def test_variants_pick_confidence_message_and_references_per_finding(tmp_path: Path) -> None:
    from scanner.engine.facts import facts_from_case
    from scanner.engine.runner import run_rules

    rule = next(r for r in load_pack([write(tmp_path, "ACME-LOC-001.yaml", VARIANTS)]).rules if r.id == "ACME-LOC-001")
    facts = facts_from_case([
        {"kind": "observation", "data_type": "precise_location", "host": "android.bugly.qq.com", "party": "third",
         "sdk": "tencent-bugly"},  # a service provider in the catalog
        {"kind": "observation", "data_type": "precise_location", "host": "mi.gdt.qq.com", "party": "third",
         "sdk": "tencent-gdt"},  # a third party
    ], None, category=None, inputs=None)
    by_host = {f.message.split(" goes to ")[1].split()[0].rstrip(",."): f for f in run_rules([rule], facts).findings}
    provider, ads = by_host["android.bugly.qq.com"], by_host["mi.gdt.qq.com"]
    assert (provider.confidence, [r.article for r in provider.references]) == ("low", ["Art. 21"])
    assert provider.message.endswith("a service provider.")
    assert (ads.confidence, [r.article for r in ads.references]) == ("high", ["Art. 5(1)(c)"])


@pytest.mark.parametrize(("old", "new", "line", "needle"), [
    ("{recipient_role: service_provider}", "{recipient_role: {equals: service_provider}}", 18, "equals"),
    ("a service provider.", "a {provider_kind}.", 20, "provider_kind"),
    ("confidence: low", "confidence: lowish", 19, "lowish"),
])
def test_bad_variants_name_file_and_line(tmp_path: Path, old: str, new: str, line: int, needle: str) -> None:
    assert old in VARIANTS
    with pytest.raises(BadRule) as info:
        load_pack([write(tmp_path, "ACME-LOC-001.yaml", VARIANTS.replace(old, new))])
    assert info.value.line == line and needle in str(info.value), str(info.value)


def test_rules_show_lists_the_variants() -> None:
    from click.testing import CliRunner

    from scanner.cli import main

    out = CliRunner().invoke(main, ["rules", "show", "DVG-SHARE-001"]).output
    assert "Variant when {recipient_role: depends}: confidence low, its own message" in out
