"""AndroidManifest.xml -> app identity, permissions with protection levels and data types, manifest facts."""

from __future__ import annotations

import functools
import logging
import re
from typing import Any

from scanner.errors import BadApk
from scanner.knowledge.apis import permission_data_types
from scanner.model import AppIdentity, Component, ManifestFacts, Permission
from scanner.static.archive import ApkFile, AppArchive, quiet_androguard, read_entry

log = logging.getLogger(__name__)

ANDROID_NS = "{http://schemas.android.com/apk/res/android}"
_COMPONENT_TAGS = {"activity": "activity", "activity-alias": "activity", "service": "service",
                   "receiver": "receiver", "provider": "provider"}
_RES_REF = re.compile(r"^@(?:0x)?([0-9a-fA-F]{8})$")

# Permissions defined outside AOSP that androguard's data does not know, with their real level.
_NON_AOSP_LEVELS = {
    "com.google.android.gms.permission.AD_ID": "normal",
    "com.android.vending.BILLING": "normal",
    "com.google.android.c2dm.permission.RECEIVE": "normal",
    "com.google.android.finsky.permission.BIND_GET_INSTALL_REFERRER_SERVICE": "normal",
}

# androidx.startup runs these at process start, like a ContentProvider: before any consent screen.
STARTUP_PROVIDER = "androidx.startup.InitializationProvider"


@functools.cache
def _aosp_permissions(api_level: int) -> dict[str, Any]:
    from androguard.core.api_specific_resources import load_permissions

    available = (4, 5, 6, 7, 8, 9, 10, 13, 14, 15, 16, 17, 18, 19, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30,
                 31, 32, 33, 34)
    level = max((a for a in available if a <= api_level), default=available[0])
    return load_permissions(level)


def load_androguard_apk(apk_file: ApkFile) -> Any:
    """androguard's APK object for the manifest, resources and signatures (not for the dex)."""
    quiet_androguard()
    from androguard.core.apk import APK

    try:
        apk = APK(apk_file.raw, raw=True)
    except Exception as exc:  # androguard raises many kinds on hostile input; all mean "unreadable"
        raise BadApk(f"malformed APK: androguard cannot parse it ({type(exc).__name__}: {exc})",
                     path=str(apk_file.path)) from exc
    xml = None
    try:
        xml = apk.get_android_manifest_xml()
    except Exception as exc:
        log.debug("manifest parse failed", exc_info=True)
        raise BadApk(f"malformed binary AndroidManifest.xml ({type(exc).__name__})", path=str(apk_file.path)) from exc
    if xml is None or not apk.get_package():
        raise BadApk("malformed binary AndroidManifest.xml: no <manifest package=...> could be decoded",
                     path=str(apk_file.path))
    return apk


def parse_int(value: Any) -> int | None:
    try:
        return int(str(value), 0) if value not in (None, "") else None
    except ValueError:
        return None


def _bool(value: str | None) -> bool | None:
    if value is None:
        return None
    return str(value).strip().lower() in ("true", "1", "0xffffffff", "-1")


def app_identity(apk: Any, archive: AppArchive) -> AppIdentity:
    """Who the app is (from the base APK's manifest) and what file it came in (the APK or the bundle)."""
    def safe(call: Any) -> Any:
        try:
            return call()
        except Exception:  # a broken resource table must not lose the whole identity
            log.debug("identity field unavailable", exc_info=True)
            return None

    signers: list[str] = []
    certs = safe(apk.get_certificates) or []
    for cert in certs:
        fingerprint = safe(lambda c=cert: c.sha256_fingerprint)
        if fingerprint:
            signers.append(str(fingerprint).replace(" ", "").lower())
    return AppIdentity(
        package=apk.get_package(),
        label=safe(apk.get_app_name),
        version_name=_resolve_string(apk, safe(apk.get_androidversion_name)),
        version_code=safe(apk.get_androidversion_code),
        min_sdk=parse_int(safe(apk.get_min_sdk_version)),
        target_sdk=parse_int(safe(apk.get_target_sdk_version)),
        sha256=archive.sha256, sha1=archive.sha1, md5=archive.md5, file_name=archive.path.name, size=archive.size,
        signers=signers, parts=[f"{a.part} sha256:{a.sha256}" for a in archive.apks] if archive.is_bundle else [],
    )


def _protection_level(name: str, target_sdk: int, declared: dict[str, str]) -> str:
    if name in declared:
        return declared[name]
    if name in _NON_AOSP_LEVELS:
        return _NON_AOSP_LEVELS[name]
    info = _aosp_permissions(target_sdk).get(name)
    if not info:
        return "unknown"
    # "dangerous|instant" -> "dangerous": the base level is what the user sees
    return str(info.get("protectionLevel", "unknown")).split("|")[0] or "unknown"


def permissions(apk: Any, target_sdk: int | None) -> list[Permission]:
    mapping = permission_data_types()
    xml = apk.get_android_manifest_xml()
    declared = {}
    for node in xml.iter("permission"):
        name = node.get(ANDROID_NS + "name")
        if name:
            level = node.get(ANDROID_NS + "protectionLevel") or "normal"
            declared[name] = {"0": "normal", "1": "dangerous", "2": "signature", "3": "signatureOrSystem"}.get(
                str(parse_int(level) if parse_int(level) is not None else level), str(level))
    result: dict[str, Permission] = {}
    for tag in ("uses-permission", "uses-permission-sdk-23", "uses-permission-sdk-m"):
        for node in xml.iter(tag):
            name = node.get(ANDROID_NS + "name")
            if not name or name in result:
                continue
            result[name] = Permission(
                name=name, protection_level=_protection_level(name, target_sdk or 34, declared),
                data_types=list(mapping.get(name, [])), max_sdk=parse_int(node.get(ANDROID_NS + "maxSdkVersion")),
            )
    return sorted(result.values(), key=lambda p: p.name)


def full_name(package: str, name: str) -> str:
    if name.startswith("."):
        return package + name
    if "." not in name:
        return f"{package}.{name}"
    return name


def _resolve_string(apk: Any, value: str | None) -> str | None:
    """versionName="@string/version" compiles to a resource id (`@7F050026`): show the string, not the id."""
    match = _RES_REF.match(value or "")
    if not match:
        return value
    try:
        configs = apk.get_android_resources().get_resolved_res_configs(int(match.group(1), 16))
    except Exception:  # a broken resource table: keep the reference, the rest of the identity stands
        log.debug("cannot resolve %s", value, exc_info=True)
        return value
    for _config, text in configs or []:
        if isinstance(text, str) and text:
            return text
    return value


def resolve_xml_resource(apk: Any, apk_file: ApkFile, value: str | None) -> str | None:
    """@xml/network_security_config (as a resource id) -> the res/ path of that XML file."""
    if not value:
        return None
    match = _RES_REF.match(value)
    if not match:
        return value if value.startswith("res/") else None
    try:
        configs = apk.get_android_resources().get_resolved_res_configs(int(match.group(1), 16))
    except Exception:
        log.debug("cannot resolve %s", value, exc_info=True)
        return None
    for _config, path in configs or []:
        if isinstance(path, str) and path in apk_file.names:
            return path
    return None


def _cleartext_config(apk_file: ApkFile, res_path: str | None) -> tuple[bool | None, list[str]]:
    """Parse a network security config: base cleartext permission and cleartext-allowed domains."""
    if not res_path:
        return None, []
    from androguard.core.axml import AXMLPrinter

    try:
        root = AXMLPrinter(read_entry(apk_file, res_path, 4 << 20)).get_xml_obj()
    except BadApk:
        raise
    except Exception:
        log.warning("%s: unreadable network security config %s", apk_file.path, res_path)
        return None, []
    if root is None:
        return None, []
    base = None
    for node in root.iter("base-config"):
        base = _bool(node.get("cleartextTrafficPermitted"))
    domains: list[str] = []
    for node in root.iter("domain-config"):
        if _bool(node.get("cleartextTrafficPermitted")):
            domains.extend((d.text or "").strip() for d in node.iter("domain") if (d.text or "").strip())
    return base, sorted(set(domains))


def manifest_facts(apk: Any, apk_file: ApkFile, target_sdk: int | None,
                   auto_init_classes: set[str]) -> ManifestFacts:
    xml = apk.get_android_manifest_xml()
    package = apk.get_package()
    app = xml.find("application")
    app_attr = (lambda k: app.get(ANDROID_NS + k)) if app is not None else (lambda k: None)
    components: list[Component] = []
    meta: dict[str, str] = {}
    auto_init: list[str] = []
    if app is not None:
        for node in app:
            tag = node.tag if isinstance(node.tag, str) else ""
            if tag == "meta-data":
                key = node.get(ANDROID_NS + "name")
                if key:
                    meta[key] = node.get(ANDROID_NS + "value") or node.get(ANDROID_NS + "resource") or ""
                continue
            kind = _COMPONENT_TAGS.get(tag)
            if not kind:
                continue
            raw_name = node.get(ANDROID_NS + ("targetActivity" if tag == "activity-alias" else "name")) or ""
            name = full_name(package, raw_name) if raw_name else ""
            actions = [a.get(ANDROID_NS + "name") or "" for f in node.iter("intent-filter") for a in f.iter("action")]
            exported_attr = _bool(node.get(ANDROID_NS + "exported"))
            if exported_attr is None:
                # Before API 31 a component with an intent filter is exported by default;
                # providers were exported by default before API 17.
                exported_attr = bool(actions) if kind != "provider" else (target_sdk or 0) < 17
            own_meta = {key: child.get(ANDROID_NS + "value") or child.get(ANDROID_NS + "resource") or ""
                        for child in node.iter("meta-data") if (key := child.get(ANDROID_NS + "name"))}
            components.append(Component(
                kind=kind, name=name, exported=exported_attr, permission=node.get(ANDROID_NS + "permission"),
                authorities=node.get(ANDROID_NS + "authorities"), intent_actions=[a for a in actions if a],
                foreground_service_type=node.get(ANDROID_NS + "foregroundServiceType"), meta_data=own_meta))
            if kind == "provider":
                if name in auto_init_classes:
                    auto_init.append(name)
                if name == STARTUP_PROVIDER:
                    auto_init.extend(own_meta)
    queried, broad = _queries(xml)
    nsc_path = resolve_xml_resource(apk, apk_file, app_attr("networkSecurityConfig"))
    base, domains = _cleartext_config(apk_file, nsc_path)
    return ManifestFacts(
        uses_cleartext_traffic=_bool(app_attr("usesCleartextTraffic")),
        network_security_config=nsc_path or app_attr("networkSecurityConfig"),
        cleartext_permitted_base=base, cleartext_domains=domains,
        allow_backup=_bool(app_attr("allowBackup")), debuggable=bool(_bool(app_attr("debuggable"))),
        meta_data=meta, components=components, auto_init_providers=auto_init,
        application_class=full_name(package, str(app_attr("name"))) if app_attr("name") else None,
        queries_packages=queried, queries_broad=broad,
    )


def _queries(xml: Any) -> tuple[list[str], str | None]:
    """<queries>: the packages named, and the intent (if any) that makes every launchable app visible.

    From target SDK 30 an app sees only the packages its <queries> match; an <intent> on ACTION_MAIN without a
    <data> matches every app with a launcher activity, which is the installed-app list in all but name."""
    packages: set[str] = set()
    broad = None
    for queries in xml.iter("queries"):
        for node in queries:
            tag = node.tag if isinstance(node.tag, str) else ""
            if tag == "package" and node.get(ANDROID_NS + "name"):
                packages.add(str(node.get(ANDROID_NS + "name")))
            elif tag == "intent":
                actions = {a.get(ANDROID_NS + "name") for a in node.iter("action")}
                categories = sorted(str(c.get(ANDROID_NS + "name")) for c in node.iter("category")
                                    if c.get(ANDROID_NS + "name"))
                if "android.intent.action.MAIN" in actions and not list(node.iter("data")) and broad is None:
                    broad = "<queries><intent> android.intent.action.MAIN" + (
                        f" + {', '.join(categories)}" if categories else "") + " (every launchable app)"
    return sorted(packages), broad
