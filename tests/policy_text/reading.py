"""What the policy-text tests ask of a reading: read a text, and the flags a data type came out with."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from scanner.model import Declaration
from scanner.policy.text import extract_text


def read(text: str, fmt: str = "markdown") -> Declaration:
    return extract_text(text, fmt, "<test>")


def flags(d: Declaration, data_type: str) -> set[str]:
    entry = d.data_types.get(data_type)
    if entry is None:
        return set()
    return {name for name, on in (("collected", entry.collected), ("shared", entry.shared),
                                  ("not_collected", entry.denied), ("not_shared", entry.share_denied)) if on}


CHROMIUM = "/usr/bin/chromium"


def print_pdfs(out: Path, pages: dict[str, str | Path], **pdf: Any) -> None:
    """Each page (HTML text, or a file to open) printed by headless Chromium to out/<name>.pdf, as "Save as PDF"
    does; the test is skipped without Chromium, and fails under CI."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{CHROMIUM} is required under CI")
        pytest.skip(f"{CHROMIUM} not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        for name, source in pages.items():
            page = browser.new_page()
            if isinstance(source, Path):
                page.goto(source.as_uri())
            else:
                page.set_content(source, wait_until="load")
            page.pdf(path=str(out / f"{name}.pdf"), **pdf)
            page.close()
        browser.close()
