"""Speed of reading a large policy: a 2 MB HTML page and a ~200-page PDF printed by Chromium (issue 14: < 5 s each).

The page is the fixture HTML policies, each repeated with the furniture of a real site around it (menu, cookie
banner, footer, table of contents), until it reaches 2 MB; the PDF is the same text without the furniture, printed
by headless Chromium as "Save as PDF" does.  Prints seconds, pages and what was read (data types, SDKs, topics
found).  Usage: python bench/policy_speed.py [--no-pdf]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from scanner.policy.text import load_policy_text  # noqa: E402

POLICIES = REPO / "fixtures" / "policies"
CHROMIUM = "/usr/bin/chromium"
TARGET_BYTES = 2 * 1024 * 1024
_FURNITURE = ('<nav class="site-nav"><ul><li><a href="/">Home</a></li><li><a href="/apps">Apps</a></li>'
              '<li><a href="/privacy">Privacy</a></li></ul></nav>'
              '<div id="cookie-banner"><p>We use cookies to collect your location and device ID. Accept all?</p>'
              '</div>')
_FOOTER = '<footer><p>© Example Ltd · Imprint · Contact us at hello@example.org</p></footer>'


def _bodies() -> list[str]:
    out = []
    for path in sorted(POLICIES.glob("*.html")):
        html = path.read_text(encoding="utf-8", errors="replace")
        match = re.search(r"<body[^>]*>(.*)</body>", html, re.S | re.I)
        out.append(match.group(1) if match else html)
    return out


def build_page(target: int = TARGET_BYTES, furniture: bool = True) -> str:
    bodies = _bodies()
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>Privacy</title></head><body>"]
    size, index = 0, 0
    while size < target:
        body = bodies[index % len(bodies)]
        chunk = f"{_FURNITURE if furniture else ''}<section id='s{index}'>{body}</section>{_FOOTER if furniture else ''}"
        parts.append(chunk)
        size += len(chunk.encode("utf-8"))
        index += 1
    parts.append("</body></html>")
    return "".join(parts)


def time_read(path: Path) -> tuple[float, str]:
    started = time.perf_counter()
    declaration = load_policy_text(path)
    seconds = time.perf_counter() - started
    found = sum(1 for t in declaration.policy_topics if t.found)
    return seconds, (f"{len(declaration.data_types)} data types, {len(declaration.parties)} parties, "
                     f"{found}/{len(declaration.policy_topics)} topics")


def print_pdf(html: str, out: Path) -> int:
    from playwright.sync_api import sync_playwright
    from pypdf import PdfReader

    with sync_playwright() as play:
        browser = play.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        page.set_content(html, wait_until="load")
        page.pdf(path=str(out), format="A4")
        browser.close()
    return len(PdfReader(str(out)).pages)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-pdf", action="store_true", help="skip the PDF (needs Chromium)")
    parser.add_argument("--pdf-bytes", type=int, default=420_000, help="HTML size printed to PDF (~200 pages)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "big.html"
        page.write_text(build_page(), encoding="utf-8")
        seconds, what = time_read(page)
        print(f"HTML {page.stat().st_size / 1048576:.1f} MB: {seconds:.2f} s ({what})")
        if not args.no_pdf and Path(CHROMIUM).exists():
            pdf = Path(tmp) / "long.pdf"
            pages = print_pdf(build_page(args.pdf_bytes, furniture=False), pdf)
            seconds, what = time_read(pdf)
            print(f"PDF {pages} pages, {pdf.stat().st_size / 1048576:.1f} MB: {seconds:.2f} s ({what})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
