"""Fast, bounded DEX reader: class names, URLs and the callers of a few wanted methods, fields and strings.

It reads only the tables it needs and never decodes every method: the raw bytes of the code area are
searched with one regex for instructions that could reference a wanted index, each hit is mapped to its
code item by bisection, and only those methods are decoded from their first instruction to confirm it.
"""

from __future__ import annotations

import logging
import re
import struct
import sys
from array import array
from collections.abc import Callable, Iterable, Set
from dataclasses import dataclass, field

import numpy as np

from scanner.static.dex_format import (
    CLASS_DEF_SIZE,
    CODE_ITEM_HEADER_SIZE,
    CONST_STRING,
    CONST_STRING_JUMBO,
    ENDIAN_CONSTANT,
    FIELD_ID_SIZE,
    FIELD_READ_OPCODES,
    FILL_ARRAY_DATA_PAYLOAD,
    HEADER_SIZE,
    INSN_WIDTH,
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
_URL_TAIL = re.compile(rb"[A-Za-z0-9\-._~:/?#\[\]@!$&*+,;=%{}|^]+")
_URL_SCHEMES = (b"https", b"http", b"wss", b"ws")
_SLASH_TO_DOT = bytes.maketrans(b"/", b".")
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


class CallerIndex:
    """Who invokes given methods in one dex, for several questions in a row (the reachability pass asks once per
    hop): the id tables and the instruction index are built once, on the first question."""

    def __init__(self, data: bytes, name: str) -> None:
        self.name = name
        try:
            self._scanner = _Scanner(data, name)
        except (IndexError, struct.error, ValueError, OverflowError, MemoryError) as exc:
            raise DexFormatError(f"{name}: malformed dex ({type(exc).__name__}: {exc})") from exc
        self._class_types: dict[int, str] | None = None
        self._context: _Context | None = None

    def callers_of(self, wanted_members: Set[tuple[str, str]]) -> list[CallSite]:
        """Every method that invokes one of `wanted_members`. Raises DexFormatError like scan_dex."""
        try:
            return self._callers_of(wanted_members)
        except (IndexError, struct.error, ValueError, OverflowError, MemoryError) as exc:
            raise DexFormatError(f"{self.name}: malformed dex ({type(exc).__name__}: {exc})") from exc

    def _callers_of(self, wanted_members: Set[tuple[str, str]]) -> list[CallSite]:
        dex = self._scanner
        if self._class_types is None:
            self._class_types = dex.class_types()
        class_types = self._class_types
        wanted_classes = {cls for cls, _ in wanted_members}
        wanted_types = [i for i, dotted in class_types.items() if dotted in wanted_classes]
        if not wanted_types or dex.n_classes == 0:
            return []
        method_classes = np.frombuffer(dex.data, dtype="<u2", count=4 * dex.n_methods,
                                       offset=dex.method_ids_off if dex.n_methods else 0)[0::4]
        wanted_methods = dex._wanted_ids(method_classes, dex.method_words, wanted_types, class_types, wanted_members)
        if not wanted_methods:
            return []
        if self._context is None:
            self._context = _Context(dex, dex.code_items(), class_types)
        context = self._context
        if context.items.offs.size == 0:
            return []
        wanted = np.zeros((len(_KINDS), 65536), dtype=bool)
        wanted[_KINDS["invoke"], list(wanted_methods)] = True
        positions, kinds, operands = context.instructions()
        result = DexScan(self.name)
        for item in dict.fromkeys(context.items_at(positions[wanted[kinds, operands]]).tolist()):
            if item >= 0:
                dex._collect(context, item, wanted_methods, {}, {}, result)
        return list(dict.fromkeys(result.call_sites))


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
        if string_ids_size and max(self.string_offs) >= self.size - 1:
            raise self.fail(f"string data offset {max(self.string_offs):#x} out of range")
        self.type_strings = _u32_array(data, type_ids_off, type_ids_size)
        # field_id_item and method_id_item are (ushort class, ushort proto/type, uint name).
        self.field_words = _u32_array(data, field_ids_off, 2 * field_ids_size)
        self.method_halves = _u16_array(data, method_ids_off, 4 * method_ids_size)
        self.method_words = _u32_array(data, method_ids_off, 2 * method_ids_size)
        self.class_defs = _u32_array(data, class_defs_off, 8 * class_defs_size)
        self.class_defs_off, self.method_ids_off, self.field_ids_off = class_defs_off, method_ids_off, field_ids_off
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
        """URL substrings in the string data area, found on raw bytes so no string is decoded needlessly
        (bytes.find of "://" is far faster than a regex whose first byte varies)."""
        if self.n_strings == 0:
            return []
        data = self.data
        start, last = min(self.string_offs), max(self.string_offs)
        end = data.find(b"\x00", last)
        end = self.size if end < 0 else end
        seen: dict[str, None] = {}
        pos = data.find(b"://", start, end)
        while pos >= 0:
            before = data[max(start, pos - 5):pos].lower()
            scheme = next((s for s in _URL_SCHEMES if before.endswith(s)), None)
            tail = _URL_TAIL.match(data, pos + 3, end)
            if scheme is not None and tail is not None:
                url = (scheme + b"://" + tail.group()).decode("ascii").rstrip(_URL_TRAILING)
                if len(url) > len(scheme) + 3:
                    seen.setdefault(url, None)
            pos = data.find(b"://", pos + 3, end)
        return list(seen)

    # ---- class data and code items ----------------------------------------------------------------
    def code_items(self) -> _CodeItems:
        """Every method with code: (code offset, defining class type, method index), sorted by offset.

        class_data items are runs of uleb128 numbers; they are decoded all at once with numpy over the
        region they live in, so no Python loop runs per method."""
        defs = np.frombuffer(self.data, dtype="<u4", count=8 * self.n_classes,
                             offset=self.class_defs_off).reshape(-1, 8)
        with_data = defs[:, 6] != 0
        item_offs, first = np.unique(defs[with_data, 6].astype(np.int64), return_index=True)
        item_classes = defs[with_data, 0][first].astype(np.int64)
        if item_offs.size == 0:
            return _CodeItems.empty()
        if item_offs[-1] >= self.size:
            raise self.fail(f"class_data at {int(item_offs[-1]):#x} out of range")
        region = int(item_offs[0])
        raw = np.frombuffer(self.data, dtype=np.uint8, offset=region)
        ends = np.flatnonzero(raw < 0x80)
        starts = np.empty_like(ends)
        starts[0] = 0
        starts[1:] = ends[:-1] + 1
        lengths = ends - starts + 1
        if lengths.size and lengths.max() > 5:
            # Long runs of continuation bytes can only be legal outside class_data; mask them as invalid.
            lengths = np.minimum(lengths, 6)
        values = (raw[starts] & 0x7F).astype(np.int64)
        for k in range(1, 5):
            longer = np.flatnonzero(lengths > k)
            if longer.size == 0:
                break
            values[longer] |= (raw[starts[longer] + k] & 0x7F).astype(np.int64) << (7 * k)
        first_token = np.searchsorted(starts, item_offs - region)
        if first_token[-1] + 3 >= starts.size or np.any(starts[first_token] != item_offs - region):
            raise self.fail("class_data items are not contiguous uleb128 runs")
        if np.any(lengths[first_token[:, None] + np.arange(4)] > 5):
            raise self.fail("class_data header has a uleb128 longer than 5 bytes")
        counts = values[first_token[:, None] + np.arange(4)]
        n_fields = counts[:, 0] + counts[:, 1]
        n_direct, n_methods = counts[:, 2], counts[:, 2] + counts[:, 3]
        if np.any(n_fields > starts.size) or np.any(n_methods > starts.size):
            raise self.fail("class_data counts exceed the file")
        method_token = first_token + 4 + 2 * n_fields
        item_end = method_token + 3 * n_methods
        # Items must not overlap (sorted by offset): this also bounds the total work by the file size.
        if item_end[-1] > starts.size or np.any(item_end[:-1] > first_token[1:]):
            raise self.fail("class_data items overlap or run past the end of the file")
        total = int(n_methods.sum())
        item_of = np.repeat(np.arange(item_offs.size), n_methods)
        j = np.arange(total) - np.repeat(np.cumsum(n_methods) - n_methods, n_methods)
        tokens = method_token[item_of] + 3 * j
        if total and lengths[np.concatenate((tokens, tokens + 2))].max() > 5:
            raise self.fail("encoded_method has a uleb128 longer than 5 bytes")
        diffs = values[tokens]
        code_offs = values[tokens + 2]
        # method_idx_diff restarts at the first direct and the first virtual method of each item.
        list_start = (j == 0) | (j == n_direct[item_of])
        running = np.cumsum(diffs)
        last_start = np.maximum.accumulate(np.where(list_start, np.arange(total), 0))
        method_idx = running - (running[last_start] - diffs[last_start])
        keep = code_offs != 0
        code_offs, method_idx, classes = code_offs[keep], method_idx[keep], item_classes[item_of[keep]]
        if method_idx.size and method_idx.max() >= self.n_methods:
            raise self.fail(f"class_data names method index {int(method_idx.max())} out of range")
        order = np.argsort(code_offs, kind="stable")
        code_offs, method_idx, classes = code_offs[order], method_idx[order], classes[order]
        if code_offs.size and (code_offs[-1] + CODE_ITEM_HEADER_SIZE > self.size or np.any(code_offs & 3)):
            raise self.fail("code item out of range or not 4-byte aligned")
        u8 = np.frombuffer(self.data, dtype=np.uint8)
        sizes = np.zeros(code_offs.size, dtype=np.int64)
        for k in range(4):
            sizes |= u8[code_offs + 12 + k].astype(np.int64) << (8 * k)
        insns_end = code_offs + CODE_ITEM_HEADER_SIZE + 2 * sizes
        if insns_end.size and insns_end.max() > self.size:
            bad = int(code_offs[np.argmax(insns_end > self.size)])
            raise self.fail(f"code item at {bad:#x} overruns the file")
        return _CodeItems(code_offs, insns_end, classes, method_idx)

    def decode(self, code_off: int, end: int) -> list[tuple[int, int, int]]:
        """(offset, opcode, index) of every invoke, field read and const-string in one method, walking
        instructions from the first so operand bytes are never mistaken for opcodes."""
        data = self.data
        p = code_off + CODE_ITEM_HEADER_SIZE
        width = INSN_WIDTH
        kind = _OP_KIND_BYTES
        u16 = _U16.unpack_from
        found: list[tuple[int, int, int]] = []
        while p < end:
            op = data[p]
            if op:
                units = width[op]
                if kind[op] and p + 2 * units <= end:
                    if op == CONST_STRING_JUMBO:
                        found.append((p, op, _U32.unpack_from(data, p + 2)[0]))
                    else:
                        found.append((p, op, u16(data, p + 2)[0]))
            else:
                ident = data[p + 1] if p + 1 < end else 0
                if ident == PACKED_SWITCH_PAYLOAD and p + 4 <= end:
                    units = u16(data, p + 2)[0] * 2 + 4
                elif ident == SPARSE_SWITCH_PAYLOAD and p + 4 <= end:
                    units = u16(data, p + 2)[0] * 4 + 2
                elif ident == FILL_ARRAY_DATA_PAYLOAD and p + 8 <= end:
                    element, count = struct.unpack_from("<HI", data, p + 2)
                    units = (element * count + 1) // 2 + 4
                else:
                    units = 1
            p += 2 * units
        if p != end:
            log.debug("%s: method at %#x: instruction stream overruns its code item", self.name, code_off)
        return found

    def instructions(self, items: _CodeItems) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every 16-bit unit of the code area whose low byte is an opcode of interest: (byte offset, kind,
        following unit). Operand units are included too; callers confirm by decoding the method."""
        start = int(items.offs[0]) + CODE_ITEM_HEADER_SIZE
        units = np.frombuffer(self.data, dtype="<u2", count=(int(items.ends.max()) - start) // 2, offset=start)
        if units.size < 2:
            none = np.empty(0, dtype=np.int64)
            return none, none.astype(np.uint8), none.astype(np.uint16)
        opcodes = units[:-1] & 0xFF
        kinds = _OP_KIND[opcodes]
        # Format 35c invokes hold at most 5 arguments: a higher count nibble marks an operand unit.
        kinds[(opcodes >= 0x6E) & (opcodes <= 0x72) & (units[:-1] > 0x5FFF)] = 0
        at = np.flatnonzero(kinds)
        return start + 2 * at, kinds[at], units[at + 1]

    def jumbo_candidates(self, items: _CodeItems, wanted: Set[int]) -> np.ndarray:
        """Offsets of const-string/jumbo instructions naming a wanted string (32-bit index)."""
        start = int(items.offs[0]) + CODE_ITEM_HEADER_SIZE
        units = np.frombuffer(self.data, dtype="<u2", count=(int(items.ends.max()) - start) // 2, offset=start)
        at = np.flatnonzero((units[:-2] & 0xFF) == CONST_STRING_JUMBO)
        index = units[at + 1].astype(np.int64) | (units[at + 2].astype(np.int64) << 16)
        return start + 2 * at[np.isin(index, np.fromiter(wanted, dtype=np.int64))]

    # ---- the scan ------------------------------------------------------------------------------------
    def scan(
        self,
        wanted_members: Set[tuple[str, str]],
        wanted_strings: Set[str],
        owner_of: Callable[[str], str | None],
    ) -> DexScan:
        result = DexScan(self.name)
        class_types = self.class_types()
        result.referenced_types = list(class_types.values())
        try:
            result.defined_classes = [class_types[class_idx] for class_idx in self.class_defs[0::8]]
        except KeyError as exc:
            raise self.fail(f"a class_def has type index {exc}, not a class type") from None
        result.urls = self.urls()

        wanted_classes = {cls for cls, _ in wanted_members}
        wanted_types = [i for i, dotted in class_types.items() if dotted in wanted_classes]
        method_classes = np.frombuffer(self.data, dtype="<u2", count=4 * self.n_methods,
                                       offset=self.method_ids_off if self.n_methods else 0)[0::4]
        field_classes = np.frombuffer(self.data, dtype="<u2", count=4 * self.n_fields,
                                      offset=self.field_ids_off if self.n_fields else 0)[0::4]
        wanted_methods = self._wanted_ids(method_classes, self.method_words, wanted_types, class_types,
                                          wanted_members)
        wanted_fields = self._wanted_ids(field_classes, self.field_words, wanted_types, class_types,
                                         wanted_members)
        wanted_string_ids = self.find_strings(wanted_strings)
        owners = {i: owner_of(dotted) for i, dotted in class_types.items()}
        sdk_ids = sorted({o for o in owners.values() if o is not None and o != "lib"})
        numbers = {sdk: k + 1 for k, sdk in enumerate(sdk_ids)}
        sdk_number = np.zeros(self.n_types + 1, dtype=np.int16)  # 0: not an SDK; k: sdk_ids[k - 1]
        sdk_types = [(i, numbers[owner]) for i, owner in owners.items() if owner in numbers]
        if sdk_types:
            sdk_number[[i for i, _ in sdk_types]] = [k for _, k in sdk_types]
        method_sdk = sdk_number[np.minimum(method_classes, self.n_types)]
        if not (wanted_methods or wanted_fields or wanted_string_ids or method_sdk.any()) or self.n_classes == 0:
            return result

        items = self.code_items()
        if items.offs.size == 0:
            return result
        context = _Context(self, items, class_types)

        wanted = np.zeros((len(_KINDS), 65536), dtype=bool)
        wanted[_KINDS["invoke"], list(wanted_methods)] = True
        wanted[_KINDS["field"], list(wanted_fields)] = True
        wanted[_KINDS["string"], [i for i in wanted_string_ids if i <= 0xFFFF]] = True
        positions, kinds, operands = context.instructions()
        hits = positions[wanted[kinds, operands]]
        if wanted_string_ids:
            hits = np.concatenate((hits, self.jumbo_candidates(items, wanted_string_ids.keys())))
        for item in dict.fromkeys(context.items_at(hits).tolist()):
            if item >= 0:
                self._collect(context, item, wanted_methods, wanted_fields, wanted_string_ids, result)
        if method_sdk.any():
            app_types = np.zeros(self.n_types + 1, dtype=bool)
            app_types[[i for i, owner in owners.items() if owner is None]] = True
            self._wire(context, app_types, method_sdk, sdk_ids, result)
        result.call_sites = list(dict.fromkeys(result.call_sites))
        result.string_uses = list(dict.fromkeys(result.string_uses))
        return result

    def class_types(self) -> dict[int, str]:
        """Dotted names of the class types (L...;) in type_ids, by type index. Inlined because an app has
        ~10^5 of them: one-byte length, ASCII and L...; is the common case, everything else goes the slow way."""
        data, offs, find = self.data, self.string_offs, self.data.find
        if self.n_types and max(self.type_strings) >= self.n_strings:
            raise self.fail(f"type_ids name string {max(self.type_strings)}, beyond {self.n_strings} strings")
        found: dict[int, str] = {}
        fast_idx: list[int] = []
        fast_raw: list[bytes] = []
        for i, string_idx in enumerate(self.type_strings):
            p = offs[string_idx]
            if data[p] < 0x80 and data[p + 1] == 0x4C:  # "L"
                end = find(b"\x00", p + 2)
                if end > 0 and data[end - 1] == 0x3B:  # ";"
                    fast_idx.append(i)
                    fast_raw.append(data[p + 2 : end - 1])
                    continue
            descriptor = self.string(string_idx)
            if descriptor[:1] == "L" and descriptor[-1:] == ";":
                found[i] = descriptor[1:-1].replace("/", ".")
        # One translate and decode for all names; a control or non-ASCII byte sends them the slow way.
        joined = b"\n".join(fast_raw)
        names = joined.translate(_SLASH_TO_DOT).decode("ascii").split("\n") if joined.isascii() else []
        if len(names) != len(fast_raw):
            names = [_mutf8(raw).replace("/", ".") for raw in fast_raw]
        found.update(zip(fast_idx, names, strict=True))
        return dict(sorted(found.items())) if len(found) > len(fast_idx) else found

    def _wanted_ids(
        self, classes: np.ndarray, words: array[int], wanted_types: list[int], class_types: dict[int, str],
        wanted_members: Set[tuple[str, str]],
    ) -> dict[int, tuple[str, str]]:
        """Method or field ids whose class is a wanted class and whose name is wanted, any proto or type."""
        found: dict[int, tuple[str, str]] = {}
        if not wanted_types:
            return found
        for i in np.flatnonzero(np.isin(classes, wanted_types)).tolist():
            member = (class_types[int(classes[i])], self.string(words[2 * i + 1]))
            if member in wanted_members:
                found[i] = member
        return found

    def _collect(
        self, context: _Context, item: int, wanted_methods: dict[int, tuple[str, str]],
        wanted_fields: dict[int, tuple[str, str]], wanted_string_ids: dict[int, str], result: DexScan,
    ) -> None:
        instructions = context.decoded(item)
        strings = tuple(sorted({wanted_string_ids[idx] for _, op, idx in instructions
                                if op in (CONST_STRING, CONST_STRING_JUMBO) and idx in wanted_string_ids}))
        targets = [target for _, op, idx in instructions if (target := (
            wanted_methods.get(idx) if op in INVOKE_OPCODES else
            wanted_fields.get(idx) if op in FIELD_READ_OPCODES else None)) is not None]
        if not (targets or strings):
            return  # the raw-byte candidate was an operand, not an instruction
        caller_class, caller_method = context.caller(item)
        for target_class, member in targets:
            result.call_sites.append(CallSite(caller_class, caller_method, target_class, member, strings))
        for text in strings:
            result.string_uses.append(CallSite(caller_class, caller_method, "", text, strings))

    def _wire(self, context: _Context, app_types: np.ndarray, method_sdk: np.ndarray, sdk_ids: list[str],
              result: DexScan) -> None:
        """One example call per SDK from app-owned code: every invoke of an SDK-owned method id is found
        with numpy, those inside app-owned methods kept, and the first of each SDK confirmed by decoding."""
        sdk_of_index = np.zeros(65536, dtype=np.int16)
        reachable = method_sdk[:65536]  # invokes carry 16-bit method indices
        sdk_of_index[: reachable.size] = reachable
        positions, kinds, operands = context.instructions()
        invokes = kinds == _KINDS["invoke"]
        target_sdk = sdk_of_index[operands[invokes]]
        hits = positions[invokes][target_sdk > 0]
        target_sdk = target_sdk[target_sdk > 0]
        items = context.items_at(hits)
        in_app = items >= 0
        in_app[in_app] = app_types[np.minimum(context.items.classes[items[in_app]], self.n_types)]
        items, target_sdk = items[in_app], target_sdk[in_app]
        for number in np.unique(target_sdk).tolist():
            for item in dict.fromkeys(items[target_sdk == number].tolist()):
                call = self._first_call(context, item, method_sdk, number)
                if call is not None:
                    result.wired[sdk_ids[number - 1]] = call
                    break

    def _first_call(self, context: _Context, item: int, method_sdk: np.ndarray, number: int) -> CallSite | None:
        """The first invoke of a method owned by SDK `number` in one method, confirmed by decoding."""
        for _, op, idx in context.decoded(item):
            if op in INVOKE_OPCODES and idx < method_sdk.size and method_sdk[idx] == number:
                caller_class, caller_method = context.caller(item)
                class_idx = self.method_halves[4 * idx]
                return CallSite(caller_class, caller_method, context.class_types.get(class_idx, "?"),
                                self.string(self.method_words[2 * idx + 1]))
        return None


_KINDS = {"none": 0, "invoke": 1, "field": 2, "string": 3}


def _op_kind() -> np.ndarray:
    kind = np.zeros(256, dtype=np.uint8)
    kind[sorted(INVOKE_OPCODES)] = _KINDS["invoke"]
    kind[sorted(FIELD_READ_OPCODES)] = _KINDS["field"]
    kind[CONST_STRING] = _KINDS["string"]
    return kind


_OP_KIND = _op_kind()
def _decode_kinds() -> bytes:
    """Per-opcode kinds for decoding: the raw search's kinds plus const-string/jumbo (32-bit index)."""
    kinds = bytearray(_OP_KIND.tobytes())
    kinds[CONST_STRING_JUMBO] = _KINDS["string"]
    return bytes(kinds)


_OP_KIND_BYTES = _decode_kinds()


@dataclass(frozen=True)
class _CodeItems:
    """Parallel arrays over the methods with code, sorted by code offset."""

    offs: np.ndarray  # code_item offsets
    ends: np.ndarray  # end offset of each method's instructions
    classes: np.ndarray  # type index of the defining class
    methods: np.ndarray  # method index

    @staticmethod
    def empty() -> _CodeItems:
        none = np.empty(0, dtype=np.int64)
        return _CodeItems(none, none, none, none)


class _Context:
    """Code items of one dex: maps byte offsets to methods and caches decoded methods."""

    def __init__(self, dex: _Scanner, items: _CodeItems, class_types: dict[int, str]) -> None:
        self.dex = dex
        self.items = items
        self.class_types = class_types
        self._decoded: dict[int, list[tuple[int, int, int]]] = {}
        self._instructions: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def instructions(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self._instructions is None:
            self._instructions = self.dex.instructions(self.items)
        return self._instructions

    def items_at(self, positions: np.ndarray) -> np.ndarray:
        """Code item index holding an instruction at each position, or -1 (headers, gaps, odd offsets)."""
        offs, ends = self.items.offs, self.items.ends
        found = np.searchsorted(offs, positions - CODE_ITEM_HEADER_SIZE, side="right") - 1
        inside = (found >= 0) & ((positions & 1) == 0)
        inside[inside] = positions[inside] < ends[found[inside]]
        return np.where(inside, found, -1)

    def decoded(self, item: int) -> list[tuple[int, int, int]]:
        found = self._decoded.get(item)
        if found is None:
            found = self._decoded[item] = self.dex.decode(int(self.items.offs[item]), int(self.items.ends[item]))
        return found

    def caller(self, item: int) -> tuple[str, str]:
        method_idx = int(self.items.methods[item])
        name = self.dex.string(self.dex.method_words[2 * method_idx + 1])
        return self.class_types.get(int(self.items.classes[item]), "?"), name


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
