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
