"""`divulge traffic`: read captures (sessions, flow files, HAR), analyse them with one core, give a TrafficReport."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scanner.dynamic.analysis import FlowAnalyzer, build_report
from scanner.dynamic.device import DeviceProfile, load_device_profile
from scanner.dynamic.marks import Mark, Timeline
from scanner.dynamic.readers import CaptureFormat, FlowRecord, open_capture
from scanner.errors import BadCapture, DivulgeError
from scanner.knowledge.protocols import load_protocols, shared_protocols
from scanner.knowledge.recipients import AppNames, HostCatalog, Recipients, normalise_domain
from scanner.knowledge.sdks import shared_catalog
from scanner.model import TrafficReport

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrafficOptions:
    captures: tuple[Path, ...]
    device: Path | None = None
    first_party: tuple[str, ...] = ()
    capture_format: CaptureFormat | None = None  # None: recognise each capture by its content
    sdk_db: Path | None = None
    # First-party domains learned from the app itself (scanner.first_party): added to the given or recorded ones.
    app_domains: tuple[str, ...] = ()
    # Tracker protocol files (or folders of them) added to the shipped rules/protocols.
    protocols: tuple[Path, ...] = ()
    # The app's package name and label: hosts of domains named after it are first party.
    app: AppNames | None = None


def analyse_traffic(options: TrafficOptions, catalog: HostCatalog | None = None) -> TrafficReport:
    """Read every capture (a bad one is a warning while others remain), then analyse them together."""
    if not options.captures:
        raise BadCapture("no capture given")
    # Protocol files are read first: a malformed one is a usage error whatever the captures hold.
    protocols = load_protocols(options.protocols) if options.protocols else shared_protocols()
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
    catalog = catalog if catalog is not None else shared_catalog(options.sdk_db)
    first_party.extend(options.app_domains)
    profile = load_device_profile(device_path) if device_path is not None else DeviceProfile()
    if profile.value_count == 0:
        warnings.append("no device profile values: only shape detection (likely matches) was possible")
    analyzer = FlowAnalyzer(profile, Recipients(catalog, first_party, options.app), Timeline(active=timeline_active),
                            protocols)
    return build_report(records, analyzer, marks=marks, warnings=warnings, tls_failures=tls_failures)
