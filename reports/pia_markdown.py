"""The PIA draft as Markdown (`--format pia`): one document a person completes; gaps marked "[to be completed]"."""

from __future__ import annotations

from typing import ClassVar

from scanner.reports.base import ReportOptions, ReportWriter
from scanner.reports.i18n import Translator
from scanner.reports.markdown import md
from scanner.reports.pia import PiaDraft, build_pia

from scanner.model import PURPOSES, ScanResult


def _cell(text: str | None) -> str:
    return md(text) or "—"


class PiaMarkdownWriter(ReportWriter):
    format_name: ClassVar[str] = "pia"
    file_name: ClassVar[str] = "pia.md"
    media_type: ClassVar[str] = "text/markdown"

    def render(self, result: ScanResult, options: ReportOptions) -> str:
        return render_markdown(build_pia(result, options.lang), Translator(options.lang))


def render_markdown(draft: PiaDraft, t: Translator) -> str:
    tbc = f"**{t('pia.tbc')}**"
    app = draft.app
    out = [f"# {t('pia.title', app=md(app.name or app.package or t('app.unknown')))}", "",
           f"> {t('pia.draft_note')}", ""]
    out += [f"## 1. {t('pia.s.scope')}", "",
            "| | |", "|---|---|",
            f"| {t('pia.app')} | {_cell(app.name)} (`{md(app.package)}`) {md(app.version)} |",
            f"| SHA-256 | `{md(app.sha256) or '—'}` |",
            f"| {t('pia.markets')} | {', '.join(t(f'pia.market.{m}') for m in app.markets) or tbc} |",
            f"| {t('pia.audience')} | {t(f'pia.audience.{app.audience}') if app.audience else tbc} |",
            f"| {t('pia.handler')} | {tbc} |",
            f"| {t('pia.generated')} | {md(draft.generated)} · divulge {md(draft.tool_version)} |",
            f"| {t('pia.inputs')} | {'<br>'.join(md(i) for i in draft.inputs) or '—'} |", ""]
    out += [f"## 2. {t('pia.s.triggers')}", "", t("pia.triggers_lead"), "",
            f"| {t('pia.trigger')} | {t('pia.article')} | {t('pia.applies')} | {t('pia.evidence')} |", "|---|---|---|---|"]
    for trig in draft.triggers:
        applies = tbc if trig.applies is None else t("pia.yes") if trig.applies else t("pia.no")
        out.append(f"| {t(f'pia.trigger.{trig.id}')} | {md(trig.article)} | {applies} | "
                   f"{'; '.join(md(e) for e in trig.evidence) or '—'} |")
    out += ["", f"## 3. {t('pia.s.activities')}", "", t("pia.activities_lead"), "",
            f"| {t('md.data_type')} | {t('pia.sensitive')} | {t('pia.seen_in')} | {t('pia.purposes')} "
            f"| {t('pia.recipients')} | {t('pia.legal_basis')} | {t('pia.retention')} |",
            "|---|---|---|---|---|---|---|"]
    for a in draft.activities:
        purposes = ", ".join(md(t(f"pia.purpose.{p}") if p in PURPOSES else p) for p in a.purposes) or tbc
        out.append(f"| {md(t.data_type(a.data_type))} | {t('pia.yes') if a.sensitive else ''} "
                   f"| {', '.join(t(f'pia.seen.{s}') for s in a.seen_in)} | {purposes} "
                   f"| {', '.join(md(r) for r in a.recipients) or '—'} | {tbc} | {tbc} |")
    if not draft.activities:
        out.append(f"| {t('pia.none')} | | | | | | |")
    out += ["", f"## 4. {t('pia.s.sensitive')}", ""]
    out += [f"- {md(t.data_type(d))}: {t('pia.sensitive_need')}" for d in draft.sensitive] or [t("pia.no_sensitive")]
    out += ["", f"## 5. {t('pia.s.parties')}", "",
            f"| {t('pia.party')} | {t('pia.owner')} | {t('pia.country')} | {t('pia.role')} | {t('pia.disclosed')} "
            f"| {t('pia.where')} | {md(t('md.data_type'))} |", "|---|---|---|---|---|---|---|"]
    for p in draft.parties:
        country = md(p.country) + (f" ({t('pia.approximate')})" if p.country_source in ("domain", "cctld") else "") \
            if p.country else tbc
        disclosed = "—" if p.disclosed is None else t("pia.yes") if p.disclosed else f"**{t('pia.no')}**"
        where = ", ".join(x for x, on in ((t("pia.in_app"), p.in_app), (t("pia.in_traffic"), p.in_traffic)) if on)
        out.append(f"| {md(p.name)} | {_cell(p.owner)} | {country} | {md(t(f'pia.role.{p.role}')) if p.role else tbc} "
                   f"| {disclosed} | {where} | {', '.join(md(t.data_type(d)) for d in p.data_types) or '—'} |")
    if not draft.parties:
        out.append(f"| {t('pia.none')} | | | | | | |")
    out += ["", f"## 6. {t('pia.s.transfers')}", "", t("pia.transfers_lead"), ""]
    if draft.transfers:
        out += [f"| {t('pia.party')} | {t('pia.country')} | {t('pia.leaves')} | {md(t('md.data_type'))} "
                f"| {t('pia.disclosed')} | {t('pia.basis')} | {t('pia.route')} |", "|---|---|---|---|---|---|---|"]
        for x in draft.transfers:
            country = md(x.country) + (f" ({t('pia.approximate')})" if x.country_source != "catalog" else "")
            route = tbc + (f" ({md(x.adequacy)}?)" if x.adequacy else "")
            out.append(f"| {md(x.recipient)} | {country} | {t(f'pia.market.{x.market}')} "
                       f"| {', '.join(md(t.data_type(d)) for d in x.data_types)} "
                       f"| {t('pia.yes') if x.disclosed else '**' + t('pia.no') + '**'} | {t(f'pia.seen.{x.basis}')} "
                       f"| {route} |")
    else:
        out.append(t("pia.no_transfers") if draft.app.markets else t("pia.no_markets"))
    out += ["", f"## 7. {t('pia.s.risks')}", "", t("pia.risks_lead"), ""]
    for r in draft.risks:
        out.append(f"{r.rank}. **{md(r.title)}** — {t.severity(r.severity)}, {t('pia.confidence')} "
                   f"{md(r.confidence)}, `{md(r.rule_id)}`")
        out.append(f"   {md(r.message)}")
        out += [f"   - {t('pia.evidence')}: {md(e)}" for e in r.evidence]
        if r.references:
            out.append(f"   - {t('pia.references')}: {'; '.join(md(x) for x in r.references)}")
        out.append(f"   - {t('pia.likelihood_impact')}: {tbc}")
    if not draft.risks:
        out.append(t("pia.no_risks"))
    out += ["", f"## 8. {t('pia.s.measures')}", "",
            f"| {t('md.rule')} | {t('pia.measure')} | {t('pia.findings')} | {t('pia.owner_due')} |", "|---|---|---:|---|"]
    out += [f"| `{md(m.rule_id)}` | {md(m.measure)} | {m.findings} | {tbc} |" for m in draft.measures]
    if not draft.measures:
        out.append(f"| — | {t('pia.no_risks')} | 0 | |")
    out += ["", f"## 9. {t('pia.s.gaps')}", "", t("pia.gaps_lead"), ""]
    out += [f"- {t(f'pia.gap.{g}')}: {tbc}" for g in draft.gaps]
    out += ["", f"## 10. {t('pia.s.conclusion')}", "", tbc, ""]
    return "\n".join(out) + "\n"
