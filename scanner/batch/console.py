"""What `divulge batch` and `divulge verify` show on stderr: a rich progress bar and the closing summaries."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from scanner.batch.evidence import Verdict
from scanner.batch.runner import BatchSummary
from scanner.batch.runner import Progress as BatchProgress


class ProgressBar:
    """Apps done of total, errors so far, elapsed and ETA; silent when stderr is not a terminal unless forced."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.bar = Progress(TextColumn("[bold]scanning"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("[red]{task.fields[errors]} errors"), TextColumn("{task.fields[app]}"),
                            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                            console=console, transient=False)
        self.task = self.bar.add_task("apps", total=None, errors=0, app="")

    def __enter__(self) -> ProgressBar:
        self.bar.__enter__()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.bar.__exit__(kind, exc, tb)

    def update(self, p: BatchProgress) -> None:
        if p.done == 0 and p.skipped:
            self.console.print(f"resuming: {p.skipped} apps already done, {p.total} to scan")
        self.bar.update(self.task, total=p.total, completed=p.done, errors=p.errors, app=p.app_id or "")


def print_summary(console: Console, s: BatchSummary) -> None:
    state = "[yellow]interrupted[/]" if s.interrupted else "[green]done[/]"
    console.print(f"batch run {s.run_id} {state}: {s.scanned} scanned ({s.ok} ok, {s.errors} errors), "
                  f"{s.skipped} already done, {s.apps_in_input} apps in the input")
    if s.error_kinds:
        console.print("errors: " + ", ".join(f"{n} {k}" for k, n in sorted(s.error_kinds.items())))
    counts = ", ".join(f"{n} {sev}" for sev, n in s.severity_counts.items() if n) or "none"
    console.print(f"findings over all apps: {counts}")
    if s.scanned:
        console.print(f"{s.wall_s:g} s, {s.apps_per_minute:g} apps/min, peak worker memory "
                      f"{s.peak_rss_kb / 1024:.0f} MB")
    if s.stale_apps:
        console.print(f"[yellow]{len(s.stale_apps)} apps in the store are not in this input[/] "
                      f"(e.g. {s.stale_apps[0]})")
    console.print(f"store: {s.db}")
    if s.dashboard:
        console.print(f"dashboard: {s.dashboard}\nfindings CSV: {s.findings_csv}")
    if s.index_head:
        console.print(f"evidence index head: {s.index_head}")
    if s.interrupted:
        console.print("run again with --resume to finish")


def print_verdicts(console: Console, verdicts: list[Verdict]) -> None:
    for v in verdicts:
        if v.ok:
            console.print(f"[green]OK[/]      {v.where} ({v.checked_files} files checked)", highlight=False)
        else:
            console.print(f"[red]CHANGED[/] {v.where}", highlight=False)
            for problem in v.problems:
                console.print(f"  - {problem}", highlight=False, markup=False)
        for note in v.notes:
            console.print(f"  note: {note}", highlight=False, markup=False)
    bad = sum(1 for v in verdicts if not v.ok)
    console.print(f"{len(verdicts) - bad} intact, {bad} changed", highlight=False)
