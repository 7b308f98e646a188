"""Report test fixtures: ScanResults built from model objects (tests/reports/builder.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest


def _load_builder() -> ModuleType:
    # Tests run with --import-mode=importlib, so a sibling module is loaded by path, once.
    name = "divulge_report_builder"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("builder.py"))
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def builder() -> ModuleType:
    return _load_builder()
