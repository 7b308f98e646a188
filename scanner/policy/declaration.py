"""privacy.yaml, divulge's native declaration: read it (errors name file:line) and write it back.

A declaration says, per Play Data safety data type, whether the app collects and/or shares it, why, whether it
is optional or ephemeral, and which third parties receive what.  `load_declaration` also dispatches the other
declaration formats (Data safety CSV; privacy policy text once scanner.policy.text exists).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from scanner.errors import BadDeclaration, DivulgeError
from scanner.knowledge.regulation import resolve_category, schema
from scanner.model import DATA_TYPES, PURPOSES, Declaration, DeclaredDataType, DisclosedParty
from scanner.yaml_lines import YamlDoc, load_yaml, parse_yaml, raise_schema_errors

log = logging.getLogger(__name__)

SCHEMA_ID = "divulge/privacy/1"
_HINTS = {"data type": list(DATA_TYPES), "purpose": list(PURPOSES)}


def load_declaration(path: Path) -> Declaration:
    """Read any supported declaration: privacy.yaml, an App Store privacy label YAML, a Play Data safety CSV, an iOS
    privacy manifest (.xcprivacy, or the manifests inside an .ipa), or privacy-policy text."""
    if not path.is_file():
        raise BadDeclaration("no such file", path=str(path))
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        doc = load_yaml(path, BadDeclaration)
        from scanner.policy.app_store_label import is_app_store_label, label_from_doc

        if is_app_store_label(doc.data):
            return label_from_doc(doc)
        return declaration_from_doc(doc)
    if suffix in (".xcprivacy", ".ipa"):  # an iOS app's own privacy manifest(s)
        from scanner.policy.privacy_manifest import load_privacy_manifest

        return load_privacy_manifest(path)
    if suffix == ".csv":
        from scanner.policy.datasafety_csv import load_datasafety_csv

        return load_datasafety_csv(path)
    if suffix == ".json":
        raise BadDeclaration("a JSON declaration is not supported; use privacy.yaml or a Data safety CSV",
                             path=str(path))
    # Any other file is privacy-policy text (HTML, Markdown, plain text); imported here because the text
    # reader pulls in its vocabulary and (for Chinese) jieba, which YAML and CSV declarations never need.
    from scanner.policy.text import load_policy_text

    return load_policy_text(path)


def load_privacy_yaml(path: Path) -> Declaration:
    return declaration_from_doc(load_yaml(path, BadDeclaration))


def parse_privacy_yaml(text: str, path: str = "<privacy.yaml>") -> Declaration:
    return declaration_from_doc(parse_yaml(text, path, BadDeclaration))


def declaration_from_mapping(data: Any, path: str = "<declaration>", doc: YamlDoc | None = None) -> Declaration:
    """A Declaration from an already parsed mapping (rule test cases embed declarations; an App Store label is
    told apart by its `schema`)."""
    from scanner.policy.app_store_label import is_app_store_label, label_from_doc

    doc = doc or YamlDoc(data=data, node=None, path=path)
    return label_from_doc(doc) if is_app_store_label(data) else declaration_from_doc(doc)


def declaration_from_doc(doc: YamlDoc) -> Declaration:
    data = doc.data
    if data is None:
        raise BadDeclaration("empty declaration: expected a mapping with `app`, `data_types`, `third_parties`",
                             path=doc.path, line=1)
    if not isinstance(data, dict):
        raise BadDeclaration(f"expected a mapping at the top level, got {type(data).__name__}", path=doc.path,
                             line=doc.line_of([]))
    raise_schema_errors(doc, schema("privacy.schema.json"), BadDeclaration, hints=_HINTS)

    def where(*json_path: Any) -> str:
        line = doc.line_of(list(json_path))
        return f"{doc.path}:{line}" if line else doc.path

    app = data.get("app") or {}
    category = None
    if app.get("category") is not None:
        try:
            category_type = resolve_category(app["category"])
        except DivulgeError as exc:
            raise BadDeclaration(exc.message, path=doc.path, line=doc.line_of(["app", "category"])) from None
        category = category_type.id if category_type else None
    declaration = Declaration(
        kind="privacy-yaml", path=doc.path, package=app.get("package"),
        first_party_domains=[d.lower() for d in app.get("first_party_domains", [])],
        category_cn=category, play_category=app.get("play_category"),
        markets=list(app.get("markets", [])), audience=app.get("audience"),
        guardian_consent=(data.get("consents") or {}).get("guardian"),
        cross_border_consent=(data.get("consents") or {}).get("cross_border"),
    )
    for data_type, entry in (data.get("data_types") or {}).items():
        entry = entry or {}
        if not entry.get("collected") and not entry.get("shared"):
            raise BadDeclaration(
                f"data type {data_type!r} is neither collected nor shared: set `collected: true` and/or "
                "`shared: true`, or list it under `not_collected`", path=doc.path,
                line=doc.key_line(["data_types"], data_type))
        declaration.data_types[data_type] = DeclaredDataType(
            data_type=data_type, collected=bool(entry.get("collected")), shared=bool(entry.get("shared")),
            purposes=list(entry.get("purposes", [])), shared_purposes=list(entry.get("shared_purposes", [])),
            optional=entry.get("optional"), ephemeral=entry.get("ephemeral"),
            source=f"{doc.path}:{doc.key_line(['data_types'], data_type)}" if doc.node else doc.path)
    for index, data_type in enumerate(data.get("not_collected") or []):
        if data_type in declaration.data_types:
            raise BadDeclaration(f"data type {data_type!r} is both declared in `data_types` and `not_collected`",
                                 path=doc.path, line=doc.line_of(["not_collected", index]))
        declaration.data_types[data_type] = DeclaredDataType(
            data_type=data_type, denied=True, source=where("not_collected", index))
    for index, party in enumerate(data.get("third_parties") or []):
        declaration.parties.append(DisclosedParty(
            name=party["name"], sdk_id=party.get("sdk"), data_types=list(party.get("data_types", [])),
            purposes=list(party.get("purposes", [])), source=where("third_parties", index), role=party.get("role")))
    return declaration


# ---------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    plain = text and all(c.isalnum() or c in "._-/:" for c in text) and not text[0].isdigit() \
        and text.lower() not in ("true", "false", "null", "yes", "no", "on", "off", "~")
    return text if plain else '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _flow(items: list[str]) -> str:
    return "[" + ", ".join(_scalar(i) for i in items) + "]"


def dump_privacy_yaml(declaration: Declaration, *, comments: dict[str, str] | None = None,
                      header: str | None = None) -> str:
    """privacy.yaml text for a declaration; `comments` maps data type ids and party names to a note shown above."""
    comments = comments or {}
    out: list[str] = []
    if header:
        out.extend(f"# {line}".rstrip() for line in header.splitlines())
    out.append(f"schema: {SCHEMA_ID}")
    out.append("app:")
    if declaration.package:
        out.append(f"  package: {_scalar(declaration.package)}")
    out.append(f"  first_party_domains: {_flow(declaration.first_party_domains)}")
    if declaration.category_cn:
        out.append(f"  category: {_scalar(declaration.category_cn)}")
    else:
        out.append("  # category: one of the 39 types of the 2021 necessary-PI scope, e.g. news, online_shopping")
    if declaration.play_category:
        out.append(f"  play_category: {_scalar(declaration.play_category)}")
    if declaration.markets:
        out.append(f"  markets: {_flow(declaration.markets)}")
    if declaration.audience:
        out.append(f"  audience: {_scalar(declaration.audience)}")
    consents = {name: value for name, value in (("guardian", declaration.guardian_consent),
                                                ("cross_border", declaration.cross_border_consent)) if value is not None}
    if consents:
        out.append("consents: {" + ", ".join(f"{k}: {_scalar(v)}" for k, v in consents.items()) + "}")
    declared = {k: v for k, v in declaration.data_types.items() if not v.denied}
    denied = [k for k, v in declaration.data_types.items() if v.denied]
    out.append("data_types:" + ("" if declared else " {}"))
    for data_type in sorted(declared, key=list(DATA_TYPES).index):
        entry = declared[data_type]
        if data_type in comments:
            out.extend(f"  # {line}" for line in comments[data_type].splitlines())
        out.append(f"  {data_type}:")
        out.append(f"    collected: {_scalar(entry.collected)}")
        out.append(f"    shared: {_scalar(entry.shared)}")
        if entry.purposes:
            out.append(f"    purposes: {_flow(entry.purposes)}")
        if entry.shared_purposes:
            out.append(f"    shared_purposes: {_flow(entry.shared_purposes)}")
        if entry.optional is not None:
            out.append(f"    optional: {_scalar(entry.optional)}")
        if entry.ephemeral is not None:
            out.append(f"    ephemeral: {_scalar(entry.ephemeral)}")
    if denied:
        out.append(f"not_collected: {_flow(sorted(denied))}")
    out.append("third_parties:" + ("" if declaration.parties else " []"))
    for party in declaration.parties:
        if party.name in comments:
            out.extend(f"  # {line}" for line in comments[party.name].splitlines())
        out.append(f"  - name: {_scalar(party.name)}")
        if party.sdk_id:
            out.append(f"    sdk: {_scalar(party.sdk_id)}")
        if party.role:
            out.append(f"    role: {_scalar(party.role)}")
        out.append(f"    data_types: {_flow(party.data_types)}")
        if party.purposes:
            out.append(f"    purposes: {_flow(party.purposes)}")
    return "\n".join(out) + "\n"
