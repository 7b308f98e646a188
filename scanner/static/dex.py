"""Fast, bounded DEX reader: class names, URLs and the callers of a few wanted methods, fields and strings.

It reads only the tables it needs and never decodes every method: the raw bytes of the code area are
searched with one regex for instructions that could reference a wanted index, each hit is mapped to its
code item by bisection, and only those methods are decoded from their first instruction to confirm it.
"""

from __future__ import annotations

import bisect
import logging
import re
import struct
import sys
from array import array
from collections.abc import Callable, Iterable, Set
from dataclasses import dataclass, field

from scanner.static.dex_format import (
    CLASS_DEF_SIZE,
    CODE_ITEM_HEADER_SIZE,
    CONST_STRING,
    CONST_STRING_JUMBO,
    ENDIAN_CONSTANT,
    FIELD_ID_SIZE,
    FIELD_READ_OPCODE_CLASS,
    FIELD_READ_OPCODES,
    FILL_ARRAY_DATA_PAYLOAD,
    HEADER_SIZE,
    INSN_WIDTH,
    INVOKE_OPCODE_CLASS,
    INVOKE_OPCODES,
    METHOD_ID_SIZE,
    PACKED_SWITCH_PAYLOAD,
    PROTO_ID_SIZE,
    SPARSE_SWITCH_PAYLOAD,
    STRING_ID_SIZE,
    TYPE_ID_SIZE,
)

log = logging.getLogger(__name__)

_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_URL = re.compile(rb"(?i:https?|wss?)://[A-Za-z0-9\-._~:/?#\[\]@!$&*+,;=%{}|^]+")
_URL_TRAILING = ".,;:!?*"
_NEEDS_BYTESWAP = sys.byteorder != "little"


class DexFormatError(Exception):
    """The dex file is truncated or malformed; the message says what is wrong and where."""


@dataclass(frozen=True)
class CallSite:
    caller_class: str  # dotted, e.g. com.example.Foo (inner classes keep $)
    caller_method: str  # method name, e.g. onCreate
    target_class: str  # dotted class of the wanted member ("" for string uses)
    target_member: str  # method or field name; for string uses, the string itself
    strings: tuple[str, ...] = ()  # wanted strings const-string'ed in the same caller method


@dataclass
class DexScan:
    name: str
    defined_classes: list[str] = field(default_factory=list)
    referenced_types: list[str] = field(default_factory=list)
    call_sites: list[CallSite] = field(default_factory=list)
    string_uses: list[CallSite] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    wired: dict[str, CallSite] = field(default_factory=dict)


def scan_dex(
    data: bytes,
    name: str,
    *,
    wanted_members: Set[tuple[str, str]],
    wanted_strings: Set[str],
    owner_of: Callable[[str], str | None],
) -> DexScan:
    """Scan one dex file. Wanted strings ending in "*" match as prefixes; owner_of(class) gives an SDK id,
    "lib", or None for the app's own code. Raises DexFormatError on a truncated or malformed file."""
    try:
        return _Scanner(data, name).scan(wanted_members, wanted_strings, owner_of)
    except (IndexError, struct.error, ValueError, OverflowError, MemoryError) as exc:
        # Safety net: every table read is bounds-checked, but a hostile file must never escape as a crash.
        raise DexFormatError(f"{name}: malformed dex ({type(exc).__name__}: {exc})") from exc


def _u32_array(data: bytes, off: int, count: int) -> array[int]:
    table = array("I", data[off : off + 4 * count])
    if _NEEDS_BYTESWAP:
        table.byteswap()
    return table


def _u16_array(data: bytes, off: int, count: int) -> array[int]:
    table = array("H", data[off : off + 2 * count])
    if _NEEDS_BYTESWAP:
        table.byteswap()
    return table


def _mutf8(raw: bytes) -> str:
    """Decode Modified UTF-8 (NUL as C0 80, supplementary characters as surrogate pairs)."""
    if raw.isascii():
        return raw.decode("ascii")
    text = raw.replace(b"\xc0\x80", b"\x00").decode("utf-8", "surrogatepass")
    if any("\ud800" <= ch <= "\udfff" for ch in text):
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text


def _dotted(descriptor: str) -> str:
    return descriptor[1:-1].replace("/", ".")


def _descriptor(dotted: str) -> str:
    return "L" + dotted.replace(".", "/") + ";"


def _index_regex(opcode_class: bytes, indices: Iterable[int], width: int = 2) -> bytes:
    """Pattern for opcode, any byte, then a little-endian index whose bytes each lie in the set seen in
    `indices`: a cheap superset filter, exact membership is checked afterwards."""
    columns: list[set[int]] = [set() for _ in range(width)]
    for idx in indices:
        for i in range(width):
            columns[i].add((idx >> (8 * i)) & 0xFF)
    classes = b"".join(b"[" + b"".join(re.escape(bytes([v])) for v in sorted(col)) + b"]" for col in columns)
    # Lookahead keeps the match one byte long, so a false candidate never hides a real one after it.
    return opcode_class + rb"(?=[\s\S]" + classes + rb")"


class _Scanner:
    """One dex file: header and id tables, read lazily and bounds-checked."""

    def __init__(self, data: bytes, name: str) -> None:
        self.data = data
        self.name = name
        self.size = len(data)
        self._strings: dict[int, str] = {}
        self._read_header()

    # ---- header and tables -------------------------------------------------------------------------
    def fail(self, what: str) -> DexFormatError:
        return DexFormatError(f"{self.name}: {what}")

    def _read_header(self) -> None:
        data = self.data
        if self.size < HEADER_SIZE:
            raise self.fail(f"truncated header ({self.size} bytes)")
        magic = data[:8]
        if magic[:4] != b"dex\n" or magic[7] != 0 or not magic[4:7].isdigit():
            raise self.fail(f"bad magic {magic!r}")
        (
            file_size, header_size, endian_tag, _link_size, _link_off, _map_off,
            string_ids_size, string_ids_off, type_ids_size, type_ids_off,
            proto_ids_size, proto_ids_off, field_ids_size, field_ids_off,
            method_ids_size, method_ids_off, class_defs_size, class_defs_off,
        ) = struct.unpack_from("<18I", data, 0x20)
        if endian_tag != ENDIAN_CONSTANT:
            raise self.fail(f"unsupported endian tag {endian_tag:#x}")
        if file_size > self.size:
            raise self.fail(f"truncated: header says {file_size} bytes, file has {self.size}")
        if header_size < HEADER_SIZE:
            raise self.fail(f"header_size {header_size} too small")
        self._check_table("string_ids", string_ids_off, string_ids_size, STRING_ID_SIZE)
        self._check_table("type_ids", type_ids_off, type_ids_size, TYPE_ID_SIZE)
        self._check_table("proto_ids", proto_ids_off, proto_ids_size, PROTO_ID_SIZE)
        self._check_table("field_ids", field_ids_off, field_ids_size, FIELD_ID_SIZE)
        self._check_table("method_ids", method_ids_off, method_ids_size, METHOD_ID_SIZE)
        self._check_table("class_defs", class_defs_off, class_defs_size, CLASS_DEF_SIZE)
        self.string_offs = _u32_array(data, string_ids_off, string_ids_size)
        self.type_strings = _u32_array(data, type_ids_off, type_ids_size)
        # field_id_item and method_id_item are (ushort class, ushort proto/type, uint name).
        self.field_halves = _u16_array(data, field_ids_off, 4 * field_ids_size)
        self.field_words = _u32_array(data, field_ids_off, 2 * field_ids_size)
        self.method_halves = _u16_array(data, method_ids_off, 4 * method_ids_size)
        self.method_words = _u32_array(data, method_ids_off, 2 * method_ids_size)
        self.class_defs = _u32_array(data, class_defs_off, 8 * class_defs_size)
        self.n_strings = string_ids_size
        self.n_types = type_ids_size
        self.n_fields = field_ids_size
        self.n_methods = method_ids_size
        self.n_classes = class_defs_size

    def _check_table(self, table: str, off: int, count: int, entry: int) -> None:
        if count == 0:
            return
        if off < HEADER_SIZE or off + count * entry > self.size:
            raise self.fail(f"{table} table (offset {off:#x}, {count} entries) out of range")

    def _raw_string(self, idx: int) -> bytes:
        if idx >= self.n_strings:
            raise self.fail(f"string index {idx} out of range ({self.n_strings} strings)")
        data = self.data
        p = self.string_offs[idx]
        if p >= self.size:
            raise self.fail(f"string {idx} data offset {p:#x} out of range")
        # Skip the uleb128 UTF-16 length: the NUL terminator is what bounds the bytes.
        limit = min(p + 5, self.size)
        while p < limit and data[p] & 0x80:
            p += 1
        p += 1
        end = data.find(b"\x00", p)
        if end < 0:
            raise self.fail(f"string {idx} at {p:#x} is not terminated")
        return data[p:end]

    def string(self, idx: int) -> str:
        text = self._strings.get(idx)
        if text is None:
            text = self._strings[idx] = _mutf8(self._raw_string(idx))
        return text

    def type_descriptor(self, idx: int) -> str:
        if idx >= self.n_types:
            raise self.fail(f"type index {idx} out of range ({self.n_types} types)")
        return self.string(self.type_strings[idx])

    def find_strings(self, wanted: Iterable[str]) -> dict[int, str]:
        """String ids equal to (or, for "prefix*", starting with) a wanted string, by binary search: the
        string table is sorted by UTF-16 code units, which MUTF-8 bytes preserve for these keys."""
        found: dict[int, str] = {}
        for want in wanted:
            is_prefix = want.endswith("*")
            key = (want[:-1] if is_prefix else want).encode("utf-8")
            lo, hi = 0, self.n_strings
            while lo < hi:
                mid = (lo + hi) // 2
                if self._raw_string(mid) < key:
                    lo = mid + 1
                else:
                    hi = mid
            while lo < self.n_strings:
                raw = self._raw_string(lo)
                if raw == key or (is_prefix and raw.startswith(key)):
                    found[lo] = _mutf8(raw)
                    lo += 1
                    continue
                break
        return found

    def urls(self) -> list[str]:
        """URL substrings in the string data area, found on raw bytes so no string is decoded needlessly."""
        if self.n_strings == 0:
            return []
        start, last = min(self.string_offs), max(self.string_offs)
        end = self.data.find(b"\x00", last)
        end = self.size if end < 0 else end
        seen: dict[str, None] = {}
        for match in _URL.finditer(self.data, start, end):
            url = _mutf8(match.group()).rstrip(_URL_TRAILING)
            if len(url) > url.index("//") + 2:
                seen.setdefault(url, None)
        return list(seen)

    # ---- class data and code items ----------------------------------------------------------------
    def code_items(self) -> tuple[list[int], list[int], list[int]]:
        """(code offsets sorted, defining class type index, method index) of every method with code."""
        data, size = self.data, self.size
        defs = self.class_defs
        offs: list[int] = []
        owners: list[int] = []
        methods: list[int] = []
        budget = size  # class_data items never overlap, so all of them together fit in the file
        seen_offsets: set[int] = set()
        for ci in range(self.n_classes):
            class_data_off = defs[8 * ci + 6]
            if class_data_off == 0:
                continue
            if class_data_off >= size:
                raise self.fail(f"class_data of class #{ci} at {class_data_off:#x} out of range")
            if class_data_off in seen_offsets:
                continue
            seen_offsets.add(class_data_off)
            class_idx = defs[8 * ci]
            p = class_data_off
            counts = []
            for _ in range(4):
                b = data[p]
                p += 1
                if b < 0x80:
                    counts.append(b)
                else:
                    value, p = _uleb_tail(data, p, b)
                    counts.append(value)
            n_fields = counts[0] + counts[1]
            n_methods = counts[2] + counts[3]
            budget -= 4 + 2 * n_fields + 3 * n_methods
            if budget < 0:
                raise self.fail(f"class_data of class #{ci} at {class_data_off:#x}: counts exceed the file")
            for _ in range(2 * n_fields):
                while data[p] & 0x80:
                    p += 1
                p += 1
            for n_list in (counts[2], counts[3]):
                method_idx = 0
                for _ in range(n_list):
                    b = data[p]
                    p += 1
                    if b < 0x80:
                        method_idx += b
                    else:
                        value, p = _uleb_tail(data, p, b)
                        method_idx += value
                    while data[p] & 0x80:  # access_flags, not needed
                        p += 1
                    p += 1
                    b = data[p]
                    p += 1
                    if b < 0x80:
                        code_off = b
                    else:
                        code_off, p = _uleb_tail(data, p, b)
                    if code_off:
                        offs.append(code_off)
                        owners.append(class_idx)
                        methods.append(method_idx)
        if any(offs[i] >= offs[i + 1] for i in range(len(offs) - 1)):
            order = sorted(range(len(offs)), key=offs.__getitem__)
            offs = [offs[i] for i in order]
            owners = [owners[i] for i in order]
            methods = [methods[i] for i in order]
        if offs and offs[-1] + CODE_ITEM_HEADER_SIZE > size:
            raise self.fail(f"code item at {offs[-1]:#x} out of range")
        return offs, owners, methods

    def insns_range(self, code_off: int) -> tuple[int, int]:
        start = code_off + CODE_ITEM_HEADER_SIZE
        if start > self.size:
            raise self.fail(f"code item at {code_off:#x} out of range")
        end = start + 2 * _U32.unpack_from(self.data, code_off + 12)[0]
        if end > self.size:
            raise self.fail(f"code item at {code_off:#x} overruns the file")
        return start, end

    def decode(self, code_off: int) -> list[tuple[int, int, int]]:
        """(offset, opcode, index) of every invoke, field read and const-string in one method, walking
        instructions from the first so operand bytes are never mistaken for opcodes."""
        data = self.data
        p, end = self.insns_range(code_off)
        width = INSN_WIDTH
        found: list[tuple[int, int, int]] = []
        while p < end:
            op = data[p]
            if op == 0:
                ident = data[p + 1]
                if ident == PACKED_SWITCH_PAYLOAD and p + 4 <= end:
                    units = _U16.unpack_from(data, p + 2)[0] * 2 + 4
                elif ident == SPARSE_SWITCH_PAYLOAD and p + 4 <= end:
                    units = _U16.unpack_from(data, p + 2)[0] * 4 + 2
                elif ident == FILL_ARRAY_DATA_PAYLOAD and p + 8 <= end:
                    element, count = struct.unpack_from("<HI", data, p + 2)
                    units = (element * count + 1) // 2 + 4
                else:
                    units = 1
            else:
                units = width[op]
                if p + 2 * units > end:
                    break
                if op in INVOKE_OPCODES or op in FIELD_READ_OPCODES or op == CONST_STRING:
                    found.append((p, op, _U16.unpack_from(data, p + 2)[0]))
                elif op == CONST_STRING_JUMBO:
                    found.append((p, op, _U32.unpack_from(data, p + 2)[0]))
            p += 2 * units
        if p != end:
            log.debug("%s: method at %#x: instruction stream overruns its code item", self.name, code_off)
        return found

    # ---- the scan ------------------------------------------------------------------------------------
    def scan(
        self,
        wanted_members: Set[tuple[str, str]],
        wanted_strings: Set[str],
        owner_of: Callable[[str], str | None],
    ) -> DexScan:
        result = DexScan(self.name)
        descriptors = [self.type_descriptor(i) for i in range(self.n_types)]
        class_types = {i: _dotted(d) for i, d in enumerate(descriptors) if d[:1] == "L" and d[-1:] == ";"}
        result.referenced_types = list(class_types.values())
        defs = self.class_defs
        for ci in range(self.n_classes):
            class_idx = defs[8 * ci]
            if class_idx not in class_types:
                raise self.fail(f"class_def #{ci} has type index {class_idx}, not a class type")
            result.defined_classes.append(class_types[class_idx])
        result.urls = self.urls()

        wanted_classes = {cls for cls, _ in wanted_members}
        wanted_types = {i for i, dotted in class_types.items() if dotted in wanted_classes}
        wanted_methods = self._wanted_ids(self.method_halves, self.method_words, self.n_methods,
                                          wanted_types, class_types, wanted_members)
        wanted_fields = self._wanted_ids(self.field_halves, self.field_words, self.n_fields,
                                         wanted_types, class_types, wanted_members)
        wanted_string_ids = self.find_strings(wanted_strings)
        owners = {i: owner_of(dotted) for i, dotted in class_types.items()}
        sdk_methods = self._sdk_methods(owners)
        if not (wanted_methods or wanted_fields or wanted_string_ids or sdk_methods) or self.n_classes == 0:
            return result

        code_offs, code_classes, code_methods = self.code_items()
        if not code_offs:
            return result
        code_end = self.insns_range(code_offs[-1])[1]
        context = _Context(self, code_offs, code_classes, code_methods, class_types)

        patterns = []
        if wanted_methods:
            patterns.append(_index_regex(INVOKE_OPCODE_CLASS, wanted_methods))
        if wanted_fields:
            patterns.append(_index_regex(FIELD_READ_OPCODE_CLASS, wanted_fields))
        short_strings = [i for i in wanted_string_ids if i <= 0xFFFF]
        if short_strings:
            patterns.append(_index_regex(re.escape(bytes([CONST_STRING])), short_strings))
        if wanted_string_ids:
            patterns.append(_index_regex(re.escape(bytes([CONST_STRING_JUMBO])), wanted_string_ids, 4))
        if patterns:
            candidate = re.compile(b"|".join(patterns))
            hit_items: dict[int, None] = {}
            for match in candidate.finditer(self.data, code_offs[0], code_end):
                item = context.item_at(match.start())
                if item is not None:
                    hit_items.setdefault(item, None)
            for item in hit_items:
                self._collect(context, item, wanted_methods, wanted_fields, wanted_string_ids, result)
        if sdk_methods:
            self._wire(context, owners, sdk_methods, code_end, result)
        result.call_sites = list(dict.fromkeys(result.call_sites))
        result.string_uses = list(dict.fromkeys(result.string_uses))
        return result

    def _wanted_ids(
        self, halves: array[int], words: array[int], count: int, wanted_types: set[int],
        class_types: dict[int, str], wanted_members: Set[tuple[str, str]],
    ) -> dict[int, tuple[str, str]]:
        """Method or field ids whose class is a wanted class and whose name is wanted, any proto or type."""
        found: dict[int, tuple[str, str]] = {}
        if not wanted_types:
            return found
        for i in range(count):
            if halves[4 * i] in wanted_types:
                member = (class_types[halves[4 * i]], self.string(words[2 * i + 1]))
                if member in wanted_members:
                    found[i] = member
        return found

    def _sdk_methods(self, owners: dict[int, str | None]) -> dict[int, str]:
        """Method ids whose class is owned by an SDK (not the app, not a plain library)."""
        sdk_types = {i: owner for i, owner in owners.items() if owner is not None and owner != "lib"}
        if not sdk_types:
            return {}
        halves = self.method_halves
        return {i: sdk_types[halves[4 * i]] for i in range(self.n_methods) if halves[4 * i] in sdk_types}

    def _collect(
        self, context: _Context, item: int, wanted_methods: dict[int, tuple[str, str]],
        wanted_fields: dict[int, tuple[str, str]], wanted_string_ids: dict[int, str], result: DexScan,
    ) -> None:
        instructions = context.decoded(item)
        strings = tuple(sorted({wanted_string_ids[idx] for _, op, idx in instructions
                                if op in (CONST_STRING, CONST_STRING_JUMBO) and idx in wanted_string_ids}))
        caller_class, caller_method = context.caller(item)
        for _, op, idx in instructions:
            target = None
            if op in INVOKE_OPCODES:
                target = wanted_methods.get(idx)
            elif op in FIELD_READ_OPCODES:
                target = wanted_fields.get(idx)
            if target is not None:
                result.call_sites.append(CallSite(caller_class, caller_method, target[0], target[1], strings))
        for text in strings:
            result.string_uses.append(CallSite(caller_class, caller_method, "", text, strings))

    def _wire(
        self, context: _Context, owners: dict[int, str | None], sdk_methods: dict[int, str],
        code_end: int, result: DexScan,
    ) -> None:
        """One example call per SDK from app-owned code, searching only the byte ranges of app code."""
        missing = set(sdk_methods.values())
        candidate = re.compile(_index_regex(INVOKE_OPCODE_CLASS, sdk_methods))
        for start, end in context.app_ranges(owners, code_end):
            for match in candidate.finditer(self.data, start, end):
                pos = match.start()
                sdk = sdk_methods.get(_U16.unpack_from(self.data, pos + 2)[0])
                if sdk is None or sdk not in missing:
                    continue
                item = context.item_at(pos)
                if item is None:
                    continue
                for _, op, idx in context.decoded(item):
                    target_sdk = sdk_methods.get(idx)
                    if op in INVOKE_OPCODES and target_sdk in missing:
                        assert target_sdk is not None
                        missing.discard(target_sdk)
                        class_idx, name_idx = self.method_halves[4 * idx], self.method_words[2 * idx + 1]
                        caller_class, caller_method = context.caller(item)
                        result.wired[target_sdk] = CallSite(
                            caller_class, caller_method, context.class_types.get(class_idx, "?"),
                            self.string(name_idx))
                if not missing:
                    return


class _Context:
    """Sorted code items of one dex, mapping a byte offset to its method and caching decoded methods."""

    def __init__(self, dex: _Scanner, offs: list[int], classes: list[int], methods: list[int],
                 class_types: dict[int, str]) -> None:
        self.dex = dex
        self.offs = offs
        self.classes = classes
        self.methods = methods
        self.class_types = class_types
        self._ends: dict[int, int] = {}
        self._decoded: dict[int, list[tuple[int, int, int]]] = {}

    def item_at(self, pos: int) -> int | None:
        """Index of the code item whose instructions hold an opcode at `pos`, if any."""
        if pos & 1:  # code units are 16-bit aligned: an odd offset is an operand byte
            return None
        item = bisect.bisect_right(self.offs, pos - CODE_ITEM_HEADER_SIZE) - 1
        if item < 0:
            return None
        end = self._ends.get(item)
        if end is None:
            end = self._ends[item] = self.dex.insns_range(self.offs[item])[1]
        return item if pos < end else None

    def decoded(self, item: int) -> list[tuple[int, int, int]]:
        found = self._decoded.get(item)
        if found is None:
            found = self._decoded[item] = self.dex.decode(self.offs[item])
        return found

    def caller(self, item: int) -> tuple[str, str]:
        method_idx = self.methods[item]
        if method_idx >= self.dex.n_methods:
            raise self.dex.fail(f"method index {method_idx} out of range")
        name = self.dex.string(self.dex.method_words[2 * method_idx + 1])
        return self.class_types.get(self.classes[item], "?"), name

    def app_ranges(self, owners: dict[int, str | None], code_end: int) -> list[tuple[int, int]]:
        """Byte ranges covering the code items of app-owned classes, neighbours merged."""
        ranges: list[tuple[int, int]] = []
        offs, classes = self.offs, self.classes
        start = -1
        for i, off in enumerate(offs):
            is_app = classes[i] in owners and owners[classes[i]] is None
            if is_app and start < 0:
                start = off
            elif not is_app and start >= 0:
                ranges.append((start, off))
                start = -1
        if start >= 0:
            ranges.append((start, code_end))
        return ranges


def _uleb_tail(data: bytes, p: int, first: int) -> tuple[int, int]:
    """Finish an unsigned LEB128 whose first byte (already consumed, continuation bit set) was `first`."""
    value = first & 0x7F
    shift = 7
    while True:
        b = data[p]
        p += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, p
        shift += 7
        if shift > 28:
            raise ValueError(f"uleb128 longer than 5 bytes at {p:#x}")


__all__ = ["CallSite", "DexFormatError", "DexScan", "scan_dex"]
