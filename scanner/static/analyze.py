"""APK -> StaticReport: the manifest through androguard, the dex through our own bounded reader (IPAs: ipa.py)."""

from __future__ import annotations

import logging
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from scanner.errors import BadApk
from scanner.knowledge.apis import RESOLVER_METHODS, ApiCatalog, load_api_catalog
from scanner.knowledge.sdks import SdkCatalog, shared_catalog
from scanner.knowledge.special_access import load_special_access
from scanner.model import ApiUse, Endpoint, SdkEvidence, SdkHit, SdkStatus, SpecialAccess, StaticReport
from scanner.static import manifest as manifest_mod
from scanner.static.archive import AppArchive, dex_in_archive, entry_reader, open_app
from scanner.static.dex import CallerIndex, DexFormatError, DexScan, scan_dex
from scanner.static.hidden_code import LOADER_MEMBERS, hidden_code_signs
from scanner.static.ipa import analyze_ipa, looks_like_ipa
from scanner.static.special_access import find_special_access

log = logging.getLogger(__name__)

MAX_DEX_BYTES = 256 << 20
MAX_TEXT_RESOURCE = 4 << 20
_URL_RE = re.compile(rb"(?:https?|wss?)://[A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=%-]{3,2000}")
_TEXT_ASSET = re.compile(r"^(assets/.*\.(json|js|html?|xml|txt|properties|conf|cfg)|res/xml/.*\.xml|res/raw/.*)$")
# Where cross-platform apps keep their own code, and so most of their endpoints: the React Native
# bundle (JavaScript or Hermes bytecode, whose string table is plain text), Flutter's compiled Dart
# (libapp.so) and Unity's IL2CPP string metadata. They run to tens of MB, hence their own limit.
_APP_CODE_ASSET = re.compile(r"^(assets/.*\.(bundle|hbc|jsbundle)|lib/[^/]+/libapp\.so"
                             r"|assets/bin/Data/Managed/Metadata/global-metadata\.dat)$")
MAX_APP_CODE_ASSET = 96 << 20
# Hosts that appear in every APK as XML namespaces or licence text, not as endpoints.
_NOISE_HOSTS = frozenset({
    "schemas.android.com", "www.w3.org", "xmlpull.org", "ns.adobe.com", "www.apache.org", "apache.org",
    "xml.org", "purl.org", "json-schema.org", "www.xmlpull.org", "localhost", "127.0.0.1", "schemas.xmlsoap.org",
    "xml.apache.org", "www.example.com", "example.com", "schema.org", "www.opengis.net",
})


@dataclass(frozen=True)
class StaticOptions:
    sdk_db: Path | None = None  # an Exodus tracker JSON (or our YAML format) to load beside the catalog


def analyze_apk(path: Path, options: StaticOptions | None = None, catalog: SdkCatalog | None = None) -> StaticReport:
    options = options or StaticOptions()
    catalog = catalog or shared_catalog(options.sdk_db)
    if looks_like_ipa(path):  # every caller of analyze_apk (scan, draft, batch, first-party) reads iOS apps too
        return analyze_ipa(path, catalog)
    apis = load_api_catalog()
    archive = open_app(path)
    apk_file = archive.base
    apk = manifest_mod.load_androguard_apk(apk_file)
    app = manifest_mod.app_identity(apk, archive)
    catalog = catalog.for_app(app.package)
    auto_init_classes = {p for e in catalog.entries.values() for p in e.providers}
    manifest = manifest_mod.manifest_facts(apk, apk_file, app.target_sdk, auto_init_classes)
    permissions = manifest_mod.permissions(apk, app.target_sdk)

    # Feature splits carry code of their own and config splits the native libraries: read them all.
    scans = []
    for part in archive.apks:
        with entry_reader(part) as read:
            for name in part.dex_names:
                try:
                    scans.append(_scan(read(name, MAX_DEX_BYTES), part.label(name), catalog, apis))
                except DexFormatError as exc:
                    raise BadApk(f"malformed {part.label(name)}: {exc}", path=str(part.path)) from exc
    asset_scans, asset_notes = _scan_asset_code(archive, catalog, apis)
    scans.extend(asset_scans)
    native_libs = tuple(part.label(lib) for part in archive.apks for lib in part.native_libs)
    builder = _SdkHits(catalog)
    api_uses = _refine_location(_api_uses(scans, catalog, apis), {p.name for p in permissions})
    endpoints = _endpoints(archive, scans, catalog)

    defined: set[str] = set()
    for scan in scans:
        defined.update(scan.defined_classes)
    builder.add_code(scans, defined)
    builder.add_manifest(manifest)
    builder.add_permissions([p.name for p in permissions])
    builder.add_native_libs(native_libs)
    builder.add_domains(endpoints)
    sdks = builder.result()
    special = find_special_access(apk, apk_file, manifest, (p.name for p in permissions), scans,
                                  load_special_access(), catalog.origin_of_class)
    _mark_reached(api_uses, special, archive, catalog, {c.name: c.kind for c in manifest.components})
    hidden = hidden_code_signs(app.package, manifest, scans, defined, archive.apks, catalog.owner_of_class)
    packed = _packer_warnings(sdks, catalog)
    warnings = packed + asset_notes
    if hidden and not packed:  # a named packer already says the view is a lower bound
        warnings.append("the app's code may be hidden from static analysis: " + "; ".join(hidden) + ". What was "
                        "found in code is a lower bound; capture its traffic (divulge capture / divulge traffic) to "
                        "see what it does")
    return StaticReport(
        app=app, permissions=permissions, sdks=sdks, api_uses=api_uses, endpoints=endpoints,
        manifest=manifest, native_libs=sorted(native_libs), dex_files=[scan.name for scan in scans],
        class_count=len(defined), warnings=warnings, special_access=special, hidden_code=hidden,
    )


def _packer_warnings(sdks: list[SdkHit], catalog: SdkCatalog) -> list[str]:
    """A packer ships the app's real dex encrypted: say that what was found in code is a lower bound."""
    out = []
    for hit in sdks:
        entry = catalog.entries.get(hit.id)
        if entry is not None and "app_hardening" in entry.categories and hit.status != SdkStatus.REFERENCED:
            out.append(f"code is packed by {entry.name}: the app's own code is encrypted and decrypted at run time, "
                       "so the SDKs and personal-data API calls found here are only those outside the packed part; "
                       "capture its traffic (divulge capture / divulge traffic) to see what it does")
    return out


# Code shipped as an asset and loaded at run time (DexClassLoader): SDK plug-ins, hot updates, second stages.
_ASSET_CODE = re.compile(r"^assets/.+\.(dex|jar|zip|apk|so\.jar)$", re.I)
MAX_ASSET_CODE_FILES = 32


def _scan_asset_code(archive: AppArchive, catalog: SdkCatalog, apis: ApiCatalog) -> tuple[list[DexScan], list[str]]:
    """Dex files inside assets, read like the app's own: what they hold is in the app, only loaded later.

    A file that looks like code but cannot be read (encrypted by a packer, say) is a note, never an error."""
    scans: list[DexScan] = []
    unreadable: list[str] = []
    candidates = [(part, name) for part in archive.apks for name in part.names if _ASSET_CODE.match(name)]
    chosen = candidates[:MAX_ASSET_CODE_FILES]
    for part in archive.apks:
        names = [n for p, n in chosen if p is part]
        if not names:
            continue  # most APKs carry no code in assets: do not even open them again
        with entry_reader(part) as read:
            for name in names:
                try:
                    blob = read(name, MAX_DEX_BYTES)
                    if blob.startswith(b"dex\n"):
                        inner = [("", blob)]
                    elif blob.startswith(b"PK"):
                        inner = dex_in_archive(blob, part.label(name), MAX_DEX_BYTES)
                    else:
                        continue  # a font or data file with a code-like name
                    for inner_name, data in inner:
                        scans.append(_scan(data, part.label(f"{name}!{inner_name}" if inner_name else name),
                                           catalog, apis))
                except (BadApk, DexFormatError) as exc:
                    log.info("asset code %s unreadable: %s", name, exc)
                    unreadable.append(part.label(name))
    notes = []
    if scans:
        notes.append(f"code loaded at run time from assets was read too: {_some(s.name for s in scans)}")
    if unreadable:
        notes.append(f"code-like assets that could not be read as dex (encrypted or packed?): {_some(unreadable)}"
                     "; what they load at run time is not in this analysis")
    if len(candidates) > MAX_ASSET_CODE_FILES:
        notes.append(f"{len(candidates)} code-like assets; only the first {MAX_ASSET_CODE_FILES} were read")
    return scans, notes


def _some(names: Iterable[str], shown: int = 5) -> str:
    items = list(names)
    return ", ".join(items[:shown]) + (f" and {len(items) - shown} more" if len(items) > shown else "")


def _scan(data: bytes, label: str, catalog: SdkCatalog, apis: ApiCatalog) -> DexScan:
    # Personal-data APIs, the calls that show special access (clipboard, screen capture, exact alarms) and the
    # loaders of code the dex does not hold.
    wanted = apis.wanted_members | load_special_access().wanted_members | LOADER_MEMBERS
    return scan_dex(data, label, wanted_members=wanted, wanted_strings=apis.wanted_strings,
                    owner_of=catalog.owner_of_class)


def _api_uses(scans: list[DexScan], catalog: SdkCatalog, apis: ApiCatalog) -> list[ApiUse]:
    seen: dict[tuple[str, str, str], ApiUse] = {}

    def add(api: str, entry_id: str, data_type: str, identifier: str | None, permission: str | None,
            caller_class: str, caller_method: str) -> None:
        origin, sdk = catalog.origin_of_class(caller_class)
        caller = f"{caller_class}.{caller_method}"
        key = (api, caller, entry_id)
        if key not in seen:
            seen[key] = ApiUse(api=api, data_type=data_type, caller=caller, sdk=sdk, identifier=identifier,
                               permission=permission, api_id=entry_id, origin=origin)

    resolver = set(RESOLVER_METHODS)
    for scan in scans:
        queried: set[tuple[str, str]] = set()  # (caller, entry id) already reported as a resolver query
        for site in scan.call_sites:
            if site.caller_class.split("$", 1)[0] == site.target_class.split("$", 1)[0]:
                continue  # the API's own implementation calling itself, not a use of it
            if (site.target_class, site.target_member) in resolver:
                for text in site.strings:
                    for entry in apis.entries_for_string(text):
                        add(f"{site.target_class}.{site.target_member}", entry.id, entry.data_type,
                            entry.identifier, entry.permission, site.caller_class, site.caller_method)
                        queried.add((f"{site.caller_class}.{site.caller_method}", entry.id))
                continue
            for entry in apis.by_member.get((site.target_class, site.target_member), ()):
                if entry.requires_strings and not set(entry.requires_strings) & set(site.strings):
                    continue
                add(f"{site.target_class}.{site.target_member}", entry.id, entry.data_type, entry.identifier,
                    entry.permission, site.caller_class, site.caller_method)
        for use in scan.string_uses:
            for entry in apis.entries_for_string(use.target_member):
                if (f"{use.caller_class}.{use.caller_method}", entry.id) in queried:
                    continue
                add(use.target_member, entry.id, entry.data_type, entry.identifier, entry.permission,
                    use.caller_class, use.caller_method)
    return sorted(seen.values(), key=lambda u: (u.data_type, u.api, u.caller))


MAX_REACH_HOPS = 3


def _mark_reached(uses: list[ApiUse], special: list[SpecialAccess], archive: AppArchive,
                  catalog: SdkCatalog, components: dict[str, str]) -> None:
    """Library code that reaches personal data is dormant unless the app or an SDK calls it: follow the calls back
    from each library method, up to MAX_REACH_HOPS library methods deep, and note the first app or SDK caller.
    A library class the manifest declares as a component is started by the system, so its code counts as reached.

    Calls through interfaces, reflection or other framework callbacks are not followed, so "dormant" means no
    direct call was found, not that none can happen."""
    pending: list[ApiUse | SpecialAccess] = [u for u in uses if u.origin == "library"]
    pending += [a for a in special if a.origin == "library" and a.source == "call"]
    if not pending:
        return
    # library method -> the items whose path goes through it
    frontier: dict[tuple[str, str], list[ApiUse | SpecialAccess]] = defaultdict(list)
    for item in pending:
        cls, _, method = (item.caller if isinstance(item, ApiUse) else item.component or "").rpartition(".")
        frontier[(cls, method)].append(item)

    frontier = _not_yet_reached(frontier, components)
    if not frontier:
        return
    seen = set(frontier)
    # The dex files are read again rather than kept from the first pass: most apps never get here, and an app's
    # dex can be hundreds of MB.
    indexes: list[CallerIndex] = []
    for part in archive.apks:
        with entry_reader(part) as read:
            for name in part.dex_names:
                try:
                    indexes.append(CallerIndex(read(name, MAX_DEX_BYTES), part.label(name)))
                except DexFormatError as exc:  # the first pass read it; a failure here loses only the reach note
                    log.info("reachability pass skips %s: %s", part.label(name), exc)
    for _hop in range(MAX_REACH_HOPS):
        if not frontier:
            break
        wanted = set(frontier)
        following: dict[tuple[str, str], list[ApiUse | SpecialAccess]] = defaultdict(list)
        for index in indexes:
            try:
                sites = index.callers_of(wanted)
            except DexFormatError as exc:
                log.info("reachability pass skips %s: %s", index.name, exc)
                continue
            for site in sites:
                items = frontier.get((site.target_class, site.target_member), [])
                owner = catalog.owner_of_class(site.caller_class)
                if owner == "lib":
                    key = (site.caller_class, site.caller_method)
                    if key not in seen:
                        seen.add(key)
                        following[key].extend(items)
                    continue
                who = f"{site.caller_class}.{site.caller_method}" + (f" [{owner}]" if owner else " [app]")
                for item in items:
                    if item.reached_from is None:
                        item.reached_from = who
        frontier = _not_yet_reached(following, components)


def _not_yet_reached(frontier: dict[tuple[str, str], list[ApiUse | SpecialAccess]], components: dict[str, str]
                     ) -> dict[tuple[str, str], list[ApiUse | SpecialAccess]]:
    """Mark the items whose library method sits in a class the manifest declares (the system starts it); the
    methods whose items are still unreached, for the next hop."""
    left: dict[tuple[str, str], list[ApiUse | SpecialAccess]] = {}
    for (cls, method), items in frontier.items():
        outer = cls.split("$", 1)[0]
        kind = components.get(outer)
        for item in items:
            if item.reached_from is None and kind is not None:
                item.reached_from = f"<{kind} {outer}> (the system starts it)"
        waiting = [i for i in items if i.reached_from is None]
        if waiting:
            left[(cls, method)] = waiting
    return left


def _refine_location(uses: list[ApiUse], permissions: set[str]) -> list[ApiUse]:
    """Without ACCESS_FINE_LOCATION Android hands out coarse fixes only: the data is approximate."""
    if "android.permission.ACCESS_FINE_LOCATION" in permissions:
        return uses
    for use in uses:
        if use.data_type == "precise_location" and use.api_id != "exif-location":
            use.data_type = "approx_location"
    return sorted(uses, key=lambda u: (u.data_type, u.api, u.caller))


def _host_of(url: str) -> str | None:
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    if not host or "." not in host or host in _NOISE_HOSTS:
        return None
    return host


def _endpoints(archive: AppArchive, scans: list[DexScan], catalog: SdkCatalog) -> list[Endpoint]:
    found: dict[str, Endpoint] = {}

    def add(url: str, source: str) -> None:
        url = url.rstrip(".,;)\"'")
        host = _host_of(url)
        if not host or url in found:
            return
        entry = catalog.sdk_for_host(host)
        found[url] = Endpoint(url=url, host=host, source=source, sdk=entry.id if entry else None)

    for scan in scans:
        for url in scan.urls:
            add(url, scan.name)
    for part in archive.apks:
        # The Dart code is the same in every ABI's libapp.so: read one.
        dart = min((n for n in part.names if n.endswith("/libapp.so") and _APP_CODE_ASSET.match(n)), default=None)
        with entry_reader(part) as read:
            for name in part.names:
                is_code = _APP_CODE_ASSET.match(name) is not None
                if (is_code and name.endswith("/libapp.so") and name != dart) or not (
                        is_code or name == "resources.arsc" or _TEXT_ASSET.match(name)):
                    continue
                try:
                    blob = read(name, MAX_APP_CODE_ASSET if is_code else MAX_TEXT_RESOURCE)
                except BadApk as exc:  # an oversized asset is skipped, not fatal: the code is what matters
                    log.info("skipping %s: %s", name, exc)
                    continue
                # Compiled code keeps URLs as one-byte strings; its zero bytes are no UTF-16 text.
                for text in (blob,) if is_code else (blob, _utf16_as_ascii(blob)):
                    for match in _URL_RE.finditer(text):
                        add(match.group().decode("ascii", "replace"), part.label(name))
    return sorted(found.values(), key=lambda e: (e.sdk or "", e.host, e.url))


def _utf16_as_ascii(blob: bytes) -> bytes:
    """UTF-16 string pools (resources.arsc) hide URLs from a byte regex: keep the low bytes."""
    if blob.count(b"\x00") < len(blob) // 4:
        return b""
    return blob[::2] if blob[1:2] == b"\x00" or blob[3:4] == b"\x00" else blob[1::2]


class _SdkHits:
    """Collects evidence per SDK and decides referenced / present / wired."""

    def __init__(self, catalog: SdkCatalog) -> None:
        self.catalog = catalog
        self.evidence: dict[str, list[SdkEvidence]] = defaultdict(list)
        self.status: dict[str, SdkStatus] = {}
        self.auto_init: set[str] = set()
        # What the manifest sets of the meta-data that bear on a `depends` SDK's role: sdk -> name -> value.
        self.role_manifest: dict[str, dict[str, str]] = defaultdict(dict)

    def _raise(self, sdk_id: str, status: SdkStatus, evidence: SdkEvidence) -> None:
        current = self.status.get(sdk_id)
        if current is None or status.rank > current.rank:
            self.status[sdk_id] = status
        if evidence not in self.evidence[sdk_id]:
            self.evidence[sdk_id].append(evidence)

    def add_code(self, scans: list[DexScan], defined: set[str]) -> None:
        catalog = self.catalog
        defined_by: Counter[str] = Counter()
        example: dict[str, str] = {}
        referenced_by: Counter[str] = Counter()
        ref_example: dict[str, str] = {}
        exodus_defined: dict[str, str] = {}
        exodus_referenced: dict[str, str] = {}
        for scan in scans:
            for cls in scan.defined_classes:
                owner = catalog.owner_of_class(cls)
                if owner and owner != "lib":
                    defined_by[owner] += 1
                    example.setdefault(owner, cls)
                if catalog.has_exodus:
                    for tracker in catalog.exodus_matches(cls):
                        exodus_defined.setdefault(tracker, cls)
            for cls in scan.referenced_types:
                if cls in defined:
                    continue
                owner = catalog.owner_of_class(cls)
                if owner and owner != "lib":
                    referenced_by[owner] += 1
                    ref_example.setdefault(owner, cls)
                if catalog.has_exodus:
                    for tracker in catalog.exodus_matches(cls):
                        exodus_referenced.setdefault(tracker, cls)
        for sdk_id, count in defined_by.items():
            self._raise(sdk_id, SdkStatus.PRESENT,
                        SdkEvidence("code", f"{count} classes defined, e.g. {example[sdk_id]}"))
        for sdk_id, count in referenced_by.items():
            if sdk_id not in defined_by:
                self._raise(sdk_id, SdkStatus.REFERENCED, SdkEvidence(
                    "reference", f"{count} type names referenced but no class defined, e.g. {ref_example[sdk_id]}"))
        for scan in scans:
            for sdk_id, site in scan.wired.items():
                if sdk_id in catalog.entries:
                    self._raise(sdk_id, SdkStatus.WIRED, SdkEvidence(
                        "call", f"app code {site.caller_class}.{site.caller_method} calls "
                                f"{site.target_class}.{site.target_member}"))
        # Exodus trackers: credit the divulge SDK that owns the matched class, else report the tracker itself.
        for tracker, cls in {**exodus_referenced, **exodus_defined}.items():
            is_defined = tracker in exodus_defined
            owner = catalog.owner_of_class(cls)
            entry = catalog.entries[tracker]
            note = SdkEvidence("exodus", f"Exodus tracker {entry.sources[0].split(':')[1]} '{entry.name}' "
                                         f"matches {cls}{'' if is_defined else ' (referenced only)'}")
            if owner and owner != "lib" and owner in self.status:
                self._raise(owner, self.status[owner], note)
            else:
                self._raise(tracker, SdkStatus.PRESENT if is_defined else SdkStatus.REFERENCED, note)

    def add_manifest(self, manifest: manifest_mod.ManifestFacts) -> None:
        for component in manifest.components:
            sdk_id = self.catalog.sdk_for_manifest_name(component.name)
            if sdk_id is None:
                owner = self.catalog.owner_of_class(component.name)
                sdk_id = owner if owner not in (None, "lib") else None
            if sdk_id:
                self._raise(sdk_id, SdkStatus.WIRED,
                            SdkEvidence("manifest", f"<{component.kind} android:name=\"{component.name}\">"))
        for name in manifest.auto_init_providers:
            sdk_id = self.catalog.sdk_for_manifest_name(name)
            if sdk_id is None:
                owner = self.catalog.owner_of_class(name)
                sdk_id = owner if owner not in (None, "lib") else None
            if sdk_id:
                self.auto_init.add(sdk_id)
                self._raise(sdk_id, SdkStatus.WIRED, SdkEvidence(
                    "manifest", f"auto-initialising provider {name} starts it at process start"))
        for key, value in manifest.meta_data.items():
            for role_sdk in self.catalog.sdks_for_role_meta_data(key):
                self.role_manifest[role_sdk][key] = value
            sdk_id = self.catalog.sdk_for_meta_data(key)
            if sdk_id:
                # A configuration key names the SDK; only its classes (or native library) show it is in the app.
                self._raise(sdk_id, SdkStatus.REFERENCED,
                            SdkEvidence("manifest", f"<meta-data android:name=\"{key}\">"))

    def add_permissions(self, names: list[str]) -> None:
        # A merged-in permission corroborates an SDK found otherwise; alone it proves nothing.
        for name in names:
            for sdk_id in self.catalog.sdks_for_permission(name):
                if sdk_id in self.status:
                    self._raise(sdk_id, self.status[sdk_id],
                                SdkEvidence("manifest", f"<uses-permission android:name=\"{name}\">"))

    def add_native_libs(self, libs: tuple[str, ...]) -> None:
        for path in libs:
            sdk_id = self.catalog.sdk_for_native_lib(path.rsplit("/", 1)[-1])
            if sdk_id:
                self._raise(sdk_id, SdkStatus.PRESENT, SdkEvidence("native_lib", path))

    def add_domains(self, endpoints: list[Endpoint]) -> None:
        # A host name in a string shows the SDK is mentioned, not that it is bundled (Google's own
        # libraries carry ad-server URLs, apps link to social sites): on its own it only counts as
        # "referenced"; beside code, manifest or native-lib evidence it is one more basis.
        for endpoint in endpoints:
            if endpoint.sdk:
                self._raise(endpoint.sdk, SdkStatus.REFERENCED,
                            SdkEvidence("domain", f"{endpoint.url} in {endpoint.source}"))

    def result(self) -> list[SdkHit]:
        hits = []
        for sdk_id, status in list(self.status.items()):
            # Obfuscated code hides the SDK's class names; its configuration key and its own endpoint compiled into
            # the dex together still show the code ships. Either alone only names the SDK.
            evidence = self.evidence[sdk_id]
            configured = any(e.basis == "manifest" and e.detail.startswith("<meta-data") for e in evidence)
            in_dex = any(e.basis == "domain" and ".dex" in e.detail for e in evidence)
            if status == SdkStatus.REFERENCED and configured and in_dex:
                self._raise(sdk_id, SdkStatus.PRESENT, SdkEvidence(
                    "manifest", "configuration key and SDK endpoint in the code: obfuscated SDK code"))
        for sdk_id, status in self.status.items():
            entry = self.catalog.entries[sdk_id]
            evidence = self.evidence[sdk_id]
            hits.append(SdkHit(
                id=entry.id, name=entry.name, owner=entry.owner, country=entry.country,
                categories=list(entry.categories), status=status, evidence=evidence,
                data_types=list(entry.data_types), auto_init=sdk_id in self.auto_init, source=entry.source,
                website=entry.website, role=entry.role, role_setting=entry.role_setting, role_source=entry.role_source,
                role_manifest=[f"{k}={v}" for k, v in sorted(self.role_manifest.get(sdk_id, {}).items())]))
        return sorted(hits, key=lambda h: (-h.status.rank, h.id))
