"""One app of a batch, inside a worker: hash its inputs, scan it, render its reports; every failure becomes an outcome."""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import resource
import socket
import time
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scanner.batch.inputs import AppJob
from scanner.errors import DivulgeError
from scanner.model import ScanResult

log = logging.getLogger(__name__)

# Text inputs up to this size get a hash per line in the evidence manifest so `verify` can name the changed line.
MAX_LINE_HASHED_BYTES = 16 << 20
LINE_HASH_HEX = 16


class ErrorKind:
    """Why an app has no result; stored in the `errors` table and shown on the dashboard."""

    BAD_INPUT = "bad_input"  # the APK, declaration or capture is corrupt or malformed (a DivulgeError)
    TIMEOUT = "timeout"  # the scan ran past --timeout and was killed
    MEMORY = "memory"  # MemoryError under --memory-mb, or killed while over it
    CRASHED = "crashed"  # the worker process died (signal, abort) without a result
    INTERNAL = "internal"  # an unexpected exception: a bug in divulge


@dataclass(frozen=True)
class ScanSettings:
    """What every app of a batch is scanned with (picklable: it travels to worker processes and Dask workers)."""

    formats: tuple[str, ...] = ("html", "json", "pia-html")  # pia-html: the per-app PIA draft the dashboard links
    lang: str = "en"
    rules: tuple[Path, ...] = ()
    config: Path | None = None
    device: Path | None = None
    category: str | None = None
    fail_on: str | None = None


@dataclass
class AppOutcome:
    """What a worker sends back for one app; the coordinator alone writes files and the store."""

    app_id: str
    status: str  # ok | error
    result: ScanResult | None = None
    reports: dict[str, str] = field(default_factory=dict)  # file name -> text
    inputs: list[dict[str, Any]] = field(default_factory=list)  # evidence of every input file
    error_kind: str | None = None
    error: str | None = None
    started: str = ""
    finished: str = ""
    duration_s: float = 0.0
    peak_rss_kb: int = 0
    worker: str = ""
    versions: dict[str, dict[str, Any]] = field(default_factory=dict)  # rule_pack, catalog: what this worker used


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def line_hashes(data: bytes) -> list[str]:
    """A short SHA-256 per line (keeps line endings out so CRLF vs LF is one change per line, not a shift)."""
    return [hashlib.sha256(line).hexdigest()[:LINE_HASH_HEX] for line in data.splitlines()]


def _looks_text(data: bytes) -> bool:
    if b"\x00" in data[:8192]:
        return False
    try:
        data[:65536].decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start > 65530  # a multi-byte character cut at the sample's end
    return True


def zip_entries(path: Path) -> dict[str, list[int]] | None:
    """name -> [crc32, size] from the central directory (cheap: no decompression); None when it is no zip."""
    try:
        with zipfile.ZipFile(path) as zf:
            return {i.filename: [i.CRC, i.file_size] for i in zf.infolist()}
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None


def hash_input(kind: str, path: Path) -> dict[str, Any]:
    """The evidence record of one input file: SHA-256 and size, plus what lets `verify` say *what* changed."""
    record: dict[str, Any] = {"kind": kind, "path": str(path)}
    try:
        data = path.read_bytes()
    except OSError as exc:
        record.update(sha256=None, size=None, error=f"unreadable: {exc.strerror or exc}")
        return record
    record.update(sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    if kind == "apk":
        record["entries"] = zip_entries(path)
    elif len(data) <= MAX_LINE_HASHED_BYTES and _looks_text(data):
        record["lines"] = line_hashes(data)
    return record


def cached_catalog() -> Any:
    """The SDK catalog, parsed once per worker process (the forkserver preloads it, so children start warm).

    Within one batch it must not change anyway: the evidence records one hash for it.
    """
    from scanner.knowledge.sdks import shared_catalog
    return shared_catalog(None)


@functools.cache
def cached_pack(rules: tuple[Path, ...], config: Path | None) -> Any:
    """The batch's rule pack (built-in + --rules + the config's), parsed once per worker process."""
    from scanner.scan import pack_for, scan_config
    return pack_for(rules, scan_config(config))


def warm() -> None:
    """Import and parse everything a scan needs, so forked workers inherit it instead of redoing it per app.

    Each step is best effort: a step that fails here fails again, with its real message, in the app's scan.
    """
    steps: list[tuple[str, Any]] = [("SDK catalog", cached_catalog), ("rule pack", lambda: cached_pack((), None))]
    from scanner import knowledge
    from scanner.static import manifest
    steps += [("knowledge", knowledge.warm), ("androguard", _import_androguard)]
    steps += [(f"AOSP permissions {level}", functools.partial(manifest._aosp_permissions, level))
              for level in (28, 29, 30, 31, 32, 33, 34)]
    steps += [("report templates", _warm_reports)]
    for name, step in steps:
        try:
            step()
        except Exception as exc:  # noqa: BLE001 - see the docstring: the scan will report it
            log.debug("warm-up of %s failed: %s", name, exc)


def _import_androguard() -> None:
    from scanner.static.archive import quiet_androguard
    quiet_androguard()
    import androguard.core.apk  # noqa: F401
    import androguard.core.axml  # noqa: F401


def _warm_reports() -> None:
    from scanner.model import AppIdentity
    from scanner.reports import parse_formats, write_reports
    app = AppIdentity(package="warm.up", label=None, version_name=None, version_code=None, min_sdk=None,
                      target_sdk=None, sha256="0" * 64)
    write_reports(ScanResult(app=app, findings=[]), parse_formats("html,json,sarif,md,pia-html"), "en")


def _scan_one_app(job: AppJob, settings: ScanSettings) -> ScanResult:
    """The scan of one app: the same service as `divulge scan`, with the batch's rules, config and device."""
    from scanner.scan import ScanOptions, run_scan

    options = ScanOptions(apk=job.apk, policy=job.declaration, traffic=job.captures,
                          device=job.device or settings.device, category=job.category or settings.category,
                          rules_dirs=settings.rules, config=settings.config, fail_on=settings.fail_on,
                          catalog=cached_catalog(), pack=cached_pack(settings.rules, settings.config))
    return run_scan(options)


def _versions(result: ScanResult | None, settings: ScanSettings) -> dict[str, dict[str, Any]]:
    """Rule pack and catalog identity: from the result, or for a failed app from this worker's loaded copies."""
    if result is not None:
        return {"rule_pack": dict(result.rule_pack), "catalog": dict(result.catalog)}
    versions: dict[str, dict[str, Any]] = {}
    try:
        versions["rule_pack"] = cached_pack(tuple(settings.rules), settings.config).info()
        versions["catalog"] = cached_catalog().summary()
    except DivulgeError as exc:  # a broken pack or catalog is this app's error already; record what we can
        log.debug("versions unavailable: %s", exc)
    return versions


def run_job(job: AppJob, settings: ScanSettings) -> AppOutcome:
    """Scan one app and render its reports; never raises (except BaseException such as a kill)."""
    started, t0 = now_iso(), time.monotonic()
    outcome = AppOutcome(app_id=job.app_id, status="ok", started=started,
                         worker=f"{socket.gethostname()}:{os.getpid()}")
    try:
        outcome.inputs = [hash_input(kind, path) for kind, path in job.input_files()]
        result = _scan_one_app(job, settings)
        from scanner.reports import parse_formats, write_reports
        formats = parse_formats(",".join(settings.formats))
        texts = write_reports(result, formats, settings.lang)
        outcome.reports = {fmt.file_name: texts[fmt.value] for fmt in formats}
        outcome.result = result
    except DivulgeError as exc:
        outcome.status, outcome.error_kind, outcome.error = "error", ErrorKind.BAD_INPUT, f"{type(exc).__name__}: {exc}"
    except MemoryError:
        outcome.status, outcome.error_kind = "error", ErrorKind.MEMORY
        outcome.error = "MemoryError: the scan needed more memory than --memory-mb allows"
    except RecursionError as exc:  # deeply nested input: a property of the app, reported like a crash
        outcome.status, outcome.error_kind, outcome.error = "error", ErrorKind.CRASHED, f"RecursionError: {exc}"
    except Exception as exc:  # a bug in divulge on this app; the batch goes on and the error is recorded
        log.debug("internal error on %s", job.app_id, exc_info=True)
        outcome.status, outcome.error_kind = "error", ErrorKind.INTERNAL
        outcome.error = f"{type(exc).__name__}: {exc}"
    outcome.versions = _versions(outcome.result, settings)
    outcome.finished = now_iso()
    outcome.duration_s = round(time.monotonic() - t0, 3)
    outcome.peak_rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return outcome
