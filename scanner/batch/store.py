"""The batch store: SQLite in WAL mode, one transaction per app, keyed by app id so a resumed run counts nothing twice.

The schema is documented in docs/batch.md; bump SCHEMA_VERSION (PRAGMA user_version) on any change.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scanner.batch.appscan import AppOutcome
from scanner.batch.inputs import AppJob, BadBatchInput

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY AUTOINCREMENT,
    started TEXT NOT NULL, finished TEXT, status TEXT NOT NULL,          -- running | finished | interrupted | aborted
    host TEXT NOT NULL, pid INTEGER NOT NULL,
    argv TEXT NOT NULL, input TEXT NOT NULL, engine TEXT NOT NULL, workers INTEGER NOT NULL,
    tool_version TEXT NOT NULL, catalog_sha256 TEXT, rule_pack_sha256 TEXT,
    apps_total INTEGER NOT NULL DEFAULT 0, apps_scanned INTEGER NOT NULL DEFAULT 0, errors INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS apps (
    app_id TEXT PRIMARY KEY,
    status TEXT NOT NULL,                    -- ok | error
    run_id INTEGER NOT NULL REFERENCES runs(run_id),
    attempts INTEGER NOT NULL DEFAULT 1,
    apk_path TEXT NOT NULL, apk_size INTEGER, apk_mtime_ns INTEGER, apk_sha256 TEXT,
    declaration_path TEXT, captures INTEGER NOT NULL DEFAULT 0,
    package TEXT, label TEXT, version_name TEXT, version_code TEXT, target_sdk INTEGER,
    findings INTEGER NOT NULL DEFAULT 0, max_severity INTEGER,          -- 0 info .. 4 critical; NULL = none
    critical INTEGER NOT NULL DEFAULT 0, high INTEGER NOT NULL DEFAULT 0, medium INTEGER NOT NULL DEFAULT 0,
    low INTEGER NOT NULL DEFAULT 0, info INTEGER NOT NULL DEFAULT 0,
    started TEXT, finished TEXT, duration_s REAL, peak_rss_kb INTEGER, worker TEXT,
    rule_pack_sha256 TEXT, catalog_sha256 TEXT,
    report_dir TEXT, evidence_head TEXT
);
CREATE TABLE IF NOT EXISTS sdks (
    app_id TEXT NOT NULL REFERENCES apps(app_id) ON DELETE CASCADE,
    sdk_id TEXT NOT NULL, name TEXT NOT NULL, owner TEXT, country TEXT, categories TEXT NOT NULL,
    status TEXT NOT NULL, data_types TEXT NOT NULL, auto_init INTEGER NOT NULL,
    PRIMARY KEY (app_id, sdk_id)
);
CREATE TABLE IF NOT EXISTS observations (
    app_id TEXT NOT NULL REFERENCES apps(app_id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    data_type TEXT NOT NULL, identifier TEXT, host TEXT NOT NULL, registrable_domain TEXT, party TEXT NOT NULL,
    sdk TEXT, owner TEXT, location TEXT NOT NULL, phase TEXT, cleartext INTEGER NOT NULL, confidence TEXT,
    PRIMARY KEY (app_id, seq)
);
CREATE TABLE IF NOT EXISTS findings (
    app_id TEXT NOT NULL REFERENCES apps(app_id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    rule_id TEXT NOT NULL, severity TEXT NOT NULL, severity_rank INTEGER NOT NULL, confidence TEXT NOT NULL,
    basis TEXT, title TEXT NOT NULL, message TEXT NOT NULL, data_type TEXT, sdk TEXT, fingerprint TEXT,
    suppressed TEXT,
    PRIMARY KEY (app_id, seq)
);
CREATE TABLE IF NOT EXISTS errors (
    app_id TEXT PRIMARY KEY REFERENCES apps(app_id) ON DELETE CASCADE,
    kind TEXT NOT NULL,                      -- bad_input | timeout | memory | crashed | internal
    message TEXT NOT NULL, run_id INTEGER NOT NULL, at TEXT
);
CREATE INDEX IF NOT EXISTS findings_rule ON findings(rule_id);
CREATE INDEX IF NOT EXISTS sdks_sdk ON sdks(sdk_id);
"""

SEVERITY_COLUMNS = ("info", "low", "medium", "high", "critical")


@dataclass(frozen=True)
class StoredApp:
    status: str
    apk_path: str
    apk_size: int | None
    apk_mtime_ns: int | None


def file_stamp(path: Path) -> tuple[int | None, int | None]:
    try:
        st = path.stat()
    except OSError:
        return None, None
    return st.st_size, st.st_mtime_ns


class Store:
    """One SQLite file. Only the coordinating process writes it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(path, timeout=30, isolation_level=None)
            self.db.row_factory = sqlite3.Row
            mode = self.db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise BadBatchInput(f"not a divulge batch store: {exc}", path=str(path)) from exc
        if mode.lower() != "wal":
            raise BadBatchInput(f"cannot switch the store to WAL mode (got {mode})", path=str(path))
        if version not in (0, SCHEMA_VERSION):
            raise BadBatchInput(f"store schema version {version}, this divulge reads {SCHEMA_VERSION}",
                                path=str(path))
        # FULL: a commit survives a power cut too, not just kill -9; one fsync per app is cheap next to a scan.
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.executescript(SCHEMA)
        self.db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # ---- runs -----------------------------------------------------------------------------------------------

    def start_run(self, *, argv: list[str], source: str, engine: str, workers: int, tool_version: str,
                  started: str) -> int:
        """Register a run; refuse when another live batch on this host is writing the same store."""
        host = socket.gethostname()
        with self.transaction() as db:
            for row in db.execute("SELECT run_id, host, pid FROM runs WHERE status='running'").fetchall():
                if row["host"] == host and _alive(row["pid"]) and row["pid"] != os.getpid():
                    raise BadBatchInput(f"another batch (pid {row['pid']}, run {row['run_id']}) is writing this "
                                        "store; wait for it or stop it", path=str(self.path))
                # A run that died without finishing (kill -9, power cut): its committed apps stay valid.
                db.execute("UPDATE runs SET status='aborted' WHERE run_id=?", (row["run_id"],))
            cur = db.execute(
                "INSERT INTO runs (started, status, host, pid, argv, input, engine, workers, tool_version) "
                "VALUES (?, 'running', ?, ?, ?, ?, ?, ?, ?)",
                (started, host, os.getpid(), json.dumps(argv), source, engine, workers, tool_version))
            assert cur.lastrowid is not None
            return cur.lastrowid

    def finish_run(self, run_id: int, *, status: str, finished: str, apps_total: int, apps_scanned: int,
                   errors: int, rule_pack_sha256: str | None, catalog_sha256: str | None) -> None:
        with self.transaction() as db:
            db.execute("UPDATE runs SET status=?, finished=?, apps_total=?, apps_scanned=?, errors=?, "
                       "rule_pack_sha256=?, catalog_sha256=? WHERE run_id=?",
                       (status, finished, apps_total, apps_scanned, errors, rule_pack_sha256, catalog_sha256, run_id))

    def runs(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.db.execute("SELECT * FROM runs ORDER BY run_id")]

    # ---- apps -----------------------------------------------------------------------------------------------

    def app_count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM apps").fetchone()[0])

    def stored_apps(self) -> dict[str, StoredApp]:
        return {r["app_id"]: StoredApp(r["status"], r["apk_path"], r["apk_size"], r["apk_mtime_ns"])
                for r in self.db.execute("SELECT app_id, status, apk_path, apk_size, apk_mtime_ns FROM apps")}

    def clear(self) -> None:
        with self.transaction() as db:
            for table in ("errors", "findings", "observations", "sdks", "apps"):
                db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names

    def record(self, job: AppJob, outcome: AppOutcome, *, run_id: int, report_dir: str | None,
               evidence_head: str | None) -> None:
        """Replace everything known about one app in one transaction: a crash leaves it all or nothing."""
        size, mtime = file_stamp(job.apk)
        result = outcome.result
        app = result.app if result else None
        counts = dict.fromkeys(SEVERITY_COLUMNS, 0)
        findings = result.findings if result else []
        for f in findings:
            counts[str(f.severity)] += 1
        max_sev = max((int(f.severity) for f in findings), default=None)
        apk_sha = app.sha256 if app else next((i.get("sha256") for i in outcome.inputs if i["kind"] == "apk"), None)
        with self.transaction() as db:
            attempts = db.execute("SELECT attempts FROM apps WHERE app_id=?", (job.app_id,)).fetchone()
            # Children first (ON DELETE CASCADE would too, but REPLACE of the parent does not fire it reliably).
            for table in ("errors", "findings", "observations", "sdks"):
                db.execute(f"DELETE FROM {table} WHERE app_id=?", (job.app_id,))  # noqa: S608
            db.execute("DELETE FROM apps WHERE app_id=?", (job.app_id,))
            db.execute(
                "INSERT INTO apps (app_id, status, run_id, attempts, apk_path, apk_size, apk_mtime_ns, apk_sha256, "
                "declaration_path, captures, package, label, version_name, version_code, target_sdk, findings, "
                "max_severity, critical, high, medium, low, info, started, finished, duration_s, peak_rss_kb, "
                "worker, rule_pack_sha256, catalog_sha256, report_dir, evidence_head) VALUES "
                "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (job.app_id, outcome.status, run_id, (attempts[0] + 1) if attempts else 1, str(job.apk), size, mtime,
                 apk_sha, str(job.declaration) if job.declaration else None, len(job.captures),
                 app.package if app else None, app.label if app else None, app.version_name if app else None,
                 app.version_code if app else None, app.target_sdk if app else None, len(findings), max_sev,
                 counts["critical"], counts["high"], counts["medium"], counts["low"], counts["info"],
                 outcome.started, outcome.finished, outcome.duration_s, outcome.peak_rss_kb, outcome.worker,
                 outcome.versions.get("rule_pack", {}).get("sha256"),
                 outcome.versions.get("catalog", {}).get("sha256"), report_dir, evidence_head))
            if outcome.status != "ok":
                db.execute("INSERT INTO errors (app_id, kind, message, run_id, at) VALUES (?,?,?,?,?)",
                           (job.app_id, outcome.error_kind or "internal", outcome.error or "", run_id,
                            outcome.finished))
            if result is None:
                return
            if result.static:
                db.executemany(
                    "INSERT INTO sdks VALUES (?,?,?,?,?,?,?,?,?)",
                    [(job.app_id, s.id, s.name, s.owner, s.country, json.dumps(sorted(s.categories)), str(s.status),
                      json.dumps(sorted(s.data_types)), int(s.auto_init)) for s in result.static.sdks])
            if result.traffic:
                db.executemany(
                    "INSERT INTO observations VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    [(job.app_id, i, o.data_type, o.identifier, o.host, o.registrable_domain, o.party, o.sdk, o.owner,
                      o.where, o.phase, int(o.cleartext), o.confidence)
                     for i, o in enumerate(result.traffic.observations)])
            db.executemany(
                "INSERT INTO findings VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [(job.app_id, i, f.rule_id, str(f.severity), int(f.severity), f.confidence, f.basis, f.title,
                  f.message, f.data_type, f.sdk, f.fingerprint, f.suppressed) for i, f in enumerate(findings)])

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        return list(self.db.execute(sql, params))

    def iter_query(self, sql: str, params: tuple[Any, ...] = ()) -> Iterator[sqlite3.Row]:
        """Rows as SQLite produces them, for outputs that grow with the store (every finding of 10,000 apps)."""
        yield from self.db.execute(sql, params)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
