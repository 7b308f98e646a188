"""Rules about the SDK catalog data (rules/sdks/*.yaml), checked on the raw YAML with no loader in between."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml

from scanner.knowledge.sdks import shared_catalog
from scanner.model import DATA_TYPES, IDENTIFIER_KINDS, SDK_CATEGORIES

SDK_DIR = Path(__file__).resolve().parents[2] / "rules" / "sdks"
CATALOG_META = "_catalog.yaml"

REQUIRED = ("id", "name", "owner", "country", "categories", "website", "code", "data_types", "sources",
            "role", "role_source")
OPTIONAL = ("manifest", "native_libs", "domains", "identifiers", "notes", "role_setting", "role_meta_data", "ios")
# Google Play: data sent to a service provider that processes it on the developer's behalf is not "shared".
ROLES = ("service_provider", "third_party", "depends")
MANIFEST_KEYS = ("components", "meta_data", "providers", "permissions")

ID_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
COUNTRY_RE = re.compile(r"^[A-Z]{2}$")
URL_RE = re.compile(r"^https?://[^\s/]+\.[^\s/]+(/\S*)?$")
# Dotted Java names; a last segment starting with a capital is a class-name prefix.
CODE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_$]*)+$")
NATIVE_LIB_RE = re.compile(r"^lib[A-Za-z0-9_.+*-]+\.so$")  # * allowed: versioned names (libjcore*.so)
HOST_RE = re.compile(r"^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$")

# Vendor roots that hold many unrelated SDKs (or the platform itself): a prefix this short
# would attribute every Google/Tencent/... class to one SDK.
TOO_BROAD_CODE = {
    "com.google", "com.google.android", "com.google.android.gms", "com.google.firebase",
    "com.tencent", "com.tencent.mm", "com.baidu", "com.facebook", "com.alibaba", "com.alipay",
    "com.huawei", "com.huawei.hms", "com.xiaomi", "com.bytedance", "com.bytedance.sdk", "com.amazon",
    "com.microsoft", "com.android", "com.yandex", "com.netease", "com.taobao", "com.umeng", "com.mob",
    "cn.com", "android.support", "androidx", "java.lang", "kotlin.jvm", "io.github", "com.github",
}
# Shared infrastructure domains: naming one of these would tie all its traffic to one SDK.
TOO_BROAD_DOMAINS = {
    "googleapis.com", "google.com", "gstatic.com", "doubleclick.net", "qq.com", "baidu.com",
    "facebook.com", "amazonaws.com", "cloudfront.net", "akamaized.net", "aliyuncs.com",
    "taobao.com", "alicdn.com", "163.com", "huawei.com", "hicloud.com", "xiaomi.com", "mi.com",
    "apple.com", "microsoft.com", "azure.com", "snssdk.com",
}
# Ids other parts of divulge (fixtures, rules, tests) refer to.
REQUIRED_IDS = (
    "google-firebase-analytics", "google-firebase-crashlytics", "google-firebase-messaging", "google-admob",
    "facebook-analytics", "facebook-login", "facebook-audience-network", "appsflyer", "umeng-analytics",
    "umeng-push", "jpush", "tencent-bugly", "tencent-gdt", "pangle", "baidu-location", "amap-location",
    "wechat-opensdk", "alipay", "huawei-push", "xiaomi-push", "oppo-push", "vivo-push", "getui", "sensorsdata",
    "growingio", "talkingdata", "shumei", "tongdun", "mob-sharesdk", "msa-oaid",
)
MIN_TOTAL = 450
MIN_CN = 150


def _entry_files() -> list[Path]:
    return sorted(p for p in SDK_DIR.glob("*.yaml") if p.name != CATALOG_META)


def _load_entries() -> list[tuple[str, dict[str, Any]]]:
    entries: list[tuple[str, dict[str, Any]]] = []
    for path in _entry_files():
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert isinstance(data, list), f"{path.name}: top level must be a YAML list of entries"
        for index, entry in enumerate(data):
            assert isinstance(entry, dict), f"{path.name}[{index}]: entry must be a mapping"
            entries.append((path.name, entry))
    return entries


ENTRIES = _load_entries()


def _where(file: str, entry: dict[str, Any]) -> str:
    return f"{file}:{entry.get('id', '?')}"


def _manifest(entry: dict[str, Any]) -> dict[str, list[str]]:
    return entry.get("manifest") or {}


def test_catalog_meta_names_version() -> None:
    meta = yaml.safe_load((SDK_DIR / CATALOG_META).read_text(encoding="utf-8"))
    assert meta["name"] == "divulge-sdk-catalog"
    assert re.fullmatch(r"\d{4}\.\d{1,2}\.\d+", str(meta["version"])), meta["version"]


def test_every_file_holds_entries() -> None:
    files = _entry_files()
    assert len(files) >= 8
    per_file: dict[str, int] = defaultdict(int)
    for file, _ in ENTRIES:
        per_file[file] += 1
    assert all(per_file[p.name] > 0 for p in files), per_file


def test_counts() -> None:
    cn = [e for _, e in ENTRIES if e["country"] == "CN"]
    assert len(ENTRIES) >= MIN_TOTAL, len(ENTRIES)
    assert len(cn) >= MIN_CN, len(cn)


def test_ids_unique_and_well_formed() -> None:
    seen: dict[str, str] = {}
    for file, entry in ENTRIES:
        sdk_id = entry.get("id")
        assert isinstance(sdk_id, str) and ID_RE.fullmatch(sdk_id), f"{file}: bad id {sdk_id!r}"
        assert sdk_id not in seen, f"id {sdk_id} in both {seen[sdk_id]} and {file}"
        seen[sdk_id] = file


def test_required_ids_present() -> None:
    ids = {e["id"] for _, e in ENTRIES}
    assert not set(REQUIRED_IDS) - ids, sorted(set(REQUIRED_IDS) - ids)


@pytest.mark.parametrize("file,entry", ENTRIES, ids=[_where(f, e) for f, e in ENTRIES])
def test_entry_shape(file: str, entry: dict[str, Any]) -> None:
    where = _where(file, entry)
    missing = [k for k in REQUIRED if k not in entry]
    assert not missing, f"{where}: missing {missing}"
    unknown = set(entry) - set(REQUIRED) - set(OPTIONAL)
    assert not unknown, f"{where}: unknown keys {sorted(unknown)}"
    for key in ("name", "owner"):
        assert isinstance(entry[key], str) and entry[key].strip(), f"{where}: {key} must be text"
    assert COUNTRY_RE.fullmatch(str(entry["country"])), f"{where}: country must be ISO 3166-1 alpha-2"
    assert URL_RE.fullmatch(entry["website"]), f"{where}: website {entry['website']!r}"

    categories = entry["categories"]
    assert isinstance(categories, list) and categories, f"{where}: categories must be a non-empty list"
    assert set(categories) <= set(SDK_CATEGORIES), f"{where}: {sorted(set(categories) - set(SDK_CATEGORIES))}"

    data_types = entry["data_types"]
    assert isinstance(data_types, list), f"{where}: data_types must be a list"
    assert set(data_types) <= set(DATA_TYPES), f"{where}: unknown data types {sorted(set(data_types) - set(DATA_TYPES))}"
    assert len(set(data_types)) == len(data_types), f"{where}: duplicate data types"
    # An SDK documented as collecting nothing must say why it is catalogued at all.
    assert data_types or entry.get("notes"), f"{where}: empty data_types needs a note"

    identifiers = entry.get("identifiers", [])
    assert set(identifiers) <= set(IDENTIFIER_KINDS), f"{where}: {sorted(set(identifiers) - set(IDENTIFIER_KINDS))}"
    if identifiers:
        assert "device_id" in data_types or "phone" in data_types, f"{where}: identifiers without device_id"

    sources = entry["sources"]
    assert isinstance(sources, list) and sources, f"{where}: at least one source URL"
    assert all(isinstance(u, str) and URL_RE.fullmatch(u) for u in sources), f"{where}: bad source {sources}"


@pytest.mark.parametrize("file,entry", ENTRIES, ids=[_where(f, e) for f, e in ENTRIES])
def test_role(file: str, entry: dict[str, Any]) -> None:
    """Who the SDK's vendor is to the app (issue 19): role, the page that says so, and for `depends` the setting."""
    where = _where(file, entry)
    role = entry.get("role")
    assert role in ROLES, f"{where}: role {role!r} must be one of {ROLES}"
    source = entry.get("role_source")
    assert isinstance(source, str) and URL_RE.fullmatch(source), f"{where}: role_source must be a URL, not {source!r}"
    setting = entry.get("role_setting")
    if role == "depends":
        assert isinstance(setting, str) and setting.strip(), f"{where}: role depends needs role_setting naming the setting"
    else:
        assert setting is None, f"{where}: role_setting only goes with role depends"
    meta = entry.get("role_meta_data", [])
    assert isinstance(meta, list) and all(isinstance(m, str) and re.fullmatch(r"[\w.]+", m) for m in meta), \
        f"{where}: role_meta_data is a list of <meta-data> names"
    assert not meta or role == "depends", f"{where}: role_meta_data only goes with role depends"


@pytest.mark.parametrize("file,entry", ENTRIES, ids=[_where(f, e) for f, e in ENTRIES])
def test_signatures_well_formed(file: str, entry: dict[str, Any]) -> None:
    where = _where(file, entry)
    code = entry["code"]
    assert isinstance(code, list) and code, f"{where}: code must be a non-empty list"
    for prefix in code:
        assert CODE_RE.fullmatch(prefix), f"{where}: code {prefix!r} is not a dotted Java name"
        assert prefix not in TOO_BROAD_CODE, f"{where}: code {prefix!r} is a vendor root, too broad"
    assert len(set(code)) == len(code), f"{where}: duplicate code prefixes"

    manifest = _manifest(entry)
    assert isinstance(manifest, dict), f"{where}: manifest must be a mapping"
    assert set(manifest) <= set(MANIFEST_KEYS), f"{where}: unknown manifest keys {sorted(set(manifest) - set(MANIFEST_KEYS))}"
    for key, values in manifest.items():
        assert isinstance(values, list) and all(isinstance(v, str) and v for v in values), f"{where}: manifest.{key}"
    for cls in manifest.get("components", []) + manifest.get("providers", []):
        assert CODE_RE.fullmatch(cls), f"{where}: component {cls!r} is not a class name"

    for lib in entry.get("native_libs", []):
        assert NATIVE_LIB_RE.fullmatch(lib), f"{where}: native lib {lib!r} must be an exact lib*.so name"

    for domain in entry.get("domains", []):
        assert HOST_RE.fullmatch(domain), f"{where}: domain {domain!r} must be a lower-case host name"
        assert domain not in TOO_BROAD_DOMAINS, f"{where}: domain {domain!r} is shared infrastructure"


def _normal(prefix: str) -> str:
    return prefix.rstrip(".")


def test_no_code_signature_shared() -> None:
    """Two entries may not claim the same prefix; a longer prefix (a strict extension) is allowed, longest wins."""
    owners: dict[str, list[str]] = defaultdict(list)
    for _, entry in ENTRIES:
        for prefix in entry["code"]:
            owners[_normal(prefix)].append(entry["id"])
    shared = {p: ids for p, ids in owners.items() if len(set(ids)) > 1}
    assert not shared, shared


def _owner_of(class_name: str) -> str | None:
    """Longest-prefix attribution as docs/sdk-catalog.md defines it: package prefixes match whole segments,
    a prefix whose last segment starts with a capital is a class-name prefix and matches as text."""
    best: tuple[int, str] | None = None
    for _, entry in ENTRIES:
        for prefix in map(_normal, entry["code"]):
            last = prefix.rsplit(".", 1)[-1]
            if last[:1].isupper():
                hit = class_name.startswith(prefix)
            else:
                hit = class_name == prefix or class_name.startswith(prefix + ".")
            if hit and (best is None or len(prefix) > best[0]):
                best = (len(prefix), entry["id"])
    return best[1] if best else None


def test_every_prefix_resolves_to_its_own_entry() -> None:
    for _, entry in ENTRIES:
        for prefix in map(_normal, entry["code"]):
            probe = prefix + "Probe" if prefix.rsplit(".", 1)[-1][:1].isupper() else prefix + ".Probe"
            assert _owner_of(probe) == entry["id"], f"{probe} -> {_owner_of(probe)}, expected {entry['id']}"


@pytest.mark.parametrize(
    "class_name,sdk_id",
    [
        ("com.localytics.android.Localytics", "localytics"),  # not swallowed by AMap's com.loc
        ("com.loc.ch", "amap-location"),
        ("com.heytap.msp.mobad.api.MobAdManager", "oppo-ads"),  # strict extension of OPPO push
        ("com.heytap.msp.push.HeytapPushManager", "oppo-push"),
        ("com.google.android.gms.ads.identifier.AdvertisingIdClient", "google-ads-identifier"),
        ("com.google.android.gms.ads.MobileAds", "google-admob"),
        ("com.google.ads.interactivemedia.v3.api.ImaSdkFactory", "google-ima"),
        ("com.huawei.hms.ads.identifier.AdvertisingIdClient", "huawei-oaid"),
        ("cn.jiguang.verifysdk.api.JVerificationInterface", "jverification"),
        ("cn.jiguang.api.JCoreInterface", "jpush"),
        ("cn.jiguang.android.BuildConfig", "jpush"),
        ("cn.jiguang.imui.messages.MessageList", None),  # Aurora IMUI, an open-source UI library
        ("cn.jiguang.common.ClientConfig", None),  # JPush's server-side Java client
        ("cn.jpush.im.android.api.JMessageClient", "jmessage"),
        ("com.bytedance.sdk.account.bdopen.impl.BDOpenApiImpl", "douyin-opensdk"),
        ("com.bytedance.sdk.open.tiktok.TikTokOpenApiFactory", "tiktok-opensdk"),
        ("com.bytedance.sdk.openadsdk.TTAdSdk", "pangle"),
        ("io.dcloud.common.adapter.util.DeviceInfo", "dcloud-runtime"),
        ("io.dcloud.H5A1B2C3D.MainActivity", None),  # an app packaged by DCloud, not the runtime
        ("com.huawei.a.e.a", "huawei-hianalytics"),
        ("com.huawei.hms.support.api.push.PushReceiver", "huawei-push"),
        ("com.huawei.hms.support.api.client.Status", "huawei-hms-core"),
        ("com.tencent.bigdata.customdataacquisition.a.a", "tencent-tpns"),
        ("com.tencent.bugly.beta.Beta", "tencent-bugly-beta"),
        ("com.tencent.bugly.crashreport.CrashReport", "tencent-bugly"),
        ("com.mob.MobCommunicator$1", "mob-core"),
        ("com.mobfox.sdk.Banner", None),
        ("com.google.gson.Gson", None),
    ],
)
def test_longest_prefix_attribution(class_name: str, sdk_id: str | None) -> None:
    assert _owner_of(class_name) == sdk_id


@pytest.mark.parametrize("key", ["components", "providers", "meta_data"])
def test_manifest_signatures_unique(key: str) -> None:
    owners: dict[str, set[str]] = defaultdict(set)
    for _, entry in ENTRIES:
        for value in _manifest(entry).get(key, []):
            owners[value].add(entry["id"])
    shared = {v: sorted(ids) for v, ids in owners.items() if len(ids) > 1}
    assert not shared, shared


def test_native_libs_unique() -> None:
    owners: dict[str, set[str]] = defaultdict(set)
    for _, entry in ENTRIES:
        for lib in entry.get("native_libs", []):
            owners[lib].add(entry["id"])
    assert not {lib: ids for lib, ids in owners.items() if len(ids) > 1}


def test_key_entries_carry_their_signatures() -> None:
    """The signatures fixtures and rules rely on are where they are expected."""
    by_id = {e["id"]: e for _, e in ENTRIES}
    firebase = by_id["google-firebase-analytics"]
    assert "com.google.firebase.provider.FirebaseInitProvider" in _manifest(firebase)["providers"]
    assert "firebase_analytics_collection_enabled" in _manifest(firebase)["meta_data"]
    admob = by_id["google-admob"]
    assert "com.google.android.gms.ads" in admob["code"]
    assert "com.google.android.gms.ads.APPLICATION_ID" in _manifest(admob)["meta_data"]
    assert "com.google.android.gms.ads.MobileAdsInitProvider" in _manifest(admob)["providers"]
    fb = by_id["facebook-analytics"]
    assert "com.facebook.appevents" in fb["code"]
    assert "com.facebook.sdk.ApplicationId" in _manifest(fb)["meta_data"]
    assert "com.facebook.internal.FacebookInitProvider" in _manifest(fb)["providers"]
    assert "com.facebook.ads" in by_id["facebook-audience-network"]["code"]
    assert {"cn.jpush.android", "cn.jiguang.api"} <= set(by_id["jpush"]["code"])
    # cn.jiguang as a whole also holds JiGuang's chat-UI library and its server-side client: never JPush's prefix.
    assert "cn.jiguang" not in by_id["jpush"]["code"]
    assert any(lib.startswith("libjcore") for lib in by_id["jpush"]["native_libs"])
    assert "com.qq.e" in by_id["tencent-gdt"]["code"]
    assert "com.bytedance.sdk.openadsdk" in by_id["pangle"]["code"]
    assert "com.tencent.mm.opensdk" in by_id["wechat-opensdk"]["code"]
    assert "com.bun.miitmdid" in by_id["msa-oaid"]["code"]
    for sdk_id, prefix in (("oppo-push", "com.heytap.msp"), ("vivo-push", "com.vivo.push"),
                           ("xiaomi-push", "com.xiaomi.mipush.sdk"), ("shumei", "com.ishumei"),
                           ("tongdun", "cn.tongdun"), ("sensorsdata", "com.sensorsdata.analytics")):
        assert prefix in by_id[sdk_id]["code"], sdk_id


# --- iOS signatures (issue 17) --------------------------------------------------------------------------------

IOS_KEYS = ("frameworks", "classes", "plist_keys")
IOS_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Objective-C has no packages: a class prefix shorter than this catches other vendors' classes (FB also starts
# Google's FBLPromises, GDT also GoogleDataTransport's GDTCOR classes).
MIN_CLASS_PREFIX = 3


def _ios_entries() -> list[tuple[str, dict[str, Any]]]:
    return [(f, e) for f, e in ENTRIES if "ios" in e]


def test_ios_signatures_shape() -> None:
    entries = _ios_entries()
    assert len(entries) >= 30, "the 30 most common SDKs at least carry iOS signatures"
    for file, entry in entries:
        where = _where(file, entry)
        ios = entry["ios"]
        assert isinstance(ios, dict) and ios and set(ios) <= set(IOS_KEYS), f"{where}: ios keys {sorted(ios)}"
        for key, values in ios.items():
            assert isinstance(values, list) and values, f"{where}: ios.{key} must be a non-empty list"
            assert all(isinstance(v, str) and IOS_NAME_RE.fullmatch(v) for v in values), f"{where}: ios.{key}"
        assert all(len(c) >= MIN_CLASS_PREFIX for c in ios.get("classes", [])), f"{where}: class prefix too short"


def test_ios_signatures_unique_and_resolving() -> None:
    owners: dict[tuple[str, str], str] = {}
    for _file, entry in _ios_entries():
        for key in IOS_KEYS:
            for value in entry["ios"].get(key, []):
                folded = value.lower() if key == "frameworks" else value
                assert (key, folded) not in owners, f"ios.{key} {value} in {owners[(key, folded)]} and {entry['id']}"
                owners[(key, folded)] = entry["id"]
    catalog = shared_catalog()
    for (key, value), sdk_id in owners.items():
        if key == "frameworks":
            assert catalog.sdk_for_ios_framework(value) == sdk_id
        elif key == "classes":
            assert catalog.sdk_for_objc_class(value + "Probe") == sdk_id, value
        else:
            assert catalog.sdk_for_plist_key(value) == sdk_id


def test_ios_class_prefixes_do_not_catch_neighbours() -> None:
    catalog = shared_catalog()
    assert catalog.sdk_for_objc_class("GDTCORTransport") is None  # Google's DataTransport, not Tencent GDT
    assert catalog.sdk_for_objc_class("FBLPromise") is None  # Google's Promises, not Facebook
    assert catalog.sdk_for_objc_class("FBSDKAppEvents") == "facebook-analytics"  # longest prefix wins
    assert catalog.sdk_for_objc_class("FBSDKSettings") == "facebook-core"
    assert catalog.sdk_for_objc_class("FirebaseAnalytics.AnalyticsBridge") == "google-firebase-analytics"
