"""`divulge traffic`: read captures (sessions, flow files, HAR), analyse them with one core, give a TrafficReport."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scanner.dynamic.analysis import FlowAnalyzer, build_report
from scanner.dynamic.device import DeviceProfile, load_device_profile
from scanner.dynamic.marks import Mark, Timeline
from scanner.dynamic.readers import CaptureFormat, FlowRecord, open_capture
from scanner.dynamic.recipients import HostCatalog, Recipients, normalise_domain
from scanner.errors import BadCapture, DivulgeError
from scanner.model import TrafficReport

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrafficOptions:
    captures: tuple[Path, ...]
    device: Path | None = None
    first_party: tuple[str, ...] = ()
    app: Path | None = None
    capture_format: CaptureFormat | None = None  # None: recognise each capture by its content
    sdk_db: Path | None = None


@functools.lru_cache(maxsize=4)
def load_sdk_catalog(sdk_db: Path | None = None) -> HostCatalog:
    """The SDK catalog, loaded once per process (it is read-only and takes seconds to build)."""
    from scanner.static.sdks import load_catalog

    return load_catalog(sdk_db)


# Domains whose URLs sit in every app's code as licence, documentation and issue links (JavaScript bundles and
# Dart snapshots carry hundreds): never the app's own backend, so never "first party".
_REFERENCE_DOMAINS = frozenset({
    "github.com", "githubusercontent.com", "github.io", "gitlab.com", "bitbucket.org", "stackoverflow.com",
    "reactjs.org", "react.dev", "reactnative.dev", "fb.me", "flutter.dev", "dart.dev", "pub.dev",
    "android.com", "developer.android.com", "goo.gl", "bit.ly", "w3.org", "mozilla.org", "wikipedia.org",
    "npmjs.com", "npmjs.org", "unpkg.com", "jsdelivr.net", "apache.org", "opensource.org", "creativecommons.org",
    "json.org", "ietf.org", "schema.org", "unicode.org", "kotlinlang.org", "jetbrains.com", "example.com",
    "example.org", "example.net", "mit-license.org", "gnu.org", "babeljs.io", "webpack.js.org", "nodejs.org",
})


def first_party_from_apk(apk: Path, catalog: HostCatalog | None = None) -> list[str]:
    """Registrable domains of endpoints in the app's own code (SDK endpoints and reference links excluded)."""
    from scanner.dynamic.recipients import registrable_domain
    from scanner.static import analyze_apk

    report = analyze_apk(apk, catalog=catalog)  # type: ignore[arg-type]
    domains = set()
    for endpoint in report.endpoints:
        if endpoint.sdk is None and endpoint.host and "." in endpoint.host:
            domain = registrable_domain(endpoint.host)
            if (catalog is None or catalog.sdk_for_host(endpoint.host) is None) and domain not in _REFERENCE_DOMAINS:
                domains.add(domain)
    log.info("first-party domains from %s: %s", apk, sorted(domains))
    return sorted(domains)


def analyse_traffic(options: TrafficOptions, catalog: HostCatalog | None = None) -> TrafficReport:
    """Read every capture (a bad one is a warning while others remain), then analyse them together."""
    if not options.captures:
        raise BadCapture("no capture given")
    records: list[FlowRecord] = []
    marks: list[Mark] = []
    warnings: list[str] = []
    tls_failures: list[dict[str, Any]] = []
    timeline_active = False
    device_path = options.device
    first_party = [normalise_domain(d) for d in options.first_party]
    errors: list[DivulgeError] = []
    for path in options.captures:
        try:
            contents = open_capture(path, options.capture_format).read()
        except BadCapture as exc:
            if len(options.captures) == 1:
                raise
            errors.append(exc)
            warnings.append(f"capture skipped: {exc}")
            continue
        records.extend(contents.records)
        marks.extend(contents.marks)
        warnings.extend(contents.warnings)
        tls_failures.extend(contents.tls_failures)
        timeline_active = timeline_active or contents.timeline
        settings = contents.settings
        if device_path is None and settings.get("device_file"):
            device_path = Path(settings["device_file"])
        if not options.first_party:
            first_party.extend(settings.get("first_party") or [])
    if errors and len(errors) == len(options.captures):
        raise BadCapture(f"no capture could be read: {'; '.join(str(e) for e in errors)}")
    catalog = catalog if catalog is not None else load_sdk_catalog(options.sdk_db)
    if options.app is not None:
        first_party.extend(first_party_from_apk(options.app, catalog))
    profile = load_device_profile(device_path) if device_path is not None else DeviceProfile()
    if profile.value_count == 0:
        warnings.append("no device profile values: only shape detection (likely matches) was possible")
    analyzer = FlowAnalyzer(profile, Recipients(catalog, first_party), Timeline(active=timeline_active))
    return build_report(records, analyzer, marks=marks, warnings=warnings, tls_failures=tls_failures)
