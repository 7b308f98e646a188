"""The Dask engine: the same jobs on a dask.distributed cluster; outcomes come back to the coordinator, which alone
writes result folders and the store.

Each task runs the scan in a short-lived child process (`python -m scanner.batch.child`) so the time and memory
limits hold per app and a crashing parser never takes a Dask worker down. Inputs are read by path: every worker
must see them at the same path (a shared or synced folder), see docs/batch.md.
"""

from __future__ import annotations

import logging
import pickle
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterable, Iterator

from scanner.batch.appscan import AppOutcome, ErrorKind, ScanSettings, now_iso
from scanner.batch.inputs import AppJob, BadBatchInput
from scanner.batch.workers import Limits, signal_name

log = logging.getLogger(__name__)


def scan_in_child(job: AppJob, settings: ScanSettings, limits: Limits) -> AppOutcome:
    """Run one job in a fresh interpreter under the limits; runs on a Dask worker (or anywhere)."""
    started = now_iso()
    payload = pickle.dumps((job, settings, limits), protocol=pickle.HIGHEST_PROTOCOL)
    try:
        proc = subprocess.run([sys.executable, "-m", "scanner.batch.child"], input=payload, capture_output=True,
                              timeout=limits.timeout_s, check=False)
    except subprocess.TimeoutExpired:
        return AppOutcome(app_id=job.app_id, status="error", error_kind=ErrorKind.TIMEOUT,
                          error=f"timeout: no result after {limits.timeout_s:g} s; worker killed",
                          started=started, finished=now_iso(), duration_s=limits.timeout_s)
    if proc.returncode == 0 and proc.stdout:
        outcome: AppOutcome = pickle.loads(proc.stdout)
        return outcome
    code = proc.returncode
    tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
    if code < 0:
        kind = ErrorKind.MEMORY if -code == signal.SIGKILL else ErrorKind.CRASHED
        reason = f"worker killed by {signal_name(-code)}"
    else:
        kind, reason = ErrorKind.CRASHED, f"worker exited with code {code} without a result: {tail[0]}"
    return AppOutcome(app_id=job.app_id, status="error", error_kind=kind, error=reason, started=started,
                      finished=now_iso())


class DaskEngine:
    def __init__(self, scheduler: str, settings: ScanSettings, limits: Limits) -> None:
        self.scheduler = scheduler
        self.settings = settings
        self.limits = limits

    def run(self, jobs: Iterable[AppJob]) -> Iterator[AppOutcome]:
        try:
            from distributed import Client, as_completed
        except ImportError as exc:
            raise BadBatchInput("--engine dask needs the dask extra: pip install 'divulge[dask]'") from exc
        try:
            client = Client(self.scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise BadBatchInput(f"cannot reach the Dask scheduler at {self.scheduler}: {exc}") from exc
        try:
            jobs = list(jobs)
            token = uuid.uuid4().hex[:8]  # a fresh key per run: the scheduler must not hand back an old result
            # pure=False: a resumed app must really run again; retries=1 covers a worker lost mid-task.
            futures = [client.submit(scan_in_child, job, self.settings, self.limits, key=f"divulge-{job.app_id}-{token}",
                                     pure=False, retries=1) for job in jobs]
            by_key = {f.key: job for f, job in zip(futures, jobs, strict=True)}
            for future in as_completed(futures):
                job = by_key[future.key]
                try:
                    yield future.result()
                except Exception as exc:  # the task itself failed on the cluster (worker lost twice, …)
                    yield AppOutcome(app_id=job.app_id, status="error", error_kind=ErrorKind.CRASHED,
                                     error=f"dask task failed: {type(exc).__name__}: {exc}", finished=now_iso())
                future.release()
        finally:
            client.close()
