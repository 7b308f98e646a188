"""A PDF's text layer through pdfium, as lines the policy reader's layout pass knows (issue 14: ~30x pypdf).

pdfium gives each text object of a page (a run of glyphs as the printer drew it, a few dozen to a few hundred
per page) with its box and baseline, in drawing order -- for a page printed by a browser, the order of the
document.  Objects are joined into runs (one baseline, no wide gap; split again where a tightly padded table's
column starts on the lines around), and runs into rows: a run beside the previous lines (level with them, or
higher up when its cell is taller and centred) starts a new cell of a table row, a run under the last cell
continues it (a wrapped cell).  Prose comes out one line per run, so two columns of text come out one after the
other, never interleaved, with a blank line at each paragraph gap; two or more rows in a row come out as a
Markdown pipe table (each cell under the column it starts in), which `documents._page_markdown` keeps as it is.
Only a few calls per text object cross into pdfium: no per-character work.
"""

from __future__ import annotations

import ctypes
import re
from dataclasses import dataclass, field
from typing import Any

_CELL_WIDTH = 5.0  # points per layout column when a page has no line long enough to measure its glyphs
_TEXT_BUFFER = 1 << 15  # UTF-16 units read per text object (a longer object is read in full on a second call)


class PdfiumUnavailable(ImportError):
    pass


class PdfiumOpenError(Exception):
    def __init__(self, message: str, password: bool = False) -> None:
        super().__init__(message)
        self.password = password


@dataclass
class _Run:
    text: str
    left: float
    bottom: float
    right: float
    top: float
    base: float
    size: float
    cuts: list[tuple[float, int, float]] = field(default_factory=list)  # (x, offset in text, right before)


@dataclass
class _Group:
    cells: list[list[_Run]] = field(default_factory=list)

    def band(self) -> tuple[float, float]:
        runs = [r for cell in self.cells for r in cell]
        return min(r.bottom for r in runs), max(r.top for r in runs)


# East Asian wide characters (CJK radicals to unified ideographs, compatibility ideographs, full-width forms): one
# takes two columns of a layout, and no space joins two of them. The PDF and docx readers both go by this.
_WIDE = re.compile("[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]")


def is_cjk(char: str) -> bool:
    return "\u2e80" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff" or "\uff00" <= char <= "\uffef"


def display_width(text: str) -> int:
    """Layout columns `text` takes (a wide character two)."""
    return len(text) if text.isascii() else len(text) + len(_WIDE.findall(text))


def pdf_pages(raw_pdf: bytes, max_pages: int) -> tuple[list[str], int]:
    """(layout lines of each page, joined by newlines; the document's page count)."""
    try:
        import pypdfium2.raw as pdfium
    except ImportError as exc:  # pragma: no cover - pypdfium2 is a dependency; pypdf is the fallback
        raise PdfiumUnavailable(str(exc)) from exc
    data = ctypes.create_string_buffer(raw_pdf, len(raw_pdf))
    doc = pdfium.FPDF_LoadMemDocument64(data, len(raw_pdf), None)
    if not doc:
        code = pdfium.FPDF_GetLastError()
        if code == pdfium.FPDF_ERR_PASSWORD:
            raise PdfiumOpenError("encrypted", password=True)
        reasons = {pdfium.FPDF_ERR_FORMAT: "not a PDF or damaged", pdfium.FPDF_ERR_FILE: "file not readable",
                   pdfium.FPDF_ERR_SECURITY: "unsupported security scheme"}
        raise PdfiumOpenError(reasons.get(code, f"pdfium error {code}"))
    try:
        count = pdfium.FPDF_GetPageCount(doc)
        return [_page_lines(pdfium, doc, index) for index in range(min(count, max_pages))], count
    finally:
        pdfium.FPDF_CloseDocument(doc)
        del data


def _page_lines(p: Any, doc: Any, index: int) -> str:
    page = p.FPDF_LoadPage(doc, index)
    if not page:
        raise PdfiumOpenError(f"page {index + 1} is damaged")
    textpage = p.FPDFText_LoadPage(page)
    try:
        runs = _runs(_objects(p, page, textpage))
    finally:
        if textpage:
            p.FPDFText_ClosePage(textpage)
        p.FPDF_ClosePage(page)
    return "\n".join(_layout(_groups(runs), _column_width(runs)))


# A list marker drawn apart from its item's text: "1.", "(2)", "一、", "•".
_MARKER = re.compile(r"^\s*(?:\d+(?:\.\d+)*[.、)）]?|[（(][一二三四五六七八九十\d]+[)）]|[一二三四五六七八九十]+、|[•·▪●◆○■□–\-*])\s*$")
_Obj = tuple[str, float, float, float, float, float, float]  # text, left, bottom, right, top, baseline, size


def _objects(f: Any, page: Any, textpage: Any) -> list[_Obj]:
    """The page's text objects in drawing order, descending into form XObjects (their matrices applied)."""
    left, bottom, right, top, size = (ctypes.c_float() for _ in range(5))
    bounds = [ctypes.byref(v) for v in (left, bottom, right, top)]
    matrix = f.FS_MATRIX()
    matrix_ref, size_ref = ctypes.byref(matrix), ctypes.byref(size)
    buffer = (ctypes.c_ushort * _TEXT_BUFFER)()
    buffer_bytes = _TEXT_BUFFER * 2
    text_type = f.FPDF_PAGEOBJ_TEXT
    form_type = f.FPDF_PAGEOBJ_FORM
    get_type = f.FPDFPageObj_GetType
    get_text = f.FPDFTextObj_GetText
    get_bounds = f.FPDFPageObj_GetBounds
    get_matrix = f.FPDFPageObj_GetMatrix
    get_size = f.FPDFTextObj_GetFontSize
    out: list[_Obj] = []

    def walk(count: int, get: Any, parent: Any, transform: tuple[float, ...] | None, depth: int) -> None:
        for i in range(count):
            obj = get(parent, i)
            kind = get_type(obj)
            if kind == form_type:
                if depth < 8 and get_matrix(obj, matrix_ref):
                    m = (matrix.a, matrix.b, matrix.c, matrix.d, matrix.e, matrix.f)
                    walk(f.FPDFFormObj_CountObjects(obj), f.FPDFFormObj_GetObject, obj,
                         m if transform is None else _compose(m, transform), depth + 1)
                continue
            if kind != text_type:
                continue
            n_bytes = get_text(obj, textpage, buffer, buffer_bytes)
            if n_bytes > buffer_bytes:
                big = (ctypes.c_ushort * (n_bytes // 2 + 1))()
                n_bytes = get_text(obj, textpage, big, n_bytes)
                text = ctypes.string_at(big, max(n_bytes - 2, 0)).decode("utf-16-le", "replace")
            else:
                text = ctypes.string_at(buffer, max(n_bytes - 2, 0)).decode("utf-16-le", "replace")
            if not text.strip() or not get_bounds(obj, *bounds):
                continue
            get_matrix(obj, matrix_ref)
            scale = (matrix.c * matrix.c + matrix.d * matrix.d) ** 0.5 or 1.0
            font = size.value * scale if get_size(obj, size_ref) else 0.0
            x0, y0, x1, y1, base = left.value, bottom.value, right.value, top.value, matrix.f
            if transform is not None:
                # the object's own matrix is in form space: its baseline and box move with the form
                base = transform[1] * matrix.e + transform[3] * matrix.f + transform[5]
                xs, ys = zip(*(_apply(transform, x, y) for x in (x0, x1) for y in (y0, y1)), strict=True)
                x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
                font *= (transform[2] ** 2 + transform[3] ** 2) ** 0.5
            if font <= 0:
                font = max(y1 - y0, 1.0)
            out.append((text, x0, y0, x1, y1, base, font))

    walk(f.FPDFPage_CountObjects(page), f.FPDFPage_GetObject, page, None, 0)
    return out


def _compose(inner: tuple[float, ...], outer: tuple[float, ...]) -> tuple[float, ...]:
    a, b, c, d, e, f = inner
    A, B, C, D, E, F = outer  # noqa: N806
    return (a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D, e * A + f * C + E, e * B + f * D + F)


def _apply(m: tuple[float, ...], x: float, y: float) -> tuple[float, float]:
    return m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]


def _runs(objects: list[_Obj]) -> list[_Run]:
    """Objects joined into runs: one baseline, each starting where the last ended (less than an em apart)."""
    runs: list[_Run] = []
    for text, left, bottom, right, top, base, size in objects:
        text = text.replace("\x02", "-").replace("\r", " ").replace("\n", " ")
        if runs:
            run = runs[-1]
            em = max(size, run.size)
            gap = left - run.right
            marker = _MARKER.match(run.text) is not None
            if abs(base - run.base) <= 0.3 * em and -0.5 * em <= gap < (3.0 if marker else 1.0) * em:
                if marker:  # a list item's number or bullet and its text: one line, as printed
                    number = run.text.rstrip()
                    run.text = number + ("" if is_cjk(number[-1]) else " ") + text.lstrip()
                    run.right = max(run.right, right)
                    run.bottom, run.top = min(run.bottom, bottom), max(run.top, top)
                    continue
                if gap < 0.15 * em and is_cjk(text.lstrip()[:1]):
                    # "7 " + "天": a blank pdfium added at a change of font, not one the page shows
                    run.text, text = run.text.rstrip(), text.lstrip()
                tail, head = run.text[-1:], text[:1]
                space = gap > (0.45 if tail.isspace() or head.isspace() else 0.2) * em
                if space and not tail.isspace() and not head.isspace() and not (is_cjk(tail) or is_cjk(head)):
                    run.text += " "
                if gap >= 0.5 * em or (gap >= 0.2 * em and tail.isspace()):
                    # where a cell of a tight table may start: a cell's text ends in its trailing blank
                    run.cuts.append((left, len(run.text), run.right))
                run.text += text
                run.right = max(run.right, right)
                run.bottom, run.top = min(run.bottom, bottom), max(run.top, top)
                continue
        runs.append(_Run(text, left, bottom, right, top, base, size))
    runs = _split_columns(runs)
    for run in runs:
        run.text = " ".join(run.text.split()) if "  " in run.text or "\t" in run.text else run.text.strip()
    return runs


def _split_columns(runs: list[_Run], near: int = 16) -> list[_Run]:
    """Split runs where a tightly padded table's column starts: an object boundary inside a run at the x where
    runs of two other lines close by (other baselines, within three lines) also start or have a boundary."""
    if not any(run.cuts for run in runs):
        return runs
    starts = [[run.left] + [x for x, _, _ in run.cuts] for run in runs]
    out: list[_Run] = []
    for i, run in enumerate(runs):
        if not run.cuts:
            out.append(run)
            continue
        others = [(runs[j].base, starts[j]) for j in range(max(0, i - near), min(len(runs), i + near + 1))
                  if 0.3 * run.size < abs(runs[j].base - run.base) <= 3.5 * run.size]
        split = [(x, offset, before) for x, offset, before in run.cuts
                 if len({round(base) for base, xs in others if any(abs(x - other) <= 1.0 for other in xs)}) >= 2]
        if not split:
            out.append(run)
            continue
        begin, left = 0, run.left
        for x, offset, before in split:
            out.append(_Run(run.text[begin:offset], left, run.bottom, before, run.top, run.base, run.size))
            begin, left = offset, x
        out.append(_Run(run.text[begin:], left, run.bottom, run.right, run.top, run.base, run.size))
    return out


def _overlaps(run: _Run, bottom: float, top: float) -> bool:
    slack = 0.15 * run.size
    return run.bottom < top - slack and run.top > bottom + slack


def _beside(run: _Run, first: list[_Run], ceiling: float | None) -> bool:
    """Does `run` start the next cell of a row whose first cell is `first`?  Level with it, or -- a taller
    cell, vertically centred -- starting higher up, but still under what came before the row."""
    bottom, top = min(r.bottom for r in first), max(r.top for r in first)
    if _overlaps(run, bottom, top):
        return True
    slack = 0.15 * run.size
    return ceiling is not None and run.top > bottom + slack and run.top <= ceiling + slack


def _groups(runs: list[_Run]) -> list[_Group]:
    """Runs -> groups: prose (one cell, a line per run) and table rows (cells side by side)."""
    groups: list[_Group] = []
    for run in runs:
        group = groups[-1] if groups else None
        if group is None:
            groups.append(_Group([[run]]))
            continue
        cell = group.cells[-1]
        last = cell[-1]
        gap = -0.1 * run.size  # runs on one line are apart already (an em, or a column start)
        cell_right = max(r.right for r in cell)
        if len(group.cells) > 1:
            bottom, top = group.band()
            if _overlaps(run, bottom, top) and run.left >= cell_right + gap:
                group.cells.append([run])
            elif run.top <= last.bottom + 0.5 * run.size and run.top > last.bottom - 2.5 * run.size \
                    and min(r.left for r in cell) - run.size <= run.left < cell_right:
                cell.append(run)  # a wrapped cell goes on under its first line
            else:
                groups.append(_Group([[run]]))
            continue
        # Beside the last lines (a wrapped first cell, up to 4 lines, left of this run): a table row starts.
        start = len(cell)
        while start > 0 and len(cell) - start < 4 and cell[start - 1].right + gap <= run.left and (
                start == len(cell) or (cell[start - 1].bottom - cell[start].top < 1.0 * run.size
                                       and abs(cell[start - 1].left - cell[start].left) < 2 * run.size)):
            start -= 1
        if start < len(cell) and _beside(run, cell[start:], cell[start - 1].bottom if start else
                                         (groups[-2].band()[0] if len(groups) > 1 else None)):
            if start == 0:
                group.cells.append([run])
            else:
                first = cell[start:]
                del cell[start:]
                groups.append(_Group([first, [run]]))
            continue
        cell.append(run)
    return groups


def _column_width(runs: list[_Run]) -> float:
    """Points per layout column: a little under the page's usual glyph advance (a CJK glyph counting two
    columns), so a cell's text spans about as many columns as its width without running into the next column,
    as in pypdf's layout mode."""
    widths = sorted((run.right - run.left) / units for run in runs
                    if (units := display_width(run.text)) >= 6)
    return max(0.85 * widths[len(widths) // 4], 1.0) if widths else _CELL_WIDTH


def _layout(groups: list[_Group], width: float = _CELL_WIDTH) -> list[str]:
    """Layout-mode lines: prose a line per run (blank lines at paragraph gaps); two or more table rows in a
    row as a Markdown pipe table, a single row as one line of cells on a column grid."""
    lines: list[str] = []
    previous: _Run | None = None
    pitch = 0.0  # the page's closest line spacing: wider is a paragraph gap
    index = 0
    while index < len(groups):
        group = groups[index]
        if len(group.cells) == 1:
            for run in group.cells[0]:
                if previous is not None:
                    step = previous.base - run.base
                    if 0.9 * run.size < step < 2.5 * run.size and abs(run.size - previous.size) < 0.5:
                        pitch = min(pitch, step) if pitch else step
                    if lines and lines[-1] and (step > (1.3 * pitch if pitch else 2.0 * run.size)
                                                or run.bottom > previous.top + run.size):
                        # a paragraph gap, or back up the page: the next column
                        lines.append("")
                lines.append(run.text)
                previous = run
            index += 1
            continue
        end = index + 1
        while end < len(groups) and len(groups[end].cells) > 1:
            end += 1
        if end - index >= 2:
            if lines and lines[-1]:
                lines.append("")
            lines.extend(_pipe_table(groups[index:end]))
            lines.append("")
        else:
            lines.extend(_grid_lines(group, width))
        previous = min((cell[-1] for g in groups[index:end] for cell in g.cells), key=lambda r: r.bottom)
        index = end
    return lines


def _grid_lines(group: _Group, width: float) -> list[str]:
    out = []
    for k in range(max(len(cell) for cell in group.cells)):
        line = ""
        for cell in group.cells:
            if k >= len(cell):
                continue
            column = round(cell[k].left / width)
            if line:
                column = max(column, len(line) + 3)
            line = line.ljust(column) + cell[k].text
        out.append(line)
    return out


def _cell_text(cell: list[_Run]) -> str:
    """A cell's lines as one text: CJK lines and hyphenated breaks joined directly, others with a space."""
    text = ""
    for run in cell:
        piece = run.text.strip()
        if not text:
            text = piece
        elif not piece:
            continue
        elif is_cjk(text[-1]) or is_cjk(piece[0]) or (text.endswith("-") and text[-2:-1].isalpha()):
            text += piece
        else:
            text += " " + piece
    return text.replace("|", "/")


def _pipe_table(rows: list[_Group]) -> list[str]:
    """Rows of one table as pipe rows.  The body row with the most cells sets where the columns start (header
    cells are often centred, body cells start at their column's left edge); each cell goes under the last
    column starting at or before it, so an empty cell leaves its column empty instead of shifting the row."""
    reference = max(rows[1:], key=lambda g: len(g.cells))
    if len(reference.cells) < len(rows[0].cells):
        reference = rows[0]
    starts = [min(r.left for r in cell) for cell in reference.cells]
    out = []
    for row in rows:
        texts = [""] * len(starts)
        for cell in row.cells:
            left = min(r.left for r in cell) + 0.5 * cell[0].size
            best = max((i for i, start in enumerate(starts) if start <= left), default=0)
            text = _cell_text(cell)
            texts[best] = f"{texts[best]} {text}" if texts[best] else text
        out.append("| " + " | ".join(texts) + " |")
    out.insert(1, "|" + " --- |" * len(starts))
    return out
