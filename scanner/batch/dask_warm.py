"""Warm scan servers on Dask workers: a worker plugin whose servers load catalogs once and fork a process per app."""

from __future__ import annotations

import pickle
import subprocess
import sys
import threading
from typing import Any, BinaryIO, cast

from distributed.diagnostics.plugin import WorkerPlugin

from scanner.batch.child import read_frame, write_frame

PLUGIN_NAME = "divulge-warm-scan"


class WarmServer:
    """One `scanner.batch.child --serve` process: preloaded once, one forked process per job."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "scanner.batch.child", "--serve"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE)
        self.ready = False

    def run(self, payload: bytes) -> tuple[int | None, bytes, bytes]:
        assert self.proc.stdin is not None and self.proc.stdout is not None  # both are pipes
        if not self.ready:  # its warm-up ran while the worker waited for tasks
            if read_frame(cast(BinaryIO, self.proc.stdout)) != b"ready":
                raise OSError("the warm scan server did not start")
            self.ready = True
        write_frame(cast(BinaryIO, self.proc.stdin), payload)
        reply = read_frame(cast(BinaryIO, self.proc.stdout))
        if reply is None:
            raise OSError(f"the warm scan server died (exit code {self.proc.poll()})")
        code, outcome, tail = pickle.loads(reply)
        return code, outcome, tail

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class WarmScanPlugin(WorkerPlugin):
    """A Dask worker plugin: warm scan servers for the worker's threads, started when the plugin is registered."""

    name = PLUGIN_NAME
    idempotent = True  # registered by every batch; a worker that already has it keeps its warm servers

    def setup(self, worker: Any) -> None:
        self._lock = threading.Lock()
        self._idle = [WarmServer() for _ in range(max(1, int(getattr(worker.state, "nthreads", 1))))]

    def teardown(self, worker: Any) -> None:
        with self._lock:
            servers, self._idle = self._idle, []
        for server in servers:
            server.close()

    def run(self, payload: bytes) -> tuple[int | None, bytes, bytes]:
        with self._lock:
            server = self._idle.pop() if self._idle else WarmServer()
        try:
            result = server.run(payload)
        except OSError:
            server.close()  # a broken server is replaced, not reused
            raise
        with self._lock:
            self._idle.append(server)
        return result
