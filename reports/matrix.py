"""The declared-vs-observed matrix: every data type declared, possible by permission/API/SDK, or seen in traffic."""

from __future__ import annotations

from dataclasses import dataclass, field

from scanner.model import DATA_TYPES, ScanResult

# Status ids; their labels and colours live in the i18n catalogs and the stylesheet.
CONSISTENT = "consistent"  # declared, and seen or possible
UNDECLARED = "undeclared"  # seen in traffic, not declared as collected
UNDECLARED_SHARING = "undeclared_sharing"  # sent to a third party, declared collected but not shared
UNDECLARED_CAPABILITY = "undeclared_capability"  # only possible (permission, API, SDK), not declared
OVER_DECLARED = "over_declared"  # declared, neither seen nor possible
DENIED_BUT_SEEN = "denied_but_seen"  # the declaration says "not collected" and traffic shows it

STATUS_ORDER = (DENIED_BUT_SEEN, UNDECLARED, UNDECLARED_SHARING, UNDECLARED_CAPABILITY, OVER_DECLARED, CONSISTENT)


@dataclass
class MatrixRow:
    data_type: str
    category: str
    declared_collected: bool = False
    declared_shared: bool = False
    declared_denied: bool = False
    purposes: list[str] = field(default_factory=list)
    possible_by: list[str] = field(default_factory=list)  # permissions, APIs, SDKs that make it possible
    observed: bool = False
    observed_third_party: bool = False
    before_consent: bool = False
    hosts: list[str] = field(default_factory=list)
    sdks: list[str] = field(default_factory=list)
    status: str = CONSISTENT

    @property
    def possible(self) -> bool:
        return bool(self.possible_by)


def _short_api(api: str) -> str:
    parts = api.split(".")
    return ".".join(parts[-2:]) if len(parts) >= 2 else api


def build_matrix(result: ScanResult) -> list[MatrixRow]:
    rows: dict[str, MatrixRow] = {}

    def row(data_type: str) -> MatrixRow:
        if data_type not in rows:
            info = DATA_TYPES.get(data_type)
            rows[data_type] = MatrixRow(data_type, info.category if info else "other")
        return rows[data_type]

    def add(items: list[str], value: str | None) -> None:
        if value and value not in items:
            items.append(value)

    if result.declaration is not None:
        for dt, declared in result.declaration.data_types.items():
            r = row(dt)
            r.declared_collected = declared.collected and not declared.denied
            r.declared_shared = declared.shared and not declared.denied
            r.declared_denied = declared.denied
            r.purposes = list(declared.purposes)
    if result.static is not None:
        for perm in result.static.permissions:
            for dt in perm.data_types:
                add(row(dt).possible_by, perm.name.rsplit(".", 1)[-1])
        for use in result.static.api_uses:
            r = row(use.data_type)
            add(r.possible_by, _short_api(use.api))
            add(r.sdks, use.sdk)
        for sdk in result.static.sdks:
            for dt in sdk.data_types:
                r = row(dt)
                add(r.possible_by, sdk.name)
                add(r.sdks, sdk.id)
    if result.traffic is not None:
        for obs in result.traffic.observations:
            r = row(obs.data_type)
            r.observed = True
            r.observed_third_party = r.observed_third_party or obs.party == "third"
            r.before_consent = r.before_consent or obs.phase in ("before_consent", "after_refusal")
            if len(r.hosts) < 20:  # enough to name who is involved; the full list is in the traffic table
                add(r.hosts, obs.host)
            add(r.sdks, obs.sdk)
    for r in rows.values():
        r.status = _status(r)
    return sorted(rows.values(), key=lambda r: (STATUS_ORDER.index(r.status), r.category, r.data_type))


def _status(r: MatrixRow) -> str:
    if r.observed and r.declared_denied:
        return DENIED_BUT_SEEN
    if r.observed and not r.declared_collected:
        return UNDECLARED
    if r.observed_third_party and not r.declared_shared:
        return UNDECLARED_SHARING
    if r.declared_collected or r.declared_shared:
        return CONSISTENT if (r.observed or r.possible) else OVER_DECLARED
    if r.possible:
        return UNDECLARED_CAPABILITY
    return OVER_DECLARED if r.declared_denied else CONSISTENT
