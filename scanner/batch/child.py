"""`python -m scanner.batch.child`: scan pickled jobs for a Dask worker, in processes of their own.

Used where forking a worker is not possible, e.g. inside a Dask worker (daemonic, threaded): the limits then apply
to a short-lived process, never to the long-lived Dask worker.

* Without arguments: scan one pickled job from stdin, write the pickled outcome to stdout, exit.
* `--serve`: load androguard, the catalogs, the rule pack and the templates once (as the local engine's
  forkserver does), then answer framed requests on stdin, forking one process per job: a job costs a fork,
  not an interpreter start and a catalog parse.
"""

from __future__ import annotations

import gc
import os
import pickle
import select
import signal
import struct
import sys
import tempfile
import time
from typing import BinaryIO

from scanner.batch.workers import scan_limited

_FRAME = struct.Struct(">Q")
_STDERR_TAIL = 4096  # of a job that died: its last line goes into the error message


def read_frame(stream: BinaryIO) -> bytes | None:
    head = stream.read(_FRAME.size)
    if len(head) < _FRAME.size:
        return None
    size = _FRAME.unpack(head)[0]
    body = stream.read(size)
    return body if len(body) == size else None


def write_frame(stream: BinaryIO, body: bytes) -> None:
    stream.write(_FRAME.pack(len(body)) + body)
    stream.flush()


def _forked(request: bytes) -> tuple[int | None, bytes, bytes]:
    """(exit code, or None on timeout; pickled outcome; stderr tail) of one job run in a forked process."""
    job, settings, limits = pickle.loads(request)
    with tempfile.TemporaryFile() as err:
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the job's process: limits apply here only; it never returns into the serving loop
            code = 1
            try:
                os.close(read_end)
                os.dup2(err.fileno(), 2)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                payload = pickle.dumps(scan_limited(job, settings, limits), protocol=pickle.HIGHEST_PROTOCOL)
                with os.fdopen(write_end, "wb") as out:
                    out.write(payload)
                code = 0
            finally:
                os._exit(code)
        os.close(write_end)
        chunks, deadline, timed_out = [], time.monotonic() + limits.timeout_s, False
        with os.fdopen(read_end, "rb", buffering=0) as result:
            while True:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([result], [], [], left)[0]:
                    timed_out = True
                    os.kill(pid, signal.SIGKILL)
                    break
                chunk = result.read(1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
        _, status = os.waitpid(pid, 0)
        err.seek(max(0, os.fstat(err.fileno()).st_size - _STDERR_TAIL))
        tail = err.read()
    return (None if timed_out else os.waitstatus_to_exitcode(status)), b"".join(chunks), tail


def serve() -> None:
    # The protocol owns the real stdout; anything a library prints goes to stderr instead of into a frame.
    requests, replies = sys.stdin.buffer, os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    from scanner.batch.appscan import warm

    warm()
    gc.freeze()  # forked jobs then do not copy the preloaded pages because a collection touched them
    write_frame(replies, b"ready")
    while (request := read_frame(requests)) is not None:
        write_frame(replies, pickle.dumps(_forked(request), protocol=pickle.HIGHEST_PROTOCOL))


def main() -> None:
    if sys.argv[1:] == ["--serve"]:
        serve()
        return
    job, settings, limits = pickle.loads(sys.stdin.buffer.read())
    outcome = scan_limited(job, settings, limits)
    sys.stdout.buffer.write(pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL))
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
