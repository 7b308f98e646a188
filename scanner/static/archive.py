"""Opening an APK safely: zip sanity, zip-bomb limits, bounded reads of dex and native-library names."""

from __future__ import annotations

import hashlib
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from scanner.errors import BadApk

# Limits that no real APK reaches and every zip bomb does.
MAX_ENTRY_BYTES = 1 << 30  # 1 GiB uncompressed for any single entry
MAX_TOTAL_BYTES = 4 << 30
MAX_RATIO = 200  # uncompressed / compressed, for entries above RATIO_FLOOR
RATIO_FLOOR = 16 << 20
MAX_ENTRIES = 200_000

_DEX_RE = re.compile(r"^classes\d*\.dex$")
_LIB_RE = re.compile(r"^lib/([^/]+)/([^/]+\.so)$")


@dataclass(frozen=True)
class ApkFile:
    path: Path
    raw: bytes
    sha256: str
    sha1: str
    md5: str
    dex_names: tuple[str, ...]
    native_libs: tuple[str, ...]  # lib/<abi>/<name>.so paths
    names: tuple[str, ...]


def _dex_sort_key(name: str) -> int:
    digits = name[len("classes"):-len(".dex")]
    return int(digits) if digits else 1


def open_apk(path: Path) -> ApkFile:
    """Read and check the archive; raise BadApk with one line naming the problem."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise BadApk("file not found", path=str(path)) from None
    except IsADirectoryError:
        raise BadApk("is a directory, not an APK file", path=str(path)) from None
    except OSError as exc:
        raise BadApk(f"cannot read: {exc.strerror}", path=str(path)) from exc
    if not raw:
        raise BadApk("empty file (0 bytes)", path=str(path))
    if not raw.startswith(b"PK"):
        raise BadApk("not a zip archive (an APK is a zip file; this one starts with "
                     f"{raw[:8]!r})", path=str(path))
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise BadApk(f"truncated or corrupt zip archive ({exc})", path=str(path)) from exc
    except (OSError, ValueError, NotImplementedError) as exc:
        raise BadApk(f"unreadable zip archive ({exc})", path=str(path)) from exc
    if len(infos) > MAX_ENTRIES:
        raise BadApk(f"zip has {len(infos)} entries, over the limit of {MAX_ENTRIES}", path=str(path))
    total = 0
    for info in infos:
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > MAX_ENTRY_BYTES or (info.file_size > RATIO_FLOOR and ratio > MAX_RATIO):
            raise BadApk(f"zip bomb suspected: {info.filename} inflates to {info.file_size:,} bytes "
                         f"(ratio {ratio:,.0f}:1)", path=str(path))
    if total > MAX_TOTAL_BYTES:
        raise BadApk(f"zip bomb suspected: entries inflate to {total:,} bytes in all", path=str(path))
    names = tuple(i.filename for i in infos)
    if "AndroidManifest.xml" not in names:
        raise BadApk("no AndroidManifest.xml: not an APK", path=str(path))
    dex_names = tuple(sorted((n for n in names if _DEX_RE.match(n)), key=_dex_sort_key))
    if not dex_names:
        raise BadApk("no classes.dex: an APK without code (resource-only split?) cannot be analysed",
                     path=str(path))
    libs = tuple(n for n in names if _LIB_RE.match(n))
    return ApkFile(path=path, raw=raw, sha256=hashlib.sha256(raw).hexdigest(),
                   sha1=hashlib.sha1(raw, usedforsecurity=False).hexdigest(),
                   md5=hashlib.md5(raw, usedforsecurity=False).hexdigest(),
                   dex_names=dex_names, native_libs=libs, names=names)


def read_entry(apk: ApkFile, name: str, limit: int = MAX_ENTRY_BYTES) -> bytes:
    """One entry, read at most `limit` bytes (a lying header cannot make us inflate more)."""
    try:
        with zipfile.ZipFile(apk.path) as archive, archive.open(name) as stream:
            data = stream.read(limit + 1)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise BadApk(f"cannot read {name} from the archive ({exc})", path=str(apk.path)) from exc
    except zlib.error as exc:
        raise BadApk(f"corrupt compressed data in {name} ({type(exc).__name__}: {exc})",
                     path=str(apk.path)) from exc
    if len(data) > limit:
        raise BadApk(f"{name} inflates past {limit:,} bytes: zip bomb suspected", path=str(apk.path))
    return data
