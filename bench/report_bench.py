"""Benchmark: render 5,000 findings and 50,000 flows in every report format; the HTML must take under 5 s (wall)."""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

from scanner.reports import ReportFormat, write_reports

HERE = Path(__file__).resolve().parent
BUDGET_SECONDS = 5.0


def _builder():  # the same synthetic ScanResult the report tests use
    spec = importlib.util.spec_from_file_location("divulge_report_builder", HERE.parent / "tests/reports/builder.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def main() -> int:
    n_findings, n_flows = 5_000, 50_000
    result = _builder().big_result(n_findings, n_flows)
    print(f"report_bench: {n_findings} findings, {n_flows} flows, {len(result.traffic.observations)} observations")
    write_reports(result, [ReportFormat.TEXT], "en")  # warm-up: i18n loading (the HTML template compiles in its run)
    # The budget is for wall time of the whole write_reports call, as a user waits for it; CPU time is printed
    # beside it because on a shared 2-core machine wall time also measures the neighbours.
    cpu: dict[str, float] = {}
    wall: dict[str, float] = {}
    for fmt in ReportFormat:
        started_wall, started = time.perf_counter(), time.process_time()
        text = write_reports(result, [fmt], "en")[fmt.value]
        cpu[fmt.value] = time.process_time() - started
        wall[fmt.value] = time.perf_counter() - started_wall
        print(f"  {fmt.value:6} cpu {cpu[fmt.value]:5.2f} s  wall {wall[fmt.value]:5.2f} s  {len(text) / 1e6:6.1f} MB")
    started_wall, started = time.perf_counter(), time.process_time()
    write_reports(result, [ReportFormat.HTML], "zh")
    print(f"  html zh cpu {time.process_time() - started:5.2f} s  wall {time.perf_counter() - started_wall:5.2f} s")
    print(f"  all formats cpu {sum(cpu.values()):.2f} s; HTML wall {wall['html']:.2f} s, cpu {cpu['html']:.2f} s"
          f" (budget {BUDGET_SECONDS:.0f} s wall)")
    return 0 if wall["html"] < BUDGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
