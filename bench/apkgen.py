"""Generate large, realistic synthetic APKs without a JDK: dex files written directly, SDK packages, planted calls.

Usage: python bench/apkgen.py OUT.apk [--classes 80000] [--dex-files 8] [--seed 1]
Writes OUT.apk and OUT.truth.json (the planted sensitive calls and app->SDK calls, for checking scanners).
The dex writer emits sorted id tables, class_data, code items with real instructions (invokes, field reads,
const-strings, switches and fill-array-data payloads), a map list, and the adler32 checksum and SHA-1
signature, so dexdump's verifier and androguard both accept it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import random
import struct
import zipfile
import zlib
from array import array
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("apkgen")

MANIFEST_SOURCE_APK = Path(__file__).resolve().parents[2] / "shared/reference/corpus/apks/fdroidserver__info.zwanenburg.caffeinetile_4.apk"

OBJECT = "Ljava/lang/Object;"
STRING = "Ljava/lang/String;"
INT_ARRAY = "[I"
Proto = tuple[str, tuple[str, ...]]  # (return type, parameter types)
MethodRef = tuple[str, str, Proto]  # (class, name, proto)
FieldRef = tuple[str, str, str]  # (class, name, type)

P_V: Proto = ("V", ())
P_II: Proto = ("I", ("I",))

# Framework members the planted "sensitive" snippets call: (class, name, proto).
SENSITIVE: dict[str, MethodRef] = {
    "deviceid": ("Landroid/telephony/TelephonyManager;", "getDeviceId", (STRING, ())),
    "androidid": ("Landroid/provider/Settings$Secure;", "getString",
                  (STRING, ("Landroid/content/ContentResolver;", STRING))),
    "location": ("Landroid/location/LocationManager;", "getLastKnownLocation",
                 ("Landroid/location/Location;", (STRING,))),
    "packages": ("Landroid/content/pm/PackageManager;", "getInstalledPackages", ("Ljava/util/List;", ("I",))),
    "mac": ("Landroid/net/wifi/WifiInfo;", "getMacAddress", (STRING, ())),
}
OBJECT_INIT: MethodRef = (OBJECT, "<init>", P_V)


@dataclass(frozen=True)
class Group:
    prefix: str  # slash-separated package prefix
    subpackages: tuple[str, ...]
    share: float  # fraction of all classes
    owner: str | None  # SDK id, "lib", or None for app code
    entry: str = ""  # class (under prefix) whose static method app code calls
    entry_method: str = ""


GROUPS: tuple[Group, ...] = (
    Group("androidx", ("appcompat/widget", "core/view", "recyclerview/widget", "lifecycle", "fragment/app",
                       "constraintlayout/widget", "room", "work/impl"), 0.22, "lib"),
    Group("kotlin", ("collections", "coroutines/internal", "jvm/internal", "text", "sequences", "io"), 0.10, "lib"),
    Group("okhttp3", ("internal/http", "internal/connection", "internal/cache"), 0.03, "lib"),
    Group("com/google/firebase/analytics", ("", "connector", "internal"), 0.05, "google_firebase_analytics",
          "FirebaseAnalytics", "logEvent"),
    Group("com/facebook/appevents", ("", "internal", "codeless"), 0.05, "facebook_analytics",
          "AppEventsLogger", "logEvent"),
    Group("com/umeng/analytics", ("", "pro", "process"), 0.03, "umeng_analytics", "MobclickAgent", "onEvent"),
    Group("cn/jpush/android", ("api", "service", "helper"), 0.03, "jpush", "api/JPushInterface", "init"),
    Group("com/tencent/bugly", ("crashreport", "proguard", "beta"), 0.03, "bugly",
          "crashreport/CrashReport", "initCrashReport"),
    Group("com/qq/e", ("comm/managers", "ads/banner2", "comm/util"), 0.04, "gdt_ads",
          "comm/managers/GDTAdSdk", "init"),
    Group("org/example/big", ("ui", "data", "net", "util", "feature/a", "feature/b"), 0.42, None),
)
WORDS = ("Manager", "Helper", "Impl", "Factory", "Holder", "Adapter", "Util", "Config", "Task", "Cache",
         "Request", "Event", "State", "Model", "View", "Client", "Handler", "Store", "Builder", "Callback")
VIRTUAL_NAMES = ("a", "b", "run", "onClick", "process", "handle", "update", "load", "apply", "invoke")
URL_HOSTS = ("api.example.org", "cdn.example.net", "graph.facebook.com", "app-measurement.com",
             "ulogs.umeng.com", "tsis.jpush.cn", "android.bugly.qq.com", "mi.gdt.qq.com", "stats.example.com")


@dataclass
class ClassSpec:
    descriptor: str
    group: Group
    dex: int
    snippets: list[list[tuple]] = field(default_factory=list)  # per method: virtual0, virtual1, static
    virtual_names: tuple[str, str] = ("a", "b")


@dataclass
class Truth:
    sensitive: list[tuple[str, str, str, str]] = field(default_factory=list)  # caller cls, method, target, member
    wired: list[tuple[str, str, str, str]] = field(default_factory=list)  # caller cls, method, sdk id, entry cls
    classes_per_group: dict[str, int] = field(default_factory=dict)


def dotted(descriptor: str) -> str:
    return descriptor[1:-1].replace("/", ".")


def _uleb(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _shorty(proto: Proto) -> str:
    return "".join("L" if t[0] in "L[" else t for t in (proto[0], *proto[1]))


# ---- the program: classes and their method bodies as snippets -------------------------------------------
def plan_classes(n_classes: int, n_dex: int, rng: random.Random) -> tuple[list[ClassSpec], Truth]:
    truth = Truth()
    classes: list[ClassSpec] = []
    entries: dict[str, ClassSpec] = {}
    seen: set[str] = set()
    for group in GROUPS:
        count = max(4, round(n_classes * group.share))
        truth.classes_per_group[group.prefix.replace("/", ".")] = count
        names: list[str] = []
        if group.entry:
            names.append(f"L{group.prefix}/{group.entry};")
        taken = set(names)
        while len(names) < count:
            sub = rng.choice(group.subpackages)
            pkg = f"{group.prefix}/{sub}" if sub else group.prefix
            name = f"L{pkg}/{rng.choice(WORDS)}{len(names)}"
            name += "$" + str(rng.randrange(1, 4)) + ";" if rng.random() < 0.2 else ";"
            if name not in seen and name not in taken:
                names.append(name)
                taken.add(name)
        for i, descriptor in enumerate(names):
            seen.add(descriptor)
            spec = ClassSpec(descriptor, group, rng.randrange(n_dex))
            spec.virtual_names = tuple(rng.sample(VIRTUAL_NAMES, 2))  # type: ignore[assignment]
            classes.append(spec)
            if i == 0 and group.entry:
                entries[group.owner or ""] = spec
    by_dex_group: dict[tuple[int, str], list[ClassSpec]] = {}
    for spec in classes:
        by_dex_group.setdefault((spec.dex, spec.group.prefix), []).append(spec)
    libs = [g for g in GROUPS if g.owner == "lib"]
    for spec in classes:
        peers = by_dex_group[(spec.dex, spec.group.prefix)]
        is_app = spec.group.owner is None
        is_sdk = spec.group.owner not in (None, "lib")
        for m in range(3):
            body: list[tuple] = [("const4", rng.randrange(8))]
            for _ in range(rng.randrange(1, 5)):
                body.append(_random_snippet(rng, spec, peers, m == 2))
            if is_app and rng.random() < 0.15:  # app code leans on androidx/kotlin
                lib = by_dex_group.get((spec.dex, rng.choice(libs).prefix))
                if lib:
                    body.append(("calls", (rng.choice(lib).descriptor, "s", P_II)))
            caller = (dotted(spec.descriptor), _method_name(spec, m))
            if (is_app or is_sdk) and rng.random() < 0.0015:
                kind = rng.choice(sorted(SENSITIVE))
                body.append((kind,))
                target = SENSITIVE[kind]
                truth.sensitive.append((*caller, dotted(target[0]), target[1]))
            if is_app and rng.random() < 0.002:
                owner, entry = rng.choice(sorted(entries.items()))
                body.append(("calls", (entry.descriptor, entry.group.entry_method, P_II)))
                truth.wired.append((*caller, owner, dotted(entry.descriptor)))
            if is_sdk and rng.random() < 0.002:
                body.append((rng.choice(("decoy_wide", "decoy_array")),))
            spec.snippets.append(body)
    # Every SDK gets at least one app caller and every sensitive API a planted call from app and SDK code.
    app = [c for c in classes if c.group.owner is None]
    sdk = [c for c in classes if c.group.owner not in (None, "lib")]
    for owner, entry in sorted(entries.items()):
        spec = rng.choice(app)
        spec.snippets[0].append(("calls", (entry.descriptor, entry.group.entry_method, P_II)))
        truth.wired.append((dotted(spec.descriptor), _method_name(spec, 0), owner, dotted(entry.descriptor)))
    for kind, target in sorted(SENSITIVE.items()):
        for pool in (app, sdk):
            spec = rng.choice(pool)
            spec.snippets[1].append((kind,))
            truth.sensitive.append((dotted(spec.descriptor), _method_name(spec, 1), dotted(target[0]), target[1]))
    return classes, truth


def _method_name(spec: ClassSpec, m: int) -> str:
    return spec.virtual_names[m] if m < 2 else ("s" if spec.group.entry == "" or
                                                  spec.descriptor != f"L{spec.group.prefix}/{spec.group.entry};"
                                                  else spec.group.entry_method)


def _random_snippet(rng: random.Random, spec: ClassSpec, peers: list[ClassSpec], static: bool) -> tuple:
    roll = rng.random()
    other = rng.choice(peers)
    if roll < 0.18:
        return ("str", _random_string(rng, spec))
    if roll < 0.30 and not static:
        return ("iget", (spec.descriptor, "a", "I"))
    if roll < 0.40:
        return ("sget", (other.descriptor, "c", STRING))
    if roll < 0.58:
        return ("callv", (other.descriptor, other.virtual_names[0], P_V))
    if roll < 0.72:
        return ("calls", (other.descriptor, _method_name(other, 2), P_II))
    if roll < 0.80:
        return ("if",)
    if roll < 0.85:
        return ("switch", rng.randrange(2, 6))
    if roll < 0.88:
        return ("sparse", rng.randrange(2, 5))
    if roll < 0.92:
        return ("array", rng.randrange(1, 7))
    if roll < 0.96:
        return ("range", (other.descriptor, _method_name(other, 2), P_II))
    return ("wide", rng.getrandbits(63))


def _random_string(rng: random.Random, spec: ClassSpec) -> str:
    roll = rng.random()
    if roll < 0.03:
        scheme = "https" if rng.random() < 0.8 else rng.choice(("http", "wss"))
        return f"{scheme}://{rng.choice(URL_HOSTS)}/v{rng.randrange(1, 4)}/{rng.choice(WORDS).lower()}"
    if roll < 0.5:
        return f"{rng.choice(WORDS).lower()}_{rng.randrange(4000)}"
    return f"{dotted(spec.descriptor).rsplit('.', 1)[-1]}: {rng.choice(WORDS)} {rng.randrange(100)}"


# ---- the dex writer -----------------------------------------------------------------------------------
class DexWriter:
    """Lays out one dex file from class specs: collects every reference, sorts the id tables, encodes."""

    def __init__(self, classes: list[ClassSpec]) -> None:
        self.classes = sorted(classes, key=lambda c: c.descriptor)
        self.strings: set[str] = set()
        self.types: set[str] = {OBJECT, STRING}
        self.protos: set[Proto] = {P_V, P_II}
        self.fields: set[FieldRef] = set()
        self.methods: set[MethodRef] = {OBJECT_INIT, SENSITIVE["deviceid"]}

    def _collect(self) -> None:
        for spec in self.classes:
            d = spec.descriptor
            self.types.add(d)
            self.fields.update(((d, "a", "I"), (d, "b", STRING), (d, "c", STRING)))
            self.methods.update(((d, "<init>", P_V), (d, spec.virtual_names[0], P_V),
                                 (d, spec.virtual_names[1], P_II), (d, _method_name(spec, 2), P_II)))
            for body in spec.snippets:
                for snippet in body:
                    kind = snippet[0]
                    if kind == "str":
                        self.strings.add(snippet[1])
                    elif kind in ("iget", "sget"):
                        self.fields.add(snippet[1])
                    elif kind in ("calls", "range"):
                        self.methods.add(snippet[1])
                    elif kind == "callv":
                        self.methods.add(snippet[1])
                        self.methods.add((snippet[1][0], "<init>", P_V))
                        self.types.add(snippet[1][0])
                    elif kind == "array":
                        self.types.add(INT_ARRAY)
                    elif kind in SENSITIVE:
                        self.methods.add(SENSITIVE[kind])
                        self.types.add(SENSITIVE[kind][0])
                        self.strings.update(("android_id", "gps"))
        for cls, name, ftype in self.fields:
            self.types.update((cls, ftype))
            self.strings.add(name)
        for cls, name, proto in self.methods:
            self.types.add(cls)
            self.strings.add(name)
            self.protos.add(proto)
        for ret, params in self.protos:
            self.types.update((ret, *params))
            self.strings.add(_shorty((ret, params)))
        self.strings.update(self.types)

    def build(self) -> bytes:
        self._collect()
        strings = sorted(self.strings)  # ASCII only, so str order is UTF-16 order
        if max(len(strings), len(self.methods), len(self.fields)) > 0xFFFF:
            raise ValueError("too many classes for one dex: raise --dex-files")
        sidx = {s: i for i, s in enumerate(strings)}
        types = sorted(self.types, key=sidx.__getitem__)
        tidx = {t: i for i, t in enumerate(types)}
        protos = sorted(self.protos, key=lambda p: (tidx[p[0]], tuple(tidx[t] for t in p[1])))
        pidx = {p: i for i, p in enumerate(protos)}
        fields = sorted(self.fields, key=lambda f: (tidx[f[0]], sidx[f[1]], tidx[f[2]]))
        fidx = {f: i for i, f in enumerate(fields)}
        methods = sorted(self.methods, key=lambda m: (tidx[m[0]], sidx[m[1]], pidx[m[2]]))
        midx = {m: i for i, m in enumerate(methods)}
        self.sidx, self.tidx, self.fidx, self.midx = sidx, tidx, fidx, midx

        ids_end = 0x70 + 4 * len(strings) + 4 * len(types) + 12 * len(protos) + 8 * len(fields) \
            + 8 * len(methods) + 32 * len(self.classes)
        data_off = (ids_end + 3) & ~3
        out = bytearray(data_off)
        # code items, in class_def order
        code_offs: dict[MethodRef, int] = {}
        code_start = len(out)
        n_code = 0
        for spec in self.classes:
            d = spec.descriptor
            bodies = {
                (d, "<init>", P_V): (self._init_body(d), 1),
                (d, spec.virtual_names[0], P_V): (self._body(spec.snippets[0], 7, P_V), 1),
                (d, spec.virtual_names[1], P_II): (self._body(spec.snippets[1], 6, P_II), 2),
                (d, _method_name(spec, 2), P_II): (self._body(spec.snippets[2], None, P_II), 1),
            }
            for ref in sorted(bodies, key=midx.__getitem__):
                insns, ins_size = bodies[ref]
                code_offs[ref] = len(out)
                out += struct.pack("<4HII", 8, ins_size, 3, 0, 0, len(insns))
                out += insns.tobytes()
                if len(out) % 4:
                    out += b"\0" * (4 - len(out) % 4)
                n_code += 1
        # type lists (parameters of protos)
        type_list_start = len(out)
        type_lists: dict[tuple[str, ...], int] = {}
        for _, params in protos:
            if params and params not in type_lists:
                type_lists[params] = len(out)
                out += struct.pack("<I", len(params)) + struct.pack(f"<{len(params)}H", *(tidx[t] for t in params))
                if len(out) % 4:
                    out += b"\0" * (4 - len(out) % 4)
        # string data
        string_data_start = len(out)
        string_offs = []
        for s in strings:
            string_offs.append(len(out))
            out += _uleb(len(s)) + s.encode("ascii") + b"\0"
        # class data
        class_data_start = len(out)
        class_data_offs = []
        for spec in self.classes:
            d = spec.descriptor
            class_data_offs.append(len(out))
            static_fields = [fidx[(d, "c", STRING)]]
            instance_fields = sorted((fidx[(d, "a", "I")], fidx[(d, "b", STRING)]))
            direct = sorted([(midx[(d, "<init>", P_V)], 0x10001), (midx[(d, _method_name(spec, 2), P_II)], 0x9)])
            virtual = sorted([(midx[(d, spec.virtual_names[0], P_V)], 0x1),
                              (midx[(d, spec.virtual_names[1], P_II)], 0x1)])
            rev = {midx[r]: code_offs[r] for r in ((d, "<init>", P_V), (d, spec.virtual_names[0], P_V),
                                                   (d, spec.virtual_names[1], P_II), (d, _method_name(spec, 2), P_II))}
            out += _uleb(1) + _uleb(2) + _uleb(len(direct)) + _uleb(len(virtual))
            for group_fields, flags in ((static_fields, 0x9), (instance_fields, 0x2)):
                prev = 0
                for f in group_fields:
                    out += _uleb(f - prev) + _uleb(flags)
                    prev = f
            for group_methods in (direct, virtual):
                prev = 0
                for m, flags in group_methods:
                    out += _uleb(m - prev) + _uleb(flags) + _uleb(rev[m])
                    prev = m
        if len(out) % 4:
            out += b"\0" * (4 - len(out) % 4)
        map_off = len(out)
        # id tables
        ids = bytearray()
        ids += array("I", string_offs).tobytes()
        ids += array("I", [sidx[t] for t in types]).tobytes()
        for ret, params in protos:
            ids += struct.pack("<III", sidx[_shorty((ret, params))], tidx[ret], type_lists.get(params, 0))
        for cls, name, ftype in fields:
            ids += struct.pack("<HHI", tidx[cls], tidx[ftype], sidx[name])
        for cls, name, proto in methods:
            ids += struct.pack("<HHI", tidx[cls], pidx[proto], sidx[name])
        for spec, cd_off in zip(self.classes, class_data_offs, strict=True):
            ids += struct.pack("<8I", tidx[spec.descriptor], 0x1, tidx[OBJECT], 0, 0xFFFFFFFF, 0, cd_off, 0)
        out[0x70:0x70 + len(ids)] = ids
        string_ids_off = 0x70
        type_ids_off = string_ids_off + 4 * len(strings)
        proto_ids_off = type_ids_off + 4 * len(types)
        field_ids_off = proto_ids_off + 12 * len(protos)
        method_ids_off = field_ids_off + 8 * len(fields)
        class_defs_off = method_ids_off + 8 * len(methods)
        sections = [
            (0x0000, 1, 0), (0x0001, len(strings), string_ids_off), (0x0002, len(types), type_ids_off),
            (0x0003, len(protos), proto_ids_off), (0x0004, len(fields), field_ids_off),
            (0x0005, len(methods), method_ids_off), (0x0006, len(self.classes), class_defs_off),
            (0x2001, n_code, code_start), (0x1001, len(type_lists), type_list_start),
            (0x2002, len(strings), string_data_start), (0x2000, len(self.classes), class_data_start),
            (0x1000, 1, map_off),
        ]
        sections = [s for s in sections if s[1]]
        out += struct.pack("<I", len(sections))
        for kind, count, off in sections:
            out += struct.pack("<HHII", kind, 0, count, off)
        header = struct.pack(
            "<8s4x20s20I", b"dex\n035\0", b"\0" * 20, len(out), 0x70, 0x12345678, 0, 0, map_off,
            len(strings), string_ids_off, len(types), type_ids_off, len(protos), proto_ids_off,
            len(fields), field_ids_off, len(methods), method_ids_off, len(self.classes), class_defs_off,
            len(out) - data_off, data_off)
        out[0:0x70] = header
        out[12:32] = hashlib.sha1(out[32:]).digest()
        out[8:12] = struct.pack("<I", zlib.adler32(out[12:]))
        return bytes(out)

    def _init_body(self, descriptor: str) -> array[int]:
        return array("H", [0x1070, self.midx[OBJECT_INIT], 7, 0x000E])

    def _body(self, snippets: list[tuple], this: int | None, proto: Proto) -> array[int]:
        midx, fidx, sidx, tidx = self.midx, self.fidx, self.sidx, self.tidx
        code = array("H")
        payloads: list[tuple[int, list[int]]] = []  # (index of the referencing insn, payload units)
        for snippet in snippets:
            kind = snippet[0]
            if kind == "const4":
                code.append(0x12 | (snippet[1] << 12))
            elif kind == "str":
                code.extend((0x011A, sidx[snippet[1]]))
            elif kind == "iget" and this is not None:
                code.extend((0x52 | (this << 12), fidx[snippet[1]]))
            elif kind == "sget":
                code.extend((0x0262, fidx[snippet[1]]))
            elif kind == "callv":
                cls = snippet[1][0]
                code.extend((0x0322, tidx[cls], 0x1070, midx[(cls, "<init>", P_V)], 3,
                             0x106E, midx[snippet[1]], 3))
            elif kind == "calls":
                code.extend((0x1071, midx[snippet[1]], 0, 0x000A))
            elif kind == "range":
                code.extend((0x0177, midx[snippet[1]], 0, 0x000A))
            elif kind == "if":
                code.extend((0x0038, 4, 0x00D8, 0x0100))
            elif kind == "wide":
                lit = snippet[1]
                code.extend((0x0418, lit & 0xFFFF, (lit >> 16) & 0xFFFF, (lit >> 32) & 0xFFFF, lit >> 48))
            elif kind == "switch":
                n = snippet[1]
                payloads.append((len(code), [0x0100, n, 0, 0] + [3, 0] * n))
                code.extend((0x002B, 0, 0))
            elif kind == "sparse":
                n = snippet[1]
                keys = [u for k in range(n) for u in (k * 10, 0)]
                payloads.append((len(code), [0x0200, n] + keys + [3, 0] * n))
                code.extend((0x002C, 0, 0))
            elif kind == "array":
                n = snippet[1]
                code.extend((0x12 | (n << 12), 0x0123, tidx[INT_ARRAY]))
                data = [u for k in range(n) for u in (k * 7 + 1, 0)]
                payloads.append((len(code), [0x0300, 4, n, 0] + data))
                code.extend((0x0126, 0, 0))
            elif kind == "deviceid":
                code.extend((0x0212, 0x021F, tidx[SENSITIVE[kind][0]], 0x106E, midx[SENSITIVE[kind]], 2, 0x010C))
            elif kind == "androidid":
                code.extend((0x011A, sidx["android_id"], 0x0212, 0x2071, midx[SENSITIVE[kind]], 0x12, 0x010C))
            elif kind == "location":
                code.extend((0x011A, sidx["gps"], 0x0212, 0x206E, midx[SENSITIVE[kind]], 0x12, 0x030C))
            elif kind == "packages":
                code.extend((0x0212, 0x206E, midx[SENSITIVE[kind]], 0x02, 0x030C))
            elif kind == "mac":
                code.extend((0x0212, 0x106E, midx[SENSITIVE[kind]], 2, 0x010C))
            elif kind == "decoy_wide":
                # A literal whose bytes spell "invoke-virtual getDeviceId" at an even offset: not a call.
                code.extend((0x0418, 0x106E, midx[SENSITIVE["deviceid"]], 0x0002, 0))
            elif kind == "decoy_array":
                idx = midx[SENSITIVE["deviceid"]]
                code.extend((0x12 | (3 << 12), 0x0123, tidx[INT_ARRAY]))
                payloads.append((len(code), [0x0300, 4, 3, 0, 0x106E, idx, 0x0002, 0, 0, 0]))
                code.extend((0x0126, 0, 0))
        code.append(0x000E if proto[0] == "V" else 0x000F)
        for at, payload in payloads:
            if len(code) % 2:
                code.append(0)  # payloads are 4-byte aligned
            rel = len(code) - at
            code[at + 1], code[at + 2] = rel & 0xFFFF, rel >> 16
            code.extend(payload)
        return code


def generate(out: Path, *, n_classes: int = 80_000, n_dex: int = 8, seed: int = 1) -> Truth:
    """Write a synthetic APK to `out` and its ground truth to `out` with suffix .truth.json."""
    rng = random.Random(seed)
    classes, truth = plan_classes(n_classes, n_dex, rng)
    manifest = zipfile.ZipFile(MANIFEST_SOURCE_APK).read("AndroidManifest.xml")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as apk:
        apk.writestr("AndroidManifest.xml", manifest)
        for dex in range(n_dex):
            data = DexWriter([c for c in classes if c.dex == dex]).build()
            name = "classes.dex" if dex == 0 else f"classes{dex + 1}.dex"
            log.info("%s: %d bytes", name, len(data))
            apk.writestr(name, data)
    tmp.replace(out)
    out.with_suffix(".truth.json").write_text(json.dumps({
        "sensitive": sorted(truth.sensitive), "wired": sorted(truth.wired),
        "classes_per_group": truth.classes_per_group, "classes": n_classes, "dex_files": n_dex}, indent=1))
    return truth


def owner_of(class_name: str) -> str | None:
    """The ownership the generator planted (for scanners' stand-in owner functions)."""
    path = class_name.replace(".", "/")
    for group in GROUPS:
        if path.startswith(group.prefix + "/"):
            return group.owner
    return "lib" if path.startswith(("android/", "java/", "javax/")) else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--classes", type=int, default=80_000)
    parser.add_argument("--dex-files", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    generate(args.out, n_classes=args.classes, n_dex=args.dex_files, seed=args.seed)


if __name__ == "__main__":
    main()
