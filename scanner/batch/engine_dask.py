"""The Dask engine: the same jobs on a dask.distributed cluster; outcomes come back to the coordinator, which alone
writes result folders and the store.

Each app runs in a process of its own so the time and memory limits hold per app and a crashing parser never takes
a Dask worker down. A worker plugin starts, on every Dask worker, warm scan servers (`python -m scanner.batch.child
--serve`) that load androguard, the catalogs and the rule pack once and fork one process per app: a task costs a
fork, not an interpreter start. Tasks carry the job (paths, not bytes): every worker must see the inputs at the
same path (a shared or synced folder), see docs/batch.md. Outcomes are collected as they complete.
"""

from __future__ import annotations

import logging
import pickle
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from scanner.batch.appscan import AppOutcome, ErrorKind, ScanSettings, now_iso
from scanner.batch.inputs import AppJob, BadBatchInput
from scanner.batch.workers import Limits, signal_name

log = logging.getLogger(__name__)


def _plugin() -> Any:
    """The warm scan plugin of the Dask worker this runs on, or None (not on a worker, or without the plugin)."""
    try:
        from distributed import get_worker

        from scanner.batch.dask_warm import PLUGIN_NAME, WarmScanPlugin

        plugin = get_worker().plugins.get(PLUGIN_NAME)
    except (ImportError, ValueError):  # not running on a Dask worker (called directly, in tests)
        return None
    return plugin if isinstance(plugin, WarmScanPlugin) else None


def scan_in_child(job: AppJob, settings: ScanSettings, limits: Limits) -> AppOutcome:
    """Run one job in a process of its own under the limits; runs on a Dask worker (or anywhere).

    On a worker with the plugin the process is forked from a warm server; elsewhere it is a fresh interpreter."""
    started = now_iso()
    payload = pickle.dumps((job, settings, limits), protocol=pickle.HIGHEST_PROTOCOL)
    plugin = _plugin()
    code: int | None
    if plugin is not None:
        try:
            code, stdout, stderr = plugin.run(payload)
        except OSError as exc:
            return AppOutcome(app_id=job.app_id, status="error", error_kind=ErrorKind.CRASHED,
                              error=f"worker lost: {exc}", started=started, finished=now_iso())
    else:
        try:
            proc = subprocess.run([sys.executable, "-m", "scanner.batch.child"], input=payload, capture_output=True,
                                  timeout=limits.timeout_s, check=False)
            code, stdout, stderr = proc.returncode, proc.stdout, proc.stderr
        except subprocess.TimeoutExpired:
            code, stdout, stderr = None, b"", b""
    if code is None:
        return AppOutcome(app_id=job.app_id, status="error", error_kind=ErrorKind.TIMEOUT,
                          error=f"timeout: no result after {limits.timeout_s:g} s; worker killed",
                          started=started, finished=now_iso(), duration_s=limits.timeout_s)
    if code == 0 and stdout:
        outcome: AppOutcome = pickle.loads(stdout)
        return outcome
    tail = stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
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
            # Registered per run: a worker that joins later gets it too, and one already warm is not restarted.
            from scanner.batch.dask_warm import PLUGIN_NAME, WarmScanPlugin

            client.register_plugin(WarmScanPlugin(), name=PLUGIN_NAME)
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
