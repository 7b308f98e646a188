"""Third-party SDK lists (第三方SDK目录 / 第三方共享清单 / "SDKs we use") -> one record per SDK.

Policies publish them as HTML or Markdown tables (header row or header column) and as plain-text renderings
("SDK名称：友盟统计SDK；使用目的：统计分析；收集个人信息类型：设备信息" or one "key：value" per line under
a title line).  Column roles come from rules/vocabulary/sdk_tables.yaml.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from scanner.knowledge.vocabulary import Match, TermMatcher, Vocabulary, fold, sdk_key
from scanner.policy.html_text import Block

_KEY_RE = re.compile(r"(?:^|[；;|\n。]|\s{2,}|[，,](?=[^，,：:]{1,16}[：:]))\s*([^：:；;|\n，,。]{1,16}?)\s*[：:]")


@dataclass
class SdkRecord:
    fields: dict[str, str]  # column role -> cell text
    line: int
    source: str  # the row as printed
    blocks: list[int] = field(default_factory=list)  # indexes of the blocks it was read from

    @property
    def name(self) -> str:
        return self.fields.get("name", "").strip()


class SdkNames:
    """SDK names and aliases -> catalog ids: exact lookups for table cells, a loose matcher for prose."""

    def __init__(self, vocab: Vocabulary) -> None:
        self.exact: dict[str, str] = {}
        for alias, sdk_id in vocab.sdk_aliases.items():
            key = sdk_key(alias)
            if len(key) >= 2:
                self.exact.setdefault(key, sdk_id)
        self.cell_matcher = TermMatcher((a, "sdk", i) for a, i in vocab.sdk_aliases.items() if len(sdk_key(a)) >= 2)
        self.prose_matcher = TermMatcher(
            (a, "sdk", i) for a, i in vocab.sdk_aliases.items()
            if sdk_key(a) not in vocab.ambiguous and len(sdk_key(a)) >= 3)
        # Ambiguous Latin names ("Adjust", "Branch", "Sign in with Google") count in prose only when written as a
        # name (_proper_name): matched by their written form, so that several words keep their spaces.
        ambiguous = {key: self.exact[key] for key in vocab.ambiguous
                     if key in self.exact and len(key) >= 3 and key.isascii() and key.isalpha()}
        ambiguous.update((fold(alias).strip(), sdk_id) for alias, sdk_id in vocab.sdk_aliases.items()
                         if " " in alias.strip() and alias.isascii() and sdk_key(alias) in vocab.ambiguous)
        self.ambiguous_matcher = TermMatcher((term, "sdk", sdk_id) for term, sdk_id in sorted(ambiguous.items()))

    def in_prose(self, display: str, folded: str, named: set[str] | None = None) -> list[Match]:
        """SDKs a sentence names: unambiguous aliases anywhere, ambiguous ones only as capitalised names.

        `named` holds the ids already read as names in this document; it lets "Adjust receives your ID" count
        at the start of a sentence once "We use Adjust to ..." came before, and is updated."""
        found = self.prose_matcher.find(folded)
        if len(display) == len(folded):
            taken = [(m.start, m.end) for m in found]
            for m in self.ambiguous_matcher.find(folded):
                if any(a < m.end and m.start < b for a, b in taken):
                    continue
                if _proper_name(display, m.start) or _subject_of_verb(display, m.start, m.end) or (
                        named is not None and m.value in named and _named_again(display, m.start, m.end)):
                    found.append(m)
                    if named is not None:
                        named.add(m.value)
            found.sort(key=lambda m: m.start)
        return found

    def match_cell(self, *cells: str) -> str | None:
        """The SDK a table cell names: exact alias first, then the longest alias inside the cell."""
        for cell in cells:
            if not cell:
                continue
            hit = self.exact.get(sdk_key(cell))
            if hit:
                return hit
            # "友盟统计SDK（友盟+）": try the parts around parentheses and slashes too.
            for part in re.split(r"[()（）/、,，;；]", cell):
                hit = self.exact.get(sdk_key(part))
                if hit:
                    return hit
        for cell in cells:
            matches = self.cell_matcher.find(fold(cell))
            if matches:
                return max(matches, key=lambda m: m.end - m.start).value
        return None


def _proper_name(display: str, start: int) -> bool:
    """"We use Adjust to measure" names a company; "Adjust your settings" (sentence start) and "adjust" do not."""
    if not display[start:start + 1].isupper():
        return False
    before = display[:start].rstrip()
    if not before or before[-1] in ".!?:\"'“‘(（-•*#>":
        return False
    # "Tap Adjust" / "select Branch": a button or menu label.
    return before.rsplit(None, 1)[-1].lower() not in ("tap", "press", "click", "select", "choose", "open", "under")


# What a company does in a policy's list of processors: "Branch powers our referral links", "Adjust receives".
_THIRD_PERSON_VERBS = frozenset({
    "receives", "collects", "processes", "provides", "helps", "powers", "tells", "uses", "gets", "stores",
    "sees", "measures", "tracks", "records", "runs", "handles", "supplies", "sends", "analyses", "analyzes",
    "delivers", "hosts", "is", "may", "will", "also", "attributes", "operates", "enables", "lets"})


def _subject_of_verb(display: str, start: int, end: int) -> bool:
    """A capitalised name that opens a sentence or list item as the subject of a company's verb."""
    after = display[end:].split(None, 1)
    return display[start:start + 1].isupper() and bool(after) and after[0].rstrip(",") in _THIRD_PERSON_VERBS


def _named_again(display: str, start: int, end: int) -> bool:
    """A capitalised name at a sentence start that is not the verb of an instruction ("Adjust your settings")."""
    after = display[end:].split(None, 1)
    return display[start:start + 1].isupper() and not display[:start].strip().endswith(("Tap", "Press", "Click")) \
        and (not after or after[0].lower() not in ("your", "the", "it", "this", "these", "that", "how", "them", "a"))


def table_records(rows: list[Block], vocab: Vocabulary) -> list[SdkRecord] | None:
    """Records of an SDK table (header row or header column), or None when the table is not an SDK list."""
    if not rows:
        return None
    header = [vocab.column_role(cell) for cell in rows[0].cells]
    if _is_sdk_header(header):
        records = []
        for row in rows[1:]:
            fields = {role: cell for role, cell in zip(header, row.cells, strict=False) if role and cell}
            if fields.get("name"):
                records.append(SdkRecord(fields, row.line, row.text))
        return records
    # Header column: one table per SDK, or SDKs side by side in the following columns.
    column = [vocab.column_role(row.cells[0]) if row.cells else None for row in rows]
    if column.count("name") > 1:
        # Several SDKs stacked in one key/value table ("SDK名称 | A", "使用目的 | …", "SDK名称 | B", …).
        starts = [i for i, role in enumerate(column) if role == "name"]
        records = []
        for start, end in zip(starts, [*starts[1:], len(rows)], strict=True):
            group = rows[start:end]
            fields = {role: row.cells[1] for role, row in zip(column[start:end], group, strict=True)
                      if role and len(row.cells) > 1 and row.cells[1]}
            if fields.get("name"):
                source = "; ".join(f"{row.cells[0]}: {row.cells[1]}" for row in group if len(row.cells) > 1)
                records.append(SdkRecord(fields, group[0].line, source))
        if records:
            return records
    if _is_sdk_header(column):
        width = max(len(row.cells) for row in rows)
        records = []
        for index in range(1, width):
            fields = {role: row.cells[index] for role, row in zip(column, rows, strict=False)
                      if role and index < len(row.cells) and row.cells[index]}
            if fields.get("name"):
                source = "; ".join(f"{row.cells[0]}: {row.cells[index]}" for row in rows if index < len(row.cells))
                records.append(SdkRecord(fields, rows[0].line, source))
        return records
    return None


def _is_sdk_header(roles: list[str | None]) -> bool:
    return "name" in roles and ("data" in roles or "purpose" in roles)


def key_values(text: str, vocab: Vocabulary) -> list[tuple[str, str]]:
    """("role", value) pairs of a "key：value；key：value" text whose keys are known column names."""
    found = []
    for m in _KEY_RE.finditer(text):
        role = vocab.column_role(m.group(1))
        if role:
            found.append((role, m.start(1), m.end()))
    pairs = []
    for index, (role, _, value_start) in enumerate(found):
        value_end = found[index + 1][1] if index + 1 < len(found) else len(text)
        value = text[value_start:value_end].strip().strip("；;，,。|").strip()
        pairs.append((role, value))
    return pairs


_NUMBERING = re.compile(r"^\s*(?:\d+(?:\.\d+)*[.、)）]?|[（(]\d+[)）]|[-*•·])\s*")


def _lead(text: str, vocab: Vocabulary) -> str:
    """The unlabelled text before the first "key：" of a line, numbering and punctuation stripped."""
    first = next((m for m in _KEY_RE.finditer(text) if vocab.column_role(m.group(1))), None)
    if first is None:
        return ""
    return _NUMBERING.sub("", text[:first.start(1)]).strip().strip("，,；;：:|-— ").strip()


_PERSON = re.compile(r"我们|您|我|\b(?:we|you|our|your|us)\b", re.IGNORECASE)


def _is_company_key(text: str, vocab: Vocabulary) -> bool:
    """The line's key is also a company column name ("第三方名称" names the SDK or its company)."""
    first = next((m for m in _KEY_RE.finditer(text) if vocab.column_role(m.group(1))), None)
    return first is not None and sdk_key(first.group(1)) in vocab.columns.get("company", set())


_UNKNOWN_FIELD = re.compile(r"^\s*[^\s：:，,。；;]{1,8}\s*[：:]\s*\S")


def text_records(blocks: list[Block], vocab: Vocabulary) -> tuple[list[SdkRecord], set[int]]:
    """Records of plain-text SDK lists, and the indexes of the blocks they used (not read again as prose)."""
    records: list[SdkRecord] = []
    current: SdkRecord | None = None
    for index, block in enumerate(blocks):
        if block.kind == "row":
            current = None
            continue
        pairs = key_values(block.text, vocab)
        if not pairs:
            # A field we have no role for ("备注：…") inside a record does not end it; anything else does.
            if current is None or not _UNKNOWN_FIELD.match(block.text):
                current = None
            continue
        if len(pairs) == 1 and pairs[0][0] == "name" and current is not None and "name" in current.fields \
                and _is_company_key(block.text, vocab):
            # "第三方 SDK 名称：支付宝客户端 SDK / 第三方名称：支付宝支付科技有限公司": the record has its name, and this
            # key is also a company column -- it names the company, not a new SDK.
            pairs = [("company", pairs[0][1])]
        roles = {role for role, _ in pairs}
        lead = _lead(block.text, vocab) if "name" not in roles else ""
        if _PERSON.search(lead):
            # "我们会根据您的授权，收集个人信息：手机号": a sentence that happens to hold a column name.
            current = None
            continue
        if 2 <= len(lead) <= 40:
            # "1. 高德定位SDK，使用目的：定位，收集个人信息：位置信息": the name is the text before the first key.
            pairs.insert(0, ("name", lead))
            roles.add("name")
        if "name" in roles or current is None:
            current = SdkRecord({}, block.line, "")
            records.append(current)
            if "name" not in roles and index > 0:
                title = blocks[index - 1]
                if title.kind != "row" and len(title.text) <= 60 and not key_values(title.text, vocab):
                    current.fields["name"] = re.sub(r"^\s*(\d+[.、)）]|[（(]\d+[)）])\s*", "", title.text)
                    current.source = title.text
                    current.line = title.line
                    current.blocks.append(index - 1)
        for role, value in pairs:
            if role in current.fields and role == "name":
                current = SdkRecord({}, block.line, "")
                records.append(current)
            current.fields.setdefault(role, value)
        current.source = (current.source + "; " if current.source else "") + block.text
        current.blocks.append(index)
    good = [r for r in records if r.name and ("data" in r.fields or "purpose" in r.fields)]
    used = {i for r in good for i in r.blocks}
    return good, used
