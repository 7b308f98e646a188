"""The app's own domains, learned from its code: what the dynamic eye is told counts as first party."""

from __future__ import annotations

import logging
from pathlib import Path

from scanner.knowledge.recipients import AppNames, HostCatalog, registrable_domain
from scanner.model import StaticReport
from scanner.static import analyze_apk

log = logging.getLogger(__name__)

# Domains whose URLs sit in every app's code as licence, documentation and issue links (JavaScript bundles and
# Dart snapshots carry hundreds): never the app's own backend, so never "first party".
_REFERENCE_DOMAINS = frozenset({
    "github.com", "githubusercontent.com", "github.io", "gitlab.com", "bitbucket.org", "stackoverflow.com",
    "reactjs.org", "react.dev", "reactnative.dev", "fb.me", "flutter.dev", "dart.dev", "pub.dev",
    "android.com", "developer.android.com", "goo.gl", "bit.ly", "w3.org", "mozilla.org", "wikipedia.org",
    "npmjs.com", "npmjs.org", "unpkg.com", "jsdelivr.net", "apache.org", "opensource.org", "creativecommons.org",
    "json.org", "ietf.org", "schema.org", "unicode.org", "kotlinlang.org", "jetbrains.com", "example.com",
    "example.org", "example.net", "mit-license.org", "gnu.org", "babeljs.io", "webpack.js.org", "nodejs.org",
})


def app_domains(static: StaticReport, catalog: HostCatalog | None) -> list[str]:
    """Registrable domains of endpoints in the app's own code (SDK endpoints and reference links excluded)."""
    domains = set()
    for endpoint in static.endpoints:
        if endpoint.sdk is None and endpoint.host and "." in endpoint.host:
            domain = registrable_domain(endpoint.host)
            if (catalog is None or catalog.sdk_for_host(endpoint.host) is None) and domain not in _REFERENCE_DOMAINS:
                domains.add(domain)
    return sorted(domains)


def first_party_from_apk(apk: Path, catalog: HostCatalog | None = None) -> list[str]:
    """`app_domains` of an APK, analysed here (for `capture --app`)."""
    return app_first_party(apk, catalog)[0]


def app_first_party(apk: Path, catalog: HostCatalog | None = None) -> tuple[list[str], AppNames]:
    """`app_domains` of an APK and its names (package, label), for `traffic --app`."""
    static = analyze_apk(apk, catalog=catalog)  # type: ignore[arg-type]
    domains = app_domains(static, catalog)
    log.info("first-party domains from %s: %s", apk, domains)
    return domains, names_of(static)


def names_of(static: StaticReport) -> AppNames:
    """The package name and label the capture's hosts are compared with (knowledge.recipients.AppNames)."""
    return AppNames(static.app.package, static.app.label)
