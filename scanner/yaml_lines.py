"""YAML loading that remembers where every value came from, so errors can say file:line.

PyYAML's composer keeps marks on nodes; we keep the node tree next to the plain data and look up a line
from a JSON path (the one jsonschema reports).  Duplicate keys are an error, not a silent overwrite, and
timestamps stay strings so that dates validate as JSON strings.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from scanner.errors import DivulgeError

# For the shipped catalogs (trusted, no line numbers needed): libyaml's loader is ten times faster on the SDK
# catalog; fall back when PyYAML was built without it.
FAST_SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(yaml.SafeLoader):
    """SafeLoader without implicit timestamps (dates stay text) and with duplicate-key detection."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass
class YamlDoc:
    """Plain data of one YAML document plus its node tree for line look-ups."""

    data: Any
    node: yaml.Node | None
    path: str

    def line_of(self, json_path: Sequence[Any]) -> int | None:
        """1-based line of the value at json_path (keys and list indices); the nearest parent if absent."""
        node = self.node
        if node is None:
            return None
        line = node.start_mark.line + 1
        for step in json_path:
            child = _child(node, step)
            if child is None:
                break
            node = child
            line = node.start_mark.line + 1
        return line

    def key_line(self, json_path: Sequence[Any], key: str) -> int | None:
        """Line of `key` itself in the mapping at json_path (for 'unknown key' errors)."""
        node = self.node
        for step in json_path:
            node = _child(node, step) if node is not None else None
        if isinstance(node, yaml.MappingNode):
            for k, _ in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value == key:
                    return k.start_mark.line + 1
        return self.line_of(json_path)


def _child(node: yaml.Node, step: Any) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == str(step):
                return v
        return None
    if isinstance(node, yaml.SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
        return node.value[step]
    return None


def _check_duplicates(node: yaml.Node | None, path: str, error: type[DivulgeError]) -> None:
    stack = [node] if node is not None else []
    while stack:
        current = stack.pop()
        if isinstance(current, yaml.MappingNode):
            seen: dict[str, int] = {}
            for k, v in current.value:
                if isinstance(k, yaml.ScalarNode):
                    if k.value in seen:
                        raise error(f"duplicate key {k.value!r} (first at line {seen[k.value]})",
                                    path=path, line=k.start_mark.line + 1)
                    seen[k.value] = k.start_mark.line + 1
                stack.append(v)
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)


def parse_yaml(text: str, path: str, error: type[DivulgeError]) -> YamlDoc:
    """Parse one YAML document; syntax errors and duplicate keys raise `error` with file:line."""
    try:
        # The reader checks for unprintable characters as soon as it is built: that error belongs in the try.
        loader = _Loader(text)
    except yaml.reader.ReaderError as exc:
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise error(f"invalid YAML: {exc.reason} (U+{code:04X})", path=path,
                    line=text.count("\n", 0, exc.position) + 1) from None
    try:
        node = loader.get_single_node()
        _check_duplicates(node, path, error)
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise error(f"invalid YAML: {exc.problem or exc.context}", path=path, line=line) from None
    except yaml.YAMLError as exc:
        raise error(f"invalid YAML: {exc}", path=path) from None
    finally:
        loader.dispose()
    return YamlDoc(data=data, node=node, path=path)


def load_yaml(path: Path, error: type[DivulgeError], *, max_bytes: int = 8 * 1024 * 1024) -> YamlDoc:
    """Read and parse a YAML file; unreadable, oversized or non-UTF-8 files raise `error`."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise error(f"file is too large for a YAML document ({size} bytes > {max_bytes})", path=str(path))
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise error("not UTF-8 text", path=str(path)) from None
    except OSError as exc:
        raise error(f"cannot read: {exc.strerror or exc}", path=str(path)) from None
    return parse_yaml(text, str(path), error)


def schema_errors(doc: YamlDoc, schema: dict[str, Any], *, hints: Mapping[str, Iterable[str]] | None = None
                  ) -> list[tuple[int | None, str]]:
    """Validate doc against a JSON Schema; each error as (line, one-line message with a fix-it hint)."""
    validator = jsonschema.Draft202012Validator(schema)
    ranked: list[tuple[bool, int, str]] = []
    for err in validator.iter_errors(doc.data):
        line, message = _explain(doc, err, hints or {})
        # A missing key is often the consequence of a misspelt one: report the misspelling first.
        ranked.append((err.validator == "required", line or 0, message))
    ranked.sort()
    return [(line or None, message) for _, line, message in ranked]


def raise_schema_errors(doc: YamlDoc, schema: dict[str, Any], error: type[DivulgeError], *,
                        hints: Mapping[str, Iterable[str]] | None = None) -> None:
    """Raise `error` for the first schema error (at its line), naming how many more there are."""
    found = schema_errors(doc, schema, hints=hints)
    if found:
        line, message = found[0]
        more = f" (and {len(found) - 1} more error(s))" if len(found) > 1 else ""
        raise error(message + more, path=doc.path, line=line)


def _where(path: Sequence[Any]) -> str:
    return ".".join(str(p) for p in path) or "top level"


def suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(str(word), list(choices), n=3, cutoff=0.6)
    return f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""


def _explain(doc: YamlDoc, err: jsonschema.ValidationError, hints: Mapping[str, Iterable[str]]
             ) -> tuple[int | None, str]:
    if err.validator in ("anyOf", "oneOf") and err.context:
        # "not valid under any of the given schemas" helps nobody: explain the alternative that fits the value.
        scalar = not isinstance(err.instance, (dict, list))
        best = next((e for e in err.context if scalar and e.validator == "enum"), None) or \
            jsonschema.exceptions.best_match(err.context)
        if best is not None:
            return _explain(doc, best, hints)
    path = list(err.absolute_path)
    where = _where(path)
    # The schema may name what an enum or key set is ("data type", "purpose"): say that, not "is not one of [38 ids]".
    what = (err.schema.get("title") if isinstance(err.schema, dict) else None) or "value"
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        allowed = set((err.schema.get("properties") or {}).keys())
        extra = [k for k in err.instance if k not in allowed]
        key = str(extra[0]) if extra else "?"
        return doc.key_line(path, key), f"unknown key {key!r} in {where}{suggest(key, allowed)}; allowed: {', '.join(sorted(allowed))}"
    if err.validator == "propertyNames":
        bad = _bad_property_name(err)
        choices = hints.get(what, [])
        return doc.key_line(path, bad or ""), f"unknown {what} {bad!r} in {where}{suggest(bad or '', choices)}"
    if err.validator == "enum":
        choices = [str(c) for c in err.validator_value]
        listing = "" if len(choices) > 12 else f"; one of: {', '.join(choices)}"
        parent = _value_at(doc.data, path)
        if isinstance(parent, dict) and isinstance(err.instance, str) and err.instance in parent:
            # jsonschema reports a bad key (propertyNames) at its mapping: point at the key itself.
            return doc.key_line(path, err.instance), f"unknown {what} {err.instance!r} in {where}" \
                f"{suggest(err.instance, choices)}{listing}"
        return doc.line_of(path), f"unknown {what} {err.instance!r} at {where}{suggest(str(err.instance), choices)}{listing}"
    if err.validator == "required":
        return doc.line_of(path), f"{where}: {err.message}"
    if err.validator == "type":
        return doc.line_of(path), f"{where}: expected {err.validator_value}, got {type(err.instance).__name__} {err.instance!r}"
    return doc.line_of(path), f"{where}: {err.message}"


def _value_at(data: Any, path: Sequence[Any]) -> Any:
    for step in path:
        if isinstance(data, dict):
            data = data.get(step)
        elif isinstance(data, list) and isinstance(step, int) and step < len(data):
            data = data[step]
        else:
            return None
    return data


def _bad_property_name(err: jsonschema.ValidationError) -> str | None:
    for sub in err.context or []:
        return str(sub.instance)
    # jsonschema reports the failing name as the instance of the sub-error; fall back to scanning.
    names = err.schema.get("propertyNames", {}).get("enum") if isinstance(err.schema, dict) else None
    if isinstance(err.instance, dict) and names:
        for key in err.instance:
            if key not in names:
                return str(key)
    return None
