"""Opening an APK safely: zip sanity, zip-bomb limits, bounded reads of dex and native-library names.

Apps installed from Play are split APKs (base.apk plus config and feature splits); stores and
backup tools hand them out as one archive of APKs (.apks from bundletool/SAI, .xapk from APKPure,
.apkm from APKMirror). Such a bundle is opened as its base APK plus the splits beside it.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from scanner.errors import BadApk

# Limits that no real APK reaches and every zip bomb does.
MAX_ENTRY_BYTES = 1 << 30  # 1 GiB uncompressed for any single entry
MAX_TOTAL_BYTES = 4 << 30
MAX_RATIO = 200  # uncompressed / compressed, for entries above RATIO_FLOOR
RATIO_FLOOR = 16 << 20
MAX_ENTRIES = 200_000
# A bundletool .apks with every language and density split carries 100+ APKs, so the count is only a sanity bound;
# what limits a bundle is the size of its APKs, which are held in memory while it is analysed.
MAX_SPLITS = 2_000
MAX_BUNDLE_APK_BYTES = 2 << 30

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
    part: str = ""  # the entry name inside a bundle (base.apk, split_config.arm64_v8a.apk); "" for a plain APK

    def label(self, name: str) -> str:
        """An entry name that says which APK of a bundle it is in."""
        return f"{self.part}!{name}" if self.part else name


@dataclass(frozen=True)
class AppArchive:
    """What the user handed us: one APK, or a bundle whose base APK carries the manifest."""

    path: Path
    sha256: str
    sha1: str
    md5: str
    size: int
    base: ApkFile
    splits: tuple[ApkFile, ...] = ()

    @property
    def apks(self) -> tuple[ApkFile, ...]:
        return (self.base, *self.splits)

    @property
    def is_bundle(self) -> bool:
        return bool(self.base.part)


def _dex_sort_key(name: str) -> int:
    digits = name[len("classes"):-len(".dex")]
    return int(digits) if digits else 1


def open_app(path: Path) -> AppArchive:
    """Read an APK or a bundle of split APKs (.apks/.xapk/.apkm) and check every archive in it.

    A plain APK is held in memory (androguard wants its bytes); a bundle is not: an .xapk may carry gigabytes
    of game data (OBB files) beside its APKs, so only the APKs are read from it and the file is hashed in
    chunks."""
    where = str(path)
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(8)
    except FileNotFoundError:
        raise BadApk("file not found", path=where) from None
    except IsADirectoryError:
        raise BadApk("is a directory, not an APK file", path=where) from None
    except OSError as exc:
        raise BadApk(f"cannot read: {exc.strerror}", path=where) from exc
    if not size:
        raise BadApk("empty file (0 bytes)", path=where)
    if not head.startswith(b"PK"):
        raise BadApk(f"not a zip archive (an APK is a zip file; this one starts with {head!r})", path=where)
    with _open_zip(path, where) as outer:
        infos = _infos(outer, where)
        names = tuple(i.filename for i in infos)
        if "AndroidManifest.xml" in names:
            _check_sizes(infos, where)
        else:
            inner = [n for n in names if n.lower().endswith(".apk") and not n.endswith("/")]
            if not inner:
                raise BadApk("no AndroidManifest.xml: not an APK (nor a bundle of split APKs)", path=where)
            if len(inner) > MAX_SPLITS:
                raise BadApk(f"bundle holds {len(inner)} APKs, over the limit of {MAX_SPLITS}", path=where)
            held = sum(i.file_size for i in infos if i.filename in set(inner))
            if held > MAX_BUNDLE_APK_BYTES:
                raise BadApk(f"bundle's {len(inner)} APKs inflate to {held:,} bytes, over the limit of "
                             f"{MAX_BUNDLE_APK_BYTES:,}", path=where)
            wanted = {*inner, "manifest.json"}
            _check_sizes(infos, where, reads=wanted.__contains__)  # OBB data beside the APKs is never read
            apks = [_inner_apk(outer, where, name) for name in inner]
            base = _pick_base(apks, _xapk_base(outer, names, where), where)
            _require_code(base, f"{where}!{base.part}")
            return AppArchive(path, *_digests(_file_chunks(path)), size=size, base=base,
                              splits=tuple(a for a in apks if a is not base))
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BadApk(f"cannot read: {exc.strerror}", path=where) from exc
    digests = _digests([raw])
    base = _apk(path, raw, names, digests)
    _require_code(base, where)
    return AppArchive(path, *digests, size=len(raw), base=base)


def _digests(chunks: Iterable[bytes]) -> tuple[str, str, str]:
    """SHA-256, SHA-1 and MD5 of the bytes, fed in one or many chunks."""
    hashes = (hashlib.sha256(), hashlib.sha1(usedforsecurity=False), hashlib.md5(usedforsecurity=False))
    for chunk in chunks:
        for digest in hashes:
            digest.update(chunk)
    return hashes[0].hexdigest(), hashes[1].hexdigest(), hashes[2].hexdigest()


def _file_chunks(path: Path) -> Iterator[bytes]:
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                yield chunk
    except OSError as exc:
        raise BadApk(f"cannot read: {exc.strerror}", path=str(path)) from exc


@contextlib.contextmanager
def _open_zip(source: bytes | Path, where: str) -> Iterator[zipfile.ZipFile]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source)
    except zipfile.BadZipFile as exc:
        raise BadApk(f"truncated or corrupt zip archive ({exc})", path=where) from exc
    except (OSError, ValueError, NotImplementedError) as exc:
        raise BadApk(f"unreadable zip archive ({exc})", path=where) from exc
    with archive:
        yield archive


def _infos(archive: zipfile.ZipFile, where: str) -> list[zipfile.ZipInfo]:
    infos = archive.infolist()
    if len(infos) > MAX_ENTRIES:
        raise BadApk(f"zip has {len(infos)} entries, over the limit of {MAX_ENTRIES}", path=where)
    return infos


def _check_sizes(infos: list[zipfile.ZipInfo], where: str, reads: Callable[[str], bool] = lambda _name: True) -> None:
    """Zip-bomb limits: an implausible inflation ratio anywhere; absolute sizes for the entries we will read."""
    total = 0
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        read = reads(info.filename)
        if (read and info.file_size > MAX_ENTRY_BYTES) or (info.file_size > RATIO_FLOOR and ratio > MAX_RATIO):
            raise BadApk(f"zip bomb suspected: {info.filename} inflates to {info.file_size:,} bytes "
                         f"(ratio {ratio:,.0f}:1)", path=where)
        if read:
            total += info.file_size
    if total > MAX_TOTAL_BYTES:
        raise BadApk(f"zip bomb suspected: entries inflate to {total:,} bytes in all", path=where)


def _read_member(archive: zipfile.ZipFile, name: str, limit: int, where: str, container: str = "archive") -> bytes:
    """One member, read at most `limit` bytes (a lying header cannot make us inflate more)."""
    try:
        with archive.open(name) as stream:
            data = stream.read(limit + 1)
    except RuntimeError as exc:  # zipfile's word for an encrypted member (older .apkm files)
        raise BadApk(f"cannot read {name} from the {container}: {exc} (encrypted {container}s are not supported)",
                     path=where) from exc
    except zlib.error as exc:
        raise BadApk(f"corrupt compressed data in {name} ({type(exc).__name__}: {exc})", path=where) from exc
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise BadApk(f"cannot read {name} from the {container} ({exc})", path=where) from exc
    if len(data) > limit:
        raise BadApk(f"{name} inflates past {limit:,} bytes: zip bomb suspected", path=where)
    return data


def dex_in_archive(blob: bytes, where: str, limit: int) -> list[tuple[str, bytes]]:
    """The classes*.dex inside a jar/zip/apk kept as an asset (code an app or SDK loads at run time), each read
    at most `limit` bytes; the same zip-bomb limits as for the APK itself."""
    with _open_zip(blob, where) as archive:
        infos = _infos(archive, where)
        _check_sizes(infos, where)
        names = sorted((i.filename for i in infos if _DEX_RE.match(i.filename)), key=_dex_sort_key)
        return [(name, _read_member(archive, name, limit, where)) for name in names]


def _apk(path: Path, raw: bytes, names: tuple[str, ...], digests: tuple[str, str, str], part: str = "") -> ApkFile:
    dex_names = tuple(sorted((n for n in names if _DEX_RE.match(n)), key=_dex_sort_key))
    libs = tuple(n for n in names if _LIB_RE.match(n))
    return ApkFile(path=path, raw=raw, sha256=digests[0], sha1=digests[1], md5=digests[2],
                   dex_names=dex_names, native_libs=libs, names=names, part=part)


def _require_code(apk: ApkFile, where: str) -> None:
    if not apk.dex_names:
        hint = (" This looks like one split of a bundle: give the whole .apks/.xapk/.apkm, or its base.apk."
                if _is_split(apk) else "")
        raise BadApk("no classes.dex: an APK without code cannot be analysed." + hint, path=where)


def _inner_apk(outer: zipfile.ZipFile, bundle: str, name: str) -> ApkFile:
    where = f"{bundle}!{name}"
    raw = _read_member(outer, name, MAX_ENTRY_BYTES, bundle, container="bundle")
    if not raw.startswith(b"PK"):
        raise BadApk("not a zip archive (an APK inside a bundle must be one)", path=where)
    with _open_zip(raw, where) as archive:
        infos = _infos(archive, where)
    _check_sizes(infos, where)
    names = tuple(i.filename for i in infos)
    if "AndroidManifest.xml" not in names:
        raise BadApk("no AndroidManifest.xml: not an APK", path=where)
    return _apk(Path(where), raw, names, _digests([raw]), part=name)


def _xapk_base(outer: zipfile.ZipFile, names: tuple[str, ...], where: str) -> str | None:
    """APKPure's manifest.json names the base split; a broken one only loses the hint."""
    if "manifest.json" not in names:
        return None
    try:
        meta = json.loads(_read_member(outer, "manifest.json", 1 << 20, where))
    except (BadApk, ValueError):
        return None
    splits = meta.get("split_apks") if isinstance(meta, dict) else None
    for split in splits if isinstance(splits, list) else []:
        if isinstance(split, dict) and split.get("id") == "base" and isinstance(split.get("file"), str):
            return str(split["file"])
    return None


def quiet_androguard() -> None:
    """androguard logs through loguru at DEBUG by default; keep it to real problems."""
    try:
        from loguru import logger
    except ImportError:  # pragma: no cover - loguru is an androguard dependency
        return
    logger.disable("androguard")


def _is_split(apk: ApkFile) -> bool:
    """A split's binary manifest carries a `split` attribute on <manifest>; the base has none."""
    quiet_androguard()
    from androguard.core.axml import AXMLPrinter

    try:
        root = AXMLPrinter(read_entry(apk, "AndroidManifest.xml", 8 << 20)).get_xml_obj()
    except Exception:  # an unreadable manifest is not evidence of a split; the base check reports it
        return False
    return root is not None and bool(root.get("split"))


def _pick_base(apks: list[ApkFile], named: str | None, where: str) -> ApkFile:
    by_name = {a.part: a for a in apks}
    if named and named in by_name:
        return by_name[named]
    for apk in apks:
        if apk.part.rsplit("/", 1)[-1] == "base.apk":
            return apk
    bases = [a for a in apks if a.dex_names and not _is_split(a)]
    if len(bases) == 1:
        return bases[0]
    if not bases:
        raise BadApk(f"bundle of {len(apks)} APKs has no base APK (one with code and no split name)", path=where)
    raise BadApk("bundle holds several base APKs: " + ", ".join(a.part for a in bases), path=where)


@contextlib.contextmanager
def entry_reader(apk: ApkFile) -> Iterator[Callable[[str, int], bytes]]:
    """`read(name, limit)` for several entries of one APK, over one reading of its central directory."""
    where = str(apk.path)
    with _open_zip(apk.raw, where) as archive:
        yield lambda name, limit: _read_member(archive, name, limit, where)


def sample_entries(apk: ApkFile, keep: Callable[[str, int], bool], head: int,
                   most: int) -> list[tuple[str, int, bytes]]:
    """(name, inflated size, first `head` bytes) of at most `most` entries `keep(name, size)` chooses: enough to
    tell an encrypted blob from media without inflating any entry whole."""
    out: list[tuple[str, int, bytes]] = []
    where = str(apk.path)
    with _open_zip(apk.raw, where) as archive:
        for info in _infos(archive, where):
            if len(out) >= most:
                break
            if info.is_dir() or not keep(info.filename, info.file_size):
                continue
            try:
                with archive.open(info) as stream:
                    out.append((info.filename, info.file_size, stream.read(head)))
            except (RuntimeError, zlib.error, zipfile.BadZipFile, OSError, EOFError, ValueError,
                    NotImplementedError) as exc:
                raise BadApk(f"cannot read {info.filename} from the archive ({exc})", path=where) from exc
    return out


def read_entry(apk: ApkFile, name: str, limit: int = MAX_ENTRY_BYTES) -> bytes:
    """One entry, read at most `limit` bytes (a lying header cannot make us inflate more)."""
    with entry_reader(apk) as read:
        return read(name, limit)
