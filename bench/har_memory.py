"""Benchmark: peak memory of `divulge traffic` on generated HARs of growing size (aim: < 3x a 100 MB HAR, flat).

    python bench/har_memory.py [--sizes 100,1000] [--old-src DIR]

Each HAR (bench/_work/, not committed) has the requests of bench/traffic_bench.py (a third carry personal data
in nested encodings) and responses with 2-14 KB bodies, as an exporter writes them when bodies are kept. Each
run is a fresh `divulge traffic` process; its peak RSS is the kernel's ru_maxrss for that child. `--old-src` runs
the same command with another checkout's `scanner/` first on the path (e.g. `git archive a9ed9cb scanner`), so
the reader before streaming can be measured on the same files.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "bench" / "_work"
DEVICE = REPO / "fixtures" / "devices" / "test-phone.yaml"
sys.path.insert(0, str(REPO))

from bench.traffic_bench import _entry  # noqa: E402


def generate(path: Path, megabytes: int, bodies: bool = True) -> int:
    """Write a HAR of about `megabytes` MB entry by entry (the generator must not need the memory it measures)."""
    rng = random.Random(15)
    target = megabytes * 1_000_000
    count = 0
    with open(path, "w", encoding="utf-8") as out:
        out.write('{"log": {"version": "1.2", "creator": {"name": "divulge bench", "version": "1"}, "entries": [\n')
        written = out.tell()
        while written < target:
            entry = _entry(count, 1767261600.0)
            if bodies:
                body = "".join(rng.choices("abcdefghijklmnopqrstuvwxyz0123456789 ,.{}", k=rng.randint(2000, 14000)))
                entry["response"]["content"] = {"size": len(body), "mimeType": "application/json", "text": body}
            text = ("," if count else "") + json.dumps(entry) + "\n"
            out.write(text)
            written += len(text)
            count += 1
        out.write("]}}\n")
    return count


def measure(har: Path, old_src: Path | None, fmt: str) -> tuple[float, float, int]:
    """(peak RSS in MB, seconds, flows) of one `divulge traffic` process."""
    env = dict(os.environ)
    if old_src is not None:
        env["PYTHONPATH"] = str(old_src)
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "scanner.cli", "traffic", str(har), "--device", str(DEVICE),
                             "--format", fmt, "-o", str(har.with_suffix(".out"))],
                            env=env, cwd=old_src or REPO, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)  # the rusage of this one child, not the maximum over all of them
    elapsed = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"divulge traffic {har} exited {proc.returncode}")
    result = har.with_suffix(".out")
    text = result.read_text()
    result.unlink()
    flows = json.loads(text)["flows"] if fmt == "json" else int(text.split(" flows", 1)[0])
    return usage.ru_maxrss / 1024, elapsed, flows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000", help="HAR sizes in MB, smallest first")
    parser.add_argument("--old-src", type=Path, help="a checkout whose scanner/ to measure instead")
    parser.add_argument("--no-bodies", action="store_true",
                        help="requests only, no response bodies (many small entries: the records dominate)")
    parser.add_argument("--format", choices=["text", "json"], default="text",
                        help="text: the summary; json: every observation and flow, which then dominates memory")
    parser.add_argument("--keep", action="store_true", help="keep the generated HARs in bench/_work/")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    print(f"{'HAR':>10} {'entries':>9} {'peak RSS':>10} {'x size':>7} {'time':>8}")
    for megabytes in sorted(int(s) for s in args.sizes.split(",")):
        har = WORK / f"memory-{megabytes}mb{'-nobodies' if args.no_bodies else ''}.har"
        entries = generate(har, megabytes, not args.no_bodies) if not har.exists() else None
        size = har.stat().st_size / 1e6
        peak, elapsed, flows = measure(har, args.old_src, args.format)
        print(f"{size:>8.0f}MB {entries or flows:>9,} {peak:>8.0f}MB {peak / size:>6.2f}x {elapsed:>7.1f}s")
        if not args.keep:
            har.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
