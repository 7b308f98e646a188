"""An iOS app's own privacy manifest as a declaration: NSPrivacyCollectedDataTypes -> Declaration.

From a PrivacyInfo.xcprivacy file, or from an IPA (the union of every manifest in it: the app's and its SDKs',
which Xcode joins into the privacy report the App Store label is written from). A type no manifest lists is
one the manifests say the app does not collect, so it becomes a denied entry.
"""

from __future__ import annotations

import plistlib
import zipfile
from pathlib import Path
from xml.parsers.expat import ExpatError

from scanner.errors import BadDeclaration
from scanner.knowledge.ios import load_ios_catalog
from scanner.model import DATA_TYPES, CollectedDataDeclaration, Declaration, DeclaredDataType

MAX_BYTES = 8 << 20


def load_privacy_manifest(path: Path) -> Declaration:
    """A .xcprivacy file, or every manifest inside an .ipa."""
    if path.suffix.lower() == ".ipa":
        return _from_ipa(path)
    collected = _collected(path.read_bytes()[:MAX_BYTES + 1], str(path))
    return declaration_from_collected(collected, str(path), None)


def _collected(blob: bytes, where: str) -> list[CollectedDataDeclaration]:
    if len(blob) > MAX_BYTES:
        raise BadDeclaration("privacy manifest over 8 MiB", path=where)
    try:
        raw = plistlib.loads(blob)
    except (plistlib.InvalidFileException, ExpatError, ValueError) as exc:
        raise BadDeclaration(f"not a property list: {exc}", path=where) from exc
    if not isinstance(raw, dict):
        raise BadDeclaration("a privacy manifest is a dictionary at the top level", path=where)
    catalog = load_ios_catalog()
    collected = []
    for index, item in enumerate(raw.get("NSPrivacyCollectedDataTypes") or []):
        key = str(item.get("NSPrivacyCollectedDataType") or "") if isinstance(item, dict) else ""
        if key not in catalog.collected_data_types:
            raise BadDeclaration(f"NSPrivacyCollectedDataTypes[{index}]: unknown data type {key!r}", path=where)
        purposes = [catalog.collected_purposes[p] for p in item.get("NSPrivacyCollectedDataTypePurposes") or []
                    if p in catalog.collected_purposes]
        collected.append(CollectedDataDeclaration(key=key, data_types=list(catalog.collected_data_types[key]),
                                                  tracking=item.get("NSPrivacyCollectedDataTypeTracking"),
                                                  purposes=purposes))
    return collected


def _from_ipa(path: Path) -> Declaration:
    """The manifests under Payload/NAME.app/, read straight from the archive (the static stage is not needed)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist()
                     if n.startswith("Payload/") and n.endswith("/PrivacyInfo.xcprivacy") and ".app/" in n]
            collected = []
            for name in names:
                info = archive.getinfo(name)
                if info.file_size > MAX_BYTES:
                    raise BadDeclaration(f"{name} is over 8 MiB", path=str(path))
                collected.extend(_collected(archive.read(info), f"{path}!{name}"))
    except (zipfile.BadZipFile, OSError) as exc:
        raise BadDeclaration(f"not an IPA: {exc}", path=str(path)) from exc
    if not names:
        raise BadDeclaration("the IPA has no PrivacyInfo.xcprivacy to read as a declaration", path=str(path))
    return declaration_from_collected(collected, f"{path} ({len(names)} privacy manifests)", None)


def declaration_from_collected(collected: list[CollectedDataDeclaration], where: str,
                               package: str | None) -> Declaration:
    declaration = Declaration(kind="privacy-manifest", path=where, package=package)
    for item in collected:
        for data_type in item.data_types:
            entry = declaration.data_types.setdefault(data_type, DeclaredDataType(
                data_type=data_type, collected=True, source=f"{where}: {item.key}"))
            entry.purposes = sorted(set(entry.purposes) | set(item.purposes))
            if item.tracking:
                entry.shared = True
                entry.shared_purposes = sorted(set(entry.shared_purposes) | {"advertising"})
    for data_type in DATA_TYPES:
        if data_type not in declaration.data_types:
            declaration.data_types[data_type] = DeclaredDataType(
                data_type=data_type, denied=True, source=f"{where}: no NSPrivacyCollectedDataTypes entry")
    return declaration
