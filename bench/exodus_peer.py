"""exodus-core's tracker detection run offline: its signatures loaded from a local Exodus JSON."""

from __future__ import annotations

import json
import re
from collections import namedtuple
from pathlib import Path
from typing import Any


def exodus_trackers(apk: Path, trackers_json: Path) -> list[dict[str, Any]]:
    """Exactly what exodus-core's StaticAnalysis.detect_trackers() returns, without its network fetch."""
    from exodus_core.analysis.static_analysis import StaticAnalysis

    analysis = StaticAnalysis.__new__(StaticAnalysis)
    # __init__ would load the APK with androguard first; detect_trackers() needs only the path.
    analysis.apk, analysis.apk_path, analysis.classes, analysis.app_details = None, str(apk), None, None
    data = json.loads(trackers_json.read_text(encoding="utf-8"))
    analysis.signatures = [namedtuple("tracker", t.keys())(*t.values()) for t in data["trackers"].values()]
    analysis.compiled_tracker_signature = [re.compile(t.code_signature) for t in analysis.signatures]
    return [{"id": t.id, "name": t.name} for t in analysis.detect_trackers()]
