"""Runtime events (runtime.jsonl, written by `divulge monitor`) -> RuntimeReport: which code read which personal data,
in which consent phase, how often.

Each event names the API and carries a stack. The caller is the first frame outside the platform; its owner comes
from the SDK catalog (app, SDK or library). Unlike the static eye, a stack shows who called a library: the first app
or SDK frame below the library frame is kept as `reached_from`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scanner.dynamic.marks import MARKS_FILE, Timeline, read_marks
from scanner.errors import BadCapture
from scanner.knowledge.apis import RESOLVER_METHODS, ApiCatalog, ApiEntry, load_api_catalog, permission_data_types
from scanner.knowledge.runtime import RuntimeCatalog, load_runtime_catalog
from scanner.knowledge.sdks import SdkCatalog
from scanner.model import RuntimeCall, RuntimeReport

RUNTIME_FILE = "runtime.jsonl"
MAX_LINE_BYTES = 1 << 20
MAX_WARNINGS = 50
MAX_STACKS_KEPT = 65536  # distinct stacks whose attribution is remembered


@dataclass
class _Group:
    call: RuntimeCall
    values: set[str] = field(default_factory=set)


def runtime_file(path: Path) -> Path:
    """A session directory's runtime.jsonl, or the file itself."""
    return path / RUNTIME_FILE if path.is_dir() else path


def read_runtime(path: Path, catalog: SdkCatalog, *, apis: ApiCatalog | None = None,
                 runtime: RuntimeCatalog | None = None, timeline: Timeline | None = None) -> RuntimeReport:
    """Read a runtime.jsonl (or a session directory holding one); marks beside it give the phases.

    A line that does not parse (cut by a killed monitor) is a warning and the rest is kept; a file that cannot be
    read is an error naming it."""
    file = runtime_file(path)
    if not file.is_file():
        raise BadCapture(f"no runtime events: {RUNTIME_FILE} not found", path=str(path))
    warnings: list[str] = []
    if timeline is None:
        timeline = Timeline(read_marks(file.parent / MARKS_FILE, warnings))
    apis = apis or load_api_catalog()
    runtime = runtime or load_runtime_catalog()
    groups: dict[tuple[Any, ...], _Group] = {}
    attributed: dict[tuple[Any, ...], tuple[str, str | None, str, str | None]] = {}
    events = 0
    java: bool | None = None
    for number, record in _records(file, warnings):
        kind = record.get("type")
        if kind == "ready":
            java = bool(record.get("java"))
            for problem in record.get("problems") or []:
                _warn(warnings, f"{file}: agent could not hook: {problem}")
            continue
        if kind == "error":
            _warn(warnings, f"{file}:{number}: agent error: {record.get('description') or record.get('message')}")
            continue
        if kind != "call":
            continue
        try:
            events += _add(record, groups, catalog, apis, runtime, timeline, attributed)
        except (TypeError, ValueError, KeyError) as exc:
            _warn(warnings, f"{file}:{number}: unreadable event skipped ({type(exc).__name__}: {exc})")
    calls = []
    for group in groups.values():
        call = group.call
        span = call.last - call.first
        call.per_minute = round((call.count - 1) / (span / 60.0), 2) if span >= 1.0 and call.count > 1 else 0.0
        call.values = len(group.values)
        calls.append(call)
    calls.sort(key=lambda c: (c.first, c.api, c.caller))
    _link_screens(calls, file.parent, warnings)
    return RuntimeReport(calls=calls, events=events, session=str(file.parent), java=java, warnings=warnings)


def _link_screens(calls: list[RuntimeCall], session: Path, warnings: list[str]) -> None:
    """Give each call the screenshot `divulge run` took last before it: what the user saw when the data was read."""
    run = session / "run.json"
    if not run.is_file():
        return
    try:
        steps = json.loads(run.read_text(encoding="utf-8")).get("steps") or []
        shots = sorted((float(s["time"]), str(s["screenshot"])) for s in steps if s.get("screenshot"))
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        _warn(warnings, f"{run}: unreadable, no screenshots linked ({type(exc).__name__}: {exc})")
        return
    for call in calls:
        before = [path for when, path in shots if when <= call.first]
        call.screen = before[-1] if before else (shots[0][1] if shots else None)


def _warn(warnings: list[str], text: str) -> None:
    if len(warnings) < MAX_WARNINGS:
        warnings.append(text)
    elif len(warnings) == MAX_WARNINGS:
        warnings.append("... more warnings not shown")


def _records(file: Path, warnings: list[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        handle = file.open("rb")
    except OSError as exc:
        raise BadCapture(f"cannot read runtime events: {exc.strerror or exc}", path=str(file)) from None
    with handle:
        for number, raw in enumerate(handle, 1):
            if len(raw) > MAX_LINE_BYTES:
                _warn(warnings, f"{file}:{number}: line over {MAX_LINE_BYTES:,} bytes skipped")
                continue
            if not raw.strip():
                continue
            try:
                record = json.loads(raw.decode("utf-8", "replace"))
            except ValueError as exc:
                _warn(warnings, f"{file}:{number}: unreadable line skipped ({exc})")
                continue
            if isinstance(record, dict):
                yield number, record
            else:
                _warn(warnings, f"{file}:{number}: not an event object, skipped")


def _entries(record: dict[str, Any], apis: ApiCatalog,
             runtime: RuntimeCatalog) -> list[tuple[str, str | None, str, str]]:
    """(data type, identifier, api label, kind) of one event; [] when the hooked call read no personal data
    (Settings.Secure.getString of another setting, a query of a URI no entry names)."""
    api = str(record["api"])
    args = [str(a) for a in record.get("args") or [] if a is not None]
    if record.get("kind") == "native":
        read = runtime.native_read(api, args[0] if args else None)
        if read is None:
            return []
        label = f"{api} {args[0]}" if args else api
        return [(read.data_type, read.identifier, label, "native")]
    cls, _, member = api.rpartition(".")
    if (cls, member) in runtime.permission_requests:
        # Asking for a permission before consent is itself a finding; the data types are what it would open.
        wanted = [p for a in args for p in a.split(",") if "permission" in p]
        mapping = permission_data_types()
        return [(mapping[p][0], None, f"{api} {p}", "permission_request") for p in dict.fromkeys(wanted)
                if mapping.get(p)]
    found: list[ApiEntry] = []
    if (cls, member) in _RESOLVERS:
        for text in args:
            found.extend(apis.entries_for_string(text))
    for entry in apis.by_member.get((cls, member), ()):
        if entry.requires_strings and not set(entry.requires_strings) & set(args):
            continue
        found.append(entry)
    return [(e.data_type, e.identifier, api, "java") for e in dict.fromkeys(found)]


_RESOLVERS = frozenset(RESOLVER_METHODS)  # a query's URI argument says what it reads


def attribute(stack: Iterable[str], native: bool, catalog: SdkCatalog,
              runtime: RuntimeCatalog) -> tuple[str, str | None, str, str | None]:
    """(caller, sdk, origin, reached_from) of one stack, innermost frame first."""
    frames = [str(f) for f in stack]
    if native:
        outside = [f for f in frames if not runtime.is_framework_module(f)]
        if not outside:
            return (frames[0] if frames else "?"), None, "app", None
        module = outside[0].split("!", 1)[0]
        sdk = catalog.sdk_for_native_lib(module)
        return outside[0], sdk, "sdk" if sdk else "app", None
    outside = [f for f in frames if not runtime.is_framework_frame(f)]
    if not outside:
        return (frames[0] if frames else "?"), None, "app", None
    caller = outside[0]
    origin, sdk = catalog.origin_of_class(caller.rpartition(".")[0])
    if origin != "library":
        return caller, sdk, origin, None
    for frame in outside[1:]:  # who called the library: the first app or SDK frame below it
        below, below_sdk = catalog.origin_of_class(frame.rpartition(".")[0])
        if below != "library":
            return caller, below_sdk, "library", f"{frame} [{below_sdk or 'app'}]"
    return caller, None, "library", None


def _add(record: dict[str, Any], groups: dict[tuple[Any, ...], _Group], catalog: SdkCatalog, apis: ApiCatalog,
         runtime: RuntimeCatalog, timeline: Timeline,
         attributed: dict[tuple[Any, ...], tuple[str, str | None, str, str | None]]) -> int:
    entries = _entries(record, apis, runtime)
    if not entries:
        return 0
    when = float(record["t"])
    stack = [str(f) for f in record.get("stack") or []]
    native = record.get("kind") == "native"
    # A polling SDK sends the same stack thousands of times: each distinct stack is attributed once.
    key = (native, *stack)
    found = attributed.get(key)
    if found is None:
        found = attribute(stack, native, catalog, runtime)
        if len(attributed) < MAX_STACKS_KEPT:
            attributed[key] = found
    caller, sdk, origin, reached_from = found
    phase = timeline.phase_at(when)
    value = (record.get("ret") or {}).get("sha256")
    for data_type, identifier, api, kind in entries:
        key = (api, data_type, identifier, caller, phase)
        group = groups.get(key)
        if group is None:
            group = groups[key] = _Group(RuntimeCall(
                api=api, data_type=data_type, identifier=identifier, caller=caller, sdk=sdk, origin=origin,
                phase=phase, count=0, first=when, last=when, per_minute=0.0, kind=kind,
                reached_from=reached_from, stack=stack[:12]))
        call = group.call
        call.count += 1
        call.first, call.last = min(call.first, when), max(call.last, when)
        if value:
            group.values.add(str(value))
    return 1
