"""Speed of reading a large policy: a 2 MB HTML page and a ~200-page PDF printed by Chromium (issue 14: < 5 s each).

The page is the fixture HTML policies, each repeated with the furniture of a real site around it (menu, cookie
banner, footer, table of contents), until it reaches 2 MB; the PDF is the same text without the furniture, printed
by headless Chromium as "Save as PDF" does.  Prints seconds, pages and what was read (data types, SDKs, topics
found), and how the time splits between getting the text out (the PDF's text layer, the page's HTML) and
reading it.  Usage: python bench/policy_speed.py [--no-pdf] [--runs N]
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


def time_read(path: Path) -> tuple[float, float, str]:
    """(seconds for load_policy_text, seconds of those spent getting the text out, what was read)."""
    from scanner.policy import html_text

    spent = [0.0]
    extract = html_text.document_text

    def timed(*args: object) -> tuple[str, str]:
        started = time.perf_counter()
        try:
            return extract(*args)  # type: ignore[arg-type]
        finally:
            spent[0] += time.perf_counter() - started

    html_text.document_text = timed  # type: ignore[assignment]
    try:
        started = time.perf_counter()
        declaration = load_policy_text(path)
        seconds = time.perf_counter() - started
    finally:
        html_text.document_text = extract  # type: ignore[assignment]
    found = sum(1 for t in declaration.policy_topics if t.found)
    return seconds, spent[0], (f"{len(declaration.data_types)} data types, {len(declaration.parties)} parties, "
                               f"{found}/{len(declaration.policy_topics)} topics")


def print_pdf(html: str, out: Path) -> int:
    import pypdfium2
    from playwright.sync_api import sync_playwright

    with sync_playwright() as play:
        browser = play.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        page.set_content(html, wait_until="load")
        page.pdf(path=str(out), format="A4")
        browser.close()
    return len(pypdfium2.PdfDocument(str(out)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-pdf", action="store_true", help="skip the PDF (needs Chromium)")
    parser.add_argument("--pdf-bytes", type=int, default=1_400_000, help="HTML size printed to PDF (~200 pages)")
    parser.add_argument("--runs", type=int, default=1, help="read each file this many times")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "big.html"
        page.write_text(build_page(), encoding="utf-8")
        for _ in range(args.runs):
            seconds, _extract, what = time_read(page)
            print(f"HTML {page.stat().st_size / 1048576:.1f} MB: {seconds:.2f} s ({what})")
        if not args.no_pdf and Path(CHROMIUM).exists():
            pdf = Path(tmp) / "long.pdf"
            pages = print_pdf(build_page(args.pdf_bytes, furniture=False), pdf)
            for _ in range(args.runs):
                seconds, extract, what = time_read(pdf)
                print(f"PDF {pages} pages, {pdf.stat().st_size / 1048576:.1f} MB: {seconds:.2f} s = text layer "
                      f"{extract:.2f} s ({pages / extract:.0f} pages/s) + reading {seconds - extract:.2f} s ({what})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
