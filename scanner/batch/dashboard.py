"""The cross-app dashboard: one self-contained HTML file built from the batch store, in the app report's style."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from scanner import __version__
from scanner.batch.store import Store
from scanner.model import DATA_TYPES

SEVERITIES = ("critical", "high", "medium", "low", "info")

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "title": "divulge batch dashboard", "apps": "Apps", "overview": "Overview", "scanned": "apps scanned",
        "with_errors": "could not be scanned", "findings": "findings", "apps_sev": "Apps by severity",
        "apps_sev_lead": "Each app with its findings per severity; the worst apps first. Open an app for its report.",
        "app": "App", "status": "Status", "total": "Total", "sdks": "SDKs", "report": "Report", "open": "open",
        "filter": "Filter apps…", "prevalence": "SDK prevalence",
        "prevalence_lead": "How many of the scanned apps carry each SDK (any detection strength).",
        "sdk": "SDK", "owner": "Owner", "country": "Country", "share": "Share of apps",
        "flows": "Which SDKs carry which data to whom",
        "flows_lead": "Data types each SDK was seen sending in traffic (bold), or may collect by its catalog entry, "
                      "and the recipients it sent them to.",
        "data_types": "Data types", "recipients": "Recipients", "observed": "observed in traffic",
        "capability": "capability only", "violations": "Most common violations",
        "violations_lead": "Rules that fired in the most apps.", "rule": "Rule", "severity": "Severity",
        "n_apps": "Apps", "n_findings": "Findings", "errors": "Apps that could not be scanned",
        "errors_lead": "Each error is recorded with its reason; the batch went on.", "kind": "Reason",
        "message": "Message", "runs": "Runs and versions", "run": "Run", "started": "Started",
        "finished": "Finished", "engine": "Engine", "workers": "Workers", "tool": "Tool",
        "catalog": "SDK catalog", "rule_pack": "Rule pack", "none": "None.", "ok": "ok", "error": "error",
        "csv": "All findings as CSV", "generated": "generated", "no_findings": "No findings in any app.",
        "evidence": "Evidence index head", "verify": "check with `divulge verify`",
        "regulator": "Regulator summary", "pia": "PIA draft",
        "regulator_lead": "Each app with its findings per rule family and the countries of the SDK owners it embeds "
                          "(SDKs present or wired; the catalog's owner country). Open an app's PIA draft to complete it.",
        "countries": "SDK owners' countries", "regulator_csv": "Regulator summary as CSV",
    },
    "zh": {
        "title": "divulge 批量检测总览", "apps": "应用", "overview": "概览", "scanned": "个应用已检测",
        "with_errors": "个无法检测", "findings": "项问题", "apps_sev": "各应用问题严重程度",
        "apps_sev_lead": "每个应用按严重程度统计的问题，最严重的排在前面。点击打开该应用的报告。",
        "app": "应用", "status": "状态", "total": "合计", "sdks": "SDK", "report": "报告", "open": "打开",
        "filter": "筛选应用…", "prevalence": "SDK 普及度", "prevalence_lead": "已检测应用中包含各 SDK 的数量。",
        "sdk": "SDK", "owner": "所属公司", "country": "国家/地区", "share": "应用占比",
        "flows": "各 SDK 将哪些数据发送给谁",
        "flows_lead": "各 SDK 在流量中被观察到发送的数据类型（粗体），或依其目录条目可能收集的数据类型，以及接收方。",
        "data_types": "数据类型", "recipients": "接收方", "observed": "流量中观察到", "capability": "仅具备能力",
        "violations": "最常见的违规", "violations_lead": "在最多应用中触发的规则。", "rule": "规则",
        "severity": "严重程度", "n_apps": "应用数", "n_findings": "问题数", "errors": "无法检测的应用",
        "errors_lead": "每个错误均记录原因，批量检测继续进行。", "kind": "原因", "message": "信息",
        "runs": "运行记录与版本", "run": "运行", "started": "开始", "finished": "结束", "engine": "引擎",
        "workers": "进程数", "tool": "工具", "catalog": "SDK 目录", "rule_pack": "规则包", "none": "无。",
        "ok": "正常", "error": "错误", "csv": "全部问题（CSV）", "generated": "生成于",
        "no_findings": "所有应用均未发现问题。", "evidence": "证据索引头哈希", "verify": "可用 `divulge verify` 校验",
        "regulator": "监管汇总", "pia": "影响评估草稿",
        "regulator_lead": "每个应用按规则类别统计的问题，以及其集成的 SDK 所属公司的国家/地区（已打包或已调用的 SDK；取自目录）。"
                          "打开应用的个人信息保护影响评估草稿以补充完成。",
        "countries": "SDK 所属公司国家/地区", "regulator_csv": "监管汇总（CSV）",
    },
}
SEVERITY_NAMES = {"zh": {"critical": "严重", "high": "高", "medium": "中", "low": "低", "info": "提示"}}


@dataclass
class AppRow:
    app_id: str
    name: str
    package: str | None
    version: str | None
    status: str
    counts: dict[str, int]
    total: int
    max_severity: int
    sdks: int
    report: str | None
    error: str | None
    pia: str | None = None  # the app's PIA draft (pia.html, else pia.md), when the batch wrote one


@dataclass
class RegulatorRow:
    """One app of the regulator summary: findings per rule family, and its SDK owners' countries with counts."""

    app_id: str
    name: str
    package: str | None
    families: dict[str, int]
    countries: list[tuple[str, int]]
    pia: str | None


@dataclass
class SdkRow:
    sdk_id: str
    name: str
    owner: str | None
    country: str | None
    apps: int
    share: float
    observed: list[str] = field(default_factory=list)
    capability: list[str] = field(default_factory=list)
    recipients: list[tuple[str, int]] = field(default_factory=list)  # (host or owner, apps)


def _environment() -> jinja2.Environment:
    templates = resources.files("scanner.reports").joinpath("templates")

    def load(name: str) -> str | None:
        item = templates.joinpath(name)
        return item.read_text("utf-8") if item.is_file() else None

    return jinja2.Environment(loader=jinja2.FunctionLoader(load), autoescape=True, trim_blocks=True,
                              lstrip_blocks=True, undefined=jinja2.StrictUndefined)


def _has_report_css() -> bool:
    return resources.files("scanner.reports").joinpath("templates/report.css").is_file()


def build_view(store: Store, out: Path) -> dict[str, Any]:
    """Everything the template shows, as plain values (the template holds no queries and no logic)."""
    sdk_counts = {r["app_id"]: r["n"] for r in store.query("SELECT app_id, COUNT(*) AS n FROM sdks GROUP BY app_id")}
    errors = {r["app_id"]: (r["kind"], r["message"]) for r in store.query("SELECT * FROM errors")}
    apps: list[AppRow] = []
    for r in store.query("SELECT * FROM apps"):
        report = None
        if r["report_dir"]:
            for name in ("report.html", "findings.json", "error.json"):
                if (out / r["report_dir"] / name).is_file():
                    report = f"{r['report_dir']}/{name}"
                    break
        counts = {s: int(r[s]) for s in SEVERITIES}
        err = errors.get(r["app_id"])
        pia = next((f"{r['report_dir']}/{name}" for name in ("pia.html", "pia.md")
                    if r["report_dir"] and (out / r["report_dir"] / name).is_file()), None)
        apps.append(AppRow(app_id=r["app_id"], name=r["label"] or r["package"] or r["app_id"], package=r["package"],
                           version=r["version_name"], status=r["status"], counts=counts, total=int(r["findings"]),
                           max_severity=-1 if r["max_severity"] is None else int(r["max_severity"]),
                           sdks=sdk_counts.get(r["app_id"], 0), report=report,
                           error=f"{err[0]}: {err[1]}" if err else None, pia=pia))
    apps.sort(key=lambda a: (a.status != "ok", -a.max_severity, *(-a.counts[s] for s in SEVERITIES), a.app_id))
    ok_apps = sum(1 for a in apps if a.status == "ok")
    totals = {s: sum(a.counts[s] for a in apps) for s in SEVERITIES}
    return {
        "worst": next((s for s in SEVERITIES if totals[s]), None),
        "apps": apps, "ok_apps": ok_apps, "error_apps": len(apps) - ok_apps,
        "totals": totals,
        "sdks": _sdk_rows(store, max(ok_apps, 1)),
        "violations": [dict(r) for r in store.query(
            "SELECT rule_id, MIN(title) AS title, MAX(severity_rank) AS rank, COUNT(DISTINCT app_id) AS apps, "
            "COUNT(*) AS findings FROM findings WHERE suppressed IS NULL GROUP BY rule_id "
            "ORDER BY apps DESC, rank DESC, findings DESC, rule_id LIMIT 30")],
        "errors": [dict(r) for r in store.query("SELECT * FROM errors ORDER BY kind, app_id")],
        "runs": store.runs(),
        "index_head": _index_head(out),
        "regulator": regulator_summary(store, apps),
    }


def rule_family(rule_id: str) -> str:
    """DVG-XBORDER-002 -> DVG-XBORDER: the rules of one concern, as a regulator groups them."""
    head, _, tail = rule_id.rpartition("-")
    return head if head and tail.isdigit() else rule_id


def regulator_summary(store: Store, apps: list[AppRow]) -> tuple[list[str], list[RegulatorRow]]:
    """Apps x finding families x SDK owners' countries: the families seen in any app, and one row per scanned app."""
    families: dict[str, dict[str, int]] = defaultdict(dict)
    for r in store.query("SELECT app_id, rule_id, COUNT(*) AS n FROM findings WHERE suppressed IS NULL "
                         "GROUP BY app_id, rule_id"):
        family = families[r["app_id"]]
        name = rule_family(r["rule_id"])
        family[name] = family.get(name, 0) + int(r["n"])
    countries: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for r in store.query("SELECT app_id, COALESCE(NULLIF(country, ''), '?') AS country, COUNT(*) AS n FROM sdks "
                         "WHERE status IN ('present', 'wired') GROUP BY app_id, country ORDER BY app_id, n DESC, country"):
        countries[r["app_id"]].append((r["country"], int(r["n"])))
    columns = sorted({f for per_app in families.values() for f in per_app})
    rows = [RegulatorRow(app_id=a.app_id, name=a.name, package=a.package,
                         families={f: families[a.app_id].get(f, 0) for f in columns},
                         countries=countries.get(a.app_id, []), pia=a.pia) for a in apps if a.status == "ok"]
    return columns, rows



def _sdk_rows(store: Store, app_total: int) -> list[SdkRow]:
    rows: dict[str, SdkRow] = {}
    capability: dict[str, set[str]] = defaultdict(set)
    for r in store.query("SELECT sdk_id, MIN(name) AS name, MIN(owner) AS owner, MIN(country) AS country, "
                         "COUNT(DISTINCT app_id) AS apps FROM sdks GROUP BY sdk_id"):
        rows[r["sdk_id"]] = SdkRow(r["sdk_id"], r["name"], r["owner"], r["country"], int(r["apps"]),
                                   round(100 * int(r["apps"]) / app_total, 1))
    for r in store.query("SELECT sdk_id, data_types FROM sdks"):
        capability[r["sdk_id"]].update(json.loads(r["data_types"]))
    observed: dict[str, set[str]] = defaultdict(set)
    recipients: dict[str, Counter[str]] = defaultdict(Counter)
    for r in store.query("SELECT sdk, data_type, COALESCE(registrable_domain, host) AS dest, "
                         "COUNT(DISTINCT app_id) AS apps FROM observations WHERE sdk IS NOT NULL "
                         "GROUP BY sdk, data_type, dest"):
        observed[r["sdk"]].add(r["data_type"])
        recipients[r["sdk"]][r["dest"]] = max(recipients[r["sdk"]][r["dest"]], int(r["apps"]))
    for sdk_id, row in rows.items():
        row.observed = sorted(observed.get(sdk_id, set()))
        row.capability = sorted(capability.get(sdk_id, set()) - set(row.observed))
        row.recipients = recipients[sdk_id].most_common(8) if sdk_id in recipients else (
            [(row.owner, row.apps)] if row.owner else [])
    return sorted(rows.values(), key=lambda s: (-s.apps, s.name.lower()))


def _index_head(out: Path) -> str | None:
    try:
        return str(json.loads((out / "evidence-index.json").read_text(encoding="utf-8"))["head"])
    except (OSError, ValueError, KeyError):
        return None


def render_dashboard(store: Store, out: Path, *, lang: str = "en") -> str:
    view = build_view(store, out)
    strings = STRINGS.get(lang, STRINGS["en"])

    def sev_name(sev: str) -> str:
        return SEVERITY_NAMES.get(lang, {}).get(sev, sev)

    def dt_label(data_type: str) -> str:
        info = DATA_TYPES.get(data_type)
        if info is None:
            return data_type
        return info.label_zh if lang == "zh" else info.label

    template = _environment().get_template("batch_dashboard.html.j2")
    return template.render(v=view, s=strings, lang=lang, severities=SEVERITIES, sev_name=sev_name,
                           dt_label=dt_label, version=__version__, with_report_css=_has_report_css(),
                           generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))
