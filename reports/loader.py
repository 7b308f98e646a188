"""Read a saved `divulge/findings/1` JSON back into a ScanResult: version check, schema check, typed decode."""

from __future__ import annotations

import dataclasses
import enum
import functools
import json
import logging
import types
import typing
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema

from scanner.errors import BadReport
from scanner.model import ScanResult, Severity

log = logging.getLogger(__name__)

SCHEMA_PREFIX = "divulge/findings/"


@functools.cache
def findings_schema() -> dict[str, Any]:
    """The JSON Schema shipped in the package (reports/schemas/findings.schema.json)."""
    text = files("scanner.reports").joinpath("schemas/findings.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def validate_document(document: Any, source: str = "<findings>") -> None:
    """Raise BadReport unless `document` is a valid divulge/findings/1 value; the message names the JSON path."""
    if not isinstance(document, dict):
        raise BadReport(f"not a divulge findings file: top level is {type(document).__name__}, expected an object",
                        path=source)
    schema_id = document.get("schema")
    if schema_id is None:
        raise BadReport('not a divulge findings file: no "schema" key (expected "divulge/findings/1")', path=source)
    if schema_id != ScanResult.SCHEMA:
        if isinstance(schema_id, str) and schema_id.startswith(SCHEMA_PREFIX):
            raise BadReport(f"unsupported findings version {schema_id!r}: this divulge reads {ScanResult.SCHEMA!r}; "
                            f"re-run `divulge scan` with this version", path=source)
        raise BadReport(f"not a findings file: schema is {schema_id!r}, expected {ScanResult.SCHEMA!r}", path=source)
    validator = jsonschema.Draft202012Validator(findings_schema())
    error = jsonschema.exceptions.best_match(validator.iter_errors(document))
    if error is not None:
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path).lstrip(".")
        raise BadReport(f"does not match divulge/findings/1 at {where or 'top level'}: {error.message}", path=source)


def parse_findings(text: str, source: str = "<findings>") -> ScanResult:
    """JSON text -> ScanResult; BadReport with file and line for broken JSON, JSON path for schema errors."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadReport(f"not valid JSON: {exc.msg} (column {exc.colno})", path=source, line=exc.lineno) from None
    validate_document(document, source)
    try:
        result = _decode(ScanResult, document, "")
    except (TypeError, ValueError, KeyError) as exc:
        raise BadReport(f"cannot read findings: {exc}", path=source) from None
    assert isinstance(result, ScanResult)
    return result


def load_findings(path: str | Path) -> ScanResult:
    """Read FINDINGS.json written by `divulge scan --format json` (or the JSON writer)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadReport("no such file", path=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadReport(f"cannot read: {exc}", path=str(path)) from None
    return parse_findings(text, str(path))


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _decode(tp: Any, value: Any, where: str) -> Any:
    """Plain JSON -> model values, driven by the dataclass type hints (the inverse of model.to_jsonable)."""
    if tp is Any:
        return value
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return None
        return _decode(args[0], value, where)
    if origin is list:
        (item,) = typing.get_args(tp)
        return [_decode(item, v, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        _, item = typing.get_args(tp)
        return {k: _decode(item, v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(tp, type) and issubclass(tp, Severity):
        return Severity.parse(value)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return tp(value)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        hints = _hints(tp)
        names = {f.name for f in dataclasses.fields(tp)}
        extra = set(value) - names
        if extra and tp is not ScanResult:  # newer writers may add fields within version 1: ignore, say so
            log.debug("ignoring unknown keys %s at %s", sorted(extra), where or "top level")
        kwargs = {name: _decode(hints[name], value[name], f"{where}.{name}".lstrip("."))
                  for name in names if name in value}
        return tp(**kwargs)
    if tp is float and isinstance(value, int):
        return float(value)
    return value
