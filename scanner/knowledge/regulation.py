"""Regulation data the rules need: the 2021 necessary-PI scope, GB/T 41391 low-relevance permissions, permission map,
recipient countries, transfer regimes (EEA, adequacy) and the Play Families ads SDK list.

The data lives in rules/regulation/*.yaml (shipped as scanner.rules); this module reads it once and answers
questions such as "which app type is '新闻资讯类'?" or "which data types are necessary for a news app?".
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

import yaml

from scanner.errors import DivulgeError
from scanner.knowledge import shipped_text


@dataclass(frozen=True)
class AppType:
    number: int
    id: str
    zh: str
    en: str
    necessary: tuple[str, ...]


def _read(name: str) -> Any:
    text = shipped_text(name)
    return json.loads(text) if name.endswith(".json") else yaml.safe_load(text)


@functools.cache
def app_types() -> dict[str, AppType]:
    """The 39 app types of the 2021 scope by id."""
    doc = _read("regulation/necessary_pi_2021.yaml")
    return {t["id"]: AppType(t["number"], t["id"], t["zh"], t["en"], tuple(t["necessary"])) for t in doc["types"]}


def resolve_category(text: str | int | None) -> AppType | None:
    """An app type from its id, number (1-39), Chinese or English name; None for None; DivulgeError if unknown."""
    if text is None or text == "":
        return None
    types = app_types()
    key = str(text).strip()
    for t in types.values():
        if key in (t.id, t.zh, str(t.number)) or key.lower() == t.en.lower() or key.lower() == t.id.replace("_", "-"):
            return t
    raise DivulgeError(f"unknown app category {key!r}: use one of the 39 types of the 2021 necessary-PI scope "
                       f"(`divulge rules categories` lists them), e.g. news, online_shopping, utilities")


@functools.cache
def low_relevance_relevant_for() -> dict[str, frozenset[str]]:
    """permission -> the app types for which it is relevant (GB/T 41391 Annex E reading); low relevance elsewhere."""
    doc = _read("regulation/gbt41391_low_relevance_permissions.yaml")
    return {perm: frozenset(types) for perm, types in doc["permissions"].items()}


def low_relevance_permissions(category: str) -> list[str]:
    return sorted(p for p, relevant in low_relevance_relevant_for().items() if category not in relevant)


@functools.cache
def permission_data_types() -> dict[str, tuple[str, ...]]:
    doc = _read("regulation/permission_data_types.yaml")
    return {perm: tuple(types) for perm, types in doc["permissions"].items()}


@functools.cache
def schema(name: str) -> dict[str, Any]:
    """A JSON Schema shipped in rules/schema/."""
    loaded: dict[str, Any] = _read(f"schema/{name}")
    return loaded


# --- where recipients are, and which transfers leave a market (issue 18) ---------------------------------------


@dataclass(frozen=True)
class Located:
    """A recipient's country and how divulge knows it: `catalog` (the SDK owner's country), `domain` (the
    registrable domain's owner, rules/regulation/recipient_countries.yaml) or `cctld` (the country-code TLD)."""

    country: str
    source: str


@functools.cache
def _recipient_countries() -> tuple[dict[str, str], dict[str, str]]:
    doc = _read("regulation/recipient_countries.yaml")
    return ({str(k).lower(): str(v) for k, v in doc["cctld"].items()},
            {str(k).lower(): str(v) for k, v in doc["domains"].items()})


def domain_country(host: str, registrable: str | None = None) -> Located | None:
    """Approximate country of a host outside the SDK catalog: its registrable domain's owner, else its ccTLD.

    Approximate: from the name, not the server's location (see the data file's header)."""
    cctlds, domains = _recipient_countries()
    host = host.lower().strip(".")
    for name in (host, registrable or ""):
        # weixin.qq.com is listed beside qq.com: the longest listed suffix wins.
        labels = name.split(".")
        for start in range(len(labels) - 1):
            country = domains.get(".".join(labels[start:]))
            if country:
                return Located(country, "domain")
    tld = host.rsplit(".", 1)[-1]
    country = cctlds.get(tld)
    return Located(country, "cctld") if country else None


@dataclass(frozen=True)
class TransferRegimes:
    eea: frozenset[str]
    adequate: frozenset[str]
    adequate_if_certified: dict[str, str]
    cn_home: frozenset[str]


@functools.cache
def transfer_regimes() -> TransferRegimes:
    doc = _read("regulation/transfer_regimes.yaml")
    return TransferRegimes(frozenset(doc["eea"]), frozenset(doc["adequate"]), dict(doc["adequate_if_certified"]),
                           frozenset(doc["cn_home"]))


@dataclass(frozen=True)
class FamiliesAdsList:
    source: str
    sdks: frozenset[str]
    tracking_categories: frozenset[str]


@functools.cache
def families_ads_sdks() -> FamiliesAdsList:
    """Google Play's Families Self-Certified Ads SDK list, as catalog ids (rules/regulation/families_ads_sdks.yaml)."""
    doc = _read("regulation/families_ads_sdks.yaml")
    return FamiliesAdsList(doc["source"], frozenset(doc["sdks"]), frozenset(doc["tracking_categories"]))


@dataclass(frozen=True)
class StatementCues:
    any: tuple[str, ...]
    with_: tuple[str, ...] = ()
    negation: tuple[str, ...] = ()


@functools.cache
def policy_statement_cues() -> dict[str, StatementCues]:
    """The words that make the children's and cross-border statements (rules/regulation/policy_statements.yaml)."""
    doc = _read("regulation/policy_statements.yaml")
    return {name: StatementCues(tuple(str(t).lower() for t in cues["any"]),
                                tuple(str(t).lower() for t in cues.get("with", [])),
                                tuple(str(t).lower() for t in cues.get("negation", [])))
            for name, cues in doc["statements"].items()}
