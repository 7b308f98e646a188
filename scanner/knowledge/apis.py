"""The personal-data API catalog (rules/catalogs/apis.yaml) and the permission -> data type map."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import yaml

from scanner.errors import BadCatalog
from scanner.knowledge import shipped_text
from scanner.model import DATA_TYPES, IDENTIFIER_KINDS
from scanner.yaml_lines import FAST_SAFE_LOADER


@dataclass(frozen=True)
class ApiEntry:
    id: str
    data_type: str
    identifier: str | None
    permission: str | None
    methods: tuple[tuple[str, str], ...]  # (dotted class, method name)
    fields: tuple[tuple[str, str], ...]
    strings: tuple[str, ...]  # const-strings; trailing * = prefix
    requires_strings: tuple[str, ...]
    capability: bool = True  # False: the call is reported but does not by itself reach the data type


# Content-provider calls: a use of a provider API is the query of a URI (or URI field) in the same method.
RESOLVER_METHODS: tuple[tuple[str, str], ...] = (
    ("android.content.ContentResolver", "query"),
    ("android.content.ContentResolver", "registerContentObserver"),
    ("android.content.ContentProviderClient", "query"),
    ("android.content.CursorLoader", "<init>"),
    ("androidx.loader.content.CursorLoader", "<init>"),
)


@dataclass
class ApiCatalog:
    entries: list[ApiEntry]
    by_member: dict[tuple[str, str], list[ApiEntry]] = field(default_factory=dict)
    by_string: dict[str, list[ApiEntry]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for entry in self.entries:
            for member in entry.methods + entry.fields:
                self.by_member.setdefault(member, []).append(entry)
            for text in entry.strings:
                self.by_string.setdefault(text, []).append(entry)

    # Read for every dex file of every app: built once per catalog.
    @functools.cached_property
    def wanted_members(self) -> frozenset[tuple[str, str]]:
        return frozenset(self.by_member) | frozenset(RESOLVER_METHODS)

    @functools.cached_property
    def wanted_strings(self) -> frozenset[str]:
        return frozenset(self.by_string).union(*(entry.requires_strings for entry in self.entries))

    def opens_capability(self, api: str) -> bool:
        """Whether a call of `api` (Class.member) reaches its data type; unknown APIs do (rule tests name any)."""
        cls, _, member = api.rpartition(".")
        entries = self.by_member.get((cls, member))
        return not entries or any(entry.capability for entry in entries)

    def entries_for_string(self, text: str) -> list[ApiEntry]:
        hits = list(self.by_string.get(text, ()))
        for pattern, entries in self.by_string.items():
            if pattern.endswith("*") and text.startswith(pattern[:-1]):
                hits.extend(entries)
        return hits


def _split_member(dotted: str, where: str) -> tuple[str, str]:
    cls, _, member = dotted.rpartition(".")
    if not cls or not member:
        raise BadCatalog(f"{dotted!r} is not Class.member", path=where)
    return cls, member


@functools.cache
def load_api_catalog() -> ApiCatalog:
    where = "rules/catalogs/apis.yaml"
    raw = yaml.load(shipped_text("catalogs/apis.yaml"), Loader=FAST_SAFE_LOADER)
    entries = []
    for item in raw["apis"]:
        if item["data_type"] not in DATA_TYPES:
            raise BadCatalog(f"API {item['id']}: unknown data type {item['data_type']}", path=where)
        if item.get("identifier") and item["identifier"] not in IDENTIFIER_KINDS:
            raise BadCatalog(f"API {item['id']}: unknown identifier {item['identifier']}", path=where)
        entries.append(ApiEntry(
            id=item["id"], data_type=item["data_type"], identifier=item.get("identifier"),
            permission=item.get("permission"),
            methods=tuple(_split_member(m, where) for m in item.get("methods", [])),
            fields=tuple(_split_member(f, where) for f in item.get("fields", [])),
            strings=tuple(item.get("strings", [])),
            requires_strings=tuple(item.get("requires_strings", [])),
            capability=bool(item.get("capability", True)),
        ))
    return ApiCatalog(entries)


@functools.cache
def permission_data_types() -> dict[str, list[str]]:
    text = shipped_text("catalogs/permissions.yaml")
    mapping = yaml.load(text, Loader=FAST_SAFE_LOADER)["permissions"]
    for name, types in mapping.items():
        unknown = [t for t in types if t not in DATA_TYPES]
        if unknown:
            raise BadCatalog(f"permission {name}: unknown data types {unknown}", path="rules/catalogs/permissions.yaml")
    return {name: list(types) for name, types in mapping.items()}
