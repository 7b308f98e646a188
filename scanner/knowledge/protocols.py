"""Tracker protocols as data: which endpoint a request goes to and what each of its fields carries.

The data lives in rules/protocols/*.yaml (one file per vendor or market, schema rules/schema/protocol.schema.json).
An endpoint names its hosts (a host matches itself and its subdomains; `*` globs are allowed), an optional path
regex, and its fields: where each sits (query, form, JSON path, header, cookie, URL path group, protobuf field
path) and which data type and identifier kind it carries. The dynamic eye asks `match(host, path)` once per flow
and `values(...)` only for flows that matched, so the protocols cost a dictionary look-up on every other flow.
"""

from __future__ import annotations

import base64
import fnmatch
import functools
import json
import re
from collections.abc import Container, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from scanner.errors import BadCatalog
from scanner.knowledge import shipped_text
from scanner.model import DATA_TYPES, IDENTIFIER_KINDS
from scanner.yaml_lines import FAST_SAFE_LOADER, YamlDoc, load_yaml, parse_yaml, raise_schema_errors

# Where a field sits, and which part of a request (Observation.where) that is.
LOCATIONS: dict[str, str] = {
    "query": "query", "form": "body", "json": "body", "protobuf": "body", "header": "header",
    "cookie": "cookie", "path": "path",
}

# Values SDKs send when they have no value or may not use it: not personal data, whatever the field.
_PLACEHOLDERS = frozenset({
    "", "null", "none", "nil", "undefined", "unknown", "0", "-1", "false", "true", "n/a", "na",
    "00000000-0000-0000-0000-000000000000", "00000000000000000000000000000000", "0000000000000000",
    "000000000000000", "02:00:00:00:00:00", "00:00:00:00:00:00", "020000000000",
})


@dataclass(frozen=True, slots=True)
class ProtocolField:
    location: str  # a key of LOCATIONS
    key: str  # parameter / header / cookie name, dotted JSON path ("a.b", "[]" for array items), path group, pb path
    data_type: str
    identifier: str | None
    leaf: str = ""  # the last step of the key: what the peeler's key/value pairs call this field (set below)
    leaf_lower: str = ""  # compared with the keys of a request's other hits for every value found
    steps: tuple[str, ...] = ()  # a JSON path's steps

    def __post_init__(self) -> None:
        object.__setattr__(self, "leaf", self.key.rsplit(".", 1)[-1].removesuffix("[]") if self.location == "json"
                           else self.key)
        object.__setattr__(self, "leaf_lower", self.leaf.lower())
        if self.location == "json":
            object.__setattr__(self, "steps", tuple(self.key.split(".")))

    @property
    def where(self) -> str:
        return LOCATIONS[self.location]



@dataclass(frozen=True, slots=True)
class _PartIndex:
    plain: dict[str, tuple[ProtocolField, ...]]
    dotted: tuple[tuple[str, ProtocolField], ...]  # (last key lower-cased, field)
    protobuf: dict[str, tuple[ProtocolField, ...]]
    leaves: frozenset[str]  # every lower-cased last key above: most keys of a layer are none of them
    # Key as sent -> (its lower-cased form, the fields it names): a layer's keys come back request after request,
    # and one look-up of the key itself costs less than lower-casing it and looking that up. Plain and protobuf
    # keys apart, as they name different fields.
    seen: dict[str, tuple[str, tuple[ProtocolField, ...]] | None] = field(default_factory=dict)
    seen_protobuf: dict[str, tuple[str, tuple[ProtocolField, ...]] | None] = field(default_factory=dict)

    def entry(self, key: str, protobuf: bool) -> tuple[str, tuple[ProtocolField, ...]] | None:
        """What a key sent in a layer names here (None: nothing, the usual answer), remembered."""
        seen = self.seen_protobuf if protobuf else self.seen
        lowered = key.lower()
        found = (lowered, (self.protobuf if protobuf else self.plain).get(lowered, ())) if lowered in self.leaves \
            else None
        if len(seen) >= _SEEN_KEYS:
            seen.clear()
        seen[key] = found
        return found


_SEEN_KEYS = 4096


@dataclass(frozen=True, slots=True)
class Example:
    """A request written to the endpoint's documentation: its test, and the reader's picture of it."""

    method: str
    url: str
    body: bytes | None
    content_type: str | None
    headers: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True, eq=False)  # compared and hashed by identity: analysis memos key on it
class Endpoint:
    id: str
    name: str
    vendor: str
    sdk: str | None  # SDK catalog id
    hosts: tuple[str, ...]
    path: re.Pattern[str] | None
    fields: tuple[ProtocolField, ...]
    source: str  # the public documentation the fields were read from
    example: Example
    file: str
    line: int | None

    # Per part of a request (query, header, cookie, body): the fields by lower-cased last key, the fields with a
    # dotted JSON path, and (body only) protobuf fields. Built once, since part_values runs on every layer of
    # every matched flow.
    index: dict[str, _PartIndex] = field(default_factory=dict)
    path_fields: tuple[ProtocolField, ...] = ()
    label: str = ""  # what its hits say matched them, made once: protocol:ID

    def __post_init__(self) -> None:
        object.__setattr__(self, "path_fields", tuple(f for f in self.fields if f.location == "path"))
        object.__setattr__(self, "label", f"protocol:{self.id}")
        for where in set(LOCATIONS.values()) - {"path"}:
            wanted = [f for f in self.fields if f.where == where]
            if not wanted:
                continue
            plain: dict[str, list[ProtocolField]] = {}
            protobuf: dict[str, list[ProtocolField]] = {}
            dotted = tuple(f for f in wanted if f.location == "json" and ("." in f.key or "[" in f.key))
            for f in wanted:
                if f not in dotted:
                    # Keys are compared without case: SDK versions and platforms differ (deviceId / deviceid).
                    same_leaf = (protobuf if f.location == "protobuf" else plain).setdefault(f.leaf.lower(), [])
                    # A form field and a JSON field of one name and kind (an SDK posting either way) make the
                    # same hit: one of them is enough.
                    if not any((g.data_type, g.identifier) == (f.data_type, f.identifier) for g in same_leaf):
                        same_leaf.append(f)
            self.index[where] = _PartIndex({k: tuple(v) for k, v in plain.items()},
                                           tuple((f.leaf.lower(), f) for f in dotted),
                                           {k: tuple(v) for k, v in protobuf.items()},
                                           frozenset(f.leaf_lower for f in wanted))

    def path_values(self, path: str) -> dict[str, str]:
        """The named groups of the path pattern (URL path segments that carry a field)."""
        if self.path is None:
            return {}
        m = self.path.search(path)
        return {k: v for k, v in m.groupdict().items() if v} if m else {}


# Every placeholder starts with one of these (or is shorter than 3 characters): other values skip the work.
_PLACEHOLDER_HEADS = frozenset(" \t0-:nNuUtTfF")


def is_placeholder(value: str) -> bool:
    if len(value) > 2 and value[0] not in _PLACEHOLDER_HEADS:
        return False
    v = value.strip().lower()
    return v in _PLACEHOLDERS or len(v) < 2 or set(v) <= {"0", "-", ":"}


class ProtocolCatalog:
    """All endpoints, indexed by host; `match` is a dictionary walk over the host's labels."""

    def __init__(self, endpoints: Sequence[Endpoint]) -> None:
        self.endpoints = tuple(endpoints)
        self._by_host: dict[str, list[Endpoint]] = {}
        self._globs: list[tuple[str, Endpoint]] = []
        for endpoint in self.endpoints:
            for host in endpoint.hosts:
                if "*" in host:
                    self._globs.append((host, endpoint))
                else:
                    self._by_host.setdefault(host, []).append(endpoint)
        self._host_cache: dict[str, tuple[Endpoint, ...]] = {}

    def __len__(self) -> int:
        return len(self.endpoints)

    def candidates(self, host: str) -> tuple[Endpoint, ...]:
        host = host.lower().rstrip(".")
        found = self._host_cache.get(host)
        if found is None:
            hits: list[Endpoint] = []
            labels = host.split(".")
            for i in range(len(labels) - 1):
                hits.extend(self._by_host.get(".".join(labels[i:]), ()))
            hits.extend(e for pattern, e in self._globs if fnmatch.fnmatchcase(host, pattern))
            # The most specific host (longest pattern) first: a subdomain's own protocol beats its parent's.
            found = tuple(sorted(dict.fromkeys(hits), key=lambda e: -max(len(h) for h in e.hosts)))
            if len(self._host_cache) < 65536:
                self._host_cache[host] = found
        return found

    def match(self, host: str, path: str) -> Endpoint | None:
        """The endpoint a request goes to: the first candidate whose path pattern fits (or that has none)."""
        # Hosts come lower-cased from the readers: the cache answers most flows without candidates' work.
        candidates = self._host_cache.get(host)
        if candidates is None:
            candidates = self.candidates(host)
        if not candidates:
            return None
        bare = path.partition("?")[0]
        for endpoint in candidates:
            if endpoint.path is None or endpoint.path.search(bare):
                return endpoint
        return None


_JSON_START = re.compile(r"\s*[{\[]")


def part_values(endpoint: Endpoint, where: str, layers: Iterable[Any], skip: Container[str] = ()
                ) -> list[tuple[ProtocolField, str, tuple[str, ...]]]:
    """(field, value, the layer's encodings) of the endpoint's fields in the decoded layers of one part of a request
    (Observation.where), layer by layer.

    `layers` are scanner.dynamic.decode.Layer: their key/value leaves (protobuf field paths when "protobuf" is
    among their encodings), text and parsed JSON document; an echo layer repeats its form's pairs and is passed
    over. A JSON field with a dotted path is checked against the document itself, so `device.id` is not any `id`.
    Fields whose last key (lower-cased) is in `skip` are left out: the caller has a surer hit there. Plain tuples,
    not named ones: a named tuple is built by a Python function, and every value of every matched request comes
    this way."""
    index = endpoint.index.get(where)
    if index is None:
        return []
    found: list[tuple[ProtocolField, str, tuple[str, ...]]] = []
    for layer in layers:
        pairs = layer.pairs
        if not pairs or layer.echo:
            continue  # nothing to look up, or the pairs of its form
        encodings = layer.encodings
        protobuf = "protobuf" in encodings
        seen = index.seen_protobuf if protobuf else index.seen
        doc = layer.doc
        dotted = index.dotted if index.dotted and not protobuf and (doc is not None or _JSON_START.match(layer.text)) \
            else ()
        leaves: set[str] = set()
        for key, value in pairs:
            entry = seen.get(key, _UNSEEN)
            if entry is _UNSEEN:
                entry = index.entry(key, protobuf)
            if entry is None:
                continue  # nearly every key of a layer: one dictionary look-up
            lowered, fields = entry
            if lowered in skip:
                continue
            # is_placeholder's first test inline: most values are no placeholder and fail it.
            if fields and ((len(value) > 2 and value[0] not in _PLACEHOLDER_HEADS) or not is_placeholder(value)):
                if len(fields) == 1:
                    found.append((fields[0], value, encodings))
                else:
                    found.extend([(f, value, encodings) for f in fields])
            if dotted:
                leaves.add(lowered)
        present = [f for leaf, f in dotted if leaf in leaves] if leaves else ()
        if present:
            if doc is None:
                try:
                    doc = json.loads(layer.text)
                except ValueError:
                    continue
            for f in present:
                found.extend((f, value, encodings) for value in _json_path(doc, f.steps) if not is_placeholder(value))
    return found


_UNSEEN: Any = object()


def _json_path(doc: Any, steps: tuple[str, ...]) -> Iterator[str]:
    """Scalars at a dotted path; `[]` after a step (or as a step) walks every item of an array."""
    node = doc
    for step in steps:  # the usual case first: objects all the way down
        if not isinstance(node, dict) or step.endswith("[]"):
            break
        node = _get(node, step)
        if node is None:
            return
    else:
        if isinstance(node, str):
            yield node
        elif isinstance(node, (int, float)) and not isinstance(node, bool):
            yield str(node)
        return
    nodes: list[Any] = [doc]
    for step in steps:
        each = step.endswith("[]")
        name = step.removesuffix("[]")
        nxt: list[Any] = []
        for node in nodes:
            if isinstance(node, list) and name:
                node_items = node
            else:
                node_items = [node]
            for item in node_items:
                value = _get(item, name) if name and isinstance(item, dict) else (item if not name else None)
                if value is None:
                    continue
                if each and isinstance(value, list):
                    nxt.extend(value)
                else:
                    nxt.append(value)
        nodes = nxt
    for node in nodes:
        if isinstance(node, str):
            yield node
        elif isinstance(node, (int, float)) and not isinstance(node, bool):
            yield str(node)


def _get(mapping: dict[str, Any], name: str) -> Any:
    value = mapping.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in mapping.items() if k.lower() == lowered), None)
    return value


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------

_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")


@functools.cache
def _schema() -> dict[str, Any]:
    text = shipped_text("schema/protocol.schema.json")
    schema: dict[str, Any] = json.loads(text)
    schema["$defs"]["data_type"]["enum"] = sorted(DATA_TYPES)
    schema["$defs"]["identifier"]["enum"] = sorted(IDENTIFIER_KINDS)
    return schema


def _endpoints_of(doc: YamlDoc, validate: bool = True) -> list[Endpoint]:
    if validate:
        raise_schema_errors(doc, _schema(), BadCatalog)
    data = doc.data
    endpoints: list[Endpoint] = []
    for i, raw in enumerate(data["endpoints"]):
        line = doc.line_of(["endpoints", i])
        if not _ID_RE.match(raw["id"]):
            raise BadCatalog(f"endpoint id {raw['id']!r} must be lower-case letters, digits and dashes",
                             path=doc.path, line=line)
        try:
            path = re.compile(raw["path"]) if raw.get("path") else None
        except re.error as exc:
            raise BadCatalog(f"endpoint {raw['id']}: path is not a regular expression ({exc})", path=doc.path,
                             line=doc.line_of(["endpoints", i, "path"])) from None
        fields = []
        for j, f in enumerate(raw["fields"]):
            where = [k for k in LOCATIONS if k in f]
            if len(where) != 1:
                raise BadCatalog(f"endpoint {raw['id']}: a field names exactly one of {', '.join(LOCATIONS)} "
                                 f"(found {', '.join(where) or 'none'})", path=doc.path,
                                 line=doc.line_of(["endpoints", i, "fields", j]))
            location = where[0]
            key = str(f[location])
            if location == "path" and (path is None or key not in path.groupindex):
                raise BadCatalog(f"endpoint {raw['id']}: path field {key!r} is no named group of its path pattern",
                                 path=doc.path, line=doc.line_of(["endpoints", i, "fields", j]))
            fields.append(ProtocolField(location, key, f["data_type"], f.get("identifier")))
        ex = raw["example"]
        body = base64.b64decode(ex["body_base64"]) if ex.get("body_base64") else \
            ex["body"].encode("utf-8") if ex.get("body") is not None else None
        example = Example(ex.get("method", "POST" if body is not None else "GET"), ex["url"], body,
                          ex.get("content_type"), tuple((str(k), str(v)) for k, v in (ex.get("headers") or {}).items()))
        endpoints.append(Endpoint(
            id=raw["id"], name=raw["name"], vendor=data["vendor"], sdk=raw.get("sdk", data.get("sdk")),
            hosts=tuple(h.lower() for h in raw["hosts"]), path=path, fields=tuple(fields), source=raw["source"],
            example=example, file=doc.path, line=line))
    return endpoints


def builtin_docs(strict: bool = False) -> list[YamlDoc]:
    """The shipped protocol files. They are ours and checked by the test suite with `strict` (line-aware parse and
    the schema), so a run reads them with libyaml's loader and no schema pass: ten times faster at start-up."""
    root = resources.files("scanner.rules").joinpath("protocols")
    files = sorted((p for p in root.iterdir() if p.name.endswith(".yaml")), key=lambda p: p.name)
    if strict:
        return [parse_yaml(p.read_text("utf-8"), f"rules/protocols/{p.name}", BadCatalog) for p in files]
    return [YamlDoc(yaml.load(p.read_text("utf-8"), Loader=FAST_SAFE_LOADER), None, f"rules/protocols/{p.name}")
            for p in files]


def load_protocols(extra: Iterable[Path] = (), strict: bool = False) -> ProtocolCatalog:
    """The shipped protocols plus YAML files (or folders of them) given by the user; duplicates are an error.

    User files are always read strictly (an error names its file and line); shipped ones when `strict`."""
    docs = [(doc, strict) for doc in builtin_docs(strict)]
    for path in extra:
        files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
        docs.extend((load_yaml(p, BadCatalog), True) for p in files)
    endpoints: list[Endpoint] = []
    seen: dict[str, Endpoint] = {}
    for doc, validate in docs:
        for endpoint in _endpoints_of(doc, validate):
            if endpoint.id in seen:
                first = seen[endpoint.id]
                raise BadCatalog(f"endpoint id {endpoint.id!r} also at {first.file}:{first.line}", path=endpoint.file,
                                 line=endpoint.line)
            seen[endpoint.id] = endpoint
            endpoints.append(endpoint)
    return ProtocolCatalog(endpoints)


@functools.cache
def shared_protocols() -> ProtocolCatalog:
    """The shipped protocols, parsed once per process."""
    return load_protocols()
