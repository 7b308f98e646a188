"""Who receives a request: host -> registrable domain, first or third party, SDK and owner company."""

from __future__ import annotations

import functools
import ipaddress
import re
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


# Package-name labels and label words that name no company: never enough to call a domain the app's own.
_GENERIC_WORDS = frozenset({
    "com", "org", "net", "edu", "gov", "int", "mil", "biz", "info", "app", "apps", "android", "mobile", "client",
    "www", "api", "main", "free", "lite", "pro", "plus", "beta", "debug", "release", "prod", "demo", "test", "sdk",
    "the", "and", "for", "with", "your", "my", "official", "cn", "io", "co", "me", "tv", "de", "uk", "br", "jp",
    "ru", "fr", "in", "us", "global", "international", "online", "service", "services", "group", "inc", "ltd",
})
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class AppNames:
    """What an app is called, for recognising its own domains in a capture: its package name and label.

    `br.com.example.app` reversed is `app.example.com.br`, whose registrable domain `example.com.br` is the app's;
    a registrable domain whose name (the label before the public suffix) is a distinctive word of the package or
    the whole label ("example", or "exampleshop" for "Example Shop") is the app's too, unless it is an SDK's."""

    package: str | None = None
    label: str | None = None

    @functools.cached_property
    def reversed_domains(self) -> frozenset[str]:
        labels = [p for p in (self.package or "").lower().split(".") if p]
        found = set()
        for i in range(2, len(labels) + 1):
            domain = _psl().privatesuffix(".".join(reversed(labels[:i])))  # None for a public suffix (com.br)
            if domain:
                found.add(domain)
        return frozenset(found)

    @functools.cached_property
    def words(self) -> frozenset[str]:
        # The package's labels between its TLD and its last one (com.spotify.music: spotify; the last names the
        # product, "music", "app"), and the whole label run together: single words of a label ("Weather") name
        # other companies' domains too often.
        words = {w for w in (self.package or "").lower().split(".")[1:-1] if len(w) >= 4}
        label_words = _WORD.findall((self.label or "").lower())
        if label_words:
            words.add("".join(label_words))
        return frozenset(w for w in words if w not in _GENERIC_WORDS and not w.isdigit())

    def owns(self, domain: str) -> bool:
        """Whether a registrable domain is named after the app (see the class)."""
        if domain in self.reversed_domains:
            return True
        name = domain.split(".", 1)[0]
        return len(name) >= 4 and name in self.words


class Recipients:
    """Resolves hosts once each; first-party domains match themselves and their subdomains."""

    def __init__(self, catalog: HostCatalog | None, first_party: Iterable[str] = (), app: AppNames | None = None
                 ) -> None:
        self.catalog = catalog
        self.first_party = tuple(sorted({normalise_domain(d) for d in first_party if d.strip()}))
        self.app = app
        self._cache: dict[str, Recipient] = {}

    def is_first_party(self, host: str) -> bool:
        if any(host == d or host.endswith("." + d) for d in self.first_party):
            return True
        if self.app is None:
            return False
        domain = registrable_domain(host)
        if domain in self.app.reversed_domains:
            return True  # the package's own domain, even when it is an SDK vendor's (its own app)
        return self.app.owns(domain) and (self.catalog is None or self.catalog.sdk_for_host(host) is None)

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
