"""`python -m scanner.batch.child`: scan one pickled job from stdin, write the pickled outcome to stdout.

Used where forking a worker is not possible, e.g. inside a Dask worker (daemonic, threaded): the limits then apply
to this short-lived process, never to the long-lived Dask worker.
"""

from __future__ import annotations

import pickle
import sys

from scanner.batch.workers import scan_limited


def main() -> None:
    job, settings, limits = pickle.loads(sys.stdin.buffer.read())
    outcome = scan_limited(job, settings, limits)
    sys.stdout.buffer.write(pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL))
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
