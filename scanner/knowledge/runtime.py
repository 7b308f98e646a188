"""What the runtime monitor hooks and how it reads a stack (rules/catalogs/runtime.yaml), and the agent's hook plan:
the Java APIs of the personal-data API catalog plus native reads, so the static and the runtime eye share one list."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from scanner.errors import BadCatalog
from scanner.knowledge import shipped_text
from scanner.knowledge.apis import RESOLVER_METHODS, ApiCatalog, load_api_catalog
from scanner.model import DATA_TYPES, IDENTIFIER_KINDS
from scanner.yaml_lines import parse_yaml

WHERE = "rules/catalogs/runtime.yaml"


@dataclass(frozen=True)
class NativeRead:
    what: str  # a path glob, "getifaddrs", or a system property name
    kind: str  # path | getifaddrs | property
    data_type: str
    identifier: str | None


@dataclass(frozen=True)
class RuntimeCatalog:
    framework_packages: tuple[str, ...]
    framework_modules: frozenset[str]
    native: tuple[NativeRead, ...]
    permission_requests: frozenset[tuple[str, str]] = frozenset()  # (class, method) that ask for permissions

    @functools.cached_property
    def _path_patterns(self) -> list[tuple[re.Pattern[str], NativeRead]]:
        return [(re.compile(glob_regex(n.what)), n) for n in self.native if n.kind == "path"]

    def native_read(self, api: str, argument: str | None) -> NativeRead | None:
        """The catalog entry behind one native event (open of a path, getifaddrs, a property read)."""
        if api == "getifaddrs":
            return next((n for n in self.native if n.kind == "getifaddrs"), None)
        if api == "__system_property_get":
            return next((n for n in self.native if n.kind == "property" and n.what == argument), None)
        if api == "open" and argument:
            return next((n for pattern, n in self._path_patterns if pattern.match(argument)), None)
        return None

    def is_framework_frame(self, frame: str) -> bool:
        return frame.startswith(self.framework_packages)

    def is_framework_module(self, frame: str) -> bool:
        return frame.split("!", 1)[0] in self.framework_modules or frame.startswith("?")


def glob_regex(glob: str) -> str:
    """A path glob (* within one segment) as an anchored regex, the form the agent matches paths with."""
    return "^" + ".*".join("[^/]*".join(re.escape(p) for p in part.split("*")) for part in glob.split("**")) + "$"


@functools.cache
def load_runtime_catalog() -> RuntimeCatalog:
    text = shipped_text("catalogs/runtime.yaml")
    return parse_runtime_catalog(text, WHERE)


def parse_runtime_catalog(text: str, where: str) -> RuntimeCatalog:
    doc = parse_yaml(text, where, BadCatalog)
    data = doc.data if isinstance(doc.data, dict) else {}
    native_raw = data.get("native") or {}
    reads: list[NativeRead] = []

    def entry(raw: Any, kind: str, what: str, path: list[Any]) -> None:
        line = doc.line_of(path)
        if not isinstance(raw, dict) or raw.get("data_type") not in DATA_TYPES:
            raise BadCatalog(f"native read {what!r} needs a known data_type", path=where, line=line)
        if raw.get("identifier") and raw["identifier"] not in IDENTIFIER_KINDS:
            raise BadCatalog(f"native read {what!r}: unknown identifier {raw['identifier']!r}", path=where, line=line)
        reads.append(NativeRead(what=what, kind=kind, data_type=raw["data_type"], identifier=raw.get("identifier")))

    for index, raw in enumerate(native_raw.get("paths") or []):
        entry(raw, "path", str((raw or {}).get("path", "")), ["native", "paths", index])
    if native_raw.get("getifaddrs"):
        entry(native_raw["getifaddrs"], "getifaddrs", "getifaddrs", ["native", "getifaddrs"])
    for index, raw in enumerate(native_raw.get("properties") or []):
        entry(raw, "property", str((raw or {}).get("name", "")), ["native", "properties", index])
    requests = []
    for index, dotted in enumerate(data.get("permission_requests") or []):
        cls, _, method = str(dotted).rpartition(".")
        if not cls or not method:
            raise BadCatalog(f"{dotted!r} is not Class.method", path=where, line=doc.line_of(["permission_requests", index]))
        requests.append((cls, method))
    packages = data.get("framework_packages")
    if not isinstance(packages, list) or not packages:
        raise BadCatalog("needs a framework_packages list", path=where, line=doc.line_of(["framework_packages"]))
    return RuntimeCatalog(framework_packages=tuple(str(p) for p in packages),
                          framework_modules=frozenset(str(m) for m in data.get("framework_modules") or []),
                          native=tuple(reads), permission_requests=frozenset(requests))


def hook_plan(apis: ApiCatalog | None = None, runtime: RuntimeCatalog | None = None) -> dict[str, Any]:
    """The agent's init() argument: Java methods to hook and native reads to watch."""
    apis = apis or load_api_catalog()
    runtime = runtime or load_runtime_catalog()
    methods = sorted({m for entry in apis.entries for m in entry.methods} | set(RESOLVER_METHODS)
                     | runtime.permission_requests)
    paths = [n.what for n in runtime.native if n.kind == "path"]
    # The file paths the static catalog looks for as strings are read at run time with open().
    paths += sorted({s for entry in apis.entries for s in entry.strings if s.startswith("/")})
    return {
        "java": [{"class": cls, "method": method} for cls, method in methods],
        "native": {"paths": [glob_regex(p) for p in dict.fromkeys(paths)],
                   "getifaddrs": any(n.kind == "getifaddrs" for n in runtime.native),
                   "properties": [n.what for n in runtime.native if n.kind == "property"]},
    }
