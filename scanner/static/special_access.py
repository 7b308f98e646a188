"""Special access found in an APK: services the system binds (accessibility, notification listener, keyboard, VPN,
device admin, autofill), Special-app-access permissions, foreground-service types and the calls that read the
clipboard or capture the screen. What each kind is comes from the knowledge room (rules/catalogs/special_access.yaml).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from scanner.errors import BadApk
from scanner.knowledge.special_access import FGS_TYPE_BITS, AccessKind, SpecialAccessCatalog
from scanner.model import Component, ManifestFacts, SpecialAccess
from scanner.static.archive import ApkFile, read_entry
from scanner.static.dex import DexScan
from scanner.static.manifest import ANDROID_NS, parse_int, resolve_xml_resource

log = logging.getLogger(__name__)

MAX_CONFIG_BYTES = 1 << 20
# AccessibilityEvent.TYPE_* bits worth naming: what the service is woken for.
_EVENT_BITS = {0x1: "clicks", 0x10: "text_changed", 0x20: "window_changes", 0x40: "notifications",
               0x800: "window_content", 0x2000: "text_selection"}
_ALL_EVENTS = 0xFFFFFF  # every type defined up to API 34 fits in the low 24 bits


def find_special_access(apk: Any, apk_file: ApkFile, manifest: ManifestFacts, permissions: Iterable[str],
                        scans: list[DexScan], catalog: SpecialAccessCatalog,
                        origin_of: Callable[[str], tuple[str, str | None]]) -> list[SpecialAccess]:
    """Every special access the base APK's manifest and all the code show, components first."""
    found: list[SpecialAccess] = []
    found.extend(_components(apk, apk_file, manifest, catalog, origin_of))
    granted = set(permissions)
    for kind in catalog.kinds:
        for name in kind.permissions:
            if name in granted:
                found.append(SpecialAccess(kind=kind.id, label=kind.label, source="permission",
                                           via=f'<uses-permission android:name="{name}">',
                                           data_types=list(kind.data_types)))
    found.extend(_calls(scans, catalog, origin_of))
    return found


def _components(apk: Any, apk_file: ApkFile, manifest: ManifestFacts, catalog: SpecialAccessCatalog,
                origin_of: Callable[[str], tuple[str, str | None]]) -> list[SpecialAccess]:
    fgs_kinds = {t: k for k in catalog.kinds for t in k.fgs_types}
    out: list[SpecialAccess] = []
    for component in manifest.components:
        if component.kind not in ("service", "receiver") or not component.name:
            continue
        name, tag = component.name, component.kind
        origin, sdk = origin_of(name)
        kind = catalog.for_component(component.permission, component.intent_actions)
        if kind is not None:
            guard = component.permission
            via = f'<{tag} android:name="{name}"' + (f' android:permission="{guard}">' if guard else ">")
            config = _config(apk, apk_file, component, kind)
            out.append(SpecialAccess(kind=kind.id, label=kind.label, source="component", via=via, origin=origin,
                                     sdk=sdk, component=name, data_types=_data_types(kind, config), config=config))
        for type_name in _fgs_types(component.foreground_service_type):
            fgs = fgs_kinds.get(type_name)
            if fgs is not None:
                out.append(SpecialAccess(
                    kind=fgs.id, label=fgs.label, source="fgs_type", origin=origin, sdk=sdk, component=name,
                    via=f'<service android:name="{name}" android:foregroundServiceType="{type_name}">',
                    data_types=list(fgs.data_types)))
    return out


def _fgs_types(value: str | None) -> list[str]:
    """foregroundServiceType as compiled (flags, "0x00000048") or as text ("location|camera") -> type names."""
    if not value:
        return []
    bits = parse_int(value)
    if bits is None:
        return [part.strip() for part in value.split("|") if part.strip() in FGS_TYPE_BITS]
    return [name for name, bit in FGS_TYPE_BITS.items() if bits & bit]


def _data_types(kind: AccessKind, config: dict[str, Any]) -> list[str]:
    # An accessibility service that may not read window content sees events, not the text on screen.
    if kind.id == "accessibility" and config.get("can_retrieve_window_content") is False:
        return [t for t in kind.data_types if t != "other_messages"]
    return list(kind.data_types)


def _config(apk: Any, apk_file: ApkFile, component: Component, kind: AccessKind) -> dict[str, Any]:
    """What the service's XML configuration (named by its <meta-data>) says; {} when it has none or it is unreadable."""
    if not kind.config_meta_data:
        return {}
    resource = component.meta_data.get(kind.config_meta_data)
    path = resolve_xml_resource(apk, apk_file, resource)
    if not path:
        return {}
    from androguard.core.axml import AXMLPrinter

    try:
        root = AXMLPrinter(read_entry(apk_file, path, MAX_CONFIG_BYTES)).get_xml_obj()
    except BadApk:
        raise
    except Exception:  # androguard raises many kinds on a malformed XML resource; the service is still reported
        log.warning("%s: unreadable %s configuration %s", apk_file.path, kind.id, path)
        return {"file": path, "unreadable": True}
    if root is None:
        return {"file": path, "unreadable": True}
    if kind.id == "accessibility":
        return _accessibility(root, path)
    if kind.id == "device_admin":
        policies = sorted({child.tag for uses in root.iter("uses-policies") for child in uses
                           if isinstance(child.tag, str)})
        return {"file": path, "policies": policies}
    return {"file": path}


def _accessibility(root: Any, path: str) -> dict[str, Any]:
    def attr(name: str) -> str | None:
        value = root.get(ANDROID_NS + name)
        return None if value is None else str(value)

    window = attr("canRetrieveWindowContent")
    events = parse_int(attr("accessibilityEventTypes") or "")
    if events is not None and events & _ALL_EVENTS == _ALL_EVENTS:
        event_names = ["all"]
    elif events is not None:
        event_names = [label for bit, label in _EVENT_BITS.items() if events & bit]
    else:
        event_names = []
    packages = [p.strip() for p in (attr("packageNames") or "").replace(" ", ",").split(",") if p.strip()]
    tool = attr("isAccessibilityTool")
    return {
        "file": path,
        "can_retrieve_window_content": None if window is None else window.strip().lower() in ("true", "1", "-1"),
        "event_types": event_names,
        "packages": packages,
        "is_accessibility_tool": None if tool is None else tool.strip().lower() in ("true", "1", "-1"),
    }


def _calls(scans: list[DexScan], catalog: SpecialAccessCatalog,
           origin_of: Callable[[str], tuple[str, str | None]]) -> list[SpecialAccess]:
    by_member: dict[tuple[str, str], AccessKind] = {m: k for k in catalog.kinds for m in k.methods}
    out: dict[tuple[str, str], SpecialAccess] = {}
    for scan in scans:
        for site in scan.call_sites:
            kind = by_member.get((site.target_class, site.target_member))
            if kind is None or site.caller_class.split("$", 1)[0] == site.target_class.split("$", 1)[0]:
                continue
            caller = f"{site.caller_class}.{site.caller_method}"
            key = (kind.id, caller)
            if key in out:
                continue
            origin, sdk = origin_of(site.caller_class)
            config = {"user_action": site.caller_method} if site.caller_method in kind.user_action_methods else {}
            out[key] = SpecialAccess(kind=kind.id, label=kind.label, source="call",
                                     via=f"{site.target_class}.{site.target_member}", origin=origin, sdk=sdk,
                                     component=caller, data_types=list(kind.data_types), config=config)
    return sorted(out.values(), key=lambda a: (a.kind, a.component or ""))
