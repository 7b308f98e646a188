"""What divulge knows of iOS (rules/catalogs/ios.yaml): purpose strings, personal-data and required-reason APIs,
Apple's list of SDKs that need a privacy manifest, and Apple's data-type and purpose keys mapped to DATA_TYPES."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from scanner.errors import BadCatalog
from scanner.knowledge import shipped_text
from scanner.model import DATA_TYPES, IDENTIFIER_KINDS, PURPOSES
from scanner.yaml_lines import FAST_SAFE_LOADER

WHERE = "rules/catalogs/ios.yaml"


@dataclass(frozen=True)
class IosApi:
    id: str
    framework: str
    data_type: str
    cls: str | None = None  # Objective-C class, seen as an imported `_OBJC_CLASS_$_` symbol
    function: str | None = None  # C function symbol
    selector: str | None = None  # needed among the selectors too, when given
    identifier: str | None = None
    purpose_string: str | None = None


@dataclass(frozen=True)
class ReasonCategory:
    """One required-reason API category and what shows its use in a binary."""

    id: str  # NSPrivacyAccessedAPICategory...
    label: str
    symbols: frozenset[str] = frozenset()
    classes: frozenset[str] = frozenset()
    selectors: frozenset[str] = frozenset()
    with_classes: frozenset[str] = frozenset()  # a selector counts only with one of these classes imported
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class IosCatalog:
    purpose_strings: dict[str, tuple[str, ...]]
    apis: tuple[IosApi, ...]
    linked_frameworks: dict[str, tuple[tuple[str, ...], str]]  # name -> (data types, note)
    reason_categories: tuple[ReasonCategory, ...]
    apple_listed_sdks: frozenset[str]
    apple_listed_source: str
    collected_data_types: dict[str, tuple[str, ...]]
    collected_purposes: dict[str, str]
    _listed_folded: dict[str, str] = field(default_factory=dict)

    def listed_sdk(self, framework: str) -> str | None:
        """Apple's spelling of a framework on its list of SDKs that need a manifest (matched ignoring case)."""
        return self._listed_folded.get(framework.lower())


def _fold(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "", text.lower())


def _types(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or any(t not in DATA_TYPES for t in value):
        raise BadCatalog(f"{where}: data types must be a list of ids from scanner.model.DATA_TYPES", path=WHERE)
    return tuple(value)


@functools.lru_cache(maxsize=1)
def load_ios_catalog() -> IosCatalog:
    text = shipped_text("catalogs/ios.yaml")
    try:
        raw = yaml.load(text, Loader=FAST_SAFE_LOADER)
    except yaml.YAMLError as exc:
        raise BadCatalog(f"invalid YAML: {exc}", path=WHERE) from exc
    apis = []
    for item in raw["apis"]:
        if item.get("identifier") and item["identifier"] not in IDENTIFIER_KINDS:
            raise BadCatalog(f"api {item['id']}: unknown identifier kind {item['identifier']!r}", path=WHERE)
        apis.append(IosApi(id=item["id"], framework=item["framework"], data_type=_types([item["data_type"]],
                                                                                         item["id"])[0],
                           cls=item.get("class"), function=item.get("function"), selector=item.get("selector"),
                           identifier=item.get("identifier"), purpose_string=item.get("purpose_string")))
    categories = tuple(
        ReasonCategory(id=cid, label=str(body["label"]), symbols=frozenset(body.get("symbols", ())),
                       classes=frozenset(body.get("classes", ())), selectors=frozenset(body.get("selectors", ())),
                       with_classes=frozenset(body.get("with_classes", ())), reasons=tuple(body["reasons"]))
        for cid, body in raw["required_reason_apis"].items())
    purposes = {k: v for k, v in raw["collected_purposes"].items()}
    bad = [v for v in purposes.values() if v not in PURPOSES]
    if bad:
        raise BadCatalog(f"unknown purposes {bad}", path=WHERE)
    listed = raw["apple_listed_sdks"]
    return IosCatalog(
        purpose_strings={k: _types(v, k) for k, v in raw["purpose_strings"].items()},
        apis=tuple(apis),
        linked_frameworks={k: (_types(v["data_types"], k), str(v["note"])) for k, v in raw["linked_frameworks"].items()},
        reason_categories=categories,
        apple_listed_sdks=frozenset(listed["names"]),
        apple_listed_source=str(listed["source"]),
        collected_data_types={k: _types(v, k) for k, v in raw["collected_data_types"].items()},
        collected_purposes=purposes,
        _listed_folded={str(n).lower(): str(n) for n in listed["names"]},
    )


# App Store privacy label words that do not fold to the manifest key's suffix.
_PURPOSE_ALIASES = {"developersadvertisingormarketing": "NSPrivacyCollectedDataTypePurposeDeveloperAdvertising",
                    "otherpurposes": "NSPrivacyCollectedDataTypePurposeOther"}


def data_type_key(text: str) -> str | None:
    """An App Store label data type ("Device ID") or manifest key -> the NSPrivacyCollectedDataType key."""
    catalog = load_ios_catalog()
    if text in catalog.collected_data_types:
        return text
    folded = _fold(text)
    for key in catalog.collected_data_types:
        if _fold(key.removeprefix("NSPrivacyCollectedDataType")) == folded:
            return key
    return None


def purpose_key(text: str) -> str | None:
    """An App Store label purpose ("Third-Party Advertising") or manifest key -> the manifest purpose key."""
    catalog = load_ios_catalog()
    if text in catalog.collected_purposes:
        return text
    folded = _fold(text)
    if folded in _PURPOSE_ALIASES:
        return _PURPOSE_ALIASES[folded]
    for key in catalog.collected_purposes:
        if _fold(key.removeprefix("NSPrivacyCollectedDataTypePurpose")) == folded:
            return key
    return None
