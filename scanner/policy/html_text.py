"""A privacy policy file (HTML page, Markdown, plain text) -> its text as blocks: headings, paragraphs, list
items and table rows, each with the source line, in reading order.

Reading is bounded: files above MAX_BYTES are refused, and the text kept is capped at MAX_CHARS, so a saved
20 MB page fails fast with a clear message instead of hanging the scan.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from scanner.errors import BadDeclaration
from scanner.policy.documents import MAX_DOCUMENT_BYTES, document_kind, document_text

MAX_BYTES = 8 * 1024 * 1024  # a saved policy page with inline scripts stays well below this
MAX_CHARS = 300_000  # text kept after markup is stripped (the longest real policies are ~100k characters)

# Inside these elements nothing is policy text (menus, scripts, styles, hidden templates).
_SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "svg", "nav", "head", "iframe", "object",
                        "select", "button", "canvas", "math", "footer"})
_VOID_TAGS = frozenset({"br", "hr", "img", "input", "meta", "link", "area", "base", "col", "embed", "source",
                        "track", "wbr", "param"})
_BLOCK_TAGS = frozenset({"p", "div", "section", "article", "main", "header", "aside", "blockquote", "pre",
                         "ul", "ol", "dl", "dt", "dd", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "tr",
                         "td", "th", "thead", "tbody", "tfoot", "caption", "figure", "figcaption", "address",
                         "form", "fieldset", "body", "html"})
# Page furniture that is not policy text: landmarks by ARIA role, and elements whose class or id names a menu,
# breadcrumb, sidebar, table of contents, footer or a cookie / consent banner.  ("cookie" alone is not enough:
# a policy's own section on cookies is often <section id="cookies">.)
_BOILERPLATE_ROLES = frozenset({"navigation", "banner", "contentinfo", "search", "menu", "menubar"})
_BOILERPLATE_TOKENS = frozenset({"nav", "navbar", "navigation", "menu", "menubar", "breadcrumb", "breadcrumbs",
                                 "sidebar", "footer", "toc", "skip-link", "skiplink"})
_BANNER_RE = re.compile(r"cookie[-_]?(?:banner|consent|notice|bar|popup|modal|law|wall)|consent[-_]?(?:banner|manager|"
                        r"popup|modal|bar)|onetrust|cookiebot|cc[-_](?:window|banner)|gdpr[-_]?(?:banner|consent|popup)|"
                        r"truste-|osano", re.I)
_CODE_TAGS = frozenset({"script", "style", "noscript", "template", "svg"})
_FOOTER_MAX_CHARS = 4000  # footer text kept for the controller's name and contact
_REPEATED_MAX_CHARS = 80  # a short paragraph seen this often is a page header, footer or menu, not a statement
_REPEATED_MIN_COUNT = 3
_CHARSET_RE = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_\-]{2,20})""", re.I)


@dataclass
class Block:
    kind: str  # heading | para | item | row
    text: str
    line: int
    level: int = 0  # heading level (1 = top)
    cells: list[str] = field(default_factory=list)  # row: its cells
    table: int | None = None  # row: index into PolicyDocument.tables


@dataclass
class PolicyDocument:
    path: str
    format: str  # html | markdown | text
    blocks: list[Block]
    tables: list[list[Block]]  # rows of each table, header row first
    truncated: bool = False
    # Text of the page footer, skipped as policy text but kept for who runs the site ("© 2025 Acme Inc.").
    footer: list[Block] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Bytes -> text
# ---------------------------------------------------------------------------------------------


def decode_policy(raw: bytes, path: str) -> str:
    """Detect the encoding: BOM, then strict UTF-8, the page's declared charset, GB18030, Windows-1252."""
    if not raw.strip():
        raise BadDeclaration("empty policy file: expected the privacy policy as HTML, Markdown or plain text",
                             path=path)
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                          (codecs.BOM_UTF16_BE, "utf-16")):
        if raw.startswith(bom):
            return _checked(raw.decode(encoding, errors="replace"), path)
    sample = raw[:65536]
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    if controls > len(sample) // 100:  # text never holds NULs or control bytes in bulk
        raise BadDeclaration("not a text file (binary content): expected the privacy policy as HTML, Markdown or "
                             "plain text", path=path)
    candidates = ["utf-8"]
    declared = _CHARSET_RE.search(raw[:4096])
    if declared:
        name = declared.group(1).decode("ascii").lower()
        candidates.append("gb18030" if name in ("gb2312", "gbk", "gb18030", "x-gbk") else name)
    candidates += ["gb18030", "cp1252"]
    for encoding in candidates:
        try:
            return _checked(raw.decode(encoding), path)
        except (UnicodeDecodeError, LookupError):
            continue
    raise BadDeclaration("cannot detect the text encoding (tried UTF-8, GB18030, Windows-1252); save the policy "
                         "as UTF-8", path=path)


def _checked(text: str, path: str) -> str:
    sample = text[:65536]
    odd = sum(1 for c in sample if c == "\ufffd" or (ord(c) < 32 and c not in "\t\n\r\f"))
    if odd > max(8, len(sample) // 50):
        raise BadDeclaration("not a text file (undecodable content): expected the privacy policy as HTML, "
                             "Markdown or plain text", path=path)
    return text


def read_policy_file(path: Path) -> tuple[str, str]:
    """(text, format) of a policy file; typed errors for missing, oversized, empty or binary files."""
    where = str(path)
    if not path.is_file():
        raise BadDeclaration("no such file", path=where)
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(8)
    # A PDF or Word file embeds fonts and media, so it may be larger than a saved page; judged before reading.
    limit = MAX_DOCUMENT_BYTES if head.startswith((b"%PDF-", b"PK")) else MAX_BYTES
    if size > limit:
        raise BadDeclaration(f"policy file is {size / 1048576:.1f} MB, above the {limit // 1048576} MB limit "
                             "for a privacy policy: save the page without embedded media, or its text only",
                             path=where)
    raw = path.read_bytes()
    kind = document_kind(raw)
    if kind is not None:
        return document_text(raw, kind, where)
    text = decode_policy(raw, where)
    return text, sniff_format(path.name, text)


def sniff_format(name: str, text: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix in (".html", ".htm", ".xhtml", ".shtml"):
        return "html"
    if suffix in (".md", ".markdown", ".mdown"):
        return "markdown"
    head = text[:4096].lstrip().lower()
    if head.startswith(("<!doctype html", "<html", "<?xml")) or re.search(r"<(body|p|div|h[1-6]|table)[\s>]", head):
        return "html"
    if re.search(r"(?m)^(#{1,6} |\|.*\|\s*$)", text[:20000]):
        return "markdown"
    return "text"


def parse_policy(text: str, fmt: str, path: str) -> PolicyDocument:
    truncated = len(text) > MAX_CHARS * (4 if fmt == "html" else 1)
    if truncated:
        text = text[: MAX_CHARS * (4 if fmt == "html" else 1)]
    doc = _parse_html(text, path) if fmt == "html" else _parse_lines(text, path, fmt)
    doc.truncated = doc.truncated or truncated
    _drop_repeated(doc)
    if not any(b.text.strip() for b in doc.blocks):
        raise BadDeclaration("no text found in the policy (only markup?)", path=path)
    return doc


def _drop_repeated(doc: PolicyDocument) -> None:
    """Drop short paragraphs repeated on every page or screen ("Acme Privacy Policy – page 3", "Home | Apps |
    Contact"): page headers, footers and menus that survived the markup, as in a PDF.  Numbers are ignored in the
    comparison so that page numbers do not make them differ."""
    def key(block: Block) -> str:
        return re.sub(r"\d+", "#", block.text.strip().lower())

    def furniture(block: Block) -> bool:  # a sentence, even a short one, is a statement: it ends like one
        return block.kind == "para" and len(block.text) <= _REPEATED_MAX_CHARS and \
            block.text.rstrip()[-1:] not in _SENTENCE_END + "!！?？"

    counts: dict[str, int] = {}
    for block in doc.blocks:
        if furniture(block):
            counts[key(block)] = counts.get(key(block), 0) + 1
    repeated = {k for k, n in counts.items() if n >= _REPEATED_MIN_COUNT}
    if repeated:
        doc.blocks = [b for b in doc.blocks if not (furniture(b) and key(b) in repeated)]


def _footer_attrs(attrs: list[tuple[str, str | None]]) -> bool:
    for name, value in attrs:
        if value and ((name == "role" and value.strip().lower() == "contentinfo") or (
                name in ("class", "id") and re.search(r"(?:^|[\s_-])footer(?:$|[\s_-])", value, re.I))):
            return True
    return False


def _boilerplate(attrs: list[tuple[str, str | None]]) -> bool:
    for name, value in attrs:
        if not value:
            continue
        if name == "role" and value.strip().lower() in _BOILERPLATE_ROLES:
            return True
        if name in ("class", "id"):
            tokens = {t.lower() for t in re.split(r"[\s_]+", value) if t}
            if tokens & _BOILERPLATE_TOKENS or any(t.rsplit("-", 1)[-1] in _BOILERPLATE_TOKENS - {"toc"}
                                                   for t in tokens) or _BANNER_RE.search(value):
                return True
    return False


# ---------------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------------


class _PolicyHtml(HTMLParser):
    """Collects block texts; tables become rows of cells.  Nested tables are flattened into their own rows."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.tables: list[list[Block]] = []
        self._skip = 0
        self._buffer: list[str] = []
        self._kind = "para"
        self._level = 0
        self._line = 1
        self._chars = 0
        self._table_stack: list[dict[str, object]] = []
        self.truncated = False
        self._hidden_tag: str | None = None
        self._hidden_depth = 0  # open elements named like the skipped one, itself included
        self._footers = 0  # open <footer> elements, or the skipped element is a footer by class or role
        self._hidden_footer = False
        self.footer: list[Block] = []
        self._footer_chars = 0
        self._code = 0  # open script/style/template elements: their text is no footer line either

    # -- text flow ---------------------------------------------------------------------------
    def _flush(self) -> None:
        text = _clean("".join(self._buffer))
        self._buffer = []
        if text and not self._table_stack:
            self.blocks.append(Block(self._kind, text, self._line, level=self._level))
        elif text and self._table_stack:
            table = self._table_stack[-1]
            cell = table.get("cell")
            if isinstance(cell, list):
                cell.append(text)
        self._kind, self._level = "para", 0

    def _start_block(self, kind: str, level: int = 0) -> None:
        self._flush()
        self._kind, self._level, self._line = kind, level, self.getpos()[0]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "footer":
            self._footers += 1
        elif tag in _CODE_TAGS:
            self._code += 1
        if tag in _SKIP_TAGS:
            if tag not in _VOID_TAGS:
                self._skip += 1
            return
        if self._skip:
            if tag == self._hidden_tag:
                self._hidden_depth += 1  # a <div> inside the skipped <div>: its end is not the skipped one's
            return
        hidden = any(k == "hidden" or (k == "aria-hidden" and v == "true") for k, v in attrs) or _boilerplate(attrs)
        if tag == "br":
            self._buffer.append("\n")
        elif tag == "table":
            self._flush()
            self._table_stack.append({"rows": [], "cell": None, "row": None, "line": self.getpos()[0]})
        elif tag == "tr" and self._table_stack:
            self._flush()
            self._table_stack[-1]["row"] = []
            self._table_stack[-1]["row_line"] = self.getpos()[0]
        elif tag in ("td", "th") and self._table_stack:
            self._flush()
            table = self._table_stack[-1]
            if table.get("row") is None:
                table["row"] = []
                table["row_line"] = self.getpos()[0]
            table["cell"] = []
        elif tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self._start_block("heading", int(tag[1]))
        elif tag in ("li", "dd"):
            self._start_block("item")
        elif tag in _BLOCK_TAGS:
            self._start_block("para")
        if hidden and tag not in _VOID_TAGS:
            self._skip += 1
            self._hidden_tag = tag
            self._hidden_depth = 1
            self._hidden_footer = _footer_attrs(attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "footer":
            self._footers = max(0, self._footers - 1)
        elif tag in _CODE_TAGS:
            self._code = max(0, self._code - 1)
        if tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
            return
        if self._skip:
            if self._hidden_tag == tag:
                self._hidden_depth -= 1
                if self._hidden_depth == 0:
                    self._skip -= 1
                    self._hidden_tag = None
                    self._hidden_footer = False
            return
        if tag in ("td", "th") and self._table_stack:
            self._flush()
            table = self._table_stack[-1]
            cell, row = table.get("cell"), table.get("row")
            if isinstance(row, list):
                row.append("; ".join(cell) if isinstance(cell, list) else "")
            table["cell"] = None
        elif tag == "tr" and self._table_stack:
            self._flush()
            self._end_row()
        elif tag == "table" and self._table_stack:
            self._flush()
            self._end_row()
            self._end_table()
        elif tag in _BLOCK_TAGS:
            self._flush()

    def _end_row(self) -> None:
        table = self._table_stack[-1]
        row = table.get("row")
        if isinstance(row, list) and any(c.strip() for c in row):
            rows = table["rows"]
            assert isinstance(rows, list)
            rows.append((row, table.get("row_line", 1)))
        table["row"] = None

    def _end_table(self) -> None:
        table = self._table_stack.pop()
        rows = table["rows"]
        assert isinstance(rows, list)
        if not rows:
            return
        width = max(len(cells) for cells, _ in rows)
        if width <= 1:  # a layout table: its cells are ordinary paragraphs
            for cells, line in rows:
                for cell in cells:
                    self.blocks.append(Block("para", cell, line))
            return
        index = len(self.tables)
        table_rows = [Block("row", " | ".join(cells), line, cells=list(cells), table=index) for cells, line in rows]
        self.tables.append(table_rows)
        self.blocks.extend(table_rows)

    def handle_data(self, data: str) -> None:
        if self._skip and (self._footers or self._hidden_footer) and not self._code and data.strip() and \
                self._footer_chars < _FOOTER_MAX_CHARS:
            self.footer.append(Block("para", _clean(data), self.getpos()[0]))
            self._footer_chars += len(data)
        if self._skip or self.truncated:
            return
        room = MAX_CHARS - self._chars
        if len(data) > room:  # keep what fits, then stop reading text
            data = data[:max(0, room)]
            self.truncated = True
        self._chars += len(data)
        if not self._buffer:
            self._line = self.getpos()[0] if not self._table_stack else self._line
        self._buffer.append(data)


def _clean(text: str) -> str:
    lines = [re.sub(r"[ \t\r\f\v\u00a0\u3000]+", " ", line).strip() for line in text.split("\n")]
    return "\n".join(line for line in lines if line)


def _parse_html(text: str, path: str) -> PolicyDocument:
    parser = _PolicyHtml()
    parser.feed(text)
    parser.close()
    parser._flush()
    while parser._table_stack:  # unclosed tables in a truncated or sloppy page
        parser._end_row()
        parser._end_table()
    return PolicyDocument(path, "html", parser.blocks, parser.tables, parser.truncated, parser.footer)


# ---------------------------------------------------------------------------------------------
# Markdown and plain text
# ---------------------------------------------------------------------------------------------

_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_ZH_SECTION = re.compile(r"^\s*([一二三四五六七八九十]{1,3})\s*[、.．]\s*(\S.*)$")
_ZH_SUBSECTION = re.compile(r"^\s*[（(]\s*([一二三四五六七八九十]{1,3})\s*[)）]\s*(\S.*)$")
_ITEM = re.compile(r"^\s*(?:[-*+•·●▪◆■○]|\d{1,3}(?:\.\d{1,3})*[.)、．]|[（(]\d{1,3}[)）]|[a-z][.)])\s*(\S.*)$")
_TABLE_SEP = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_SENTENCE_END = ".。!！?？:：;；"


def _parse_lines(text: str, path: str, fmt: str) -> PolicyDocument:
    blocks: list[Block] = []
    tables: list[list[Block]] = []
    current_table: list[Block] | None = None
    para: list[str] = []
    para_line = 0
    para_kind = "para"

    def flush_para() -> None:
        nonlocal para, para_kind
        if para:
            blocks.append(Block(para_kind, " ".join(para) if _mostly_latin(para) else "".join(para), para_line))
            para = []
        para_kind = "para"

    lines = text.splitlines()
    for number, raw_line in enumerate(lines, start=1):
        line = raw_line.strip().replace("\u3000", " ")
        cells = _split_row(line)
        if cells is not None:
            flush_para()
            if _TABLE_SEP.match(line):
                continue
            if current_table is None:
                current_table = []
                tables.append(current_table)
            block = Block("row", " | ".join(cells), number, cells=cells, table=len(tables) - 1)
            current_table.append(block)
            blocks.append(block)
            continue
        current_table = None
        if not line:
            flush_para()
            continue
        heading = _MD_HEADING.match(line) if fmt == "markdown" else None
        if heading:
            flush_para()
            blocks.append(Block("heading", _strip_md(heading.group(2)), number, level=len(heading.group(1))))
            continue
        zh = _ZH_SECTION.match(line) or _ZH_SUBSECTION.match(line)
        if zh and len(zh.group(2)) <= 40 and zh.group(2)[-1] not in "。；;":
            flush_para()
            blocks.append(Block("heading", zh.group(2).strip(), number, level=2 if _ZH_SECTION.match(line) else 3))
            continue
        item = _ITEM.match(line)
        if item and fmt == "text" and not para and line[:1] in "0123456789(（" \
                and _numbered_title(item.group(1), lines, number):
            flush_para()
            blocks.append(Block("heading", item.group(1).strip(), number, level=3))
            continue
        if item:
            flush_para()
            para_kind, para_line, line = "item", number, item.group(1)
            para.append(_strip_md(line))
            if not _mostly_latin([line]) or line[-1] in _SENTENCE_END:
                flush_para()
            continue
        if fmt == "text" and _looks_like_heading(line, para):
            flush_para()
            blocks.append(Block("heading", line, number, level=2))
            continue
        if not para:
            para_line = number
        para.append(_strip_md(line))
        # Chinese plain text puts one paragraph per line; English wraps: join until a sentence ends.
        if not _mostly_latin([line]) or line[-1] in _SENTENCE_END:
            flush_para()
    flush_para()
    return PolicyDocument(path, fmt, blocks, tables)


def _split_row(line: str) -> list[str] | None:
    """Cells of a Markdown pipe row or a tab-separated row; None for any other line."""
    if line.startswith("|") and line.endswith("|") and line.count("|") >= 3:
        return [_strip_md(c.strip()) for c in line[1:-1].split("|")]
    if line.count("\t") >= 2:
        return [c.strip() for c in line.split("\t")]
    return None


def _numbered_title(text: str, lines: list[str], number: int) -> bool:
    """"4. 设备信息与日志" between two paragraphs: a numbered sub-heading of plain text, not a one-item list."""
    if not text or len(text) > (25 if not _mostly_latin([text]) else 60) or text[-1] in _SENTENCE_END + ",，、:：":
        return False

    def neighbour(indexes: range) -> str:
        return next((lines[i].strip() for i in indexes if lines[i].strip()), "")

    before = neighbour(range(number - 2, -1, -1))
    after = neighbour(range(number, len(lines)))
    return bool(after) and not _ITEM.match(after) and not _ITEM.match(before) and _split_row(after) is None


def _looks_like_heading(line: str, para: list[str]) -> bool:
    """A short line without end punctuation standing alone (plain text has no markup for headings)."""
    return not para and len(line) <= 60 and line[-1] not in _SENTENCE_END + ",，、" and (
        line.isupper() or (not _mostly_latin([line]) and len(line) <= 25) or line.istitle())


def _mostly_latin(lines: list[str]) -> bool:
    text = "".join(lines)
    return sum(1 for c in text if c.isascii()) >= 0.7 * max(1, len(text))


def _strip_md(text: str) -> str:
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links and images keep their label
    return re.sub(r"(\*\*|__|`)", "", text).strip()


def cjk_share(text: str) -> float:
    letters = [c for c in text[:200000] if c.isalpha()]
    if not letters:
        return 0.0
    return sum(1 for c in letters if "\u4e00" <= c <= "\u9fff" or "\u3400" <= c <= "\u4dbf") / len(letters)
