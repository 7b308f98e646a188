"""Generic signs that an app's real code is not in its dex files (APKiD's "packer" and "dropper" signs, without
naming a vendor): a stub Application outside the app's package that loads code, manifest components with no class,
a tiny dex beside large encrypted-looking files. Commercial packers are named by the SDK catalog; these signs catch
the ones it does not know. Any of them makes the static view a lower bound, and the report says so and why."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from scanner.entropy import entropy_bits
from scanner.model import ManifestFacts
from scanner.static.archive import ApkFile, sample_entries
from scanner.static.dex import DexScan

# Calls that load code the dex does not contain: a dex or jar from a file or memory, or a native library whose
# JNI_OnLoad can define classes.
LOADER_MEMBERS: frozenset[tuple[str, str]] = frozenset({
    ("dalvik.system.DexClassLoader", "<init>"), ("dalvik.system.InMemoryDexClassLoader", "<init>"),
    ("dalvik.system.PathClassLoader", "<init>"), ("dalvik.system.DexFile", "loadDex"),
    ("dalvik.system.DexFile", "<init>"), ("java.lang.System", "loadLibrary"), ("java.lang.System", "load"),
})
TINY_DEX_CLASSES = 64  # a stub: a real app with any UI library has hundreds of classes
BLOB_MIN_BYTES = 256 << 10
SAMPLE_BYTES = 64 << 10
BLOB_MIN_ENTROPY = 7.9  # bits per byte over the sample: compressed or encrypted data
MAX_SAMPLED = 64
# Formats that are high-entropy by nature: media, fonts, archives, databases, models. Their magic clears them.
_MEDIA_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"RIFF", b"OggS", b"ID3", b"\xff\xfb", b"\xff\xf3", b"fLaC",
                b"PK\x03\x04", b"\x1f\x8b", b"7z\xbc\xaf", b"BZh", b"\x28\xb5\x2f\xfd", b"SQLite format 3",
                b"OTTO", b"\x00\x01\x00\x00", b"wOFF", b"wOF2", b"ttcf", b"\x1aE\xdf\xa3", b"UnityFS", b"TFL3", b"\x08\x00\x00\x00", b"dex\n",
                b"\x7fELF", b"%PDF", b"BM", b"\xca\xfe\xba\xbe", b"ANMF")
_SKIP_PREFIXES = ("res/", "lib/", "META-INF/", "kotlin/", "okhttp3/")


def _is_candidate(name: str, size: int) -> bool:
    return (size >= BLOB_MIN_BYTES and not name.startswith(_SKIP_PREFIXES) and name != "resources.arsc"
            and not (name.startswith("classes") and name.endswith(".dex")))


def encrypted_blobs(apk: ApkFile) -> list[str]:
    """Large files whose bytes look random and carry no known format's magic, as "name (size, entropy)"."""
    found = []
    for name, size, head in sample_entries(apk, _is_candidate, SAMPLE_BYTES, MAX_SAMPLED):
        if head.startswith(_MEDIA_MAGIC) or head[4:8] == b"ftyp":  # ftyp: MP4, MOV, HEIF, AVIF
            continue
        bits = entropy_bits(head)
        if bits >= BLOB_MIN_ENTROPY:
            found.append(f"{name} ({size:,} bytes, {bits:.2f} bits/byte)")
    return found


def hidden_code_signs(package: str, manifest: ManifestFacts, scans: list[DexScan], defined: set[str],
                      apks: Iterable[ApkFile], owner_of: Callable[[str], str | None]) -> list[str]:
    """The signs, each one sentence with its evidence; [] for an ordinary app.

    An Application class outside the package is common on its own (build flavours change the package, not the
    code), so it is a sign only beside a strong one: that code loading code, components with no class, or a
    tiny dex beside encrypted-looking files."""
    signs: list[str] = []
    strong = False
    app_class = manifest.application_class
    if app_class is not None and not _in_package(app_class, package) and owner_of(app_class) is None:
        stub_package = app_class.rpartition(".")[0]
        signs.append(f"the Application class {app_class} lives outside the app's package {package}")
        loaders = sorted({f"{s.target_class}.{s.target_member}" for scan in scans for s in scan.call_sites
                          if (s.target_class, s.target_member) in LOADER_MEMBERS
                          and s.caller_class.split("$", 1)[0].rpartition(".")[0] == stub_package})
        if loaders:
            strong = True
            signs.append(f"code in its package loads code at run time ({', '.join(loaders)})")
    missing = sorted(c.name for c in manifest.components
                     if _in_package(c.name, package) and c.name not in defined and owner_of(c.name) is None)
    if missing:
        strong = True
        shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
        signs.append(f"{len(missing)} of the app's own manifest components have no class in any dex ({shown}; "
                     "a packer's payload, or a feature split that was not given)")
    tiny = len(defined) <= TINY_DEX_CLASSES
    if not (strong or tiny):
        return []  # an ordinary app: its assets are not even read
    blobs = [blob for apk in apks for blob in encrypted_blobs(apk)]
    if tiny and (strong or blobs):
        strong = True
        signs.append(f"the dex files define only {len(defined)} classes")
    if blobs:
        shown = ", ".join(blobs[:3]) + (f" and {len(blobs) - 3} more" if len(blobs) > 3 else "")
        signs.append(f"large files that look encrypted: {shown}")
    return signs if strong else []


def _in_package(name: str, package: str) -> bool:
    return bool(package) and (name == package or name.startswith(package + "."))
