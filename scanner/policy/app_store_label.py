"""The App Store privacy label ("nutrition label") as a declaration: YAML in Apple's own words -> Declaration.

The label has three sections — Data Used to Track You, Data Linked to You, Data Not Linked to You — or says "Data
Not Collected". divulge's file keeps that shape, with Apple's data-type and purpose names (or the manifest keys):

    schema: divulge/app-store-label/1
    app: {bundle_id: org.example.shop, name: Shop}
    data_used_to_track_you: [Device ID]
    data_linked_to_you:
      - {type: Precise Location, purposes: [App Functionality]}
    data_not_linked_to_you:
      - {type: Device ID, purposes: [Third-Party Advertising, Analytics]}

The label is exhaustive: a data type it does not list is one the developer says the app does not collect, so it
becomes a denied entry (the rules on denied data then compare it with the code and the traffic).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scanner.errors import BadDeclaration
from scanner.knowledge.ios import data_type_key, load_ios_catalog, purpose_key
from scanner.model import DATA_TYPES, Declaration, DeclaredDataType
from scanner.yaml_lines import YamlDoc, load_yaml

SCHEMA_ID = "divulge/app-store-label/1"
_SECTIONS = ("data_used_to_track_you", "data_linked_to_you", "data_not_linked_to_you")
_KEYS = frozenset({"schema", "app", "data_not_collected", *_SECTIONS})


def is_app_store_label(data: Any) -> bool:
    return isinstance(data, dict) and data.get("schema") == SCHEMA_ID


def load_app_store_label(path: Path) -> Declaration:
    return label_from_doc(load_yaml(path, BadDeclaration))


def label_from_doc(doc: YamlDoc) -> Declaration:
    data = doc.data
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise BadDeclaration(f"unknown key {unknown[0]!r}; an App Store label has {', '.join(sorted(_KEYS))}",
                             path=doc.path, line=doc.key_line([], unknown[0]))
    catalog = load_ios_catalog()
    app = data.get("app") or {}
    declaration = Declaration(kind="app-store-label", path=doc.path, package=app.get("bundle_id"))
    not_collected = data.get("data_not_collected") is True
    if not_collected and any(data.get(s) for s in _SECTIONS):
        raise BadDeclaration("the label says Data Not Collected and lists collected data", path=doc.path,
                             line=doc.key_line([], "data_not_collected"))
    for section in _SECTIONS:
        items = data.get(section) or []
        if not isinstance(items, list):
            raise BadDeclaration(f"{section} must be a list", path=doc.path, line=doc.line_of([section]))
        for index, item in enumerate(items):
            name, purposes = (item, []) if isinstance(item, str) else (
                (item.get("type"), item.get("purposes") or []) if isinstance(item, dict) else (None, []))
            line = doc.line_of([section, index])
            key = data_type_key(str(name)) if name else None
            if key is None:
                raise BadDeclaration(f"unknown App Store data type {name!r} (Apple's names, e.g. 'Device ID', "
                                     "'Precise Location', 'Crash Data')", path=doc.path, line=line)
            purpose_ids = []
            for purpose in purposes:
                pkey = purpose_key(str(purpose))
                if pkey is None:
                    raise BadDeclaration(f"unknown App Store purpose {purpose!r} (e.g. 'Analytics', "
                                         "'Third-Party Advertising', 'App Functionality')", path=doc.path, line=line)
                purpose_ids.append(catalog.collected_purposes[pkey])
            tracking = section == "data_used_to_track_you"
            for data_type in catalog.collected_data_types[key]:
                entry = declaration.data_types.setdefault(data_type, DeclaredDataType(
                    data_type=data_type, collected=True, source=f"{doc.path}:{line}" if line else doc.path))
                entry.purposes = sorted(set(entry.purposes) | set(purpose_ids))
                if tracking:
                    # Tracking is Apple's word for sharing with third parties for advertising or data brokers.
                    entry.shared = True
                    entry.shared_purposes = sorted(set(entry.shared_purposes) | {"advertising"})
    for data_type in DATA_TYPES:
        if data_type not in declaration.data_types:
            declaration.data_types[data_type] = DeclaredDataType(
                data_type=data_type, denied=True,
                source=f"{doc.path}: " + ("Data Not Collected" if not_collected else "not on the label"))
    return declaration
