"""Static-analysis benchmark: divulge vs exodus-core, androguard and dexdump on one large synthetic APK.

Usage: python bench/static_bench.py [--quick] [--only NAME[,NAME]] [--timeout S]
Generates bench/_work/{big,quick}.apk once (bench/apkgen.py), then runs every tool in a fresh subprocess,
measuring wall time and peak RSS (RUSAGE_CHILDREN of a one-child wrapper), and prints ours vs each peer.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
WORK = BENCH / "_work"
EXODUS_JSON = REPO.parent / "shared/reference/sdk-signatures/exodus-trackers.json"

# Each tool is Python source run as `python -c SOURCE APK`; it prints one line of facts it found, so a
# tool that silently did nothing shows up in the table.
SCAN_DEX = """
import re, sys, zipfile
sys.path.insert(0, {bench!r})
import apkgen
from scanner.static.dex import scan_dex
members = {{(apkgen.dotted(c), n) for c, n, _ in apkgen.SENSITIVE.values()}}
calls = wired = classes = 0
with zipfile.ZipFile(sys.argv[1]) as apk:
    for name in apk.namelist():
        if re.fullmatch(r"classes\\d*\\.dex", name):
            scan = scan_dex(apk.read(name), name, wanted_members=members, wanted_strings={{"android_id"}},
                            owner_of=apkgen.owner_of)
            classes += len(scan.defined_classes); calls += len(scan.call_sites); wired += len(scan.wired)
print(f"{{classes}} classes, {{calls}} sensitive call sites, {{wired}} app->SDK wirings")
"""
EXODUS = """
import json, logging, sys
from collections import namedtuple
from exodus_core.analysis.static_analysis import StaticAnalysis
logging.disable(logging.CRITICAL)
analysis = StaticAnalysis(sys.argv[1])
# What load_trackers_signatures() does, from the stored list instead of the network.
trackers = json.load(open({exodus!r}))["trackers"]
analysis.signatures = [namedtuple("tracker", t.keys())(*t.values()) for t in trackers.values()]
analysis._compile_signatures()
found = analysis.detect_trackers()
print(f"{{len(found)}} trackers: " + ", ".join(sorted(t.name for t in found)))
"""
ANALYZE_APK = """
import sys
from androguard.util import set_log
set_log("ERROR")
from androguard.misc import AnalyzeAPK
apk, dexes, analysis = AnalyzeAPK(sys.argv[1])
print(f"{len(list(analysis.get_classes()))} classes in the analysis")
"""
DEX_PARSE = """
import re, sys, zipfile
from androguard.util import set_log
set_log("ERROR")
from androguard.core.dex import DEX
with zipfile.ZipFile(sys.argv[1]) as apk:
    dexes = [DEX(apk.read(n)) for n in apk.namelist() if re.fullmatch(r"classes\\d*\\.dex", n)]
print(f"{sum(len(d.get_classes()) for d in dexes)} classes parsed")
"""


@dataclass(frozen=True)
class Run:
    tool: str
    wall_s: float
    peak_mb: float
    summary: str


def measure(argv: list[str], timeout: float) -> tuple[float, float, str]:
    """Run argv in a one-child wrapper process; return (wall seconds, peak RSS MB, last stdout line)."""
    wrapper = (
        "import json, resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "p = subprocess.run(sys.argv[2:], capture_output=True, text=True, timeout=float(sys.argv[1]))\n"
        "wall = time.perf_counter() - t\n"
        "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
        "lines = p.stdout.strip().splitlines()\n"
        "print(json.dumps({'rc': p.returncode, 'wall': wall, 'rss': rss, 'out': lines[-1] if lines else '',"
        " 'err': p.stderr[-2000:]}))\n"
    )
    result = subprocess.run([sys.executable, "-c", wrapper, str(timeout), *argv], capture_output=True, text=True,
                            cwd=REPO, timeout=timeout + 60)
    facts = json.loads(result.stdout)
    if facts["rc"] != 0:
        raise RuntimeError(f"{argv[:3]} failed ({facts['rc']}): {facts['err']}")
    return facts["wall"], facts["rss"], facts["out"]


def ensure_apk(quick: bool) -> Path:
    apk = WORK / ("quick.apk" if quick else "big.apk")
    generator = BENCH / "apkgen.py"
    if not apk.exists() or apk.stat().st_mtime < generator.stat().st_mtime:
        classes = "8000" if quick else "80000"
        print(f"generating {apk.name} ({classes} classes, 8 dex files) ...", file=sys.stderr)
        subprocess.run([sys.executable, str(generator), str(apk), "--classes", classes, "--dex-files", "8"],
                       check=True, cwd=REPO)
    return apk


def extract_dex(apk: Path) -> list[Path]:
    out = WORK / f"{apk.stem}-dex"
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    with zipfile.ZipFile(apk) as archive:
        for name in archive.namelist():
            if name.startswith("classes") and name.endswith(".dex"):
                path = out / name
                if not path.exists() or path.stat().st_mtime < apk.stat().st_mtime:
                    path.write_bytes(archive.read(name))
                paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="8k classes instead of 80k (smoke test)")
    parser.add_argument("--only", default="", help="comma-separated tool names to run")
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args()
    apk = ensure_apk(args.quick)
    dex_paths = extract_dex(apk)
    dex_mb = sum(p.stat().st_size for p in dex_paths) / 2**20
    truth = json.loads(apk.with_suffix(".truth.json").read_text())
    python = sys.executable
    divulge = shutil.which("divulge", path=str(Path(python).parent)) or shutil.which("divulge")
    tools: list[tuple[str, list[str]]] = []
    if divulge:
        tools.append(("divulge static --format json",
                      [divulge, "static", str(apk), "--format", "json", "-o", str(WORK / "static.json")]))
    tools += [
        ("divulge scan_dex only", [python, "-c", SCAN_DEX.format(bench=str(BENCH)), str(apk)]),
        ("exodus-core detect_trackers", [python, "-c", EXODUS.format(exodus=str(EXODUS_JSON)), str(apk)]),
        ("androguard AnalyzeAPK", [python, "-c", ANALYZE_APK, str(apk)]),
        ("androguard DEX() parse", [python, "-c", DEX_PARSE, str(apk)]),
    ]
    if shutil.which("dexdump"):
        loop = 'for f in "$@"; do dexdump "$f" > /dev/null || exit 1; done; echo "$# dex files dumped"'
        tools.append(("dexdump (all dex)", ["sh", "-c", loop, "dexdump", *map(str, dex_paths)]))
    only = {name.strip() for name in args.only.split(",") if name.strip()}
    runs: list[Run] = []
    print(f"{apk.name}: {truth['classes']} classes, {len(dex_paths)} dex files, {dex_mb:.1f} MB of dex;"
          f" {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}", file=sys.stderr)
    for tool, argv in tools:
        if only and not any(o in tool for o in only):
            continue
        print(f"running {tool} ...", file=sys.stderr)
        wall, rss, summary = measure(argv, args.timeout)
        runs.append(Run(tool, wall, rss, summary))
        print(f"  {wall:.2f} s, {rss:.0f} MB: {summary}", file=sys.stderr)
    ours = next((r for r in runs if r.tool.startswith("divulge static")), None) or \
        next((r for r in runs if r.tool.startswith("divulge")), None)
    print(f"\n{apk.name}: {truth['classes']} classes, {len(dex_paths)} dex, {dex_mb:.1f} MB dex")
    print(f"{'tool':32} {'wall s':>8} {'peak MB':>9} {'ours faster':>12} {'ours mem':>9}")
    for run in runs:
        speed = f"{run.wall_s / ours.wall_s:.1f}x" if ours else "-"
        memory = f"{ours.peak_mb / run.peak_mb:.2f}" if ours else "-"
        print(f"{run.tool:32} {run.wall_s:8.2f} {run.peak_mb:9.0f} {speed:>12} {memory:>9}")
    (WORK / f"static_bench_{apk.stem}.json").write_text(json.dumps(
        {"apk": apk.name, "classes": truth["classes"], "dex_mb": round(dex_mb, 1), "cpus": os.cpu_count(),
         "time": time.strftime("%Y-%m-%d %H:%M"), "runs": [r.__dict__ for r in runs]}, indent=1))


if __name__ == "__main__":
    main()
