"""Rule packs: read rule YAML, validate it against rules/schema/rule.schema.json, compile conditions.

A pack is a directory of rule files — one rule per file named after its id (`DVG-COLLECT-001.yaml`), or a small
pack file with `rules: [...]` — and their test cases beside them (`DVG-COLLECT-001.test.yaml`).  Every error
names the file and line.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from scanner.engine import conditions as cond
from scanner.engine.facts import FACT_FIELDS, IDENTITY
from scanner.errors import BadRule
from scanner.knowledge.regulation import schema
from scanner.model import Reference, Severity
from scanner.yaml_lines import YamlDoc, load_yaml, schema_errors

TEST_SUFFIX = ".test.yaml"
PACK_META = "pack.yaml"
_TEMPLATE_VAR = re.compile(r"\{([A-Za-z_][\w.]*)(?:\|([a-z_]+))?\}")
TEMPLATE_FILTERS = ("label", "upper", "lower")


@dataclass
class Variant:
    """Overrides for the findings whose group's first fact matches `when`: one rule, told apart by the facts
    (DVG-SHARE-001 to a `depends` recipient has lower confidence and names the setting; PIPL Art. 21 or 23 by the
    recipient's role).  What a variant leaves out is the rule's."""

    when: cond.Predicate
    condition: dict[str, Any] = field(default_factory=dict)  # `when` as written, for `rules show`
    confidence: str | None = None
    message: str | None = None
    message_zh: str | None = None
    references: list[Reference] | None = None


@dataclass
class Rule:
    id: str
    title: str
    severity: Severity
    confidence: str
    description: str
    remediation: str
    references: list[Reference]
    message: str
    match: dict[str, Any]
    path: str
    line: int | None = None
    requires: frozenset[str] = frozenset()
    params: dict[str, Any] = field(default_factory=dict)
    enabled: bool = True
    tags: list[str] = field(default_factory=list)
    corroborate: list[dict[str, Any]] = field(default_factory=list)
    title_zh: str | None = None
    message_zh: str | None = None
    remediation_zh: str | None = None
    # Compiled at load time so that a broken condition fails `rules validate`, not a scan.
    kinds: tuple[str, ...] = ()
    where: cond.Predicate | None = None
    group_by: tuple[str, ...] = ()
    having: Callable[[list[cond.Fact], cond.Fact, cond.Context], bool] | None = None
    finders: list[Callable[..., list[cond.Fact]]] = field(default_factory=list)
    # A literal equality of `where` (field, accepted values): candidates come from an index, not a scan.
    prefilter: tuple[str, tuple[Any, ...]] | None = None
    prefilters: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)  # every one, in `where` order
    # Fields `where` and the grouping read: facts equal in them are matched once, as a bucket.
    key_fields: tuple[str, ...] = ()
    variants: list[Variant] = field(default_factory=list)


@dataclass
class RulePack:
    name: str
    version: str
    rules: list[Rule]
    sha256: str
    directories: list[str]

    def by_id(self) -> dict[str, Rule]:
        return {r.id: r for r in self.rules}

    def info(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "sha256": self.sha256, "rules": len(self.rules),
                "directories": self.directories, "rule_ids": [r.id for r in self.rules]}


def builtin_dir() -> Path:
    return Path(str(resources.files("scanner.rules").joinpath("packs", "builtin")))


def shipped_dirs() -> list[Path]:
    """Every pack shipped with divulge, `builtin` first: it names the pack; the others (e.g. `policy`) join it."""
    packs = builtin_dir().parent
    return [builtin_dir()] + sorted(p for p in packs.iterdir() if p.is_dir() and p.name != "builtin")


def _same_dir(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


# Bounds on what one --rules directory may hold (each file is also capped by load_yaml): the shipped pack has
# about a hundred rules in under 1 MB, so these leave room for any real pack and stop a wrong directory
# (a home folder, a data dump) before it is read.
MAX_RULE_FILES = 10_000
MAX_PACK_BYTES = 64 * 1024 * 1024


def rule_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        raise BadRule("not a directory of rules", path=str(directory))
    found: list[Path] = []
    total = 0
    for path in directory.rglob("*.yaml"):
        if path.name.endswith(TEST_SUFFIX) or path.name == PACK_META or not path.is_file():
            continue
        found.append(path)
        total += path.stat().st_size
        if len(found) > MAX_RULE_FILES:
            raise BadRule(f"over {MAX_RULE_FILES:,} rule files: not a rule pack?", path=str(directory))
        if total > MAX_PACK_BYTES:
            raise BadRule(f"rule files over {MAX_PACK_BYTES >> 20} MiB in all: not a rule pack?", path=str(directory))
    return sorted(found)


def load_rule_file(path: Path) -> list[Rule]:
    doc = load_yaml(path, BadRule)
    data = doc.data
    if isinstance(data, dict) and "rules" in data and "id" not in data:
        if not isinstance(data["rules"], list):
            raise BadRule("`rules` must be a list of rules", path=str(path), line=doc.line_of(["rules"]))
        return [_rule_from(doc, item, ["rules", i]) for i, item in enumerate(data["rules"])]
    rule = _rule_from(doc, data, [])
    if path.stem != rule.id:
        raise BadRule(f"a one-rule file is named after its rule id: rename {path.name} to {rule.id}.yaml",
                      path=str(path), line=doc.line_of(["id"]))
    return [rule]


def _rule_from(doc: YamlDoc, data: Any, base: list[Any]) -> Rule:
    if not isinstance(data, dict):
        raise BadRule("a rule is a mapping (id, title, severity, ...)", path=doc.path, line=doc.line_of(base))
    sub = YamlDoc(data=data, node=_node_at(doc, base), path=doc.path)
    found = schema_errors(sub, schema("rule.schema.json"))
    if found:
        line, message = found[0]
        more = f" (and {len(found) - 1} more error(s))" if len(found) > 1 else ""
        rule_id = data.get("id", "?")
        raise BadRule(f"rule {rule_id}: {message}{more}", path=doc.path, line=line)
    rule = Rule(
        id=data["id"], title=data["title"], severity=Severity.parse(data["severity"]), confidence=data["confidence"],
        description=data["description"].strip(), remediation=data["remediation"].strip(),
        references=_references(data["references"]),
        message=data["message"].strip(), match=data["match"], path=doc.path, line=doc.line_of(base),
        requires=frozenset(data.get("requires", [])), params=dict(data.get("params", {})),
        enabled=data.get("enabled", True), tags=list(data.get("tags", [])),
        corroborate=list(data.get("corroborate", [])), title_zh=data.get("title_zh"),
        message_zh=(data.get("message_zh") or "").strip() or None,
        remediation_zh=(data.get("remediation_zh") or "").strip() or None)
    _compile(rule, doc, base)
    _compile_variants(rule, data.get("variants") or [], doc, base)
    return rule


def _references(raw: list[dict[str, Any]]) -> list[Reference]:
    return [Reference(title=r["title"], url=r["url"], article=r.get("article")) for r in raw]


def _compile_variants(rule: Rule, raw: list[dict[str, Any]], doc: YamlDoc, base: list[Any]) -> None:
    # A variant is chosen per finding, after matching: its condition does not change which facts match, so it
    # adds nothing to the fields that make buckets (a separate compiler).
    compiler = cond.Compiler()
    for index, item in enumerate(raw):
        path = ["variants", index]
        try:
            when = compiler.predicate(item["when"], [*path, "when"])
            variant = Variant(when=when, condition=dict(item["when"]), confidence=item.get("confidence"),
                              message=(item.get("message") or "").strip() or None,
                              message_zh=(item.get("message_zh") or "").strip() or None,
                              references=_references(item["references"]) if "references" in item else None)
            for name in ("message", "message_zh"):
                text = getattr(variant, name)
                if text:
                    check_template(text, rule, [*path, name])
        except cond.ConditionError as exc:
            raise BadRule(f"rule {rule.id}: {exc.message}", path=doc.path, line=doc.line_of(base + exc.path)) from None
        rule.variants.append(variant)


def _node_at(doc: YamlDoc, json_path: list[Any]) -> Any:
    from scanner.yaml_lines import _child

    node = doc.node
    for step in json_path:
        node = _child(node, step) if node is not None else None
    return node


def _compile(rule: Rule, doc: YamlDoc, base: list[Any]) -> None:
    compiler = cond.Compiler()
    try:
        rule.kinds = cond.kinds_of(rule.match["kind"], ["match", "kind"])
        rule.where = compiler.predicate(rule.match.get("where"), ["match", "where"])
        rule.group_by = tuple(rule.match.get("group_by", ()))
        where = rule.match.get("where")
        if isinstance(where, dict):
            rule.prefilters = cond.literal_equalities(where)
            rule.prefilter = rule.prefilters[0] if rule.prefilters else None
        if "having" in rule.match:
            rule.having = compiler.having(rule.match["having"], ["match", "having"])
        read = set(compiler.fields_read) | {f.split(".")[0] for f in rule.group_by}
        if not rule.group_by:
            read |= {f for kind in rule.kinds for f in IDENTITY[kind]}
        if len(rule.kinds) > 1 or not rule.group_by:
            read.add("kind")
        rule.key_fields = tuple(sorted(read))
        finder_compiler = cond.Compiler()  # corroborating facts do not change which facts match
        rule.finders = [finder_compiler.finder(c, ["corroborate", i]) for i, c in enumerate(rule.corroborate)]
        _check_fields(rule)
        for name, text in (("message", rule.message), ("message_zh", rule.message_zh),
                           ("remediation", rule.remediation), ("remediation_zh", rule.remediation_zh)):
            if text:
                check_template(text, rule, [name])
    except cond.ConditionError as exc:
        raise BadRule(f"rule {rule.id}: {exc.message}", path=doc.path, line=doc.line_of(base + exc.path)) from None


def _known_fields(kinds: Iterable[str]) -> set[str]:
    known: set[str] = {"kind"}
    for kind in kinds:
        known.update(FACT_FIELDS[kind])
    return known


def _check_fields(rule: Rule) -> None:
    """Catch typos in field names of the matched kinds (group_by and $refs); fields of joins are checked lazily."""
    known = _known_fields(rule.kinds)
    for index, name in enumerate(rule.group_by):
        if name.split(".")[0] not in known:
            raise cond.ConditionError(f"group_by field {name!r} is not a field of {', '.join(rule.kinds)}",
                                      ["match", "group_by", index])
    for param in re.findall(r"\$params\.(\w+)", repr(rule.match) + repr(rule.corroborate)):
        if param not in rule.params:
            raise cond.ConditionError(f"$params.{param} is used but not defined in `params`", ["params"])


def check_template(text: str, rule: Rule, path: list[Any]) -> None:
    known = _known_fields(rule.kinds)
    for name, flt in _TEMPLATE_VAR.findall(text):
        head = name.split(".")[0]
        if flt and flt not in TEMPLATE_FILTERS:
            raise cond.ConditionError(f"unknown template filter {flt!r} in {{{name}|{flt}}}; filters: "
                                      + ", ".join(TEMPLATE_FILTERS), path)
        if head in ("count", "values", "params", "total"):
            if head == "params" and name.split(".", 1)[-1] not in rule.params:
                raise cond.ConditionError(f"template uses {{{name}}} but the rule defines no such param", path)
            if head in ("values", "total") and name.count(".") != 1:
                raise cond.ConditionError(f"write {{{head}.FIELD}} with one field name, not {{{name}}}", path)
            if head == "total" and name.split(".", 1)[1] not in known:
                raise cond.ConditionError(f"template variable {{{name}}}: {name.split('.', 1)[1]} is not a field of "
                                          f"{', '.join(rule.kinds)}", path)
            continue
        if head not in known:
            raise cond.ConditionError(f"template variable {{{name}}} is not a field of {', '.join(rule.kinds)} "
                                      "(nor count, values.FIELD, total.FIELD, params.NAME)", path)


def load_pack(directories: Sequence[Path], *, builtin: bool = True) -> RulePack:
    """The shipped packs (unless builtin=False) plus every rule under the given directories; ids must be unique.

    A directory given twice (say `--rules rules/packs/policy`, which is also shipped) is read once.
    """
    shipped = shipped_dirs() if builtin else []
    dirs: list[Path] = []
    for directory in shipped + [Path(d) for d in directories]:
        if not any(_same_dir(directory, known) for known in dirs):
            dirs.append(directory)
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    digest = hashlib.sha256()
    name, version = ("builtin", "0") if builtin else ("custom", "0")
    for directory in dirs:
        meta = directory / PACK_META
        if meta.is_file() and directory == dirs[0]:
            meta_doc = load_yaml(meta, BadRule).data or {}
            name, version = str(meta_doc.get("name", name)), str(meta_doc.get("version", version))
        for path in rule_files(directory):
            digest.update(path.read_bytes())
            for rule in load_rule_file(path):
                if rule.id in seen:
                    raise BadRule(f"duplicate rule id {rule.id} (also in {seen[rule.id]})", path=rule.path,
                                  line=rule.line)
                seen[rule.id] = rule.path
                rules.append(rule)
    if len(dirs) > len(shipped) and builtin:
        name = "+".join([name] + [d.name for d in dirs[len(shipped):]])
    return RulePack(name=name, version=version, rules=rules, sha256=digest.hexdigest(),
                    directories=[str(d) for d in dirs])
