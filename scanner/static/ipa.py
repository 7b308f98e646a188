"""IPA -> StaticReport: Info.plist, privacy manifests, embedded frameworks and the Mach-O binaries of an iOS app.

The report is the one an APK gives (identity, purpose strings as permissions, SDKs, personal-data API uses,
endpoints, ATS as cleartext settings) plus `StaticReport.ios` for what only iOS has: privacy manifests,
required-reason API use per bundle and Apple's list of SDKs that need a manifest.
"""

from __future__ import annotations

import hashlib
import logging
import plistlib
import re
import struct
import zipfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.parsers.expat import ExpatError

from scanner.errors import BadApp
from scanner.knowledge.ios import IosCatalog, load_ios_catalog
from scanner.knowledge.sdks import SdkCatalog
from scanner.model import (
    ApiUse,
    AppIdentity,
    CollectedDataDeclaration,
    Endpoint,
    IosFacts,
    IosFramework,
    ManifestFacts,
    Permission,
    PrivacyManifest,
    RequiredReasonUse,
    SdkEvidence,
    SdkHit,
    SdkStatus,
    StaticReport,
)
from scanner.static.macho import MachO, MachOError, parse_macho, swift_class_name

log = logging.getLogger(__name__)

_APP_DIR = re.compile(r"^Payload/([^/]+\.app)/")
MAX_BINARY_BYTES = 512 << 20  # the biggest App Store executables are a few hundred MB
MAX_PLIST_BYTES = 8 << 20
MAX_BINARIES = 200  # frameworks and app extensions read; more is a sign of a hostile archive
_URL_RE = re.compile(rb"(?:https?|wss?)://[A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=%-]{3,2000}")
_NOISE_HOSTS = frozenset({"www.apple.com", "apple.com", "www.w3.org", "localhost", "127.0.0.1", "example.com",
                          "www.example.com", "schemas.apple.com", "ns.adobe.com", "purl.org"})
# A compression ratio no real binary or plist reaches; such an entry is a zip bomb, not an app.
MAX_RATIO = 200
MAX_EVIDENCE_PER_BASIS = 5


def looks_like_ipa(path: Path) -> bool:
    """An .ipa file, or any zip whose entries sit under Payload/NAME.app/ (App Store and Xcode exports)."""
    if path.suffix.lower() == ".ipa":
        return True
    try:
        with zipfile.ZipFile(path) as archive:
            return any(_APP_DIR.match(name) for name in archive.namelist()[:64])
    except (OSError, zipfile.BadZipFile):
        return False


@dataclass
class _Binary:
    path: str  # inside the IPA
    bundle: str  # "app" or a framework's name
    sdk: str | None
    macho: MachO
    classes: set[str] = field(default_factory=set)  # defined classes, Swift ones as Module.Class


@dataclass
class _Ipa:
    path: Path
    archive: zipfile.ZipFile
    app_dir: str  # Payload/X.app/
    names: list[str]
    warnings: list[str] = field(default_factory=list)

    def read(self, name: str, limit: int) -> bytes:
        info = self.archive.getinfo(name)
        if info.file_size > limit:
            raise BadApp(f"{name} is {info.file_size:,} bytes, over the {limit:,}-byte limit", path=str(self.path))
        if info.compress_size and info.file_size / info.compress_size > MAX_RATIO and info.file_size > (1 << 20):
            raise BadApp(f"{name} inflates {info.file_size // info.compress_size}:1 (a zip bomb?)",
                         path=str(self.path))
        try:
            with self.archive.open(info) as stream:
                data = stream.read(limit + 1)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:  # truncated or corrupt member
            raise BadApp(f"cannot read {name}: {exc}", path=str(self.path)) from exc
        if len(data) > limit:
            raise BadApp(f"{name} inflates past the {limit:,}-byte limit", path=str(self.path))
        return data


def _open(path: Path) -> _Ipa:
    if path.is_dir():
        raise BadApp("is a directory, not an IPA", path=str(path))
    if not path.is_file():
        raise BadApp("file not found", path=str(path))
    if path.stat().st_size == 0:
        raise BadApp("empty file", path=str(path))
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise BadApp(f"not an IPA: not a zip archive ({exc})", path=str(path)) from exc
    names = archive.namelist()
    apps = sorted({m.group(1) for m in map(_APP_DIR.match, names) if m})
    if not apps:
        archive.close()
        raise BadApp("not an IPA: no Payload/NAME.app/ folder in the archive", path=str(path))
    ipa = _Ipa(path=path, archive=archive, app_dir=f"Payload/{apps[0]}/", names=names)
    if len(apps) > 1:
        ipa.warnings.append(f"{len(apps)} apps under Payload/; only {apps[0]} was read")
    return ipa


def _plist(ipa: _Ipa, name: str, *, required: bool) -> dict[str, Any] | None:
    """A binary or XML property list; a broken one is an error for Info.plist and a warning elsewhere."""
    try:
        value = plistlib.loads(ipa.read(name, MAX_PLIST_BYTES))
    # plistlib's binary reader lets struct, index and key errors of a corrupt offset table through
    except (plistlib.InvalidFileException, ExpatError, ValueError, TypeError, OverflowError, IndexError, KeyError,
            struct.error, RecursionError) as exc:
        if required:
            raise BadApp(f"malformed {name}: {exc or type(exc).__name__}", path=str(ipa.path)) from exc
        ipa.warnings.append(f"malformed property list {name}: {exc or type(exc).__name__}")
        return None
    if not isinstance(value, dict):
        if required:
            raise BadApp(f"malformed {name}: the top level is not a dictionary", path=str(ipa.path))
        ipa.warnings.append(f"property list {name} is not a dictionary")
        return None
    return value


def _sha(path: Path) -> tuple[str, str, str, int]:
    sha256, sha1, md5 = hashlib.sha256(), hashlib.sha1(), hashlib.md5()  # noqa: S324 - identifiers, not security
    size = 0
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            size += len(chunk)
            sha256.update(chunk)
            sha1.update(chunk)
            md5.update(chunk)
    return sha256.hexdigest(), sha1.hexdigest(), md5.hexdigest(), size


def analyze_ipa(path: Path, catalog: SdkCatalog) -> StaticReport:
    ios = load_ios_catalog()
    ipa = _open(path)
    with ipa.archive:
        return _analyze(ipa, catalog, ios)


def _analyze(ipa: _Ipa, catalog: SdkCatalog, ios: IosCatalog) -> StaticReport:
    info_name = ipa.app_dir + "Info.plist"
    if info_name not in ipa.archive.NameToInfo:
        raise BadApp(f"not an iOS app: {info_name} is missing", path=str(ipa.path))
    info = _plist(ipa, info_name, required=True) or {}
    bundle_id = str(info.get("CFBundleIdentifier") or "")
    if not bundle_id:
        raise BadApp(f"{info_name} has no CFBundleIdentifier", path=str(ipa.path))
    executable = str(info.get("CFBundleExecutable") or ipa.app_dir.split("/")[1].removesuffix(".app"))
    sha256, sha1, md5, size = _sha(ipa.path)
    app = AppIdentity(
        package=bundle_id, label=_text(info.get("CFBundleDisplayName") or info.get("CFBundleName")),
        version_name=_text(info.get("CFBundleShortVersionString")), version_code=_text(info.get("CFBundleVersion")),
        min_sdk=None, target_sdk=None, sha256=sha256, sha1=sha1, md5=md5, file_name=ipa.path.name, size=size)

    frameworks = _frameworks(ipa, catalog, ios)
    manifests = _privacy_manifests(ipa, frameworks, catalog, ios)
    binaries = _binaries(ipa, executable, frameworks, catalog)
    facts = IosFacts(bundle_id=bundle_id, executable=executable, minimum_os=_text(info.get("MinimumOSVersion")),
                     tracking_usage_description=_text(info.get("NSUserTrackingUsageDescription")),
                     frameworks=frameworks, privacy_manifests=manifests)
    _ats(info, facts)
    facts.url_schemes = sorted({str(s) for t in info.get("CFBundleURLTypes") or [] if isinstance(t, dict)
                                for s in t.get("CFBundleURLSchemes") or []})
    facts.queried_schemes = sorted(str(s) for s in info.get("LSApplicationQueriesSchemes") or [])
    main = next((b for b in binaries if b.bundle == "app"), None)
    facts.linked_frameworks = main.macho.linked_frameworks if main else []
    facts.encrypted_binaries = [b.path for b in binaries if b.macho.encrypted]
    facts.required_reason_apis = _required_reason(binaries, manifests, ios)

    permissions = _permissions(info, ios)
    endpoints = _endpoints(binaries, catalog)
    api_uses = _api_uses(binaries, ios, {p.name for p in permissions})
    sdks = _sdks(binaries, frameworks, info, endpoints, catalog)
    facts.frameworks.extend(_static_listed(sdks, frameworks, main, catalog, ios))
    warnings = list(ipa.warnings)
    for binary in binaries:
        warnings.extend(f"{binary.path}: {w}" for w in binary.macho.warnings)
    if facts.encrypted_binaries:
        warnings.append("FairPlay-encrypted binaries (an App Store download, cryptid 1): "
                        + ", ".join(facts.encrypted_binaries) + ". Their code, class names and strings are "
                        "ciphertext, so the SDKs, API uses and endpoints found are a lower bound; analyse a "
                        "decrypted or developer-exported IPA, or capture the app's traffic")
    for manifest in manifests:
        warnings.extend(manifest.warnings)
    insecure = facts.ats_insecure_domains
    manifest_facts = ManifestFacts(
        uses_cleartext_traffic=facts.ats_allows_arbitrary_loads if "NSAppTransportSecurity" in info else None,
        network_security_config=None,
        # ATS forbids HTTP unless the app says otherwise, so the base setting is always known on iOS.
        cleartext_permitted_base=facts.ats_allows_arbitrary_loads, cleartext_domains=insecure, allow_backup=None,
        debuggable=False, meta_data={}, components=[], auto_init_providers=[])
    return StaticReport(
        app=app, permissions=permissions, sdks=sdks, api_uses=api_uses, endpoints=endpoints, manifest=manifest_facts,
        native_libs=sorted(f.path for f in frameworks), dex_files=[b.path for b in binaries],
        class_count=sum(len(b.classes) for b in binaries), warnings=warnings, platform="ios", ios=facts)


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _ats(info: dict[str, Any], facts: IosFacts) -> None:
    ats = info.get("NSAppTransportSecurity")
    if not isinstance(ats, dict):
        return
    facts.ats_allows_arbitrary_loads = ats.get("NSAllowsArbitraryLoads") is True
    facts.ats_arbitrary_loads_in_web_content = ats.get("NSAllowsArbitraryLoadsInWebContent") is True
    domains = ats.get("NSExceptionDomains") or {}
    if isinstance(domains, dict):
        facts.ats_insecure_domains = sorted(
            str(d) for d, rule in domains.items() if isinstance(rule, dict) and (
                rule.get("NSExceptionAllowsInsecureHTTPLoads") is True
                or rule.get("NSThirdPartyExceptionAllowsInsecureHTTPLoads") is True))


def _permissions(info: dict[str, Any], ios: IosCatalog) -> list[Permission]:
    reduced = info.get("NSLocationDefaultAccuracyReduced") is True
    out = []
    for key in sorted(k for k in info if isinstance(k, str) and k.endswith("UsageDescription")):
        types = list(ios.purpose_strings.get(key, ()))
        if reduced and "precise_location" in types:
            types.remove("precise_location")  # the app asks for approximate location by default
        out.append(Permission(name=key, protection_level="purpose_string", data_types=types))
    return out


def _bundle_of(rel: str) -> str | None:
    """Frameworks/Foo.framework/... -> Foo; Foo_Privacy.bundle/... (CocoaPods resources of a static SDK) -> Foo."""
    first = rel.split("/", 2)
    if first[0] == "Frameworks" and len(first) > 1 and first[1].endswith(".framework"):
        return first[1].removesuffix(".framework")
    if first[0].endswith(".bundle"):
        return first[0].removesuffix(".bundle").removesuffix("_Privacy").removesuffix("Privacy")
    return None


def _frameworks(ipa: _Ipa, catalog: SdkCatalog, ios: IosCatalog) -> list[IosFramework]:
    found: dict[str, IosFramework] = {}
    prefix = ipa.app_dir + "Frameworks/"
    for name in ipa.names:
        if not name.startswith(prefix):
            continue
        rest = name[len(prefix):]
        top = rest.split("/", 1)[0]
        if top.endswith(".framework"):
            fw = top.removesuffix(".framework")
        elif top.endswith(".dylib") and "/" not in rest:
            fw = top.removesuffix(".dylib").removeprefix("lib")
        else:
            continue
        entry = found.setdefault(fw, IosFramework(
            name=fw, path=prefix + top, sdk=catalog.sdk_for_ios_framework(fw), apple_listed=ios.listed_sdk(fw)))
        if rest.endswith("/PrivacyInfo.xcprivacy"):
            entry.privacy_manifest = name
        if "/_CodeSignature/CodeResources" in name:
            entry.signed = True
    return sorted(found.values(), key=lambda f: f.name)


def _privacy_manifests(ipa: _Ipa, frameworks: list[IosFramework], catalog: SdkCatalog,
                       ios: IosCatalog) -> list[PrivacyManifest]:
    out = []
    for name in ipa.names:
        if not (name.startswith(ipa.app_dir) and name.endswith("PrivacyInfo.xcprivacy")):
            continue
        rel = name[len(ipa.app_dir):]
        bundle = "app" if rel == "PrivacyInfo.xcprivacy" else (_bundle_of(rel) or rel.rsplit("/", 1)[0])
        if bundle != "app" and bundle not in {f.name for f in frameworks}:
            listed = ios.listed_sdk(bundle)
            if listed:  # a static SDK's resource bundle: count it as that SDK's manifest
                frameworks.append(IosFramework(name=bundle, path=ipa.app_dir + rel.split("/", 1)[0],
                                               sdk=catalog.sdk_for_ios_framework(bundle), apple_listed=listed,
                                               privacy_manifest=name))
        manifest = PrivacyManifest(path=name, bundle=bundle,
                                   sdk=None if bundle == "app" else catalog.sdk_for_ios_framework(bundle))
        raw = _plist(ipa, name, required=False)
        if raw is not None:
            _read_manifest(raw, manifest, ios)
        out.append(manifest)
    frameworks.sort(key=lambda f: f.name)
    return sorted(out, key=lambda m: (m.bundle != "app", m.bundle))


def _read_manifest(raw: dict[str, Any], manifest: PrivacyManifest, ios: IosCatalog) -> None:
    tracking = raw.get("NSPrivacyTracking")
    manifest.tracking = tracking if isinstance(tracking, bool) else None
    manifest.tracking_domains = [str(d) for d in raw.get("NSPrivacyTrackingDomains") or []]
    for item in raw.get("NSPrivacyCollectedDataTypes") or []:
        if not isinstance(item, dict):
            continue
        key = str(item.get("NSPrivacyCollectedDataType") or "")
        types = list(ios.collected_data_types.get(key, ()))
        if not types:
            manifest.warnings.append(f"{manifest.path}: unknown NSPrivacyCollectedDataType {key!r}")
            continue
        purposes = [ios.collected_purposes[p] for p in item.get("NSPrivacyCollectedDataTypePurposes") or []
                    if p in ios.collected_purposes]
        manifest.collected.append(CollectedDataDeclaration(
            key=key, data_types=types, linked=item.get("NSPrivacyCollectedDataTypeLinked"),
            tracking=item.get("NSPrivacyCollectedDataTypeTracking"), purposes=sorted(set(purposes))))
    for item in raw.get("NSPrivacyAccessedAPITypes") or []:
        if isinstance(item, dict) and item.get("NSPrivacyAccessedAPIType"):
            manifest.accessed_api_types[str(item["NSPrivacyAccessedAPIType"])] = [
                str(r) for r in item.get("NSPrivacyAccessedAPITypeReasons") or []]


def _binaries(ipa: _Ipa, executable: str, frameworks: list[IosFramework], catalog: SdkCatalog) -> list[_Binary]:
    wanted: list[tuple[str, str, str | None]] = [(ipa.app_dir + executable, "app", None)]
    for fw in frameworks:
        if fw.path.endswith(".dylib"):
            wanted.append((fw.path, fw.name, fw.sdk))
        elif fw.path.endswith(".framework"):
            wanted.append((f"{fw.path}/{fw.name}", fw.name, fw.sdk))
    out = []
    for name, bundle, sdk in wanted[:MAX_BINARIES]:
        if name not in ipa.archive.NameToInfo:
            if bundle == "app":
                ipa.warnings.append(f"the app's executable {name} is missing: only Info.plist and bundles were read")
            continue
        data = ipa.read(name, MAX_BINARY_BYTES)
        try:
            macho = parse_macho(data)
        except MachOError as exc:
            if bundle == "app":
                raise BadApp(f"malformed Mach-O {name}: {exc}", path=str(ipa.path)) from exc
            ipa.warnings.append(f"framework binary {name} unreadable: {exc}")
            continue
        del data  # the parsed facts are small; the binary can be hundreds of MB
        for fw in frameworks:
            if fw.name == bundle:
                fw.encrypted = macho.encrypted
        out.append(_Binary(path=name, bundle=bundle, sdk=sdk, macho=macho, classes=_classes(macho)))
    if len(wanted) > MAX_BINARIES:
        ipa.warnings.append(f"{len(wanted)} binaries; only the first {MAX_BINARIES} were read")
    return out


def _classes(macho: MachO) -> set[str]:
    """Class names the binary defines: Objective-C names as they are, Swift classes as Module.Class."""
    names = set(macho.objc_classes_defined)
    names.update(macho.classnames)
    return {swift_class_name(n) or n for n in names}


def _static_listed(sdks: list[SdkHit], frameworks: list[IosFramework], main: _Binary | None, catalog: SdkCatalog,
                   ios: IosCatalog) -> list[IosFramework]:
    """SDKs on Apple's list whose code is linked into the app's binary and that ship no framework of their own: the
    manifest Apple asks of them must then come as a resource bundle (FBSDKCoreKit_Privacy.bundle), else it is missing."""
    if main is None:
        return []
    have = {f.name.lower() for f in frameworks}
    out = []
    for hit in sdks:
        in_main = any(e.basis == "code" and main.path in e.detail for e in hit.evidence)
        entry = catalog.entries.get(hit.id)
        if not in_main or entry is None or any(n.lower() in have for n in entry.ios_frameworks):
            continue
        listed = next((ios.listed_sdk(n) for n in entry.ios_frameworks if ios.listed_sdk(n)), None)
        if listed:
            out.append(IosFramework(name=listed, path=f"{main.path} (linked statically)", sdk=hit.id,
                                    apple_listed=listed))
    return out


def _required_reason(binaries: list[_Binary], manifests: list[PrivacyManifest],
                     ios: IosCatalog) -> list[RequiredReasonUse]:
    by_bundle = {m.bundle: m for m in manifests}
    embedded = {b.bundle for b in binaries}
    # The app's binary holds the code of statically linked SDKs, whose manifests ship as resource bundles in the
    # app (Foo_Privacy.bundle): a reason any of them gives covers the app's binary too.
    static_reasons: dict[str, list[str]] = {}
    for manifest in manifests:
        if manifest.bundle == "app" or manifest.bundle not in embedded:
            for category_id, given in manifest.accessed_api_types.items():
                known = static_reasons.setdefault(category_id, [])
                known.extend(r for r in given if r not in known)
    out = []
    for binary in binaries:
        m = binary.macho
        imported_classes = m.objc_classes_imported
        for category in ios.reason_categories:
            via = sorted(category.symbols & m.imported_symbols)
            via += sorted(f"class {c}" for c in category.classes & imported_classes)
            if category.selectors and (not category.with_classes or category.with_classes & imported_classes):
                via += sorted(f"selector {s}" for s in category.selectors & m.selectors)
            if not via:
                continue
            if binary.bundle == "app":
                reasons = static_reasons.get(category.id)
            else:
                own = by_bundle.get(binary.bundle)
                reasons = own.accessed_api_types.get(category.id) if own else None
            out.append(RequiredReasonUse(category=category.id, label=category.label, via=via, binary=binary.path,
                                         bundle=binary.bundle, sdk=binary.sdk, declared=reasons is not None,
                                         reasons=list(reasons or [])))
    return out


def _api_uses(binaries: list[_Binary], ios: IosCatalog, purpose_strings: set[str]) -> list[ApiUse]:
    out = []
    for binary in binaries:
        m = binary.macho
        imported = m.objc_classes_imported
        for api in ios.apis:
            if api.cls and api.cls not in imported:
                continue
            if api.function and api.function not in m.imported_symbols:
                continue
            if api.selector and api.selector not in m.selectors:
                continue
            target = api.cls or (api.function or "").lstrip("_")
            what = f"{api.framework}.{target}" + (f".{api.selector}" if api.selector else "")
            data_type = api.data_type
            if data_type == "precise_location" and purpose_strings and not purpose_strings & {
                    "NSLocationWhenInUseUsageDescription", "NSLocationAlwaysAndWhenInUseUsageDescription",
                    "NSLocationAlwaysUsageDescription", "NSLocationUsageDescription"}:
                continue  # without a location purpose string iOS never hands out a fix: the call is inert
            out.append(ApiUse(api=what, data_type=data_type, caller=binary.path.rsplit("/", 1)[-1], sdk=binary.sdk,
                              identifier=api.identifier, permission=api.purpose_string, api_id=api.id,
                              origin="sdk" if binary.sdk else "app"))
    return sorted(out, key=lambda u: (u.data_type, u.api, u.caller))


def _host(url: str) -> str | None:
    match = re.match(r"^[a-z]+://([^/:?#@]+)", url, re.I)
    host = match.group(1).lower() if match else None
    if not host or "." not in host or host in _NOISE_HOSTS or host.endswith(".apple.com"):
        return None
    return host


def _endpoints(binaries: list[_Binary], catalog: SdkCatalog) -> list[Endpoint]:
    found: dict[str, Endpoint] = {}
    for binary in binaries:
        # One regex pass over all strings joined by a byte no URL holds, not one call per string.
        for match in _URL_RE.finditer(b"\n".join(binary.macho.cstrings)):
            url = match.group().decode("ascii", "replace").rstrip(".,;)\"'")
            host = _host(url)
            if host is None or url in found:
                continue
            entry = catalog.sdk_for_host(host)
            found[url] = Endpoint(url=url, host=host, source=binary.path, sdk=entry.id if entry else binary.sdk)
    return sorted(found.values(), key=lambda e: (e.sdk or "", e.host, e.url))


def _sdks(binaries: list[_Binary], frameworks: list[IosFramework], info: dict[str, Any], endpoints: list[Endpoint],
          catalog: SdkCatalog) -> list[SdkHit]:
    status: dict[str, SdkStatus] = {}
    evidence: dict[str, list[SdkEvidence]] = defaultdict(list)
    per_basis: Counter[tuple[str, str]] = Counter()

    def raise_(sdk_id: str | None, level: SdkStatus, basis: str, detail: str) -> None:
        if not sdk_id or sdk_id not in catalog.entries:
            return
        if sdk_id not in status or level.rank > status[sdk_id].rank:
            status[sdk_id] = level
        # A big app holds thousands of an SDK's URLs: a few of each kind of clue make the case.
        if per_basis[(sdk_id, basis)] < MAX_EVIDENCE_PER_BASIS:
            item = SdkEvidence(basis, detail)
            if item not in evidence[sdk_id]:
                evidence[sdk_id].append(item)
                per_basis[(sdk_id, basis)] += 1

    main = next((b for b in binaries if b.bundle == "app"), None)
    linked = {name.lower() for name in (main.macho.linked_frameworks if main else [])}
    for fw in frameworks:
        if fw.sdk:
            raise_(fw.sdk, SdkStatus.PRESENT, "framework", fw.path)
            if fw.name.lower() in linked:
                # dyld loads a linked framework at launch and runs its initialisers before any app code
                raise_(fw.sdk, SdkStatus.WIRED, "linked", f"the app's binary loads {fw.name}.framework")
    for binary in binaries:
        defined: dict[str, list[str]] = defaultdict(list)
        for cls in binary.classes:
            owner = catalog.sdk_for_objc_class(cls)
            if owner:
                defined[owner].append(cls)
        for sdk_id, classes in defined.items():
            raise_(sdk_id, SdkStatus.PRESENT, "code",
                   f"{len(classes)} classes defined in {binary.path}, e.g. {min(classes)}")
        if binary.bundle == "app":
            called: dict[str, list[str]] = defaultdict(list)
            for cls in binary.macho.objc_classes_imported:
                owner = catalog.sdk_for_objc_class(cls)
                if owner:
                    called[owner].append(cls)
            for sdk_id, classes in called.items():
                raise_(sdk_id, SdkStatus.WIRED, "call", f"the app's binary uses {', '.join(sorted(classes)[:3])}")
    for key in info:
        # A configuration key names the SDK; only its code shows it ships.
        raise_(catalog.sdk_for_plist_key(str(key)), SdkStatus.REFERENCED, "manifest", f"Info.plist key {key}")
    for endpoint in endpoints:
        if endpoint.sdk:
            raise_(endpoint.sdk, SdkStatus.REFERENCED, "domain", f"{endpoint.url} in {endpoint.source}")
    hits = []
    for sdk_id, level in status.items():
        entry = catalog.entries[sdk_id]
        hits.append(SdkHit(
            id=entry.id, name=entry.name, owner=entry.owner, country=entry.country, categories=list(entry.categories),
            status=level, evidence=evidence[sdk_id], data_types=list(entry.data_types), source=entry.source,
            website=entry.website, role=entry.role, role_setting=entry.role_setting, role_source=entry.role_source))
    return sorted(hits, key=lambda h: (-h.status.rank, h.id))
