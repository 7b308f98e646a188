"""The shared analysis core: FlowRecord -> Observations, and many flows -> a TrafficReport.

Used live by the mitmproxy addon (one flow at a time) and offline by `divulge traffic` (whole captures).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from itertools import repeat
from operator import attrgetter
from typing import Any
from urllib.parse import unquote

from scanner.dynamic.consent import ConsentSignal, layer_signals, purpose_of, refusal_among
from scanner.dynamic.decode import Layer, Peeler
from scanner.dynamic.detect import (
    CONFIDENCE_RANK,
    CONFIRMED,
    LIKELY,
    PROTOCOL,
    Hit,
    ValueMatcher,
    detect,
    new_hit,
    value_ref,
)
from scanner.dynamic.device import DeviceProfile
from scanner.dynamic.marks import Mark, Timeline, mark_from_url
from scanner.dynamic.memo import MISSING, BoundedMemo
from scanner.dynamic.readers import FlowRecord, header_value
from scanner.gcpause import gc_checkpoint, gc_paused
from scanner.knowledge.protocols import Endpoint, ProtocolCatalog, part_values, shared_protocols
from scanner.knowledge.recipients import Recipients
from scanner.model import (
    LINKING_TYPES,
    LinkedIdentifier,
    Observation,
    TrafficReport,
    link_identifiers,
    recipient_organisation,
)

log = logging.getLogger(__name__)

# Headers that never carry personal data of the user; skipping them saves work on every flow.
_BORING_HEADERS = frozenset({
    "host", "content-length", "content-type", "content-encoding", "accept", "accept-encoding",
    "accept-language", "connection", "cache-control", "pragma", "te", "upgrade", "transfer-encoding",
    "sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions", "keep-alive", "proxy-connection",
    "proxy-authorization", "if-modified-since", "if-none-match", "origin", "referer", "priority",
})
_GROUPED = ("apps_on_device", "contacts")  # many values make one observation per flow and place
_CACHE_SIZE = 4096


@dataclass
class FlowResult:
    observations: list[Observation]
    warnings: list[str] = field(default_factory=list)
    mark: str | None = None  # the flow was a consent mark request


class FlowAnalyzer:
    """Device profile, recipients and timeline held once; `analyse(record)` is pure per flow."""

    def __init__(self, profile: DeviceProfile | None, recipients: Recipients, timeline: Timeline | None = None,
                 protocols: ProtocolCatalog | None = None) -> None:
        self.profile = profile or DeviceProfile()
        # The shipped tracker protocols unless told otherwise (ProtocolCatalog(()) turns them off).
        self.protocols = protocols if protocols is not None else shared_protocols()
        self.matcher = ValueMatcher(self.profile)
        self.recipients = recipients
        self.timeline = timeline or Timeline()
        # Hits depend only on the bytes and the profile, and apps repeat the same headers, queries and
        # beacons endlessly: bounded memos make repeated parts free (see BoundedMemo for the bounds).
        self._parts_memo = BoundedMemo(_CACHE_SIZE)
        self._peel_memo = BoundedMemo()
        self._detected = BoundedMemo(_CACHE_SIZE, 16 * 1024 * 1024)
        self._signals = BoundedMemo(_CACHE_SIZE)  # query -> the consent signals it states

    # -- one flow ----------------------------------------------------------------------------

    def analyse(self, record: FlowRecord) -> FlowResult:
        name = mark_from_url(record.host, record.path)
        if name is not None:
            return FlowResult([], mark=name)
        warnings: list[str] = []
        consent: list[ConsentSignal] = []
        found: dict[tuple[Any, ...], Hit] = {}
        grouped: dict[tuple[str, str], dict[str, Hit]] = defaultdict(dict)
        endpoint = self.protocols.match(record.host, record.path)
        for where, part_hits in self._parts(record, warnings, endpoint, consent):
            for hit in part_hits:
                if hit.data_type in _GROUPED and hit.confidence == CONFIRMED:
                    grouped[(hit.data_type, where)].setdefault(hit.value_label or "", hit)
                    continue
                key = (hit.data_type, hit.identifier, hit.value_label, where)
                if key not in found:
                    found[key] = hit
        if not found and not grouped:
            return FlowResult([], warnings)
        hits = [(where, hit) for (_, _, _, where), hit in found.items()]
        # Protocol hits never clash with known values of their own part (_protocol_hits): only shapes can, and
        # protocol hits of WebSocket messages, which share "body" with the request's body.
        if any(h.confidence == LIKELY or (h.confidence == PROTOCOL and record.ws_messages) for _, h in hits):
            hits = _strongest(hits)
        for (data_type, where), by_label in grouped.items():
            needed = self.matcher.installed_apps_needed if data_type == "apps_on_device" else 1
            if len(by_label) < needed:
                continue  # one package name alone is not the list of installed apps
            first = next(iter(by_label.values()))
            label = f"{data_type} ({len(by_label)} values)"
            hits.append((where, Hit(data_type, None, label, CONFIRMED, first.key, first.encodings)))
        if not hits:
            return FlowResult([], warnings)
        # Everything but the hit is the same for all observations of a flow: work it out once.
        recipient = self.recipients.resolve(record.host)
        url, phase, cleartext = record.url, self.timeline.phase_at(record.time), record.cleartext
        host, method, party, sdk, owner = recipient.host, record.method, recipient.party, recipient.sdk, recipient.owner
        flow_id, domain, capture, when = record.id, recipient.registrable_domain, record.source or None, record.time
        # What the request says about consent, per hit (its purpose decides which refusal covers it); nearly every
        # flow says nothing.
        states = [_consent_fields(consent, hit.identifier, recipient.categories) for _, hit in hits] if consent \
            else repeat(_NO_CONSENT)
        # Positional: a call with 22 keywords costs twice as much, and flows make an observation per hit.
        return FlowResult([Observation(
            hit.data_type, hit.identifier, host, url, method, party, sdk, owner, where, list(hit.encodings), when,
            phase, cleartext, hit.confidence, flow_id, hit.key, hit.value_label, domain, hit.value_ref, capture,
            state, source,
        ) for (where, hit), (state, source) in zip(hits, states, strict=False)], warnings)

    def _parts(self, record: FlowRecord, warnings: list[str], endpoint: Endpoint | None,
               consent: list[ConsentSignal]) -> Iterable[tuple[str, tuple[Hit, ...]]]:
        """Hits per part; the consent signals the query and the body state about themselves go to `consent`."""
        path, _, query = record.path.partition("?")
        if len(path) > 1:
            path_hits = self._text_hits(unquote(path) if "%" in path else path, (), None, "")
            if endpoint is not None and endpoint.path_fields:
                path_hits += _path_hits(endpoint, path, path_hits)
            yield "path", path_hits
        if query:
            yield "query", self._text_hits(query, (), endpoint, "query")
            consent.extend(self._query_signals(query))
        headers = self._headers(record.headers, endpoint)
        yield from headers.hits
        if record.body:
            encoding = "" if record.body_decoded else headers.content_encoding
            hits, body_warnings, body_signals = self._body_hits(record.body, headers.content_type, encoding, (),
                                                                endpoint)
            if body_warnings:
                warnings.extend(f"{record.url}: {w}" for w in body_warnings)
            consent.extend(body_signals)
            yield "body", hits
        for message in record.ws_messages:
            yield "body", self._body_hits(message.content, "", "", ("websocket",), endpoint)[0]

    def _headers(self, headers: tuple[tuple[str, str], ...], endpoint: Endpoint | None) -> _Headers:
        key = ("h", headers, endpoint)  # an app sends the same few header sets again and again
        found: _Headers = self._parts_memo.get(key)
        if found is MISSING:
            found = _Headers.of(headers, lambda text, pairs, where: self._text_hits(text, pairs, endpoint, where))
            self._parts_memo.put(key, found, sum(len(k) + len(v) for k, v in headers))
        return found

    def _text_hits(self, text: str, pairs: tuple[tuple[str, str], ...], endpoint: Endpoint | None, where: str
                   ) -> tuple[Hit, ...]:
        key = ("t", text, pairs, endpoint, where)  # endpoints are frozen and hashed by identity of their fields
        hits: tuple[Hit, ...] = self._parts_memo.get(key)
        if hits is MISSING:
            peeler = Peeler(self._peel_memo)
            peeler.text(text, pairs=pairs)
            hits = self._detect(peeler.layers)
            if endpoint is not None:
                hits += _protocol_hits(endpoint, peeler.layers, where, hits)
            self._parts_memo.put(key, hits, 2 * len(text))  # the pairs hold the text again
            if where == "query":  # read while the pairs are at hand; _query_signals peels again only if evicted
                self._signals.put(text, layer_signals(peeler.layers), len(text))
        return hits

    def _query_signals(self, query: str) -> tuple[ConsentSignal, ...]:
        """The consent signals a query states, from its peeled pairs."""
        found: tuple[ConsentSignal, ...] = self._signals.get(query)
        if found is MISSING:
            peeler = Peeler(self._peel_memo)
            peeler.text(query)
            found = layer_signals(peeler.layers)
            self._signals.put(query, found, len(query))
        return found

    def _body_hits(self, body: bytes, content_type: str, encoding: str, encodings: tuple[str, ...],
                   endpoint: Endpoint | None = None
                   ) -> tuple[tuple[Hit, ...], tuple[str, ...], tuple[ConsentSignal, ...]]:
        key = ("b", body, content_type, encoding, encodings, endpoint)
        found: tuple[tuple[Hit, ...], tuple[str, ...], tuple[ConsentSignal, ...]] = self._parts_memo.get(key)
        if found is MISSING:
            peeler = Peeler(self._peel_memo)
            peeler.body(body, content_type, encoding, encodings)
            hits = self._detect(peeler.layers)
            if endpoint is not None:
                hits += _protocol_hits(endpoint, peeler.layers, "body", hits)
            stated = layer_signals(peeler.layers)
            found = hits, tuple(peeler.warnings), stated
            self._parts_memo.put(key, found, len(body))
        return found

    def _detect(self, layers: list[Layer]) -> tuple[Hit, ...]:
        hits: list[Hit] = []
        for layer in layers:
            # Layers replayed from the peel memo are the very same objects flow after flow. They all come
            # from inside a value, so they have encodings; the text of a part itself never comes back.
            if not layer.encodings:
                hits.extend(detect(layer, self.matcher))
                continue
            seen = self._detected.get(id(layer))
            if seen is not MISSING and seen[0] is layer:
                hits.extend(seen[1])
                continue
            layer_hits = detect(layer, self.matcher)
            hits.extend(layer_hits)
            # Holding the layer keeps its id from being reused while the entry lives.
            self._detected.put(id(layer), (layer, layer_hits), len(layer.text))
        return tuple(hits)


@dataclass(frozen=True, slots=True)
class _Headers:
    """What analysis needs of a flow's request headers, hits included."""

    hits: tuple[tuple[str, tuple[Hit, ...]], ...]  # ("header" | "cookie", hits) of the parts present
    content_type: str
    content_encoding: str

    @staticmethod
    def of(headers: tuple[tuple[str, str], ...],
           text_hits: Callable[[str, tuple[tuple[str, str], ...], str], tuple[Hit, ...]]) -> _Headers:
        hits: list[tuple[str, tuple[Hit, ...]]] = []
        pairs = tuple((k, v) for k, v in headers if k.lower() not in _BORING_HEADERS and k.lower() != "cookie")
        if pairs:
            hits.append(("header", text_hits("\n".join(f"{k}: {v}" for k, v in pairs), pairs, "header")))
        cookie = header_value(headers, "cookie")
        if cookie:
            hits.append(("cookie", text_hits(cookie, _cookie_pairs(cookie), "cookie")))
        return _Headers(tuple(hits), header_value(headers, "content-type"), header_value(headers, "content-encoding"))


_NO_CONSENT: tuple[None, None] = (None, None)


def _consent_fields(consent: list[ConsentSignal], identifier: str | None, categories: tuple[str, ...]
                    ) -> tuple[str | None, str | None]:
    """Observation.consent and consent_source for data of this identifier kind sent to this recipient."""
    refused = refusal_among(consent, purpose_of(identifier, categories))
    return (refused.state, f"{refused.source} ({refused.key})") if refused else _NO_CONSENT


def _protocol_hits(endpoint: Endpoint, layers: list[Layer], where: str, found: tuple[Hit, ...] = ()
                   ) -> tuple[Hit, ...]:
    """The endpoint's documented fields found in the layers of one part, one hit per field.

    A field is left out where the profile's hits of the same part (`found`) already tell it: a known value under
    its key, or a known value of its data type and identifier kind. The known value would win anyway
    (_strongest), most tracker fields in a profiled capture are such, and a part's hits that never clash need no
    sorting out. Nothing is memoised per layer: looking a layer's few keys up in the endpoint's index costs less
    than a memo's get and put."""
    if where not in endpoint.index:
        return ()
    known, kinds = _confirmed(found)
    label = endpoint.label
    # One hit per (data type, identifier kind), the first found: a flow makes one observation of each per part
    # anyway (analyse), and an endpoint may name one value twice (as a form and as a JSON field).
    hits: dict[tuple[str, str | None], Hit] = {}
    for f, value, encodings in part_values(endpoint, where, layers, known):
        kind = (f.data_type, f.identifier)
        if kind not in hits and kind not in kinds:
            # The key as the peeler names it (the last step of a JSON path), like other hits.
            hits[kind] = new_hit((f.data_type, f.identifier, label, PROTOCOL, f.leaf, encodings,
                                  value_ref(value) if f.data_type in LINKING_TYPES else None))
    return tuple(hits.values())


_NONE: frozenset[Any] = frozenset()


def _confirmed(found: tuple[Hit, ...]) -> tuple[AbstractSet[str], AbstractSet[Any]]:
    """The lower-cased keys and the (data type, identifier) kinds of a part's known values. Grouped kinds are left
    out: one installed package alone is no observation, so it must not hide a protocol's list of them."""
    if not found:
        return _NONE, _NONE
    keys: set[str] | None = None
    kinds: set[Any] = set()
    for h in found:
        if h.confidence == CONFIRMED and h.data_type not in _GROUPED:
            if keys is None:
                keys = set()
            kinds.add((h.data_type, h.identifier))
            if h.key:
                keys.add(h.key.lower())
    return (keys, kinds) if keys is not None else (_NONE, _NONE)


def _path_hits(endpoint: Endpoint, path: str, found: tuple[Hit, ...]) -> tuple[Hit, ...]:
    values = endpoint.path_values(path)
    if not values:
        return ()
    known, kinds = _confirmed(found)
    return tuple(Hit(f.data_type, f.identifier, endpoint.label, PROTOCOL, f.key, (), value_ref(values[f.key]))
                 for f in endpoint.path_fields
                 if f.key in values and f.leaf_lower not in known and (f.data_type, f.identifier) not in kinds)


def _strongest(hits: list[tuple[str, Hit]]) -> list[tuple[str, Hit]]:
    """Where two hits tell of the same thing in the same place, only the surer one stays.

    The same thing: the same data type and identifier kind, or the same key (a profile value found under
    `gaid` and the protocol's field `gaid` are one observation, the known value)."""
    rank = CONFIDENCE_RANK
    best: dict[tuple[Any, ...], int] = {}  # (data type, identifier, where) and (key, where) -> the surest rank
    clash = False
    for where, h in hits:
        r = rank.get(h.confidence, 0)
        kind = (h.data_type, h.identifier, where)
        seen = best.get(kind)
        if seen is None or seen < r:
            best[kind] = r
        clash = clash or seen is not None
        if h.key:
            at = (h.key, where)
            seen = best.get(at)
            if seen is None or seen < r:
                best[at] = r
            clash = clash or seen is not None
    if not clash:  # the usual flow: nothing is told twice
        return hits
    return [(where, h) for where, h in hits
            if (r := rank.get(h.confidence, 0)) >= best[(h.data_type, h.identifier, where)]
            and (not h.key or r >= best[(h.key, where)])]


def _cookie_pairs(cookie: str) -> tuple[tuple[str, str], ...]:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(cookie)
    except Exception:  # http.cookies raises CookieError and others on odd input; fall back to splitting
        return tuple((k.strip(), v) for k, _, v in (p.partition("=") for p in cookie.split(";")))
    return tuple((k, m.value) for k, m in jar.items())


# ---------------------------------------------------------------------------------------------
# Many flows -> report
# ---------------------------------------------------------------------------------------------


def peak_per_minute(times: list[float]) -> int:
    """Most events in any 60-second window (sliding, not calendar minutes)."""
    times = sorted(times)
    best = start = 0
    for end, t in enumerate(times):
        while t - times[start] >= 60.0:
            start += 1
        best = max(best, end - start + 1)
    return best


def build_report(records: Iterable[FlowRecord], analyzer: FlowAnalyzer, *, marks: Iterable[Mark] = (),
                 warnings: Iterable[str] = (), tls_failures: Iterable[dict[str, Any]] = ()) -> TrafficReport:
    """Analyse flows in time order (mark requests among them move the timeline) and summarise."""
    with gc_paused():  # flows, observations and the summaries over them hold no reference cycles
        return _report(records, analyzer, marks, warnings, tls_failures)


def _report(records: Iterable[FlowRecord], analyzer: FlowAnalyzer, marks: Iterable[Mark], warnings: Iterable[str],
            tls_failures: Iterable[dict[str, Any]]) -> TrafficReport:
    ordered = sorted(records, key=attrgetter("time"))
    timeline = analyzer.timeline
    for mark in marks:
        timeline.add(mark)
    # Mark requests inside a capture are part of its timeline wherever they sit in the file.
    for record in ordered:
        name = mark_from_url(record.host, record.path)
        if name is not None and not any(abs(m.time - record.time) < 1e-3 and m.name == name for m in timeline.marks):
            timeline.add(Mark(record.time, name, "capture"))
    report = TrafficReport(observations=[], flows=0, warnings=list(warnings))
    for record in ordered:
        gc_checkpoint()
        result = analyzer.analyse(record)
        if result.mark is not None:
            continue
        report.flows += 1
        observations = result.observations
        report.observations.extend(observations)
        report.warnings.extend(result.warnings)
        report.flow_index.append({
            # The URL is built from its parts: a flow with observations has it built already.
            "id": record.id, "time": record.time, "method": record.method,
            "url": observations[0].url if observations else record.url,
            "host": record.host, "status": record.status, "cleartext": record.cleartext,
            "data_types": sorted({o.data_type for o in observations}) if observations else [],
        })
    report.marks = [m.as_dict() for m in timeline.marks]
    report.linkage = linkage(report.observations)
    report.destinations = destinations(report.flow_index, report.observations, analyzer.recipients)
    report.frequency = frequency(report.observations)
    _add_unseen(report, tls_failures)
    return report


def _surest(confidences: set[str]) -> str:
    return max(confidences, key=lambda c: CONFIDENCE_RANK.get(c, 0))


def linkage(observations: Iterable[Observation]) -> list[LinkedIdentifier]:
    """Identifier values sent to two or more organisations, or seen in two or more captures."""
    by_ref: dict[str, list[Observation]] = defaultdict(list)
    for o in observations:
        if o.value_ref is not None:
            by_ref[o.value_ref].append(o)
    # A value seen once links nothing: only groups of two or more become sightings.
    return link_identifiers((o.value_ref, o.data_type, o.identifier,
                             recipient_organisation(o.party, o.owner, o.registrable_domain, o.host), o.host, o.capture,
                             o.flow_id) for group in by_ref.values() if len(group) > 1
                            for o in group if o.value_ref and o.data_type in LINKING_TYPES)


# What a TLS failure means for the analysis, in the words of the warning.
UNSEEN_KINDS = {
    "handshake_failed": "rejected the proxy's certificate",
    "closed_without_request": "closed the connection right after the TLS handshake without a request (likely "
                              "pinning; an unused pre-connection looks the same)",
}


def _add_unseen(report: TrafficReport, failures: Iterable[dict[str, Any]]) -> None:
    """Hosts the app talked to but would not let us read: a blind spot every conclusion must carry.

    A rejected certificate means the app does not trust the proxy's CA for that host (Android 7+ ignores user
    CAs unless the app opts in, or the host is pinned); a connection closed right after a completed handshake,
    with no request, is what certificate pinning in the app (OkHttp's CertificatePinner) looks like."""
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for failure in failures:
        key = (failure["host"], failure["kind"])
        row = groups.get(key)
        if row is None:
            row = groups[key] = {"host": failure["host"], "kind": failure["kind"], "count": 0,
                                 "first": failure["time"], "last": failure["time"], "error": failure["error"]}
        row["count"] += 1
        row["first"] = min(row["first"], failure["time"])
        row["last"] = max(row["last"], failure["time"])
    report.unseen = sorted(groups.values(), key=lambda r: (r["host"], r["kind"]))
    if not report.unseen:
        return
    parts = []
    for kind, words in UNSEEN_KINDS.items():
        hosts = [f"{r['host']}" + (f" ({r['count']}x)" if r["count"] > 1 else "") for r in report.unseen
                 if r["kind"] == kind]
        if hosts:
            parts.append(f"{words} for {', '.join(hosts)}")
    report.warnings.append(
        f"TLS interception failed for {len({r['host'] for r in report.unseen})} host(s): the app "
        + "; it ".join(parts) + ". Certificate pinning or a CA the app does not trust: what it sent to these "
        "hosts is not seen, so the traffic findings are a lower bound (docs/dynamic.md, 'Pinned hosts').")


def destinations(flow_index: list[dict[str, Any]], observations: list[Observation], recipients: Recipients
                 ) -> list[dict[str, Any]]:
    """Every host the app talked to, with who it is and which data it received."""
    by_host: dict[str, dict[str, Any]] = {}
    for flow in flow_index:
        r = recipients.resolve(flow["host"])
        row = by_host.get(r.host)
        if row is None:
            row = by_host[r.host] = {
                "host": r.host, "registrable_domain": r.registrable_domain, "party": r.party, "sdk": r.sdk,
                "sdk_name": r.sdk_name, "owner": r.owner, "country": r.country, "country_source": r.country_source,
                "categories": list(r.categories),
                "flows": 0, "cleartext_flows": 0, "first_seen": flow["time"], "last_seen": flow["time"],
                "data_types": set(), "cleartext_data_types": set(),
            }
        row["flows"] += 1
        row["cleartext_flows"] += int(flow["cleartext"])
        row["first_seen"] = min(row["first_seen"], flow["time"])
        row["last_seen"] = max(row["last_seen"], flow["time"])
    for o in observations:
        seen = by_host.get(o.host)
        if seen is not None:
            seen["data_types"].add(o.data_type)
            if o.cleartext:
                seen["cleartext_data_types"].add(o.data_type)
    rows = []
    for row in by_host.values():
        row["data_types"] = sorted(row["data_types"])
        row["cleartext_data_types"] = sorted(row["cleartext_data_types"])
        rows.append(row)
    rows.sort(key=lambda r: (-len(r["data_types"]), r["registrable_domain"], r["host"]))
    return rows


def frequency(observations: list[Observation]) -> list[dict[str, Any]]:
    """Per data type, destination (registrable domain) and SDK: how many flows, when, peak per minute, phases."""
    # Two SDKs of one company share a registrable domain (bugly.qq.com, gdt.qq.com): keep them apart.
    groups: dict[tuple[str, str, str], list[Observation]] = defaultdict(list)
    for o in observations:
        groups[(o.data_type, o.registrable_domain or o.host, o.sdk or "")].append(o)
    rows: list[dict[str, Any]] = []
    for (data_type, destination, _), items in groups.items():
        flow_times = {o.flow_id: o.time for o in items}
        flow_phases = {o.flow_id: o.phase for o in items}
        phases: dict[str, int] = defaultdict(int)
        for phase in flow_phases.values():
            phases[phase or "unknown"] += 1
        first = items[0]
        rows.append({
            "data_type": data_type, "destination": destination, "party": first.party, "sdk": first.sdk,
            "owner": first.owner, "hosts": sorted({o.host for o in items}),
            "identifiers": sorted({o.identifier for o in items if o.identifier}),
            "count": len(flow_times), "first": min(flow_times.values()), "last": max(flow_times.values()),
            "peak_per_minute": peak_per_minute(list(flow_times.values())),
            "phases": dict(sorted(phases.items())), "cleartext": any(o.cleartext for o in items),
            "confidence": _surest({o.confidence for o in items}),
        })
    rows.sort(key=lambda r: (-r["count"], r["data_type"], r["destination"]))
    return rows
