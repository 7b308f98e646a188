"""Read a saved traffic analysis (`divulge/traffic/1` JSON) back into a TrafficReport.

This lets `divulge scan --traffic` check observations recorded earlier or produced by another tool.  Required
observation fields must be there with the right types; extra fields are ignored so newer files still load.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from scanner.errors import BadCapture
from scanner.model import DATA_TYPES, Observation, TrafficReport

MAX_BYTES = 512 * 1024 * 1024
_REQUIRED: dict[str, type | tuple[type, ...]] = {"data_type": str, "host": str}
_TYPES: dict[str, type | tuple[type, ...]] = {
    "identifier": (str, type(None)), "url": str, "method": str, "party": str, "sdk": (str, type(None)),
    "owner": (str, type(None)), "where": str, "encodings": list, "time": (int, float),
    "phase": (str, type(None)), "cleartext": bool, "confidence": str, "flow_id": str, "key": (str, type(None)),
    "value_label": (str, type(None)), "registrable_domain": (str, type(None)),
}
_DEFAULTS: dict[str, Any] = {"identifier": None, "url": "", "method": "GET", "party": "first", "sdk": None,
                             "owner": None, "where": "body", "encodings": [], "time": 0.0, "phase": None,
                             "cleartext": False, "confidence": "confirmed", "flow_id": ""}
PHASES = (None, "before_consent", "after_consent", "after_refusal")


def is_traffic_json(path: Path) -> bool:
    """Cheap sniff: a .json file whose first kilobyte names the traffic schema."""
    if path.suffix.lower() != ".json":
        return False
    try:
        with path.open("rb") as handle:
            head = handle.read(1024).decode("utf-8", "replace")
    except OSError:
        return False
    return TrafficReport.SCHEMA in head


def load_traffic_json(path: Path) -> TrafficReport:
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise BadCapture(f"traffic JSON too large ({size} bytes)", path=str(path))
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BadCapture(f"cannot read: {exc.strerror or exc}", path=str(path)) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadCapture(f"not JSON: {exc}", path=str(path)) from None
    return traffic_from_json(data, str(path))


def traffic_from_json(data: Any, where: str = "<traffic>") -> TrafficReport:
    if not isinstance(data, dict) or data.get("schema") != TrafficReport.SCHEMA:
        got = data.get("schema") if isinstance(data, dict) else type(data).__name__
        raise BadCapture(f"not a divulge traffic file: schema {TrafficReport.SCHEMA!r} expected, got {got!r}",
                         path=where)
    raw = data.get("observations")
    if not isinstance(raw, list):
        raise BadCapture("`observations` must be a list", path=where)
    names = {f.name for f in dataclasses.fields(Observation)}
    observations = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise BadCapture(f"observation {index} is not an object", path=where)
        for name, kind in _REQUIRED.items():
            if not isinstance(item.get(name), kind):
                raise BadCapture(f"observation {index}: `{name}` is required", path=where)
        if item["data_type"] not in DATA_TYPES:
            raise BadCapture(f"observation {index}: unknown data type {item['data_type']!r}", path=where)
        values = {**_DEFAULTS, **{k: v for k, v in item.items() if k in names}}
        for name, kind in _TYPES.items():
            if name in values and not isinstance(values[name], kind):
                raise BadCapture(f"observation {index}: `{name}` has the wrong type ({type(values[name]).__name__})",
                                 path=where)
        if values["phase"] not in PHASES:
            raise BadCapture(f"observation {index}: unknown phase {values['phase']!r}", path=where)
        values["time"] = float(values["time"])
        values["encodings"] = [str(e) for e in values["encodings"]]
        observations.append(Observation(**values))
    flows = data.get("flows")
    return TrafficReport(
        observations=observations,
        flows=flows if isinstance(flows, int) else len({o.flow_id for o in observations}),
        destinations=_list(data, "destinations"), frequency=_list(data, "frequency"), marks=_list(data, "marks"),
        warnings=[str(w) for w in _list(data, "warnings")], flow_index=_list(data, "flow_index"),
        unseen=[u for u in _list(data, "unseen") if isinstance(u, dict)])


def _list(data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    return value if isinstance(value, list) else []
