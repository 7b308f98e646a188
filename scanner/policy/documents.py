"""Privacy policies that arrive as documents, not pages: PDF (what "Save as PDF" and regulators' files give)
and Word .docx (how many Chinese apps circulate their 隐私政策 and SDK lists).

Both become text the policy reader already knows: a PDF's text layer, with its hard line breaks joined back
into sentences, and a .docx as Markdown (headings, list items, tables as pipe rows, so an SDK table stays a
table).  Reading is bounded like the rest: pages, characters and the inflated size of the .docx XML.
"""

from __future__ import annotations

import io
import logging
import re
import zipfile
import zlib
from xml.etree import ElementTree

from scanner.errors import BadDeclaration
from scanner.gcpause import gc_paused
from scanner.policy.pdf_layout import PdfiumOpenError, PdfiumUnavailable, display_width, is_cjk, pdf_pages

log = logging.getLogger(__name__)

MAX_DOCUMENT_BYTES = 32 * 1024 * 1024  # PDFs embed fonts: larger than a saved page for the same text
MAX_PDF_PAGES = 300
MAX_DOCX_XML = 64 * 1024 * 1024
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
# A line that starts something new: a heading number, a list bullet, "第三条", "一、", "(1)".
_STARTS_BLOCK = re.compile(r"^\s*(?:[#•·▪●◆\-*]|\d+(?:\.\d+)*[.、)）]?\s|[一二三四五六七八九十]+[、.]|第[一二三四五六七八九十百\d]+[章条节]"
                           r"|[（(][一二三四五六七八九十\d]+[)）]|[A-Z][A-Z &/-]{3,}$)")


def document_kind(raw: bytes) -> str | None:
    """'pdf' or 'docx' by content, else None (the file is read as text)."""
    if raw.startswith(b"%PDF-"):
        return "pdf"
    if raw.startswith(b"PK"):
        try:
            with zipfile.ZipFile(io.BytesIO(raw)) as archive:
                if "word/document.xml" in archive.namelist():
                    return "docx"
        except zipfile.BadZipFile:
            return None
    return None


def document_text(raw: bytes, kind: str, path: str) -> tuple[str, str]:
    """(text, format for the policy reader) of a PDF or .docx; BadDeclaration with the reason otherwise."""
    if kind == "pdf":
        return _pdf_text(raw, path), "markdown"
    return _docx_markdown(raw, path), "markdown"


def _pdf_text(raw: bytes, path: str) -> str:
    # Hundreds of thousands of small acyclic objects (runs, cells, lines): the cycle collector would walk them,
    # and everything the reader holds already, for nothing (a third of the time of a 200-page PDF).
    with gc_paused():
        try:
            texts = _pdfium_pages(raw, path)
        except PdfiumUnavailable:
            texts = _pypdf_pages(raw, path)
        text = "\n\n".join(_page_markdown(t) for t in texts)
    if len(text.strip()) < 20:
        raise BadDeclaration("the PDF has no text layer (a scanned image?): run OCR on it first, or give the "
                             "policy as HTML or text", path=path)
    return text


def _pdfium_pages(raw: bytes, path: str) -> list[str]:
    """Layout lines of each page through pdfium (scanner/policy/pdf_layout.py): ~3 ms a page."""
    try:
        texts, count = pdf_pages(raw, MAX_PDF_PAGES)
    except PdfiumOpenError as exc:
        if exc.password:
            raise BadDeclaration("the PDF is encrypted with a password: save an unprotected copy", path=path) from exc
        raise BadDeclaration(f"unreadable PDF ({exc})", path=path) from exc
    if count > MAX_PDF_PAGES:
        log.warning("%s: %d pages, reading the first %d", path, count, MAX_PDF_PAGES)
    return texts


def _pypdf_pages(raw: bytes, path: str) -> list[str]:
    """Layout lines of each page through pypdf (~70 ms a page): only when pypdfium2 cannot be imported."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(raw), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise BadDeclaration("the PDF is encrypted with a password: save an unprotected copy", path=path)
        if len(reader.pages) > MAX_PDF_PAGES:
            log.warning("%s: %d pages, reading the first %d", path, len(reader.pages), MAX_PDF_PAGES)
        # Layout mode keeps the columns of a table apart (runs of spaces), so its rows can be rebuilt.
        return [page.extract_text(extraction_mode="layout") or "" for page in reader.pages[:MAX_PDF_PAGES]]
    except BadDeclaration:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError, zlib.error,
            RecursionError, NotImplementedError) as exc:
        # pypdf raises many kinds on a damaged file; all mean the same to the user
        raise BadDeclaration(f"unreadable PDF ({type(exc).__name__}: {exc})", path=path) from exc


# A short numbered line without a sentence end is a heading ("1. Personal data we collect", "（一）注册登录").
_HEADING = re.compile(r"^\s*(\d+(?:\.\d+)*\.?|[一二三四五六七八九十]+、|[（(][一二三四五六七八九十\d]+[)）]|第[一二三四五六七八九十百\d]+[章条节])"
                      r"\s*\S.*(?<![.。!?！？;；:：,，])$")
_GAP = re.compile(r"\S(?: ?\S)*")  # a cell: text with single spaces inside, cells apart by two or more


def _segments(line: str) -> list[tuple[int, str]]:
    return [(m.start(), m.group()) for m in _GAP.finditer(line)]


def _page_markdown(page: str) -> str:
    """A page in layout mode -> prose paragraphs and pipe tables (rows rebuilt from column positions; pipe
    rows the pdfium layer already rebuilt are kept as they are)."""
    lines = page.splitlines()
    out: list[str] = []
    prose: list[str] = []
    index = 0
    while index < len(lines):
        if _PIPE_ROW.match(lines[index]):
            table, index_after = _pipe_rows(lines, index)
        else:
            table, index_after = _table_at(lines, index)
        if table:
            out.append(_reflow("\n".join(prose)))
            prose = []
            out.append("\n".join(table))
            index = index_after
        else:
            prose.append(lines[index].strip())
            index += 1
    out.append(_reflow("\n".join(prose)))
    return "\n\n".join(part for part in out if part.strip())


_PIPE_ROW = re.compile(r"^\| .* \|$")


def _pipe_rows(lines: list[str], start: int) -> tuple[list[str], int]:
    end = start
    while end < len(lines) and _PIPE_ROW.match(lines[end]):
        end += 1
    return lines[start:end], end


def _is_row(line: str) -> bool:
    cells = _segments(line)
    return len(cells) >= 2 and all(b[0] - (a[0] + len(a[1])) >= 3 for a, b in zip(cells, cells[1:], strict=False))


def _table_at(lines: list[str], start: int) -> tuple[list[str], int]:
    """Pipe rows of a table starting at `start` (a header line and at least one row), else ([], start).

    Columns are the vertical runs of blanks shared by every line of the block (headers may be centred over
    left-aligned cells); a line that leaves the first column empty, or fills under half the columns, is a
    wrapped cell continuing the row above."""
    if not _is_row(lines[start]):
        return [], start
    end = start + 1
    while end < len(lines) and end - start < 200 and lines[end].strip() and not _STARTS_BLOCK.match(lines[end]):
        end += 1
    block = lines[start:end]
    width = max(len(line) for line in block)
    left = min(len(line) - len(line.lstrip()) for line in block)
    blank = [all(p >= len(line) or line[p] == " " for line in block) for p in range(width)]
    cuts, p = [], left
    while p < width:
        if blank[p]:
            run = p
            while p < width and blank[p]:
                p += 1
            if p - run >= 2 and p < width:
                cuts.append((run, p))
        else:
            p += 1
    if not cuts:
        return [], start
    bounds = [left] + [b for _, b in cuts]
    rows: list[list[str]] = []
    for line in block:
        cells = [line[a:b].strip() if b else line[a:].strip()
                 for a, b in zip(bounds, [run for run, _ in cuts] + [0], strict=True)]
        filled = sum(1 for cell in cells if cell)
        if rows and (not cells[0] or filled * 2 < len(cells)):
            rows[-1] = [f"{a} {b}".strip() for a, b in zip(rows[-1], cells, strict=True)]
        else:
            rows.append(cells)
    if len(rows) < 2:
        return [], start
    table = ["| " + " | ".join(cell.replace("|", "/") for cell in row) + " |" for row in rows]
    table.insert(1, "|" + " --- |" * len(bounds))
    return table, end


def _reflow(page: str) -> str:
    """Join the hard line breaks of a PDF page back into paragraphs.

    A line that reaches the right margin was wrapped by the layout and continues on the next one; a shorter
    line ends its block (a heading, a table cell, a paragraph's last line). The margin is judged from the
    page's own long lines, in display width (a Chinese character is two columns wide)."""
    lines = [raw.rstrip() for raw in page.splitlines()]
    widths = sorted(_width(line) for line in lines if line.strip())
    if not widths:
        return ""
    margin = widths[int(len(widths) * 0.9)] if len(widths) >= 5 else widths[-1]
    out: list[str] = []
    wrapped = False  # did the last line in `out` reach the margin?
    for line in lines:
        if not line.strip():
            if out and out[-1]:
                out.append("")
            wrapped = False
            continue
        if out and out[-1] and wrapped and not _STARTS_BLOCK.match(line):
            previous = out[-1]
            if is_cjk(previous[-1]) or is_cjk(line.lstrip()[:1]) or previous.endswith("-"):
                out[-1] = previous + line.lstrip()  # "third-" + "party" keeps its hyphen
            else:
                out[-1] = previous + " " + line.lstrip()
        else:
            out.append(line)
        wrapped = _width(line) >= 0.8 * margin
    numbered = [bool(_HEADING.match(line)) and _width(line) <= 60 for line in out]
    # Several short numbered lines in a row are a list ("1. Google AdMob / 2. Unity Ads"), not headings.
    return "\n".join(_heading(line) if numbered[i] and not (i > 0 and numbered[i - 1])
                     and not (i + 1 < len(out) and numbered[i + 1]) else line for i, line in enumerate(out))


def _heading(line: str) -> str:
    """Markdown heading marks for a numbered heading line, one level deeper per numbering tier."""
    match = _HEADING.match(line)
    if match is None:
        return line
    number = match.group(1)
    if number.startswith(("（", "(")) or number.endswith("条") or number.count(".") >= (2 if number.endswith(".")
                                                                                       else 1):
        level = 3
    else:
        level = 2
    return "#" * level + " " + line.strip()


def _width(line: str) -> int:
    return display_width(line.strip())


def _docx_markdown(raw: bytes, path: str) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            info = archive.getinfo("word/document.xml")
            if info.file_size > MAX_DOCX_XML:
                raise BadDeclaration(f"word/document.xml inflates to {info.file_size:,} bytes: too large for a "
                                     "policy (zip bomb?)", path=path)
            xml = archive.read(info)
        root = ElementTree.fromstring(xml)
    except BadDeclaration:
        raise
    except (zipfile.BadZipFile, zlib.error, KeyError, OSError, ElementTree.ParseError, RuntimeError,
            ValueError) as exc:  # zlib.error: a damaged deflate stream inside an intact zip directory
        raise BadDeclaration(f"unreadable .docx ({type(exc).__name__}: {exc})", path=path) from exc
    body = root.find(f"{_W}body")
    if body is None:
        raise BadDeclaration("unreadable .docx: no document body", path=path)
    lines: list[str] = []
    for element in body:
        if element.tag == f"{_W}p":
            lines.append(_paragraph_markdown(element))
        elif element.tag == f"{_W}tbl":
            lines.extend(_table_markdown(element))
            lines.append("")
    return "\n".join(lines)


def _runs_text(element: ElementTree.Element) -> str:
    parts = []
    for node in element.iter():
        if node.tag == f"{_W}t" and node.text:
            parts.append(node.text)
        elif node.tag == f"{_W}tab":
            parts.append(" ")
        elif node.tag in (f"{_W}br", f"{_W}cr"):
            parts.append(" ")
    return "".join(parts).strip()


def _paragraph_markdown(paragraph: ElementTree.Element) -> str:
    text = _runs_text(paragraph)
    if not text:
        return ""
    props = paragraph.find(f"{_W}pPr")
    style = ""
    if props is not None:
        style_node = props.find(f"{_W}pStyle")
        style = (style_node.get(f"{_W}val") or "") if style_node is not None else ""
        if props.find(f"{_W}numPr") is not None:
            return f"- {text}"
    heading = re.match(r"(?i)(?:heading|标题)\s*(\d)", style)
    if heading:
        return "#" * min(int(heading.group(1)), 6) + " " + text
    if style.lower() == "title":
        return "# " + text
    return text + "\n"


def _table_markdown(table: ElementTree.Element) -> list[str]:
    rows = []
    for row in table.iter(f"{_W}tr"):
        cells = [_runs_text(cell).replace("|", "/") for cell in row.findall(f"{_W}tc")]
        if any(cells):
            rows.append("| " + " | ".join(cells) + " |")
    if len(rows) > 1:
        width = rows[0].count("|") - 1
        rows.insert(1, "|" + " --- |" * width)
    return rows
