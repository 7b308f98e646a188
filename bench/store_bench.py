"""Benchmark: the dashboard, findings CSV and regulator summary of a synthetic batch store of 10,000 apps.

    python bench/store_bench.py [--apps 10000] [--findings 25]

Writes a store (bench/_work/store/batch.sqlite) as a batch would leave it: per app 8 SDKs, 20 observations and
`--findings` findings with realistic text. Then each output is built in a fresh process (`--step NAME`), whose
wall time and peak RSS (from wait4) are printed: the outputs must stay bounded as the store grows.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "bench" / "_work" / "store"
sys.path.insert(0, str(REPO))

SDKS = [("google_firebase_analytics", "Firebase Analytics", "Google LLC", "US"), ("facebook_analytics", "Facebook",
        "Meta Platforms, Inc.", "US"), ("umeng_analytics", "Umeng", "Alibaba", "CN"), ("jpush", "JPush", "Aurora", "CN"),
        ("bugly", "Bugly", "Tencent", "CN"), ("gdt_ads", "GDT", "Tencent", "CN"), ("appsflyer", "AppsFlyer",
        "AppsFlyer Ltd.", "IL"), ("adjust", "Adjust", "Adjust GmbH", "DE"), ("admob", "AdMob", "Google LLC", "US")]
RULES = ["DVG-SDK-001", "DVG-COLLECT-001", "DVG-APPS-001", "DVG-XBORDER-002", "DVG-NEC-003", "DVG-FREQ-001",
         "DVG-DECL-001", "DVG-PERM-002"]
SEVERITIES = [("critical", 4), ("high", 3), ("medium", 2), ("low", 1), ("info", 0)]


def generate(db_path: Path, apps: int, findings: int) -> None:
    from scanner.batch.store import Store

    rng = random.Random(15)
    store = Store(db_path)
    run_id = store.start_run(argv=["store_bench"], source="synthetic", engine="local", workers=2,
                             tool_version="bench", started="2026-12-03T00:00:00Z")
    with store.transaction() as db:
        for a in range(apps):
            app = f"vendor{a % 97}__app{a:05d}"
            picked = rng.sample(SDKS, 8)
            worst = rng.randrange(5)
            db.execute("INSERT INTO apps (app_id, status, run_id, apk_path, package, label, version_name, findings, "
                       "max_severity, high, medium, report_dir) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                       (app, "ok", run_id, f"/cases/in/{app}.apk", f"com.example.app{a}", f"App {a}", "1.0",
                        findings, worst, findings // 2, findings - findings // 2, f"apps/{app}"))
            db.executemany("INSERT INTO sdks VALUES (?,?,?,?,?,?,?,?,?)",
                           [(app, s, n, o, c, json.dumps(["analytics"]), rng.choice(["present", "wired"]),
                             json.dumps(["device_id", "approx_location"]), 1) for s, n, o, c in picked])
            db.executemany("INSERT INTO observations VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                           [(app, i, rng.choice(["device_id", "precise_location", "email"]), "imei",
                             f"t{i % 5}.{picked[i % 8][0]}.example", f"{picked[i % 8][0]}.example", "third",
                             picked[i % 8][0], picked[i % 8][2], "body", "before_consent", 0, "confirmed")
                            for i in range(20)])
            rows = []
            for i in range(findings):
                sev, rank = SEVERITIES[rng.randrange(5)]
                rule = RULES[i % len(RULES)]
                rows.append((app, i, rule, sev, rank, "high", "static+traffic", f"Title of {rule}",
                             f"{picked[i % 8][1]} sends the device id to {picked[i % 8][0]}.example before consent; "
                             "the declaration does not name it.", "device_id", picked[i % 8][0],
                             f"{rng.getrandbits(64):016x}", None))
            db.executemany("INSERT INTO findings VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    store.finish_run(run_id, status="finished", finished="2026-12-03T01:00:00Z", apps_total=apps,
                     apps_scanned=apps, errors=0, rule_pack_sha256="0" * 64, catalog_sha256="0" * 64)
    store.close()


def step(name: str, db_path: Path) -> None:
    from scanner.batch.dashboard import render_dashboard
    from scanner.batch.runner import regulator_csv, write_findings_csv
    from scanner.batch.store import Store

    store = Store(db_path)
    out = db_path.parent
    if name == "dashboard":
        (out / "dashboard.html").write_text(render_dashboard(store, out), encoding="utf-8")
    elif name == "findings-csv":
        with open(out / "findings.csv", "w", encoding="utf-8", newline="") as csv_out:
            write_findings_csv(store, csv_out)
    else:
        (out / "regulator-summary.csv").write_text(regulator_csv(store, out), encoding="utf-8", newline="")
    store.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", type=int, default=10_000)
    parser.add_argument("--findings", type=int, default=25)
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        step(args.step, args.db)
        return 0
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    db_path = WORK / "batch.sqlite"
    started = time.perf_counter()
    generate(db_path, args.apps, args.findings)
    print(f"store: {args.apps:,} apps, {args.apps * args.findings:,} findings, {args.apps * 20:,} observations, "
          f"{db_path.stat().st_size / 1e6:.0f} MB, written in {time.perf_counter() - started:.1f} s")
    for name, output in (("dashboard", "dashboard.html"), ("findings-csv", "findings.csv"),
                         ("regulator", "regulator-summary.csv")):
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, __file__, "--step", name, "--db", str(db_path)])
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own peak, not the largest of all children
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{name} failed")
        size = (WORK / output).stat().st_size / 1e6
        print(f"{name:>13}: {time.perf_counter() - started:6.1f} s, peak RSS {usage.ru_maxrss / 1024:5.0f} MB, "
              f"{output} {size:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
