"""The domains a privacy policy names as the developer's own: where it tells users to write (privacy@acme.com) and
the sites it links to more than once, minus free mail providers and domains the SDK catalog gives to an SDK (a
policy links to Google's or Umeng's policy; those hosts are third parties). Traffic to them is first party."""

from __future__ import annotations

import functools
import re
from collections import Counter
from urllib.parse import urlsplit

from scanner.knowledge.recipients import registrable_domain
from scanner.knowledge.sdks import shared_catalog

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
_URL = re.compile(r"https?://([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)", re.I)
# Mail providers anyone can sign up with: a developer writing from one says nothing about its servers.
FREE_MAIL = frozenset({
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "yahoo.com", "icloud.com", "me.com",
    "aol.com", "proton.me", "protonmail.com", "gmx.de", "gmx.net", "web.de", "mail.ru", "yandex.ru", "qq.com",
    "163.com", "126.com", "sina.com", "sina.cn", "sohu.com", "foxmail.com", "aliyun.com", "139.com", "yeah.net",
})
# Sites policies cite that belong to nobody's app: regulators, standards bodies, app stores.
_PUBLIC = frozenset({"w3.org", "europa.eu", "gov.cn", "cac.gov.cn", "miit.gov.cn", "ftc.gov", "ico.org.uk",
                     "apple.com", "android.com", "play.google.com", "iabeurope.eu", "allaboutcookies.org",
                     "youronlinechoices.com", "aboutads.info", "networkadvertising.org", "wikipedia.org"})


@functools.cache
def _sdk_domains() -> frozenset[str]:
    """Registrable domains of every catalog SDK's endpoints and website (lbs.amap.com and apilocate.amap.com make
    amap.com an SDK vendor's, whatever host of it a policy links to)."""
    found: set[str] = set()
    for entry in shared_catalog(None).entries.values():
        hosts = list(entry.domains) + ([urlsplit(entry.website).hostname or ""] if entry.website else [])
        found.update(registrable_domain(h.lower()) for h in hosts if h)
    return frozenset(found)


def own_domains(text: str) -> list[str]:
    """Registrable domains the policy names as its own, sorted."""
    catalog = shared_catalog(None)
    vendors = _sdk_domains()
    emails = {registrable_domain(m.group(1).lower()) for m in _EMAIL.finditer(text)}
    links = Counter(registrable_domain(m.group(1).lower()) for m in _URL.finditer(text))
    found = {d for d in emails if d not in FREE_MAIL} | {d for d, n in links.items() if n >= 2 or d in emails}
    return sorted(d for d in found
                  if d and "." in d and d not in _PUBLIC and d not in FREE_MAIL and not d.endswith(".gov")
                  and d not in vendors and catalog.sdk_for_host(d) is None)
