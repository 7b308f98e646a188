"""The SDK catalog: our YAML entries (and imported Exodus lists) and the one-pass matchers over them."""

from __future__ import annotations

import copy
import difflib
import fnmatch
import functools
import hashlib
import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import ahocorasick
import yaml

from scanner.errors import BadCatalog
from scanner.knowledge import shipped_text
from scanner.model import DATA_TYPES, IDENTIFIER_KINDS, SDK_CATEGORIES, SDK_ROLES, SdkRole
from scanner.yaml_lines import FAST_SAFE_LOADER

log = logging.getLogger(__name__)

_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_LITERAL_RE = re.compile(r"^[\w.$/\\-]+$")


@dataclass
class SdkEntry:
    id: str
    name: str
    owner: str
    country: str
    categories: list[str]
    code: list[str] = field(default_factory=list)
    components: list[str] = field(default_factory=list)
    meta_data: list[str] = field(default_factory=list)
    providers: list[str] = field(default_factory=list)
    permissions: list[str] = field(default_factory=list)
    native_libs: list[str] = field(default_factory=list)
    domains: list[str] = field(default_factory=list)
    data_types: list[str] = field(default_factory=list)
    identifiers: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    website: str | None = None
    source: str = "divulge"  # divulge | exodus
    exodus_patterns: list[str] = field(default_factory=list)  # Exodus code signatures, regex-search semantics
    # Who the vendor is to the app (docs/sdk-catalog.md, "Role"); None for imported lists, which say nothing of it.
    role: str | None = None
    role_setting: str | None = None
    role_source: str | None = None
    role_meta_data: list[str] = field(default_factory=list)  # manifest <meta-data> names of the role's setting
    # iOS signatures (issue 17): framework (module) names, Objective-C class-name prefixes, Info.plist keys.
    ios_frameworks: list[str] = field(default_factory=list)
    ios_classes: list[str] = field(default_factory=list)
    ios_plist_keys: list[str] = field(default_factory=list)


class LibraryIndex:
    """Longest dotted-prefix lookup: 'com.umeng.analytics.Foo' -> owner of 'com.umeng.analytics'.

    A hash lookup per package level is a prefix trie in all but name, and matches every class
    against every signature in one pass (Exodus runs one regex per tracker over every class).
    """

    def __init__(self) -> None:
        self._owners: dict[str, str] = {}
        # Class-name prefixes (last segment capitalised, e.g. com.stub.StubApp) match as text within
        # their package: package -> [(simple-name prefix, owner)].
        self._class_prefixes: dict[str, list[tuple[str, str]]] = {}

    def add(self, prefix: str, owner: str) -> None:
        prefix = prefix.strip().rstrip(".*")
        if not prefix:
            return
        package, _, last = prefix.rpartition(".")
        if package and last[:1].isupper():
            self._class_prefixes.setdefault(package, []).append((last, owner))
        else:
            self._owners.setdefault(prefix, owner)

    def lookup(self, dotted: str) -> str | None:
        return self.lookup_prefix(dotted)[0]

    def lookup_prefix(self, dotted: str) -> tuple[str | None, int]:
        """The owner and the length of the prefix that matched (0 when none did)."""
        package, _, simple = dotted.rpartition(".")
        if self._class_prefixes and package in self._class_prefixes:
            for name_prefix, owner in self._class_prefixes[package]:
                if simple.startswith(name_prefix):
                    return owner, len(package) + 1 + len(name_prefix)
        owners = self._owners
        end = len(dotted)
        while end > 0:
            hit = owners.get(dotted[:end])
            if hit is not None:
                return hit, end
            end = dotted.rfind(".", 0, end)
        return None, 0

    def __len__(self) -> int:
        return len(self._owners)


class SdkCatalog:
    """All SDK entries plus indexes by code prefix, manifest names, native library, domain."""

    def __init__(self, entries: Iterable[SdkEntry], *, version: str, sha256: str,
                 libraries: Iterable[str] = ()) -> None:
        self.entries: dict[str, SdkEntry] = {}
        for entry in entries:
            if entry.id in self.entries:
                raise BadCatalog(f"duplicate SDK id {entry.id!r}")
            self.entries[entry.id] = entry
        self.version = version
        self.sha256 = sha256
        self.code_index = LibraryIndex()
        self._manifest_names: dict[str, str] = {}
        self._meta_keys: dict[str, str] = {}
        self._role_meta_keys: dict[str, list[str]] = {}
        self._permissions: dict[str, list[str]] = {}
        self._lib_names: dict[str, str] = {}
        self._lib_globs: list[tuple[str, str]] = []
        self._domains: dict[str, str] = {}
        self._domain_patterns: list[tuple[re.Pattern[str], str]] = []
        self._exodus = ahocorasick.Automaton()
        self._exodus_count = 0
        self._own_package = ""
        self._ios_frameworks: dict[str, str] = {}
        self._ios_classes: dict[str, str] = {}
        self._ios_plist_keys: dict[str, str] = {}
        for entry in self.entries.values():
            self._index(entry)
        # Known non-SDK libraries and the framework: not "the app", not a tracker.
        for prefix in libraries:
            self.code_index.add(prefix, "lib")
        if self._exodus_count:
            self._exodus.make_automaton()
        self._ios_class_lengths = sorted({len(p) for p in self._ios_classes}, reverse=True)
        # Every prefix has at least 3 characters (the catalog test enforces it), so its first 3 gate the lookup.
        self._ios_class_starts = {p[:3] for p in self._ios_classes}

    def _index(self, entry: SdkEntry) -> None:
        for prefix in entry.code:
            self.code_index.add(prefix, entry.id)
        for name in entry.components + entry.providers:
            self._manifest_names.setdefault(name, entry.id)
        for key in entry.meta_data:
            self._meta_keys.setdefault(key, entry.id)
        for key in entry.role_meta_data:
            self._role_meta_keys.setdefault(key, []).append(entry.id)
        for permission in entry.permissions:
            self._permissions.setdefault(permission, []).append(entry.id)
        for lib in entry.native_libs:
            if any(c in lib for c in "*?["):
                self._lib_globs.append((lib, entry.id))
            else:
                self._lib_names.setdefault(lib, entry.id)
        for domain in entry.domains:
            if entry.source == "exodus" and not _LITERAL_RE.match(domain.replace("\\.", ".")):
                try:
                    self._domain_patterns.append((re.compile(domain), entry.id))
                except re.error:
                    log.warning("SDK %s: unusable network signature %r", entry.id, domain)
                continue
            self._domains.setdefault(domain.replace("\\.", ".").lower().strip("."), entry.id)
        for name in entry.ios_frameworks:
            self._ios_frameworks.setdefault(name.lower(), entry.id)
        for prefix in entry.ios_classes:
            self._ios_classes.setdefault(prefix, entry.id)
        for key in entry.ios_plist_keys:
            self._ios_plist_keys.setdefault(key, entry.id)
        for pattern in entry.exodus_patterns:
            for alternative in pattern.split("|"):
                literal = alternative.replace("\\.", ".").replace("/", ".").strip()
                if len(literal) > 1:
                    existing = self._exodus.get(literal, ())
                    self._exodus.add_word(literal, (*existing, entry.id))
                    self._exodus_count += 1

    # -- lookups ---------------------------------------------------------------------------------

    def owner_of_class(self, dotted: str) -> str | None:
        """SDK id, 'lib' for a known library, or None for the app's own code."""
        own = self._own_package
        if own and dotted.startswith(own) and dotted[len(own):len(own) + 1] in ("", ".", "$"):
            owner, length = self.code_index.lookup_prefix(dotted)
            # An app whose package sits inside an SDK's namespace (cn.jiguang.demo under JPush's cn.jiguang) owns
            # its classes; only an SDK prefix more specific than the app's package still claims them.
            return owner if owner == "lib" or length > len(own) else None
        return self.code_index.lookup(dotted)

    def origin_of_class(self, dotted: str) -> tuple[str, str | None]:
        """(origin, SDK id) of a class: ("app", None), ("sdk", id) or ("library", None)."""
        owner = self.owner_of_class(dotted)
        if owner is None:
            return "app", None
        return ("library", None) if owner == "lib" else ("sdk", owner)

    def for_app(self, package: str | None) -> SdkCatalog:
        """This catalog as seen from one app: classes in the app's own package namespace are the app's.

        A shallow copy: the indexes are shared, so it costs nothing and the process-wide catalog is not changed."""
        scoped = copy.copy(self)
        scoped._own_package = (package or "").strip(".")
        return scoped

    def sdk_for_manifest_name(self, name: str) -> str | None:
        return self._manifest_names.get(name)

    def sdk_for_meta_data(self, key: str) -> str | None:
        return self._meta_keys.get(key)

    def sdks_for_role_meta_data(self, key: str) -> list[str]:
        """SDKs whose role (`depends`) a manifest <meta-data> of this name bears on."""
        return self._role_meta_keys.get(key, [])

    def sdks_for_permission(self, name: str) -> list[str]:
        """SDKs whose manifest merges this permission in (several may share one, e.g. c2dm RECEIVE)."""
        return self._permissions.get(name, [])

    def sdk_for_native_lib(self, file_name: str) -> str | None:
        hit = self._lib_names.get(file_name)
        if hit:
            return hit
        for pattern, sdk_id in self._lib_globs:
            if fnmatch.fnmatchcase(file_name, pattern):
                return sdk_id
        return None

    def sdk_for_host(self, host: str) -> SdkEntry | None:
        """The SDK that talks to this host: exact domain or a parent domain in the catalog."""
        host = host.lower().strip(".")
        probe = host
        while probe:
            hit = self._domains.get(probe)
            if hit:
                return self.entries[hit]
            dot = probe.find(".")
            if dot < 0:
                break
            probe = probe[dot + 1:]
        for pattern, sdk_id in self._domain_patterns:
            if pattern.search(host):
                return self.entries[sdk_id]
        return None

    def sdk_for_ios_framework(self, name: str) -> str | None:
        """FirebaseAnalytics(.framework) -> its SDK; framework names are matched ignoring case, as dyld does on iOS."""
        return self._ios_frameworks.get(name.removesuffix(".framework").lower())

    def sdk_for_objc_class(self, name: str) -> str | None:
        """An Objective-C class (or a Swift `Module.Class`) -> the SDK with the longest matching class prefix.

        Objective-C has no packages, so SDKs mark their classes with a prefix (FIR, GAD, JPUSH); a Swift class is
        tried by its module (a framework name) first."""
        module, dot, simple = name.partition(".")
        if dot:
            hit = self._ios_frameworks.get(module.lower())
            if hit:
                return hit
            name = simple
        if name[:3] not in self._ios_class_starts:
            return None  # most classes are the app's own: one set lookup rejects them
        classes = self._ios_classes
        for end in self._ios_class_lengths:  # longest first; only lengths some prefix has (a few dozen lookups)
            if end <= len(name):
                hit = classes.get(name[:end])
                if hit:
                    return hit
        return None

    def sdk_for_plist_key(self, key: str) -> str | None:
        return self._ios_plist_keys.get(key)

    def exodus_matches(self, dotted: str) -> set[str]:
        """Exodus semantics: a tracker matches when its signature occurs anywhere in the class name."""
        if not self._exodus_count:
            return set()
        found: set[str] = set()
        for _, ids in self._exodus.iter(dotted):
            found.update(ids)
        return found

    @property
    def has_exodus(self) -> bool:
        return self._exodus_count > 0

    @functools.cached_property
    def roles(self) -> dict[str, SdkRole]:
        """Every entry's role, by SDK id: what the engine needs to tell sharing from collection."""
        return {sdk_id: SdkRole(e.role, e.role_setting, e.role_source) for sdk_id, e in self.entries.items()}

    def summary(self) -> dict[str, Any]:
        return {"name": "divulge-sdk-catalog", "version": self.version, "sha256": self.sha256,
                "entries": len(self.entries)}


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------

_REQUIRED = ("id", "name", "owner", "country", "categories")
_LIST_FIELDS = ("code", "native_libs", "domains", "data_types", "identifiers", "sources", "categories")
_MANIFEST_FIELDS = ("components", "meta_data", "providers", "permissions")


def _line_of(blob: bytes, sdk_id: str, key: str | None = None) -> int | None:
    """1-based line of an entry's `id:` (or of `key:` within that entry) in a catalog file.

    The catalogs are read with libyaml's fast loader, which keeps no marks; an error is rare, so its line is
    looked up in the text then."""
    lines = blob.decode("utf-8", "replace").splitlines()
    id_re = re.compile(r"^\s*-?\s*id:\s*['\"]?" + re.escape(sdk_id) + r"['\"]?\s*(#.*)?$")
    start = next((i for i, line in enumerate(lines) if id_re.match(line)), None)
    if start is None:
        return None
    if key is None:
        return start + 1
    key_re = re.compile(r"^\s*" + re.escape(key) + r":")
    for i in range(start + 1, len(lines)):
        if lines[i].startswith("- "):
            break  # the next entry of the list: the key is missing, so the entry's line it is
        if key_re.match(lines[i]):
            return i + 1
    return start + 1


def _role(raw: dict[str, Any], sdk_id: str, where: str, blob: bytes) -> tuple[str | None, str | None, str | None,
                                                                            list[str]]:
    """role, role_setting, role_source, role_meta_data of an entry, checked."""
    role = raw.get("role")
    setting = raw.get("role_setting")
    meta = raw.get("role_meta_data") or []
    if role is None:
        if setting is not None or meta:
            raise BadCatalog(f"SDK {sdk_id}: role_setting and role_meta_data go with `role: depends`", path=where,
                             line=_line_of(blob, sdk_id, "role_setting" if setting is not None else "role_meta_data"))
        return None, None, None, []
    if role not in SDK_ROLES:
        hint = difflib.get_close_matches(str(role), SDK_ROLES, n=1)
        raise BadCatalog(f"SDK {sdk_id}: unknown role {role!r}; a role is one of {', '.join(SDK_ROLES)}"
                         + (f" (did you mean {hint[0]!r}?)" if hint else ""), path=where,
                         line=_line_of(blob, sdk_id, "role"))
    if role == "depends" and not (isinstance(setting, str) and setting.strip()):
        raise BadCatalog(f"SDK {sdk_id}: `role: depends` needs role_setting naming the setting that decides it",
                         path=where, line=_line_of(blob, sdk_id, "role"))
    if role != "depends" and (setting is not None or meta):
        raise BadCatalog(f"SDK {sdk_id}: role_setting and role_meta_data only go with `role: depends`", path=where,
                         line=_line_of(blob, sdk_id, "role_setting" if setting is not None else "role_meta_data"))
    if not isinstance(meta, list) or not all(isinstance(m, str) for m in meta):
        raise BadCatalog(f"SDK {sdk_id}: role_meta_data must be a list of <meta-data> names", path=where,
                         line=_line_of(blob, sdk_id, "role_meta_data"))
    source = raw.get("role_source")
    return str(role), setting.strip() if isinstance(setting, str) else None, \
        str(source) if source is not None else None, list(meta)


def _entry_from_yaml(raw: Any, where: str, blob: bytes = b"") -> SdkEntry:
    if not isinstance(raw, dict):
        raise BadCatalog("each SDK entry must be a mapping", path=where)
    missing = [k for k in _REQUIRED if not raw.get(k)]
    if missing:
        raise BadCatalog(f"SDK entry {raw.get('id', '?')!r} lacks {', '.join(missing)}", path=where)
    sdk_id = str(raw["id"])
    if not _ID_RE.match(sdk_id):
        raise BadCatalog(f"SDK id {sdk_id!r} must be lower-case letters, digits and dashes", path=where)
    for key in _LIST_FIELDS:
        if key in raw and not isinstance(raw[key], list):
            raise BadCatalog(f"SDK {sdk_id}: {key} must be a list", path=where)
    manifest = raw.get("manifest") or {}
    if not isinstance(manifest, dict):
        raise BadCatalog(f"SDK {sdk_id}: manifest must be a mapping", path=where)
    bad_types = [t for t in raw.get("data_types", []) if t not in DATA_TYPES]
    if bad_types:
        raise BadCatalog(f"SDK {sdk_id}: unknown data types {bad_types}", path=where)
    bad_cats = [c for c in raw["categories"] if c not in SDK_CATEGORIES]
    if bad_cats:
        raise BadCatalog(f"SDK {sdk_id}: unknown categories {bad_cats}", path=where)
    bad_ids = [i for i in raw.get("identifiers", []) if i not in IDENTIFIER_KINDS]
    if bad_ids:
        raise BadCatalog(f"SDK {sdk_id}: unknown identifier kinds {bad_ids}", path=where)
    role, role_setting, role_source, role_meta_data = _role(raw, sdk_id, where, blob)
    ios = raw.get("ios") or {}
    if not isinstance(ios, dict) or set(ios) - {"frameworks", "classes", "plist_keys"} or not all(
            isinstance(v, list) for v in ios.values()):
        raise BadCatalog(f"SDK {sdk_id}: ios must map frameworks, classes and plist_keys to lists", path=where,
                         line=_line_of(blob, sdk_id, "ios"))
    return SdkEntry(
        id=sdk_id, name=str(raw["name"]), owner=str(raw["owner"]), country=str(raw["country"]),
        categories=list(raw["categories"]), code=[str(c) for c in raw.get("code", [])],
        components=[str(c) for c in manifest.get("components", []) or []],
        meta_data=[str(c) for c in manifest.get("meta_data", []) or []],
        providers=[str(c) for c in manifest.get("providers", []) or []],
        permissions=[str(c) for c in manifest.get("permissions", []) or []],
        native_libs=[str(c) for c in raw.get("native_libs", [])],
        domains=[str(c) for c in raw.get("domains", [])],
        data_types=list(raw.get("data_types", [])), identifiers=list(raw.get("identifiers", [])),
        sources=[str(s) for s in raw.get("sources", [])], website=raw.get("website"),
        role=role, role_setting=role_setting, role_source=role_source, role_meta_data=role_meta_data,
        ios_frameworks=[str(n) for n in ios.get("frameworks", [])], ios_classes=[str(n) for n in ios.get("classes", [])],
        ios_plist_keys=[str(n) for n in ios.get("plist_keys", [])],
    )


def _yaml_error(exc: yaml.YAMLError, where: str) -> BadCatalog:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return BadCatalog(f"invalid YAML: {problem}", path=where, line=mark.line + 1 if mark else None)


def _builtin_files() -> list[tuple[str, bytes]]:
    root = resources.files("scanner.rules").joinpath("sdks")
    files = sorted((p for p in root.iterdir() if p.name.endswith(".yaml")), key=lambda p: p.name)
    return [(f"rules/sdks/{p.name}", p.read_bytes()) for p in files]


def _libraries() -> list[str]:
    text = shipped_text("catalogs/libraries.yaml")
    return list(yaml.load(text, Loader=FAST_SAFE_LOADER)["libraries"])


def load_exodus_json(path: Path) -> list[SdkEntry]:
    """An Exodus tracker list (the JSON its API serves) -> catalog entries with Exodus match semantics."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadCatalog(f"cannot read Exodus tracker list: {exc}", path=str(path)) from exc
    trackers = data.get("trackers") if isinstance(data, dict) else None
    if not isinstance(trackers, dict):
        raise BadCatalog("not an Exodus tracker list: no 'trackers' mapping", path=str(path))
    entries = []
    for key, tracker in trackers.items():
        if not isinstance(tracker, dict) or "name" not in tracker:
            raise BadCatalog(f"tracker {key!r} is not a mapping with a name", path=str(path))
        signature = str(tracker.get("code_signature") or "")
        network = str(tracker.get("network_signature") or "")
        entries.append(SdkEntry(
            id=f"exodus-{tracker.get('id', key)}", name=str(tracker["name"]),
            owner=str(tracker["name"]), country="", categories=["other"],
            # exodus-core ignores signatures of 3 characters or fewer; so do we.
            exodus_patterns=[signature] if len(signature) > 3 else [],
            domains=[d for d in network.split("|") if d] if network else [],
            website=tracker.get("website"), source="exodus",
            sources=[f"exodus:{tracker.get('id', key)}"],
        ))
    return entries


def load_catalog(extra: Path | None = None) -> SdkCatalog:
    """The built-in catalog, plus an Exodus tracker JSON when `extra` is given (--sdk-db)."""
    digest = hashlib.sha256()
    entries: list[SdkEntry] = []
    version = "unknown"
    for where, blob in _builtin_files():
        digest.update(blob)
        try:
            raw = yaml.load(blob, Loader=FAST_SAFE_LOADER)
        except yaml.YAMLError as exc:
            raise _yaml_error(exc, where) from exc
        if where.endswith("/_catalog.yaml"):
            version = str((raw or {}).get("version", version))
            continue
        if not isinstance(raw, list):
            raise BadCatalog("an SDK catalog file must be a YAML list", path=where)
        entries.extend(_entry_from_yaml(item, where, blob) for item in raw)
    if extra is not None:
        blob = extra.read_bytes() if extra.is_file() else b""
        if not blob:
            raise BadCatalog("SDK database file not found or empty", path=str(extra))
        digest.update(blob)
        if extra.suffix.lower() in (".yaml", ".yml"):
            try:
                raw = yaml.load(blob, Loader=FAST_SAFE_LOADER)
            except yaml.YAMLError as exc:
                raise _yaml_error(exc, str(extra)) from exc
            if not isinstance(raw, list):
                raise BadCatalog("an SDK catalog file must be a YAML list", path=str(extra))
            entries.extend(_entry_from_yaml(item, str(extra), blob) for item in raw)
        else:
            entries.extend(load_exodus_json(extra))
    return SdkCatalog(entries, version=version, sha256=digest.hexdigest(), libraries=_libraries())


@functools.lru_cache(maxsize=4)
def shared_catalog(extra: Path | None = None) -> SdkCatalog:
    """The catalog for this process: parsed once per `extra` and never changed after (every reader only looks up).

    Building it costs more than scanning a typical app; batch workers inherit it from a warm parent.
    """
    return load_catalog(extra)
