"""The batch service: jobs -> engine (local processes or Dask) -> per-app result folders + the store -> dashboard."""

from __future__ import annotations

import csv
import io
import json
import logging
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from scanner import __version__
from scanner.batch.appscan import AppOutcome, ScanSettings, now_iso
from scanner.batch.evidence import INDEX_NAME, MANIFEST_NAME, build_index, build_manifest
from scanner.batch.inputs import AppJob, BadBatchInput, load_jobs
from scanner.batch.store import Store, file_stamp
from scanner.batch.workers import Limits, LocalPool
from scanner.model import Severity, to_jsonable

log = logging.getLogger(__name__)

ENGINES = ("local", "dask")


@dataclass(frozen=True)
class BatchOptions:
    source: Path
    out: Path
    db: Path | None = None  # default: OUT/batch.sqlite
    policies: Path | None = None
    traffic: Path | None = None
    workers: int = 1
    resume: bool = False
    fresh: bool = False
    retry_errors: bool = False
    limits: Limits = field(default_factory=Limits)
    settings: ScanSettings = field(default_factory=ScanSettings)
    engine: str = "local"
    scheduler: str | None = None
    fail_on: Severity | None = None
    argv: tuple[str, ...] = ()

    @property
    def db_path(self) -> Path:
        return self.db or self.out / "batch.sqlite"


@dataclass(frozen=True)
class Progress:
    total: int  # apps this run will scan
    done: int
    errors: int
    app_id: str | None = None
    skipped: int = 0  # already done by an earlier run (resume)


@dataclass
class BatchSummary:
    run_id: int
    apps_in_input: int
    skipped: int
    scanned: int
    ok: int
    errors: int
    error_kinds: dict[str, int]
    severity_counts: dict[str, int]  # over every app in the store
    apps_at_or_above_fail_on: int
    wall_s: float
    apps_per_minute: float
    peak_rss_kb: int
    out: Path
    db: Path
    dashboard: Path | None
    findings_csv: Path | None
    index_head: str | None
    interrupted: bool = False
    stale_apps: list[str] = field(default_factory=list)  # in the store but not in this input


def run_batch(options: BatchOptions, progress: Callable[[Progress], None] | None = None) -> BatchSummary:
    if options.engine not in ENGINES:
        raise BadBatchInput(f"unknown engine {options.engine!r} (choose from {', '.join(ENGINES)})")
    if options.engine == "dask" and not options.scheduler:
        raise BadBatchInput("--engine dask needs --scheduler tcp://HOST:PORT")
    jobs = load_jobs(options.source, policies=options.policies, traffic=options.traffic)
    options.out.mkdir(parents=True, exist_ok=True)
    _remove_partial_dirs(options.out)
    store = Store(options.db_path)
    try:
        return _run(options, store, jobs, progress)
    finally:
        store.close()


def _run(options: BatchOptions, store: Store, jobs: list[AppJob],
         progress: Callable[[Progress], None] | None) -> BatchSummary:
    if options.fresh:
        store.clear()
    elif store.app_count() and not options.resume:
        raise BadBatchInput(f"the store already holds {store.app_count()} apps; pass --resume to finish that work, "
                            "--fresh to start over, or another --db", path=str(options.db_path))
    started = now_iso()
    run_id = store.start_run(argv=list(options.argv), source=str(options.source), engine=options.engine,
                             workers=options.workers, tool_version=__version__, started=started)
    todo, skipped = _pending(store, jobs, options.retry_errors)
    by_id = {j.app_id: j for j in jobs}
    stale = sorted(store.stored_apps().keys() - by_id.keys())
    done = errors = 0
    error_kinds: Counter[str] = Counter()
    peak = 0
    # Versions come from the workers' results (what was really used), not from a second load here.
    rule_pack_sha: str | None = None
    catalog_sha: str | None = None
    t0 = time.monotonic()
    interrupted = False
    if progress:
        progress(Progress(total=len(todo), done=0, errors=0, skipped=skipped))
    try:
        for outcome in _engine(options, todo):
            job = by_id[outcome.app_id]
            report_dir, head = write_app_dir(options, job, outcome)
            store.record(job, outcome, run_id=run_id, report_dir=report_dir, evidence_head=head)
            done += 1
            peak = max(peak, outcome.peak_rss_kb)
            if outcome.status != "ok":
                errors += 1
                error_kinds[outcome.error_kind or "internal"] += 1
                log.info("%s: %s", outcome.app_id, outcome.error)
            rule_pack_sha = outcome.versions.get("rule_pack", {}).get("sha256") or rule_pack_sha
            catalog_sha = outcome.versions.get("catalog", {}).get("sha256") or catalog_sha
            if progress:
                progress(Progress(total=len(todo), done=done, errors=errors, app_id=outcome.app_id, skipped=skipped))
    except KeyboardInterrupt:
        interrupted = True
    wall = time.monotonic() - t0
    status = "interrupted" if interrupted else "finished"
    store.finish_run(run_id, status=status, finished=now_iso(), apps_total=len(jobs), apps_scanned=done,
                     errors=errors, rule_pack_sha256=rule_pack_sha, catalog_sha256=catalog_sha)
    dashboard = csv_path = None
    index_head = None
    if not interrupted:
        from scanner.batch.dashboard import render_dashboard
        dashboard = options.out / "dashboard.html"
        dashboard.write_text(render_dashboard(store, options.out, lang=options.settings.lang), encoding="utf-8")
        csv_path = options.out / "findings.csv"
        with open(csv_path, "w", encoding="utf-8", newline="") as csv_out:
            write_findings_csv(store, csv_out)
        # Beside it, the regulator's view: apps x finding families x SDK owners' countries (issue 18).
        (options.out / "regulator-summary.csv").write_text(regulator_csv(store, options.out), encoding="utf-8",
                                                           newline="")
        index_head = _write_index(store, options.out)
    severity_counts = _severity_counts(store)
    failing = 0
    if options.fail_on is not None:
        failing = int(store.query("SELECT COUNT(*) FROM apps WHERE max_severity >= ?",
                                  (int(options.fail_on),))[0][0])
    return BatchSummary(
        run_id=run_id, apps_in_input=len(jobs), skipped=skipped, scanned=done, ok=done - errors, errors=errors,
        error_kinds=dict(error_kinds), severity_counts=severity_counts, apps_at_or_above_fail_on=failing,
        wall_s=round(wall, 2), apps_per_minute=round(done / wall * 60, 1) if wall > 0 and done else 0.0,
        peak_rss_kb=peak, out=options.out, db=options.db_path, dashboard=dashboard, findings_csv=csv_path,
        index_head=index_head, interrupted=interrupted, stale_apps=stale)


def _pending(store: Store, jobs: list[AppJob], retry_errors: bool) -> tuple[list[AppJob], int]:
    """Jobs still to do: not in the store, errored (with --retry-errors), or whose APK changed since."""
    stored = store.stored_apps()
    todo: list[AppJob] = []
    for job in jobs:
        prior = stored.get(job.app_id)
        if prior is None or (retry_errors and prior.status != "ok"):
            todo.append(job)
        elif prior.apk_path != str(job.apk) or (prior.apk_size, prior.apk_mtime_ns) != file_stamp(job.apk):
            log.info("%s: APK changed since it was scanned; scanning again", job.app_id)
            todo.append(job)
    return todo, len(jobs) - len(todo)


def _engine(options: BatchOptions, jobs: list[AppJob]) -> Iterator[AppOutcome]:
    if not jobs:
        return iter(())
    if options.engine == "dask":
        from scanner.batch.engine_dask import DaskEngine
        return DaskEngine(str(options.scheduler), options.settings, options.limits).run(jobs)
    return LocalPool(options.workers, options.settings, options.limits).run(jobs)


# ---- files --------------------------------------------------------------------------------------------------


def _remove_partial_dirs(out: Path) -> None:
    """Result folders half-written when a run was killed; their apps are not in the store and will be redone."""
    apps = out / "apps"
    if apps.is_dir():
        for partial in apps.glob(".*.partial"):
            shutil.rmtree(partial, ignore_errors=True)


def write_app_dir(options: BatchOptions, job: AppJob, outcome: AppOutcome) -> tuple[str, str]:
    """Write reports and the evidence manifest to a scratch folder, then swap it in: never a half-written app."""
    apps = options.out / "apps"
    final = apps / job.app_id
    scratch = apps / f".{job.app_id}.partial"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    outputs: dict[str, bytes] = {name: text.encode("utf-8") for name, text in outcome.reports.items()}
    if outcome.status != "ok":
        outputs["error.json"] = (json.dumps({"app_id": job.app_id, "kind": outcome.error_kind,
                                             "message": outcome.error}, indent=2, ensure_ascii=False) + "\n").encode()
    for name, data in outputs.items():
        (scratch / name).write_bytes(data)
    result = outcome.result
    manifest = build_manifest(
        app_id=job.app_id, status=outcome.status, inputs=outcome.inputs, outputs=outputs,
        tool_version=result.tool_version if result else __version__,
        rule_pack=outcome.versions.get("rule_pack", {}), catalog=outcome.versions.get("catalog", {}),
        argv=list(options.argv), started=outcome.started, finished=outcome.finished, recorded=now_iso(),
        app_dir=final)
    (scratch / MANIFEST_NAME).write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    if final.exists():
        shutil.rmtree(final)
    scratch.rename(final)
    return str(final.relative_to(options.out)), str(manifest["head"])


def _write_index(store: Store, out: Path) -> str:
    heads = [(r["app_id"], r["evidence_head"]) for r in store.query(
        "SELECT app_id, evidence_head FROM apps WHERE evidence_head IS NOT NULL")]
    index = build_index(heads, now_iso())
    (out / INDEX_NAME).write_text(json.dumps(index, indent=1) + "\n", encoding="utf-8")
    return str(index["head"])


def _severity_counts(store: Store) -> dict[str, int]:
    row = store.query("SELECT SUM(critical), SUM(high), SUM(medium), SUM(low), SUM(info) FROM apps")[0]
    return {name: int(row[i] or 0) for i, name in enumerate(("critical", "high", "medium", "low", "info"))}


# ---- CSV export -----------------------------------------------------------------------------------------------

FINDINGS_CSV_COLUMNS = ("app_id", "package", "version_name", "rule_id", "severity", "confidence", "basis", "title",
                        "data_type", "sdk", "message", "fingerprint", "suppressed", "report")


def _cell(value: object) -> str:
    """Text a spreadsheet will not run: a leading = + - @ (formula injection from app labels or URLs) is quoted."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_findings_csv(store: Store, out: TextIO) -> None:
    """Every finding of every app, worst first, written row by row: memory stays flat however big the store."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(FINDINGS_CSV_COLUMNS)
    rows = store.iter_query(
        "SELECT f.*, a.package, a.version_name, a.report_dir FROM findings f JOIN apps a USING (app_id) "
        "ORDER BY f.severity_rank DESC, f.app_id, f.seq")
    for r in rows:
        report = f"{r['report_dir']}/report.html" if r["report_dir"] else ""
        writer.writerow([_cell(r[c]) for c in ("app_id", "package", "version_name", "rule_id", "severity",
                                                 "confidence", "basis", "title", "data_type", "sdk", "message",
                                                 "fingerprint", "suppressed")] + [report])


def findings_csv(store: Store) -> str:
    buffer = io.StringIO()
    write_findings_csv(store, buffer)
    return buffer.getvalue()


REGULATOR_CSV_FIXED = ("app_id", "package", "name")


def regulator_csv(store: Store, out: Path) -> str:
    """The regulator summary as CSV: app, one column per finding family, the SDK owners' countries, the PIA draft."""
    from scanner.batch.dashboard import build_view

    columns, rows = build_view(store, out)["regulator"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([*REGULATOR_CSV_FIXED, *columns, "sdk_owner_countries", "pia"])
    for row in rows:
        writer.writerow([_cell(v) for v in (row.app_id, row.package, row.name)]
                        + [row.families[c] for c in columns]
                        + [_cell(";".join(f"{c}:{n}" for c, n in row.countries)), row.pia or ""])
    return buffer.getvalue()


def summary_json(summary: BatchSummary) -> str:
    return json.dumps(to_jsonable({k: (str(v) if isinstance(v, Path) else v) for k, v in vars(summary).items()}),
                      indent=2) + "\n"
