"""`python -m scanner.batch.child`: scan one pickled job from stdin, write the pickled outcome to stdout.

Used where forking a worker is not possible, e.g. inside a Dask worker (daemonic, threaded): the limits then apply
to this short-lived process, never to the long-lived Dask worker.
"""

from __future__ import annotations

import pickle
import sys

from scanner.batch.workers import apply_limits, inject_test_fault


def main() -> None:
    from scanner.batch.appscan import AppOutcome, ErrorKind, run_job

    job, settings, limits = pickle.loads(sys.stdin.buffer.read())
    apply_limits(limits)
    try:
        inject_test_fault(job)
        outcome = run_job(job, settings)
    except MemoryError:
        outcome = AppOutcome(app_id=job.app_id, status="error", error_kind=ErrorKind.MEMORY,
                             error=f"MemoryError: over the memory limit of {limits.memory_mb} MB")
    sys.stdout.buffer.write(pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL))
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
