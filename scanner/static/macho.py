"""A small Mach-O reader: the few load commands and sections a privacy scan needs, for thin and fat binaries.

Read are the linked libraries (LC_LOAD_DYLIB and its weak/re-export/lazy/upward kin), the symbol table (imported and
defined symbols), FairPlay encryption (LC_ENCRYPTION_INFO[_64]) and the text sections that hold Objective-C class
and selector names and C strings. Everything else (code, relocations, fix-ups) is skipped, which keeps the reader
to one pass over the load commands and slices of the sections it wants; LIEF would parse all of it.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field

MH_MAGIC = 0xFEEDFACE
MH_MAGIC_64 = 0xFEEDFACF
FAT_MAGIC = 0xCAFEBABE
FAT_MAGIC_64 = 0xCAFEBABF
CPU_TYPE_ARM64 = 0x0100000C

LC_SEGMENT = 0x1
LC_SYMTAB = 0x2
LC_LOAD_DYLIB = 0xC
LC_ID_DYLIB = 0xD
LC_SEGMENT_64 = 0x19
LC_LAZY_LOAD_DYLIB = 0x20
LC_ENCRYPTION_INFO = 0x21
LC_ENCRYPTION_INFO_64 = 0x2C
LC_LOAD_WEAK_DYLIB = 0x80000018
LC_REEXPORT_DYLIB = 0x8000001F
LC_LOAD_UPWARD_DYLIB = 0x80000023
_DYLIB_CMDS = frozenset({LC_LOAD_DYLIB, LC_LOAD_WEAK_DYLIB, LC_REEXPORT_DYLIB, LC_LAZY_LOAD_DYLIB,
                         LC_LOAD_UPWARD_DYLIB})

N_STAB = 0xE0
N_TYPE = 0x0E
N_EXT = 0x01
N_UNDF = 0x0
N_SECT = 0xE

# Sections read as NUL-separated strings, by (segment, section).
_STRING_SECTIONS = {
    ("__TEXT", "__objc_classname"): "classnames",
    ("__TEXT", "__objc_methname"): "selectors",
    ("__TEXT", "__cstring"): "cstrings",
}
# A binary has tens of thousands of symbols at most; a count past this is a corrupt table, not a big app.
MAX_SYMBOLS = 4_000_000
MAX_LOAD_COMMANDS = 10_000
_SELECTOR = re.compile(rb"^[A-Za-z_][A-Za-z0-9_]*(:([A-Za-z_][A-Za-z0-9_]*:)*)?$")


class MachOError(ValueError):
    """The bytes are not a readable Mach-O (bad magic, truncated header or load commands)."""


@dataclass
class MachO:
    """What one binary (one slice, or the union of a fat binary's slices) shows."""

    cpu_types: list[int] = field(default_factory=list)
    filetype: int = 0
    install_name: str | None = None  # LC_ID_DYLIB of a framework binary
    dylibs: list[str] = field(default_factory=list)  # load paths, in load-command order
    imported_symbols: set[str] = field(default_factory=set)  # undefined external symbols, as in the table ("_stat")
    defined_symbols: set[str] = field(default_factory=set)  # external symbols the binary defines
    classnames: list[str] = field(default_factory=list)  # __objc_classname
    selectors: set[str] = field(default_factory=set)  # __objc_methname
    cstrings: list[bytes] = field(default_factory=list)  # the __cstring strings holding `://`, raw
    encrypted: bool = False  # FairPlay: some slice has cryptid != 0, its code and text sections are ciphertext
    warnings: list[str] = field(default_factory=list)

    @property
    def linked_frameworks(self) -> list[str]:
        """Framework names from the load paths: /System/Library/Frameworks/AdSupport.framework/AdSupport -> AdSupport."""
        names = []
        for path in self.dylibs:
            for part in path.split("/"):
                if part.endswith(".framework"):
                    names.append(part[: -len(".framework")])
                    break
        return list(dict.fromkeys(names))

    @property
    def objc_classes_defined(self) -> set[str]:
        return {s[len("_OBJC_CLASS_$_"):] for s in self.defined_symbols if s.startswith("_OBJC_CLASS_$_")}

    @property
    def objc_classes_imported(self) -> set[str]:
        return {s[len("_OBJC_CLASS_$_"):] for s in self.imported_symbols if s.startswith("_OBJC_CLASS_$_")}


def is_macho(head: bytes) -> bool:
    if len(head) < 4:
        return False
    le = struct.unpack_from("<I", head)[0]
    be = struct.unpack_from(">I", head)[0]
    return le in (MH_MAGIC, MH_MAGIC_64) or be in (FAT_MAGIC, FAT_MAGIC_64)


def parse_macho(data: bytes) -> MachO:
    """Parse a thin or fat Mach-O; raises MachOError when the header or load commands are unreadable."""
    try:
        return _parse(data)
    except (struct.error, IndexError, OverflowError) as exc:  # a field pointing past the end of a command or file
        raise MachOError(f"corrupt load command or table ({exc})") from exc


def _parse(data: bytes) -> MachO:
    if len(data) < 8:
        raise MachOError("too short for a Mach-O header")
    magic_be = struct.unpack_from(">I", data)[0]
    result = MachO()
    if magic_be in (FAT_MAGIC, FAT_MAGIC_64):
        wide = magic_be == FAT_MAGIC_64
        count = struct.unpack_from(">I", data, 4)[0]
        entry = 32 if wide else 20
        if count == 0 or count > 32 or 8 + count * entry > len(data):
            raise MachOError(f"fat header lists {count} architectures")
        for i in range(count):
            at = 8 + i * entry
            if wide:
                cpu, _sub, offset, size = struct.unpack_from(">iiQQ", data, at)
            else:
                cpu, _sub, offset, size = struct.unpack_from(">iiII", data, at)
            if offset + size > len(data):
                raise MachOError(f"fat slice {i} runs past the end of the file (truncated?)")
            _parse_thin(memoryview(data)[offset:offset + size], result)
        return result
    _parse_thin(memoryview(data), result)
    return result


def _cstr(raw: bytes | memoryview) -> str:
    return bytes(raw).split(b"\0", 1)[0].decode("utf-8", "replace")


def _parse_thin(view: memoryview, out: MachO) -> None:
    if len(view) < 28:
        raise MachOError("too short for a Mach-O header")
    magic = struct.unpack_from("<I", view)[0]
    if magic == MH_MAGIC_64:
        header, wide = 32, True
    elif magic == MH_MAGIC:
        header, wide = 28, False
    else:
        raise MachOError(f"bad Mach-O magic 0x{magic:08x}")
    cpu, _sub, filetype, ncmds, sizeofcmds = struct.unpack_from("<iiIII", view, 4)
    if ncmds > MAX_LOAD_COMMANDS or header + sizeofcmds > len(view):
        raise MachOError("load commands run past the end of the file (truncated?)")
    out.cpu_types.append(cpu)
    out.filetype = out.filetype or filetype
    at = header
    end = header + sizeofcmds
    symtab: tuple[int, int, int, int] | None = None
    encrypted_range: tuple[int, int] | None = None
    sections: list[tuple[str, int, int]] = []  # (kind, file offset, size)
    for _ in range(ncmds):
        if at + 8 > end:
            raise MachOError("load command list is shorter than ncmds says")
        cmd, size = struct.unpack_from("<II", view, at)
        if size < 8 or at + size > end:
            raise MachOError(f"load command 0x{cmd:x} has a bad size {size}")
        if cmd in _DYLIB_CMDS or cmd == LC_ID_DYLIB:
            name_off = struct.unpack_from("<I", view, at + 8)[0]
            name = _cstr(view[at + name_off:at + size]) if name_off < size else ""
            if cmd == LC_ID_DYLIB:
                out.install_name = name
            elif name not in out.dylibs:
                out.dylibs.append(name)
        elif cmd == LC_SYMTAB:
            symtab = struct.unpack_from("<IIII", view, at + 8)
        elif cmd in (LC_ENCRYPTION_INFO, LC_ENCRYPTION_INFO_64):
            cryptoff, cryptsize, cryptid = struct.unpack_from("<III", view, at + 8)
            if cryptid != 0:
                out.encrypted = True
                encrypted_range = (cryptoff, cryptoff + cryptsize)
        elif cmd in (LC_SEGMENT_64, LC_SEGMENT):
            sections.extend(_sections(view, at, cmd == LC_SEGMENT_64))
        at += size
    has_selectors = any(kind == "selectors" for kind, _o, _s in sections)
    for kind, offset, size in sections:
        if encrypted_range and offset < encrypted_range[1] and offset + size > encrypted_range[0]:
            continue  # FairPlay ciphertext: no names to read
        if offset + size > len(view):
            out.warnings.append(f"section {kind} runs past the end of the file (truncated?)")
            continue
        strings = bytes(view[offset:offset + size]).split(b"\0")
        if kind == "classnames":
            out.classnames.extend(s.decode("utf-8", "replace") for s in strings if s)
        elif kind == "selectors":
            out.selectors.update(s.decode("utf-8", "replace") for s in strings if s)
        else:
            if not has_selectors:
                # lld merges every C-string-literal section into __cstring: the selector names are among them.
                out.selectors.update(s.decode("ascii") for s in strings if _SELECTOR.match(s))
            # Only URLs are wanted from the C strings: keeping the rest would cost more memory than the binary.
            out.cstrings.extend(s for s in strings if b"://" in s)
    if symtab is not None:
        _symbols(view, symtab, wide, out)


def _sections(view: memoryview, at: int, wide: bool) -> list[tuple[str, int, int]]:
    found = []
    if wide:
        nsects = struct.unpack_from("<I", view, at + 64)[0]
        first, step = at + 72, 80
    else:
        nsects = struct.unpack_from("<I", view, at + 48)[0]
        first, step = at + 56, 68
    for i in range(nsects):
        s = first + i * step
        if s + step > len(view):
            raise MachOError("section headers run past the end of the file (truncated?)")
        sectname = _cstr(view[s:s + 16])
        segname = _cstr(view[s + 16:s + 32])
        kind = _STRING_SECTIONS.get((segname, sectname))
        if kind is None:
            continue
        if wide:
            size, offset = struct.unpack_from("<QI", view, s + 40)
        else:
            size, offset = struct.unpack_from("<II", view, s + 36)
        found.append((kind, offset, size))
    return found


def _symbols(view: memoryview, symtab: tuple[int, int, int, int], wide: bool, out: MachO) -> None:
    symoff, nsyms, stroff, strsize = symtab
    entry = 16 if wide else 12
    if nsyms > MAX_SYMBOLS or symoff + nsyms * entry > len(view) or stroff + strsize > len(view):
        out.warnings.append("the symbol table runs past the end of the file (truncated?): imported symbols not read")
        return
    strings = bytes(view[stroff:stroff + strsize])
    table = view[symoff:symoff + nsyms * entry]
    for i in range(nsyms):
        strx, ntype = struct.unpack_from("<IB", table, i * entry)
        if ntype & N_STAB or not ntype & N_EXT or strx >= strsize:
            continue
        name = strings[strx:strings.find(b"\0", strx)].decode("utf-8", "replace")
        if (ntype & N_TYPE) == N_UNDF:
            out.imported_symbols.add(name)
        elif (ntype & N_TYPE) == N_SECT:
            out.defined_symbols.add(name)


def swift_class_name(mangled: str) -> str | None:
    """`_TtC7MyModule9ViewModel` (how Swift classes appear to the Objective-C runtime) -> MyModule.ViewModel."""
    if not mangled.startswith("_TtC"):
        return None
    rest, parts = mangled[4:], list[str]()
    while rest and rest[0].isdigit() and len(parts) < 4:
        digits = len(rest) - len(rest.lstrip("0123456789"))
        length = int(rest[:digits])
        parts.append(rest[digits:digits + length])
        rest = rest[digits + length:]
    return ".".join(parts) if len(parts) >= 2 else None
