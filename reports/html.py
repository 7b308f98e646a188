"""The self-contained HTML report: jinja2 (autoescaped), CSS, JS and SVG inline; no request leaves the file."""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

import jinja2
from markupsafe import Markup, escape
from scanner.reports.base import ReportOptions, ReportWriter
from scanner.reports.i18n import LocalText, Translator, catalog
from scanner.reports.matrix import MatrixRow, build_matrix
from scanner.reports.static_text import access_notes
from scanner.reports.summary import SEVERITIES_DESC, Summary, summarize
from scanner.reports.timeline import RED_PHASES, Timeline, build_timeline

from scanner.knowledge.special_access import load_special_access
from scanner.model import Evidence, Finding, ScanResult

# Keys of details shown in their own block of an evidence item; every other key is listed as-is.
_SHOWN_DETAILS = {"url", "method", "where", "key", "encodings", "time", "phase", "cleartext", "snippet", "caller",
                  "api", "element", "flow_id", "highlight", "match"}


@dataclass
class EvidenceView:
    evidence: Evidence
    url: str | None = None
    method: str | None = None
    where: str | None = None
    key: str | None = None
    needles: list[str] = field(default_factory=list)  # what to highlight in the URL and the body
    encodings: list[str] = field(default_factory=list)
    when: str | None = None
    phase: str | None = None
    cleartext: bool = False
    snippet: str | None = None
    caller: str | None = None
    api: str | None = None
    element: str | None = None
    other: list[tuple[str, str]] = field(default_factory=list)
    kind_label: str = ""
    phase_label: str = ""
    red: bool = False
    url_marked: Markup = Markup("")
    snippet_marked: Markup = Markup("")


@dataclass
class FindingView:
    finding: Finding
    anchor: str
    title: LocalText
    message: LocalText
    remediation: LocalText | None
    sdk_name: str
    evidence: list[EvidenceView]
    # labels resolved in Python: the template makes no calls per finding (5,000 findings must render in seconds)
    sev: str = ""
    sev_label: str = ""
    basis_label: str = ""
    confidence_label: str = ""
    dt_label: str = ""
    evidence_label: str = ""
    references: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Group:
    severity: str
    findings: list[FindingView]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _label(strings: dict[str, str], key: str, fallback: str) -> str:
    return strings.get(key, fallback)


def _evidence_view(evidence: Evidence, start: float | None, strings: dict[str, str]) -> EvidenceView:
    d = evidence.details
    view = EvidenceView(evidence)
    view.kind_label = _label(strings, f"evidence.{evidence.kind}", evidence.kind)
    view.url = _text(d["url"]) if d.get("url") else None
    if view.url is None and evidence.kind == "flow" and evidence.location:
        view.url = evidence.location
    view.method = _text(d["method"]) if d.get("method") else None
    view.where = _text(d["where"]) if d.get("where") else None
    view.key = _text(d["key"]) if d.get("key") else None
    for name in ("key", "match", "highlight"):
        value = d.get(name)
        for needle in value if isinstance(value, list) else [value]:
            if isinstance(needle, str) and needle and needle not in view.needles:
                view.needles.append(needle)
    encodings = d.get("encodings")
    view.encodings = [str(e) for e in encodings] if isinstance(encodings, list) else []
    t = d.get("time")
    if isinstance(t, (int, float)) and not isinstance(t, bool):
        iso = _utc(t)
        view.when = f"+{t - start:.1f} s · {iso}" if start is not None else iso
    view.phase = _text(d["phase"]) if d.get("phase") else None
    view.cleartext = bool(d.get("cleartext"))
    view.snippet = _text(d["snippet"]) if d.get("snippet") is not None else None
    view.caller = _text(d["caller"]) if d.get("caller") else None
    if view.caller is None and evidence.kind in ("api_call", "runtime") and evidence.location:
        view.caller = evidence.location
    view.api = _text(d["api"]) if d.get("api") else None
    view.element = _text(d["element"]) if d.get("element") else None
    if view.element is None and evidence.kind in ("manifest", "permission") and evidence.location:
        view.element = evidence.location
    view.other = [(k, _text(v)) for k, v in d.items() if k not in _SHOWN_DETAILS]
    if view.phase:
        view.phase_label = _label(strings, f"phase.{view.phase}", view.phase)
        view.red = view.phase in RED_PHASES
    view.url_marked = highlight(view.url, view.needles)
    view.snippet_marked = highlight(view.snippet, view.needles)
    return view


@functools.lru_cache(maxsize=4096)
def _utc(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")  # evidence shares flow times


def highlight(text: str | None, needles: list[str]) -> Markup:
    """Escape `text` and wrap each `key=value` / `"key": value` of the personal data in <mark>."""
    if not text:
        return Markup("")
    spans: list[tuple[int, int]] = []
    for needle in needles:
        with_value, alone = _needle_patterns(needle)
        found = [m.span() for m in with_value.finditer(text)]
        if not found:
            found = [m.span() for m in alone.finditer(text)]
        spans.extend(found)
    if not spans:
        return escape(text)
    spans.sort()
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    out: list[str] = []
    pos = 0
    for s, e in merged:
        out.append(str(escape(text[pos:s])))
        out.append(f"<mark>{escape(text[s:e])}</mark>")
        pos = e
    out.append(str(escape(text[pos:])))
    return Markup("".join(out))


@functools.lru_cache(maxsize=1024)
def _needle_patterns(needle: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """`needle` followed by its value, and `needle` alone; compiled once (every flow evidence has a few)."""
    return (re.compile(re.escape(needle) + r"""["']?\s*[:=]\s*["']?[^&,;}\s"'<>]*"""), re.compile(re.escape(needle)))


def safe_href(url: str) -> str:
    """Only http(s) links: a `javascript:` reference from a custom rule pack must not become a live link."""
    return url if re.match(r"(?i)^https?://", url or "") else "#"


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("scanner.reports", "templates"),
        autoescape=True,  # everything from the app or the traffic is text, never markup
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["highlight"] = highlight
    env.filters["safe_href"] = safe_href
    return env


def _traffic_rows(result: ScanResult, start: float | None, sdk_names: dict[str, str],
                  t: Translator) -> tuple[list[list[Any]], list[list[Any]]]:
    """Compact rows for the client-side paged tables (arrays, not objects: 50,000 flows stay a few MB)."""
    traffic = result.traffic
    if traffic is None:
        return [], []
    base = start or 0.0
    personal = {o.flow_id for o in traffic.observations}
    flows = []
    for f in traffic.flow_index:
        t_flow = f.get("time")
        flows.append([round((t_flow if isinstance(t_flow, (int, float)) else base) - base, 2), str(f.get("host") or ""),
                      str(f.get("method") or ""), str(f.get("url") or ""), bool(f.get("cleartext")),
                      str(f.get("id")) in personal])
    labels: dict[str, str] = {}
    observations = []
    for o in traffic.observations:
        label = labels.get(o.data_type)
        if label is None:
            label = labels[o.data_type] = t.data_type(o.data_type)
        # How sure: a profile value is said by nothing; a protocol field or a shape match says so beside the id.
        sure = "" if o.confidence == "confirmed" else f" [{_label(t.strings, 'confidence.' + o.confidence, o.confidence)}]"
        observations.append([round(o.time - base, 2), o.phase or "", o.phase in RED_PHASES, label,
                             (o.identifier or "") + sure,
                             o.host, o.where + " · " + o.key if o.key else o.where, " → ".join(o.encodings), o.party,
                             sdk_names.get(o.sdk or "", o.sdk or ""), o.cleartext])
    return flows, observations


class HtmlWriter(ReportWriter):
    format_name: ClassVar[str] = "html"
    file_name: ClassVar[str] = "report.html"
    media_type: ClassVar[str] = "text/html"

    def render(self, result: ScanResult, options: ReportOptions) -> str:
        t = Translator(options.lang)
        summary: Summary = summarize(result)
        sdk_names = {s.id: s.name for s in (result.static.sdks if result.static else [])}
        timeline: Timeline | None = build_timeline(result.traffic)
        start = timeline.start if timeline else None

        strings = t.strings

        def finding_view(i: int, f: Finding) -> FindingView:
            sev = str(f.severity)
            return FindingView(
                f, f"f{i}", t.title(f), t.message(f), t.remediation(f), sdk_names.get(f.sdk or "", f.sdk or ""),
                [_evidence_view(e, start, strings) for e in f.evidence],
                sev=sev, sev_label=strings[f"severity.{sev}"],
                basis_label=_label(strings, f"basis.{f.basis}", f.basis),
                confidence_label=_label(strings, f"confidence.{f.confidence}", f.confidence),
                dt_label=t.data_type(f.data_type), evidence_label=t("findings.evidence", n=len(f.evidence)),
                references=[(f"{r.title}, {r.article}" if r.article else r.title, safe_href(r.url)) for r in f.references],
            )

        views = [finding_view(i, f) for i, f in enumerate(summary.active)]
        groups = [Group(str(sev), [v for v in views if v.finding.severity == sev]) for sev in SEVERITIES_DESC]
        suppressed = [finding_view(len(views) + i, f) for i, f in enumerate(summary.suppressed_findings)]
        matrix: list[MatrixRow] = build_matrix(result)
        flows, observations = _traffic_rows(result, start, sdk_names, t)
        js_strings = {k: v for k, v in catalog(options.lang).items() if k.startswith(("js.", "col.", "phase."))}
        template = _environment().get_template("report.html.j2")
        return template.render(
            r=result, t=t, L=strings, lang=options.lang, summary=summary, groups=[g for g in groups if g.findings],
            suppressed=suppressed, worst=_worst(views), matrix=matrix, timeline=timeline, sdk_names=sdk_names,
            data_types=sorted({f.data_type for f in summary.active if f.data_type}),
            sdks=sorted({f.sdk for f in summary.active if f.sdk}), severities=[str(s) for s in SEVERITIES_DESC],
            flows=flows, observations=observations, js_strings=js_strings, page_size=options.page_size,
            table_page_size=options.table_page_size, red_phases=RED_PHASES,
            generated=result.finished or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            special=_special_rows(result, t), checklist=_checklist_rows(result, t),
            input_notes=[*(result.static.warnings if result.static else []),
                         *(result.traffic.warnings if result.traffic else [])],
        )


def _special_rows(result: ScanResult, t: Translator) -> list[dict[str, Any]]:
    """Special access for the report's table, in the report's language; dormant library calls last and dimmed."""
    if result.static is None:
        return []
    kinds = load_special_access().by_id
    rows = []
    for access in result.static.special_access:
        kind = kinds.get(access.kind)
        dormant = access.dormant
        if access.sdk:
            whose = t("special.sdk", sdk=access.sdk)
        elif access.origin == "library":
            whose = t("special.library_called", caller=access.reached_from) if access.reached_from else t(
                "special.library_dormant")
        else:
            whose = t("special.app")
        zh = t.lang == "zh"
        rows.append({"label": (kind.label_zh if zh else kind.label) if kind else access.label,
                     "sees": (kind.sees_zh if zh else kind.sees) if kind else "", "via": access.via, "whose": whose,
                     "dormant": dormant, "notes": access_notes(access.config)})
    return sorted(rows, key=lambda r: r["dormant"])


def _checklist_rows(result: ScanResult, t: Translator) -> list[dict[str, Any]]:
    """What the policy text states of what a regulator checks (DVG-POLICY-010..018), found or not, by group."""
    if result.declaration is None:
        return []
    return [{"group": _label(t.strings, f"checklist.group.{topic.group}", topic.group),
             "label": topic.label_zh if t.lang == "zh" else topic.label, "found": topic.found,
             "source": topic.source} for topic in result.declaration.policy_topics]


def _worst(views: list[FindingView], n: int = 3) -> list[FindingView]:
    """The verdict's worst findings, one per rule: three variants of one problem would hide the second problem."""
    picked: list[FindingView] = []
    rules: set[str] = set()
    for view in views:  # already worst first
        if view.finding.rule_id not in rules:
            picked.append(view)
            rules.add(view.finding.rule_id)
            if len(picked) == n:
                return picked
    return picked + [v for v in views if v not in picked][: n - len(picked)]
