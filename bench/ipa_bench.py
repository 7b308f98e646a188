"""Static analysis speed and memory on a big generated IPA (issue 17: a 200 MB IPA in under 10 s, bounded memory).

    python bench/ipa_bench.py [--size-mb 200] [--keep]

The IPA is the `shop` fixture grown to an App Store-sized app: its real clang-built frameworks and manifests, plus
a generated main binary (a valid arm64 Mach-O: __objc_classname, __objc_methname and __cstring sections with
hundreds of thousands of class names, selectors and strings — URLs of SDKs among them — and a symbol table with
imports of required-reason and personal-data APIs), 40 more frameworks, and incompressible assets (images, a
bundle) making up the rest. The analysis runs in a child process so that its peak RSS is its own. No peer is run:
MobSF needs a server and its own dependencies, and LIEF parses every load command of the binary (we read five).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import struct
import subprocess
import sys
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "bench" / "_work"
SHOP = REPO / "fixtures" / "ipas" / "shop.ipa"
MB = 1 << 20


def macho(classes: int, rng: random.Random) -> bytes:
    """A thin arm64 MH_EXECUTE with the three string sections and a symbol table: what the reader looks at."""
    prefixes = ["App", "FIRAnalyticsImpl", "GADBanner", "Shop", "UMConfigure"]  # app code and three SDKs
    classnames = b"".join(f"{prefixes[i % len(prefixes)]}{i:06d}\0".encode() for i in range(classes))
    selectors = b"".join(f"doSomething{i}:with:\0".encode() for i in range(classes)) + b"advertisingIdentifier\0"
    hosts = ["app-measurement.com", "graph.facebook.com", "api.shop.divulge-fixture.example", "ulogs.umeng.com"]
    cstrings = b"".join(
        (f"https://{hosts[i % 4]}/v{i}/path\0" if i % 50 == 0 else f"Some user-visible text number {i} {rng.random()}\0")
        .encode() for i in range(classes * 2))
    imports = ["_stat", "_mach_absolute_time", "_statfs", "_OBJC_CLASS_$_NSUserDefaults",
               "_OBJC_CLASS_$_ASIdentifierManager", "_OBJC_CLASS_$_CLLocationManager", "_objc_msgSend"]
    defined = [f"_OBJC_CLASS_$_App{i:06d}" for i in range(classes)]
    strtab = bytearray(b"\0")
    symbols = bytearray()
    for name, ntype in [(n, 0x01) for n in imports] + [(n, 0x0F) for n in defined]:
        symbols += struct.pack("<IBBHQ", len(strtab), ntype, 1 if ntype == 0x0F else 0, 0, 0)
        strtab += name.encode() + b"\0"
    sections = [("__objc_classname", classnames), ("__objc_methname", selectors), ("__cstring", cstrings)]
    seg_size = 72 + 80 * len(sections)
    header_size = 32 + seg_size + 24
    offset = (header_size + 0xFFF) & ~0xFFF
    body = bytearray()
    section_headers = b""
    for name, data in sections:
        section_headers += struct.pack("<16s16sQQIIIIIIII", name.encode(), b"__TEXT", 0x100000000 + offset + len(body),
                                       len(data), offset + len(body), 0, 0, 0, 0x2, 0, 0, 0)
        body += data
    symoff = offset + len(body)
    stroff = symoff + len(symbols)
    segment = struct.pack("<II16sQQQQiiII", 0x19, seg_size, b"__TEXT", 0x100000000, len(body) + offset, 0,
                          len(body) + offset, 5, 5, len(sections), 0) + section_headers
    symtab = struct.pack("<IIIIII", 0x2, 24, symoff, len(symbols) // 16, stroff, len(strtab))
    header = struct.pack("<IiiIIIII", 0xFEEDFACF, 0x0100000C, 0, 2, 2, seg_size + 24, 0x200085, 0)
    out = bytearray(header + segment + symtab)
    out += b"\0" * (offset - len(out))
    return bytes(out + body + symbols + strtab)


def build(path: Path, size_mb: int) -> None:
    rng = random.Random(17)
    with zipfile.ZipFile(SHOP) as shop:
        entries = {n: shop.read(n) for n in shop.namelist()}
    main = macho(400_000, rng)
    entries["Payload/Shop.app/Shop"] = main
    framework = entries["Payload/Shop.app/Frameworks/AppsFlyerLib.framework/AppsFlyerLib"]
    for i in range(40):
        entries[f"Payload/Shop.app/Frameworks/Vendor{i}.framework/Vendor{i}"] = framework
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
        index = 0
        while archive.fp is not None and archive.fp.tell() < size_mb * MB:
            blob = rng.randbytes(4 * MB)  # images and media do not compress
            archive.writestr(zipfile.ZipInfo(f"Payload/Shop.app/Assets/asset{index:04d}.png"), blob)
            index += 1


_CHILD = """
import json, resource, sys, time
from pathlib import Path
from scanner.knowledge.sdks import shared_catalog
catalog = shared_catalog()
start = time.perf_counter()
from scanner.static import analyze_apk
report = analyze_apk(Path(sys.argv[1]), catalog=catalog)
elapsed = time.perf_counter() - start
print(json.dumps({"seconds": elapsed, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "sdks": sorted(h.id for h in report.sdks), "classes": report.class_count,
                  "endpoints": len(report.endpoints),
                  "required_reason": sorted({u.category for u in report.ios.required_reason_apis})}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--keep", action="store_true", help="keep the generated IPA in bench/_work/")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"big-{args.size_mb}mb.ipa"
    if not path.is_file():
        started = time.perf_counter()
        build(path, args.size_mb)
        print(f"generated {path.name}: {path.stat().st_size / MB:.0f} MB in {time.perf_counter() - started:.1f} s",
              file=sys.stderr)
    with zipfile.ZipFile(path) as archive:
        binary_mb = archive.getinfo("Payload/Shop.app/Shop").file_size / MB
    done = subprocess.run([sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONHASHSEED": "0"})
    result = json.loads(done.stdout)
    print(f"divulge static on a {path.stat().st_size / MB:.0f} MB IPA (main binary {binary_mb:.0f} MB, "
          f"{result['classes']:,} classes): {result['seconds']:.2f} s, peak RSS {result['peak_rss_mb']:.0f} MB "
          "(catalog loaded before timing)")
    print(f"  SDKs {result['sdks']}; {result['endpoints']} endpoints; required-reason {result['required_reason']}")
    if not args.keep:
        path.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
