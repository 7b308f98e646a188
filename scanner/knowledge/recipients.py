"""Who receives a request: host -> registrable domain, first or third party, SDK and owner company."""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from publicsuffixlist import PublicSuffixList

from scanner.knowledge.regulation import Located, domain_country


class _SdkLike(Protocol):
    id: str
    name: str
    owner: str
    country: str
    categories: list[str]


class HostCatalog(Protocol):
    """What recipients need of the SDK catalog (scanner.knowledge.sdks.SdkCatalog has it)."""

    def sdk_for_host(self, host: str) -> _SdkLike | None: ...


@dataclass(frozen=True, slots=True)
class Recipient:
    host: str
    registrable_domain: str
    party: str  # first | third
    sdk: str | None
    sdk_name: str | None
    owner: str | None
    country: str | None
    categories: tuple[str, ...] = ()
    # How the country is known: `catalog` (the SDK owner's), `domain` or `cctld` (the approximate table of
    # rules/regulation/recipient_countries.yaml), None when it is not.
    country_source: str | None = None


@functools.cache
def _psl() -> PublicSuffixList:
    # The list ships inside the publicsuffixlist wheel: nothing is fetched at run time.
    return PublicSuffixList()


def registrable_domain(host: str) -> str:
    """eTLD+1 of a host (`tsis.jpush.cn` -> `jpush.cn`); IP addresses and single labels stay as they are."""
    host = host.lower().strip(".").strip("[]")
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    if "." not in host:
        return host
    return _psl().privatesuffix(host) or host


def normalise_domain(domain: str) -> str:
    domain = domain.strip().lower().strip(".")
    for prefix in ("https://", "http://"):
        domain = domain.removeprefix(prefix)
    domain = domain.split("/", 1)[0].split(":", 1)[0]
    return domain.removeprefix("*.")


class Recipients:
    """Resolves hosts once each; first-party domains match themselves and their subdomains."""

    def __init__(self, catalog: HostCatalog | None, first_party: Iterable[str] = ()) -> None:
        self.catalog = catalog
        self.first_party = tuple(sorted({normalise_domain(d) for d in first_party if d.strip()}))
        self._cache: dict[str, Recipient] = {}

    def is_first_party(self, host: str) -> bool:
        return any(host == d or host.endswith("." + d) for d in self.first_party)

    def resolve(self, host: str) -> Recipient:
        host = host.lower().strip(".")
        hit = self._cache.get(host)
        if hit is not None:
            return hit
        entry = self.catalog.sdk_for_host(host) if self.catalog is not None else None
        first = self.is_first_party(host)
        domain = registrable_domain(host)
        located = recipient_country(host, domain, None if first or entry is None else entry.country)
        hit = Recipient(
            host=host, registrable_domain=domain, party="first" if first else "third",
            sdk=None if first or entry is None else entry.id,
            sdk_name=None if first or entry is None else entry.name,
            owner=None if first or entry is None else entry.owner,
            country=located.country if located else None,
            categories=() if first or entry is None else tuple(entry.categories),
            country_source=located.source if located else None,
        )
        self._cache[host] = hit
        return hit


def recipient_country(host: str, registrable: str | None, catalog_country: str | None) -> Located | None:
    """Where a recipient is: the catalog's owner country when the host is a catalog SDK's, else the approximate
    domain table (the domain's owner, then the ccTLD)."""
    if catalog_country:
        return Located(catalog_country, "catalog")
    return domain_country(host, registrable)
