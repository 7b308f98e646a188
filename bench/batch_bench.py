"""Batch throughput: 200 generated APKs of realistic size (mixed SDKs, a few corrupt) with 1 and 2 workers, one run.

Usage: python bench/batch_bench.py [--apps 200] [--bases 8] [--workers 1,2] [--engines local,dask-local,dask-cli]
                                   [--json OUT.json]
Prints apps per minute, the speed-up of 2 workers over 1, and peak memory per worker. `--engines` also runs the
Dask engine with the largest worker count: on a LocalCluster (`dask-local`) and on a real `dask scheduler` plus
`dask worker --nworkers N` pair on 127.0.0.1 (`dask-cli`), both started and stopped here. Generated APKs are cached
in bench/_work/batch/ (delete it to regenerate). Base APKs come from bench/apkgen.py (dex written directly, with
SDK packages planted); each app is a base plus a unique asset, so every APK has its own hash, as in a real audit.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import apkgen  # noqa: E402
from scanner.batch.appscan import ScanSettings  # noqa: E402
from scanner.batch.runner import BatchOptions, run_batch  # noqa: E402
from scanner.batch.store import Store  # noqa: E402
from scanner.batch.workers import Limits  # noqa: E402

WORK = Path(__file__).resolve().parent / "_work" / "batch"
CORRUPT = 6  # apps of the 200 that are broken: truncated, not a zip, empty


def base_apk(index: int, rng: random.Random) -> Path:
    """One base APK: a random subset of the generator's SDKs, 6k-24k classes, 2-4 MB of resources."""
    out = WORK / "bases" / f"base{index}.apk"
    if out.is_file():
        return out
    sdk_groups = [g for g in apkgen.GROUPS if g.owner not in (None, "lib")]
    keep = set(rng.sample(sdk_groups, rng.randint(1, len(sdk_groups))))
    groups = tuple(g for g in apkgen.GROUPS if g.owner in (None, "lib") or g in keep)
    original = apkgen.GROUPS
    apkgen.GROUPS = groups  # the generator reads its group table at call time; restore it right after
    try:
        apkgen.generate(out, n_classes=rng.randint(6_000, 24_000), n_dex=rng.randint(1, 3), seed=index)
    finally:
        apkgen.GROUPS = original
    with zipfile.ZipFile(out, "a") as apk:  # images and sounds: incompressible, stored as real APKs store them
        for n in range(rng.randint(8, 16)):
            apk.writestr(zipfile.ZipInfo(f"res/raw/blob{n}.bin"), os.urandom(256 << 10))
    logging.info("base %d: %s, %.1f MB, SDKs %s", index, out.name, out.stat().st_size / 1e6,
                 sorted(str(g.owner) for g in keep))
    return out


def make_apps(n_apps: int, n_bases: int) -> Path:
    folder = WORK / f"apps-{n_apps}-{n_bases}"
    if folder.is_dir() and len(list(folder.glob("*.apk"))) == n_apps:
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    rng = random.Random(42)
    bases = [base_apk(i, rng) for i in range(n_bases)]
    for i in range(n_apps - CORRUPT):
        app = folder / f"app{i:03d}.apk"
        shutil.copy(bases[i % n_bases], app)
        with zipfile.ZipFile(app, "a") as zf:
            zf.writestr("assets/bench-id.txt", f"app {i}\n")
    for i in range(CORRUPT):
        data = bases[i % n_bases].read_bytes()
        bad = folder / f"corrupt{i}.apk"
        bad.write_bytes(data[: len(data) // 2] if i % 3 == 0 else b"" if i % 3 == 1 else b"PK\x03\x04garbage" * 64)
    return folder


def run(folder: Path, workers: int, engine: str = "local", scheduler: str | None = None) -> dict[str, float]:
    out = WORK / f"out-{engine}-{workers}"
    shutil.rmtree(out, ignore_errors=True)
    options = BatchOptions(source=folder, out=out, workers=workers, limits=Limits(timeout_s=300, memory_mb=4096),
                           settings=ScanSettings(formats=("html", "json")), argv=("batch_bench",),
                           engine="dask" if scheduler else "local", scheduler=scheduler)
    t0 = time.monotonic()
    summary = run_batch(options)
    wall = time.monotonic() - t0
    store = Store(out / "batch.sqlite")
    try:
        peaks = [r[0] for r in store.query("SELECT peak_rss_kb FROM apps WHERE status='ok'")]
        scan_s = [r[0] for r in store.query("SELECT duration_s FROM apps WHERE status='ok'")]
    finally:
        store.close()
    return {"engine": engine, "workers": workers, "apps": summary.scanned, "errors": summary.errors, "wall_s": round(wall, 1),
            "apps_per_min": round(summary.scanned / wall * 60, 1),
            "median_scan_s": round(statistics.median(scan_s), 2) if scan_s else 0.0,
            "peak_rss_mb_max": round(max(peaks, default=0) / 1024), "peak_rss_mb_median":
            round(statistics.median(peaks) / 1024) if peaks else 0}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_dask(folder: Path, workers: int, kind: str) -> dict[str, float]:
    """The Dask engine on this machine: a LocalCluster, or real `dask scheduler` and `dask worker` processes."""
    import distributed

    if kind == "dask-local":
        with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                      dashboard_address=None) as cluster:
            return run(folder, workers, kind, cluster.scheduler_address)
    dask = str(Path(sys.executable).with_name("dask"))
    address = f"tcp://127.0.0.1:{_free_port()}"
    port = address.rsplit(":", 1)[1]
    scheduler = subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", port,
                                  "--dashboard-address", ":0"], stderr=subprocess.DEVNULL)
    worker = subprocess.Popen([dask, "worker", address, "--nthreads", "1", "--nworkers", str(workers),
                               "--no-dashboard"], stderr=subprocess.DEVNULL)
    try:
        with distributed.Client(address, timeout="60s") as client:
            client.wait_for_workers(workers, timeout=120)
        return run(folder, workers, kind, address)
    finally:
        for proc in (worker, scheduler):
            proc.terminate()
            proc.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", type=int, default=200)
    parser.add_argument("--bases", type=int, default=8)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--engines", default="local", help="local, dask-local, dask-cli (comma-separated)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("scanner").setLevel(logging.WARNING)  # per-app errors are counted, not listed
    folder = make_apps(args.apps, args.bases)
    sizes = [p.stat().st_size for p in folder.glob("*.apk")]
    print(f"{len(sizes)} APKs, median {statistics.median(sizes) / 1e6:.1f} MB, total {sum(sizes) / 1e6:.0f} MB, "
          f"{CORRUPT} corrupt; {os.cpu_count()} CPUs")
    engines = args.engines.split(",")
    counts = [int(w) for w in args.workers.split(",")]
    results = [run(folder, w) for w in counts] if "local" in engines else []
    results += [run_dask(folder, max(counts), kind) for kind in engines if kind != "local"]
    print(f"{'engine':>10} {'workers':>7} {'apps':>5} {'errors':>6} {'wall s':>7} {'apps/min':>8} {'scan s (median)':>15} "
          f"{'peak MB/worker (max, median)':>28}")
    for r in results:
        print(f"{r['engine']:>10} {r['workers']:>7} {r['apps']:>5} {r['errors']:>6} {r['wall_s']:>7} {r['apps_per_min']:>8} "
              f"{r['median_scan_s']:>15} {r['peak_rss_mb_max']:>18}, {r['peak_rss_mb_median']}")
    local = [r for r in results if r["engine"] == "local"]
    for r in results:
        if r["engine"] != "local" and local:
            print(f"{r['engine']}: {r['wall_s'] / local[-1]['wall_s']:.2f}x the local engine's wall time "
                  f"with {r['workers']} workers")
    if len(local) > 1:
        print(f"speed-up {local[0]['workers']} -> {local[-1]['workers']} workers: "
              f"{local[-1]['apps_per_min'] / local[0]['apps_per_min']:.2f}x")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
