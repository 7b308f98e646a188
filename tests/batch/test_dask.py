"""`--engine dask` on a LocalCluster with 2 workers: the same results, one store, crashes contained."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")


def test_dask_local_cluster(tmp_path: Path, make_input, run_divulge, db_rows, finished_batch: Path,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIVULGE_BATCH_TEST_FAULTS", "1")  # inherited by the cluster's worker processes
    source = make_input(tmp_path / "in", good=("weather", "shopping"), bad=("not-a-zip",),
                        extra={"x-segv": "utility"})
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  host="127.0.0.1") as cluster, distributed.Client(cluster) as client:
        out = tmp_path / "out"
        proc = run_divulge("batch", str(source), "-o", str(out), "--engine", "dask", "--scheduler",
                           cluster.scheduler_address, "--timeout", "60")
        assert proc.returncode == 0, proc.stderr
        workers_used = {r[0].rsplit(":", 1)[1] for r in db_rows(out / "batch.sqlite",
                                                                 "SELECT worker FROM apps WHERE worker != ''")}
        assert len(client.scheduler_info()["workers"]) == 2  # a crashing app did not take a worker down
    db = out / "batch.sqlite"
    status = dict(db_rows(db, "SELECT app_id, status FROM apps"))
    assert status == {"weather": "ok", "shopping": "ok", "not-a-zip": "error", "x-segv": "error"}
    assert dict(db_rows(db, "SELECT app_id, message FROM errors"))["x-segv"] == "worker killed by SIGSEGV"
    assert len(workers_used) >= 2  # one child process per app
    assert db_rows(db, "SELECT engine, status FROM runs") == [("dask", "finished")]
    for app in ("weather", "shopping"):  # the same findings as the local engine
        local = json.loads((finished_batch / "apps" / app / "findings.json").read_text())["findings"]
        remote = json.loads((out / "apps" / app / "findings.json").read_text())["findings"]
        assert [f["fingerprint"] for f in remote] == [f["fingerprint"] for f in local]
    assert run_divulge("verify", str(out)).returncode == 0


def test_dask_needs_a_scheduler(tmp_path: Path, make_input, run_divulge) -> None:
    source = make_input(tmp_path / "in", good=("weather",), bad=())
    proc = run_divulge("batch", str(source), "-o", str(tmp_path / "out"), "--engine", "dask")
    assert proc.returncode == 2 and "--scheduler" in proc.stderr


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_dask_scheduler_and_worker_processes(tmp_path: Path, make_input, run_divulge, db_rows,
                                             finished_batch: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real `dask scheduler` and `dask worker` on 127.0.0.1: the warm plugin is installed, apps are forked from
    it (a different pid per app, none of them the Dask worker's), and the findings equal the local engine's."""
    import subprocess
    import sys

    from scanner.batch.dask_warm import PLUGIN_NAME

    monkeypatch.setenv("DIVULGE_BATCH_TEST_FAULTS", "1")
    dask = str(Path(sys.executable).with_name("dask"))
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    scheduler = subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                  "--dashboard-address", ":0"], stderr=subprocess.DEVNULL)
    worker = subprocess.Popen([dask, "worker", address, "--nthreads", "1", "--nworkers", "2", "--no-dashboard"],
                              stderr=subprocess.DEVNULL)
    try:
        with distributed.Client(address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=120)
            source = make_input(tmp_path / "in", good=("weather", "shopping"), bad=("not-a-zip",),
                                extra={"x-segv": "utility", "x-hang": "utility"})
            out = tmp_path / "out"
            proc = run_divulge("batch", str(source), "-o", str(out), "--engine", "dask", "--scheduler", address,
                               "--timeout", "20", timeout=300)
            assert proc.returncode == 0, proc.stderr
            plugged = client.run(lambda dask_worker: PLUGIN_NAME in dask_worker.plugins)
            dask_pids = set(client.run(lambda: __import__("os").getpid()).values())
    finally:
        for process in (worker, scheduler):
            process.terminate()
            process.wait(timeout=60)
    assert len(plugged) == 2 and all(plugged.values())
    db = out / "batch.sqlite"
    errors = dict(db_rows(db, "SELECT app_id, message FROM errors"))
    assert errors["x-segv"] == "worker killed by SIGSEGV"
    assert errors["x-hang"].startswith("timeout: no result after 20 s")
    pids = [int(r[0].rsplit(":", 1)[1]) for r in db_rows(db, "SELECT worker FROM apps WHERE worker != ''")]
    assert len(set(pids)) == len(pids) >= 2 and not set(pids) & dask_pids
    for app in ("weather", "shopping"):
        local = json.loads((finished_batch / "apps" / app / "findings.json").read_text())["findings"]
        remote = json.loads((out / "apps" / app / "findings.json").read_text())["findings"]
        assert [f["fingerprint"] for f in remote] == [f["fingerprint"] for f in local]
