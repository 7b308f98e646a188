"""The special-access catalog (rules/catalogs/special_access.yaml): accessibility, notification listeners, input
methods, VPN, usage access, screen capture and the like, with how each shows in an APK."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from scanner.errors import BadCatalog
from scanner.knowledge import shipped_text
from scanner.model import DATA_TYPES
from scanner.yaml_lines import parse_yaml

WHERE = "rules/catalogs/special_access.yaml"

# android.content.pm.ServiceInfo.FOREGROUND_SERVICE_TYPE_*: the manifest stores the attribute as these flags.
FGS_TYPE_BITS: dict[str, int] = {
    "dataSync": 0x1, "mediaPlayback": 0x2, "phoneCall": 0x4, "location": 0x8, "connectedDevice": 0x10,
    "mediaProjection": 0x20, "camera": 0x40, "microphone": 0x80, "health": 0x100, "remoteMessaging": 0x200,
    "systemExempted": 0x400, "shortService": 0x800, "fileManagement": 0x1000, "mediaProcessing": 0x2000,
    "specialUse": 0x40000000,
}

_KEYS = frozenset({"id", "label", "label_zh", "sees", "data_types", "component_permission", "intent_actions",
                   "config_meta_data", "permissions", "methods", "fgs_types", "source", "user_action_methods", "sees_zh"})


@dataclass(frozen=True)
class AccessKind:
    id: str
    label: str
    label_zh: str
    sees: str
    sees_zh: str
    data_types: tuple[str, ...]
    component_permission: str | None = None
    intent_actions: tuple[str, ...] = ()
    config_meta_data: str | None = None
    permissions: tuple[str, ...] = ()
    methods: tuple[tuple[str, str], ...] = ()  # (dotted class, method name)
    fgs_types: tuple[str, ...] = ()
    source: str = ""
    user_action_methods: frozenset[str] = frozenset()  # caller method names where a call answers the user's action


@dataclass(frozen=True)
class SpecialAccessCatalog:
    kinds: tuple[AccessKind, ...]

    @functools.cached_property
    def by_id(self) -> dict[str, AccessKind]:
        return {k.id: k for k in self.kinds}

    @functools.cached_property
    def wanted_members(self) -> frozenset[tuple[str, str]]:
        return frozenset(m for k in self.kinds for m in k.methods)

    def for_component(self, permission: str | None, actions: list[str]) -> AccessKind | None:
        """The kind a <service>/<receiver> grants: the system-only permission guarding it, else its intent action."""
        for kind in self.kinds:
            if kind.component_permission and permission == kind.component_permission:
                return kind
        for kind in self.kinds:
            if set(kind.intent_actions) & set(actions):
                return kind
        return None


@functools.cache
def load_special_access() -> SpecialAccessCatalog:
    text = shipped_text("catalogs/special_access.yaml")
    return parse_special_access(text, WHERE)


def parse_special_access(text: str, where: str) -> SpecialAccessCatalog:
    """A special-access catalog from its YAML text; every mistake raises BadCatalog with the file and line."""
    doc = parse_yaml(text, where, BadCatalog)
    raw = doc.data.get("kinds") if isinstance(doc.data, dict) else None
    if not isinstance(raw, list):
        raise BadCatalog("needs a `kinds:` list", path=where)
    kinds = []
    for index, item in enumerate(raw):
        line = doc.line_of(["kinds", index])
        if not isinstance(item, dict) or not item.get("id") or not item.get("label") or not item.get("sees"):
            raise BadCatalog("each kind needs an id, a label and what it `sees`", path=where, line=line)
        unknown_keys = sorted(set(item) - _KEYS)
        if unknown_keys:
            raise BadCatalog(f"kind {item['id']}: unknown keys {unknown_keys}", path=where, line=line)
        bad_types = [t for t in item.get("data_types", []) if t not in DATA_TYPES]
        if bad_types:
            raise BadCatalog(f"kind {item['id']}: unknown data types {bad_types}", path=where, line=line)
        bad_fgs = [t for t in item.get("fgs_types", []) if t not in FGS_TYPE_BITS]
        if bad_fgs:
            raise BadCatalog(f"kind {item['id']}: unknown foreground service types {bad_fgs}", path=where, line=line)
        methods = []
        for dotted in item.get("methods", []):
            cls, _, member = str(dotted).rpartition(".")
            if not cls or not member:
                raise BadCatalog(f"kind {item['id']}: {dotted!r} is not Class.method", path=where, line=line)
            methods.append((cls, member))
        if not (item.get("component_permission") or item.get("intent_actions") or item.get("permissions")
                or methods or item.get("fgs_types")):
            raise BadCatalog(f"kind {item['id']}: says nothing about how to find it", path=where, line=line)
        kinds.append(AccessKind(
            id=item["id"], label=item["label"], label_zh=item.get("label_zh") or item["label"], sees=item["sees"],
            sees_zh=item.get("sees_zh") or item["sees"],
            data_types=tuple(item.get("data_types", [])), component_permission=item.get("component_permission"),
            intent_actions=tuple(item.get("intent_actions", [])), config_meta_data=item.get("config_meta_data"),
            permissions=tuple(item.get("permissions", [])), methods=tuple(methods),
            fgs_types=tuple(item.get("fgs_types", [])), source=item.get("source", ""),
            user_action_methods=frozenset(item.get("user_action_methods", []))))
    ids = [k.id for k in kinds]
    if len(set(ids)) != len(ids):
        raise BadCatalog(f"duplicate kind ids: {sorted({i for i in ids if ids.count(i) > 1})}", path=where)
    return SpecialAccessCatalog(tuple(kinds))
