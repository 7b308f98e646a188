"""The bounded DEX reader against real dex files (dexdump, androguard), a generated dex with planted calls,
and malformed input."""

from __future__ import annotations

import importlib.util
import random
import re
import struct
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

from scanner.static.dex import CallSite, DexFormatError, DexScan, _mutf8, scan_dex

CORPUS = "corpus/apks"
FRAMEWORK_MEMBERS = frozenset({
    ("android.content.Context", "getSystemService"),
    ("android.content.ContentResolver", "query"),
    ("android.location.LocationManager", "getLastKnownLocation"),
    ("android.telephony.SmsManager", "sendTextMessage"),
    ("android.telephony.TelephonyManager", "getDeviceId"),
    ("android.os.Build", "SERIAL"),
    ("android.os.Build$VERSION", "SDK_INT"),
    ("java.lang.StringBuilder", "append"),
    ("android.view.View", "findViewById"),
})
WANTED_STRINGS = frozenset({"android_id", "phone", "content://com.android.launcher*"})
_METHOD_HEAD = re.compile(r"\|\[[0-9a-f]+\] (\S+)\.([^.:]+):\(")
_MEMBER_USE = re.compile(r"\|[0-9a-f]{4}: (invoke-[a-z/-]+|[is]get[a-z-]*) .*?, L([^;]+);\.([^:]+):")
_CONST_STRING = re.compile(r'\|[0-9a-f]{4}: const-string(?:/jumbo)? v\d+, "(.*)" // string@')


def _corpus_dex(shared_reference: Path) -> list[tuple[str, str, bytes]]:
    found = []
    for apk in sorted((shared_reference / CORPUS).glob("*.apk")):
        with zipfile.ZipFile(apk) as archive:
            for name in archive.namelist():
                if re.fullmatch(r"classes\d*\.dex", name):
                    found.append((apk.name, name, archive.read(name)))
    return found


def _scan(data: bytes, name: str = "classes.dex", **kw: object) -> DexScan:
    options: dict = {"wanted_members": FRAMEWORK_MEMBERS, "wanted_strings": WANTED_STRINGS,
                     "owner_of": lambda cls: None}
    options.update(kw)
    return scan_dex(data, name, **options)


def _wanted_string(text: str) -> bool:
    return any(text.startswith(w[:-1]) if w.endswith("*") else text == w for w in WANTED_STRINGS)


def _dexdump_uses(dexdump: str, path: Path) -> tuple[set[tuple[str, str, str, str]], set[tuple[str, str, str]]]:
    """(caller class, caller method, target class, member) of wanted invokes and field reads, and
    (caller class, caller method, string) of wanted const-strings, from `dexdump -d`."""
    out = subprocess.run([dexdump, "-d", str(path)], capture_output=True, text=True, errors="replace",
                         check=True).stdout
    calls: set[tuple[str, str, str, str]] = set()
    strings: set[tuple[str, str, str]] = set()
    caller: tuple[str, str] | None = None
    for line in out.splitlines():
        if head := _METHOD_HEAD.search(line):
            caller = (head.group(1), head.group(2))
        elif caller and (use := _MEMBER_USE.search(line)):
            op = use.group(1)
            target = (use.group(2).replace("/", "."), use.group(3))
            if "polymorphic" not in op and "custom" not in op and target in FRAMEWORK_MEMBERS:
                calls.add((*caller, *target))
        elif caller and (const := _CONST_STRING.search(line)) and _wanted_string(const.group(1)):
            strings.add((*caller, const.group(1)))
    return calls, strings


@pytest.fixture(scope="module")
def apkgen(repo_root: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("apkgen", repo_root / "bench" / "apkgen.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["apkgen"] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generated(apkgen: ModuleType) -> tuple[bytes, object]:
    """One generated dex of 1500 classes with planted sensitive calls, app->SDK calls and decoys."""
    classes, truth = apkgen.plan_classes(1500, 1, random.Random(7))
    return apkgen.DexWriter(classes).build(), truth


# ---- real dex files --------------------------------------------------------------------------------------
def test_call_sites_and_string_uses_match_dexdump(shared_reference: Path, require_tool, tmp_path: Path) -> None:
    dexdump = require_tool("dexdump")
    total_calls = 0
    for apk, name, data in _corpus_dex(shared_reference):
        path = tmp_path / f"{apk}-{name}"
        path.write_bytes(data)
        expected_calls, expected_strings = _dexdump_uses(dexdump, path)
        scan = _scan(data, name)
        calls = {(c.caller_class, c.caller_method, c.target_class, c.target_member) for c in scan.call_sites}
        strings = {(s.caller_class, s.caller_method, s.target_member) for s in scan.string_uses}
        assert calls == expected_calls, f"{apk}/{name}: {sorted(calls ^ expected_calls)[:5]}"
        assert strings == expected_strings, f"{apk}/{name}: {sorted(strings ^ expected_strings)[:5]}"
        total_calls += len(calls)
    assert total_calls > 2000  # the corpus really exercises the search (StringBuilder.append alone is common)


def test_defined_classes_match_androguard(shared_reference: Path) -> None:
    from androguard.core.dex import DEX

    small = [d for d in _corpus_dex(shared_reference) if len(d[2]) < 700_000]
    assert len(small) >= 5
    for apk, name, data in small:
        expected = [c.get_name()[1:-1].replace("/", ".") for c in DEX(data).get_classes()]
        assert sorted(_scan(data, name).defined_classes) == sorted(expected), f"{apk}/{name}"


def test_strings_are_attached_to_call_sites_in_the_same_method(shared_reference: Path) -> None:
    scans = {(apk, name): _scan(data, name) for apk, name, data in _corpus_dex(shared_reference)}
    a2dp = scans[("androguard__a2dp.Vol_137.apk", "classes.dex")]
    # service.onCreate does getSystemService("phone"): the string travels with the call site.
    assert CallSite("a2dp.Vol.service", "onCreate", "android.content.Context", "getSystemService",
                    ("phone",)) in a2dp.call_sites
    launcher = {s.target_member for s in a2dp.string_uses}
    assert {"content://com.android.launcher.settings/favorites",
            "content://com.android.launcher2.settings/favorites"} <= launcher  # prefix match
    assert "https://github.com/jroal/a2dpvolume/wiki" in a2dp.urls
    assert all(re.match(r"(https?|wss?)://\S", url) for s in scans.values() for url in s.urls)


# ---- a generated dex: exact ground truth ---------------------------------------------------------------------
def test_generated_dex_planted_calls_are_found_exactly(apkgen: ModuleType, generated) -> None:
    data, truth = generated
    members = {(apkgen.dotted(cls), name) for cls, name, _ in apkgen.SENSITIVE.values()}
    scan = scan_dex(data, "classes.dex", wanted_members=members, wanted_strings={"android_id"},
                    owner_of=apkgen.owner_of)
    found = {(c.caller_class, c.caller_method, c.target_class, c.target_member) for c in scan.call_sites}
    # Exact equality: decoy literals and fill-array-data payloads spelling getDeviceId are not calls.
    assert found == set(truth.sensitive)
    for site in scan.call_sites:
        if site.target_member == "getString":
            assert site.strings == ("android_id",)
    assert len(scan.defined_classes) == 1500
    expected_wired = {owner for _, _, owner, _ in truth.wired}
    assert set(scan.wired) == expected_wired
    truth_wired = {(cls, method, owner) for cls, method, owner, _ in truth.wired}
    for owner, site in scan.wired.items():
        assert (site.caller_class, site.caller_method, owner) in truth_wired
        assert apkgen.owner_of(site.caller_class) is None and apkgen.owner_of(site.target_class) == owner
    assert any(url.startswith("https://") for url in scan.urls)


def test_generated_dex_is_valid_for_dexdump_and_androguard(generated, require_tool, tmp_path: Path) -> None:
    from androguard.core.dex import DEX

    data, _ = generated
    path = tmp_path / "classes.dex"
    path.write_bytes(data)
    check = subprocess.run([require_tool("dexdump"), "-c", str(path)], capture_output=True, text=True)
    assert check.returncode == 0 and "Checksum verified" in check.stdout, check.stderr
    names = sorted(c.get_name()[1:-1].replace("/", ".") for c in DEX(data).get_classes())
    assert names == sorted(_scan(data).defined_classes)


def test_mutf8_decodes_nul_and_surrogate_pairs() -> None:
    assert _mutf8(b"a\xc0\x80b") == "a\x00b"
    assert _mutf8("é".encode()) == "é"
    assert _mutf8(b"\xed\xa0\xbd\xed\xb8\x80") == "\U0001f600"  # CESU-8 pair of U+1F600


# ---- malformed input ------------------------------------------------------------------------------------------
def _small_dex(shared_reference: Path) -> bytes:
    with zipfile.ZipFile(shared_reference / CORPUS / "fdroidserver__com.politedroid_6.apk") as apk:
        return apk.read("classes.dex")


@pytest.mark.parametrize("mutate, message", [
    (lambda d: b"zip\n035\x00" + d[8:], "bad magic"),
    (lambda d: d[:0x40], "truncated header"),
    (lambda d: d[: len(d) // 2], "truncated"),
    (lambda d: d[:0x38] + struct.pack("<I", 0x7FFFFFFF) + d[0x3C:], "string_ids table"),
    (lambda d: d[:0x28] + struct.pack("<I", 0x78563412) + d[0x2C:], "endian"),
])
def test_malformed_headers_raise_dex_format_error(shared_reference: Path, mutate, message: str) -> None:
    with pytest.raises(DexFormatError, match=message):
        _scan(mutate(_small_dex(shared_reference)))


def test_overlapping_class_data_is_rejected(shared_reference: Path) -> None:
    data = bytearray(_small_dex(shared_reference))
    class_defs_size, class_defs_off = struct.unpack_from("<II", data, 0x60)
    assert class_defs_size >= 2
    first = struct.unpack_from("<I", data, class_defs_off + 24)[0]
    # Point the second class's class_data one byte into the first one's.
    struct.pack_into("<I", data, class_defs_off + 32 + 24, first + 1)
    with pytest.raises(DexFormatError):
        _scan(bytes(data))


def test_random_corruption_raises_dex_format_error_or_scans(shared_reference: Path) -> None:
    original = _small_dex(shared_reference)
    rng = random.Random(20240601)
    started = time.monotonic()
    outcomes = {"scanned": 0, "rejected": 0}
    for _ in range(400):
        data = bytearray(original)
        for _ in range(rng.randrange(1, 12)):
            # Bias towards the header and id tables, where a flip changes offsets and counts.
            at = rng.randrange(0x70 if rng.random() < 0.3 else len(data))
            data[at] = rng.randrange(256)
        if rng.random() < 0.1:
            data = data[: rng.randrange(len(data))]
        try:
            result = _scan(bytes(data), owner_of=lambda cls: "sdk_x" if cls.startswith("android.") else None)
        except DexFormatError:
            outcomes["rejected"] += 1
        else:
            assert isinstance(result, DexScan)
            outcomes["scanned"] += 1
    assert outcomes["scanned"] > 0 and outcomes["rejected"] > 0, outcomes
    assert time.monotonic() - started < 60
