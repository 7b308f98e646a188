"""The traffic timeline as binned bars: every flow, flows carrying personal data, and those before consent or after refusal."""

from __future__ import annotations

from dataclasses import dataclass, field

from scanner.model import TrafficReport

RED_PHASES = ("before_consent", "after_refusal")


@dataclass
class Bin:
    x: float
    flows: int = 0
    personal: int = 0
    red: int = 0


@dataclass
class Mark:
    x: float
    kind: str  # consent | refusal | other
    label: str
    seconds: float


@dataclass
class Timeline:
    width: int
    height: int
    duration: float
    start: float
    bins: list[Bin] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    max_count: int = 1
    bin_width: float = 1.0
    ticks: list[tuple[float, str]] = field(default_factory=list)

    def bar_height(self, count: int) -> float:
        # sqrt keeps single pre-consent flows visible next to bursts of hundreds
        return 0.0 if count <= 0 else max(2.0, (count / self.max_count) ** 0.5 * (self.height - 4))


def _mark_kind(mark: dict[str, object]) -> str:
    kind = str(mark.get("kind") or mark.get("type") or mark.get("event") or "other").lower()
    if "refus" in kind or "deny" in kind or "reject" in kind or "revok" in kind:
        return "refusal"
    if "consent" in kind or "agree" in kind or "accept" in kind:
        return "consent"
    return "other"


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def build_timeline(traffic: TrafficReport | None, width: int = 960, height: int = 90, n_bins: int = 160) -> Timeline | None:
    if traffic is None:
        return None
    flow_times: dict[str, float] = {}
    for flow in traffic.flow_index:
        t = flow.get("time")
        if t.__class__ is float:  # the usual case, without _number's checks
            flow_times[str(flow.get("id", len(flow_times)))] = t
        elif (t := _number(t)) is not None:
            flow_times[str(flow.get("id", len(flow_times)))] = t
    personal: dict[str, bool] = {}  # flow id -> carries data before consent / after refusal
    for obs in traffic.observations:
        flow_id = obs.flow_id
        if flow_id not in flow_times:
            flow_times[flow_id] = obs.time
        personal[flow_id] = personal.get(flow_id, False) or obs.phase in RED_PHASES
    mark_times = [(m, t) for m in traffic.marks if (t := _number(m.get("time"))) is not None]
    times = list(flow_times.values()) + [t for _, t in mark_times]
    if not times:
        return None
    start, end = min(times), max(times)
    duration = max(end - start, 1.0)
    line = Timeline(width=width, height=height, duration=duration, start=start)
    line.bin_width = width / n_bins
    line.bins = [Bin(x=i * line.bin_width) for i in range(n_bins)]
    # Counted in plain lists, then stored: tens of thousands of flows, so no attribute updates per flow.
    flows, carrying, red = [0] * n_bins, [0] * n_bins, [0] * n_bins
    last = n_bins - 1
    for flow_id, t in flow_times.items():
        at = int((t - start) / duration * n_bins)
        if at > last:
            at = last
        flows[at] += 1
        is_red = personal.get(flow_id)
        if is_red is not None:
            carrying[at] += 1
            red[at] += is_red
    for b, n_flows, n_personal, n_red in zip(line.bins, flows, carrying, red, strict=True):
        b.flows, b.personal, b.red = n_flows, n_personal, n_red
    line.max_count = max(1, max(b.flows for b in line.bins))
    for mark, t in mark_times:
        line.marks.append(Mark(x=(t - start) / duration * width, kind=_mark_kind(mark),
                               label=str(mark.get("label") or ""), seconds=t - start))
    for i in range(6):
        seconds = duration * i / 5
        line.ticks.append((width * i / 5, f"{seconds:.0f} s" if duration < 600 else f"{seconds / 60:.1f} min"))
    return line
