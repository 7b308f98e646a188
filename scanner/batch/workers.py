"""The local engine: one worker process per app, under a time and memory limit; a dead worker is an error, not a crash.

Why one process per app rather than a long-lived pool: a parser that hangs, leaks or segfaults takes only its own
app down, and RLIMIT_AS applies to one scan. Processes come from a forkserver that has already imported androguard
and parsed the catalogs (scanner.batch.warm), so a fork costs milliseconds, not the seconds of a cold start.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import os
import resource
import signal
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from scanner.batch.appscan import AppOutcome, ErrorKind, ScanSettings, now_iso, run_job
from scanner.batch.inputs import AppJob

log = logging.getLogger(__name__)

# Test-only fault injection: honoured only when this variable is "1" (never set in production), so tests can
# make a worker hang, blow its memory limit or die by a signal on a chosen app without a pathological APK.
TEST_FAULTS_ENV = "DIVULGE_BATCH_TEST_FAULTS"


@dataclass(frozen=True)
class Limits:
    timeout_s: float = 600.0
    memory_mb: int | None = 4096  # address space (RLIMIT_AS) of one worker; None = unlimited


def apply_limits(limits: Limits) -> None:
    """In the worker: cap its address space so a runaway parse raises MemoryError instead of starving the host."""
    if limits.memory_mb:
        cap = limits.memory_mb << 20
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            cap = min(cap, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


def inject_test_fault(job: AppJob) -> None:
    """Make this app misbehave when its file name says so: *hang*, *oom*, *segv*, *slow* (tests only)."""
    if os.environ.get(TEST_FAULTS_ENV) != "1":
        return
    name = job.apk.name
    if "hang" in name:
        while True:
            time.sleep(1)
    if "oom" in name:
        hog = bytearray(64 << 30)  # 64 GiB at once: far over any --memory-mb, fails before touching a page
        del hog
    if "segv" in name:
        os.kill(os.getpid(), signal.SIGSEGV)
    if "slow" in name:
        time.sleep(float(os.environ.get("DIVULGE_BATCH_TEST_SLOW", "1")))


def scan_limited(job: AppJob, settings: ScanSettings, limits: Limits) -> AppOutcome:
    """Scan one app in this (short-lived) process under the limits; running out of memory is the app's outcome."""
    apply_limits(limits)
    try:
        inject_test_fault(job)
        return run_job(job, settings)
    except MemoryError:
        return AppOutcome(app_id=job.app_id, status="error", error_kind=ErrorKind.MEMORY,
                          error=f"MemoryError: over the memory limit of {limits.memory_mb} MB")


def worker_main(job: AppJob, settings: ScanSettings, limits: Limits, conn: Connection) -> None:
    """Entry point of a worker process: limits, scan, send the outcome, exit."""
    outcome = scan_limited(job, settings, limits)
    try:
        conn.send(outcome)
    except MemoryError:
        conn.send(AppOutcome(app_id=job.app_id, status="error", error_kind=ErrorKind.MEMORY,
                             error=f"MemoryError: result too large for the memory limit of {limits.memory_mb} MB"))
    conn.close()


def signal_name(code: int) -> str:
    try:
        return signal.Signals(code).name
    except ValueError:
        return f"signal {code}"


def _vm_hwm_kb(pid: int | None) -> int:
    """Peak resident memory of a live process (Linux), for workers we are about to kill."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return 0
    return 0


@dataclass
class _Running:
    job: AppJob
    process: BaseProcess
    deadline: float
    started: str


class LocalPool:
    """Runs jobs in at most `workers` processes at a time and yields an AppOutcome per job as each finishes."""

    def __init__(self, workers: int, settings: ScanSettings, limits: Limits) -> None:
        self.workers = max(1, workers)
        self.settings = settings
        self.limits = limits
        self._ctx = multiprocessing.get_context("forkserver")
        self._ctx.set_forkserver_preload(["scanner.batch.warm"])
        self._running: dict[Connection, _Running] = {}

    def run(self, jobs: Iterable[AppJob]) -> Iterator[AppOutcome]:
        pending = iter(jobs)
        exhausted = False
        try:
            while True:
                while not exhausted and len(self._running) < self.workers:
                    job = next(pending, None)
                    if job is None:
                        exhausted = True
                    else:
                        self._start(job)
                if not self._running:
                    return
                timeout = max(0.0, min(r.deadline for r in self._running.values()) - time.monotonic())
                ready = multiprocessing.connection.wait(list(self._running), timeout=timeout)
                for conn in ready:
                    assert isinstance(conn, Connection)
                    yield self._collect(conn)
                now = time.monotonic()
                for conn, running in list(self._running.items()):
                    if running.deadline <= now and conn not in ready:
                        yield self._timed_out(conn)
        finally:
            self.stop()

    def stop(self) -> None:
        """Kill whatever still runs (interrupt or error in the coordinator); their apps stay pending in the store."""
        for conn, running in list(self._running.items()):
            running.process.kill()
            running.process.join(5)
            conn.close()
        self._running.clear()

    def _start(self, job: AppJob) -> None:
        receive, send = self._ctx.Pipe(duplex=False)
        process = self._ctx.Process(target=worker_main, args=(job, self.settings, self.limits, send),
                                    name=f"divulge-{job.app_id}", daemon=True)
        process.start()
        send.close()  # only the child holds the write end now, so its death reads as EOF here
        self._running[receive] = _Running(job, process, time.monotonic() + self.limits.timeout_s, now_iso())

    def _collect(self, conn: Connection) -> AppOutcome:
        running = self._running.pop(conn)
        try:
            outcome: AppOutcome = conn.recv()
        except (EOFError, OSError):
            running.process.join(10)
            outcome = self._died(running)
        else:
            running.process.join(10)
            if running.process.exitcode is None:
                running.process.kill()
                running.process.join()
        conn.close()
        return outcome

    def _died(self, running: _Running) -> AppOutcome:
        code = running.process.exitcode
        if code is not None and code < 0:
            name = signal_name(-code)
            kind = ErrorKind.CRASHED
            reason = f"worker killed by {name}"
            if -code == signal.SIGKILL:
                kind, reason = ErrorKind.MEMORY, f"worker killed by SIGKILL (likely the out-of-memory killer; " \
                                                 f"limit {self.limits.memory_mb} MB)"
        else:
            kind, reason = ErrorKind.CRASHED, f"worker exited with code {code} without a result"
        return AppOutcome(app_id=running.job.app_id, status="error", error_kind=kind, error=reason,
                          started=running.started, finished=now_iso())

    def _timed_out(self, conn: Connection) -> AppOutcome:
        running = self._running.pop(conn)
        peak = _vm_hwm_kb(running.process.pid)
        running.process.kill()
        running.process.join(10)
        conn.close()
        return AppOutcome(app_id=running.job.app_id, status="error", error_kind=ErrorKind.TIMEOUT,
                          error=f"timeout: no result after {self.limits.timeout_s:g} s; worker killed",
                          started=running.started, finished=now_iso(), duration_s=self.limits.timeout_s,
                          peak_rss_kb=peak)
