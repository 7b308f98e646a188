"""Figures on the reference captures: observations per confidence level, with and without a device profile.

    python bench/reference_figures.py [--repo PATH] [--reference ../shared/reference/traffic]

Reads the reference folder at run time (nothing of it is copied into the repo). Two parts:
- every capture in the folder through `divulge traffic` (the negative ones must give no observation);
- the TrackHAR adapter examples (CC0): for each adapter one request is written here with one observed value per
  field, at the field's place (query, JSON path, form, cookie, header), to a host of that tracker; the recall is how
  many identifier fields (idfa, idfv, other identifiers, hashed idfa, push token) gave an observation under their key.
`--repo` imports divulge from another checkout (to measure old and new code with the same script).
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parents[1]
# Hosts and paths of the adapters, written here from the trackers' public documentation.
ADAPTER_URLS = {
    "adcolony/adc3-launch": "https://adc3-launch.adcolony.com/v4/launch",
    "adcolony/configure": "https://androidads23.adcolony.com/configure",
    "adjust/body": "https://app.adjust.com/session", "adjust/qs": "https://app.adjust.com/attribution",
    "apple/iadsdk-attribution-v2": "https://ca.iadsdk.apple.com/adserver/attribution/v2",
    "branch-io/v1": "https://api2.branch.io/v1/install",
    "chartboost/live-unnested": "https://live.chartboost.com/api/install",
    "chartboost/live-nested": "https://live.chartboost.com/api/config",
    "facebook/graph-activities-json": "https://graph.facebook.com/v12.0/123456/activities",
    "facebook/graph-activities-qs": "https://graph.facebook.com/v12.0/123456/activities",
    "facebook/graph": "https://graph.facebook.com/v12.0/",
    "facebook/graph-network-ads-common": "https://graph.facebook.com/network_ads_common",
    "facebook/adnw-sync2": "https://graph.facebook.com/adnw_sync2",
    "google/app-measurement": "https://app-measurement.com/a",
    "google/device-provisioning-checkin": "https://android.clients.google.com/checkin",
    "google/fcmtoken-register": "https://android.clients.google.com/c2dm/register3",
    "google/doubleclick-mads-gma-body": "https://googleads.g.doubleclick.net/mads/gma",
    "google/doubleclick-mads-gma-qs": "https://googleads.g.doubleclick.net/mads/gma",
    "google/doubleclick-getconfig-pubsetting": "https://googleads.g.doubleclick.net/getconfig/pubsetting",
    "google/fundingchoicesmessages": "https://fundingchoicesmessages.google.com/a/consent",
    "google/doubleclick-pagead-interaction": "https://googleads.g.doubleclick.net/pagead/interaction/",
    "google/googledatatransport-firelog-batchlog-json": "https://firebaselogging-pa.googleapis.com/v1/firelog/legacy/batchlog",
    "google/googledatatransport-firelog-batchlog-protobuf": "https://firebaselogging-pa.googleapis.com/v1/firelog/legacy/batchlog",
    "google/firebaseinstallations": "https://firebaseinstallations.googleapis.com/v1/projects/x/installations",
    "infonline/ioam": "https://config.ioam.de/appcfg.php", "infonline/ioam-tx-query": "https://de.ioam.de/tx.io",
    "infonline/ioam-tx-body-gzip": "https://de.ioam.de/tx.io", "infonline/ioam-tx-body-json": "https://de.ioam.de/tx.io",
    "ironsource/logs": "https://logs.ironsrc.mobi/logs", "microsoft/appcenter-logs": "https://in.appcenter.ms/logs",
    "mopub/ads": "https://ads.mopub.com/m/open",
    "onesignal/players": "https://api.onesignal.com/api/v1/players/1dd608f2-c6a1-11e3-851d-000c2940e62c",
    "rayjump/setting": "https://configure.rayjump.com/setting", "rayjump/analytics": "https://analytics.rayjump.com/",
    "singular-net/api-v1": "https://sdk-api-v1.singular.net/api/v1/start",
    "smartbear/bugsnag-sessions": "https://sessions.bugsnag.com/", "smartbear/bugsnag-notify": "https://notify.bugsnag.com/",
    "start-io/infoevent": "https://infoevent.startappservice.com/tracking/infoEvent",
    "start-io/trackdownload": "https://trackdownload.startappservice.com/trackdownload",
    "unity/unityads-games": "https://publisher-config.unityads.unity3d.com/games/1/configuration",
    "vungle/api-new": "https://api.vungle.com/api/v5/new", "vungle/api-ads": "https://adx.ads.vungle.com/api/v5/ads",
    "yandex/appmetrica": "https://report.appmetrica.yandex.net/report",
}
FORM_BODIES = {"adjust/body", "facebook/graph-activities-qs", "facebook/graph-network-ads-common",
               "google/fcmtoken-register", "google/doubleclick-mads-gma-body"}
ID_TYPES = {"idfa", "idfv", "otheridentifiers", "hashedidfa", "pushnotificationtoken"}
NEGATIVE = ("charles.har", "chrome.har", "firefox.har", "insomnia.har", "safari.har", "dumpfile-018.mitm",
            "dumpfile-19.mitm", "dumpfile-7-websocket.mitm", "compressed.zhar", "with-bom.har")


def _pick(values: list[Any]) -> str | None:
    for v in values:
        if isinstance(v, (str, int)) and not isinstance(v, bool) and str(v).strip("0-") and len(str(v)) > 1:
            return str(v)
    return None


def _set(doc: dict[str, Any], steps: list[str], value: str) -> None:
    node: Any = doc
    for i, step in enumerate(steps):
        last = i == len(steps) - 1
        if step == "*":
            continue
        nxt_is_list = i + 1 < len(steps) and steps[i + 1] == "*"
        if last:
            node[step] = value
        else:
            if step not in node:
                node[step] = [{}] if nxt_is_list else {}
            node = node[step][0] if nxt_is_list else node[step]


def adapter_har(examples: dict[str, dict[str, list[Any]]]) -> tuple[dict[str, Any], list[tuple[str, str, str]]]:
    """One HAR entry per adapter; and the identifier fields written: (adapter, location, key)."""
    entries, wanted = [], []
    for i, (adapter, fields) in enumerate(sorted(examples.items())):
        url = ADAPTER_URLS.get(adapter)
        if url is None:
            continue
        query, body, form, cookies, headers = [], {}, [], [], []
        for spec, values in fields.items():
            kind, location, path = spec.split("/", 2)
            value = _pick(values)
            if value is None or "$" in path or "?" in path or (path.split(".")[0].isdigit()):
                continue  # JSONPath filters and protobuf paths are not rebuilt here
            key = path.split(".")[-1]
            if location == "query":
                query.append(f"{path}={value}")
            elif location == "cookie":
                cookies.append(f"{path}={value}")
            elif location == "header":
                headers.append({"name": path, "value": value})
            elif location == "body" and adapter in FORM_BODIES and "." not in path:
                form.append((path, value))
            elif location == "body":
                _set(body, path.split("."), value)
            else:
                continue
            if kind in ID_TYPES:
                wanted.append((adapter, "body" if location == "body" else location, key))
        if query:
            url += "?" + "&".join(query)
        if cookies:
            headers.append({"name": "Cookie", "value": "; ".join(cookies)})
        request: dict[str, Any] = {"method": "POST" if (body or form) else "GET", "url": url, "httpVersion": "HTTP/1.1",
                                   "headers": headers, "queryString": [], "cookies": [], "headersSize": -1, "bodySize": -1}
        if form:
            from urllib.parse import urlencode
            request["postData"] = {"mimeType": "application/x-www-form-urlencoded", "text": urlencode(form)}
        elif body:
            request["postData"] = {"mimeType": "application/json", "text": json.dumps(body)}
        entries.append({"startedDateTime": f"2026-01-01T00:{i // 60:02d}:{i % 60:02d}Z", "time": 1, "request": request,
                        "response": {"status": 200, "statusText": "", "httpVersion": "HTTP/1.1", "headers": [],
                                     "cookies": [], "content": {"size": 0, "mimeType": ""}, "redirectURL": "",
                                     "headersSize": -1, "bodySize": 0}, "cache": {}, "timings": {}, "_adapter": adapter})
    return {"log": {"version": "1.2", "creator": {"name": "reference_figures", "version": "1"}, "entries": entries}}, wanted


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repo", type=Path, default=HERE)
    parser.add_argument("--reference", type=Path, default=HERE.parent / "shared" / "reference" / "traffic")
    args = parser.parse_args()
    sys.path.insert(0, str(args.repo))
    from scanner.dynamic.traffic import TrafficOptions, analyse_traffic
    from scanner.errors import DivulgeError

    examples = json.loads((args.reference / "tweaselORG__tracker-wiki__adapterExamples.json").read_text("utf-8"))
    har, wanted = adapter_har(examples)
    ad_ids = collections.Counter(str(v) for f in examples.values() for k, vs in f.items() if k.startswith("idfa/")
                                 for v in vs if str(v).strip("0-"))
    with tempfile.TemporaryDirectory() as tmp:
        har_path = Path(tmp) / "adapters.har"
        har_path.write_text(json.dumps(har))
        profile = Path(tmp) / "device.yaml"
        # The test device of the examples: its most frequent advertising id is what an auditor's profile would list.
        profile.write_text(f"advertising_id: {ad_ids.most_common(1)[0][0]}\n")
        for label, device in (("without profile", None), ("with profile", profile)):
            report = analyse_traffic(TrafficOptions(captures=(har_path,), device=device))
            levels = collections.Counter(o.confidence for o in report.observations)
            found = {(o.url, o.where, (o.key or "").lower()) for o in report.observations}
            urls = {e["_adapter"]: e["request"]["url"] for e in har["log"]["entries"]}
            hit = sum(1 for a, where, key in wanted if (urls[a], where, key.lower()) in found)
            print(f"adapter requests ({len(har['log']['entries'])}), {label}: {len(report.observations)} observations "
                  f"{dict(sorted(levels.items()))}; identifier fields found {hit}/{len(wanted)}")
        for path in sorted(args.reference.iterdir()):
            if path.suffix not in (".har", ".mitm", ".zhar"):
                continue
            try:
                report = analyse_traffic(TrafficOptions(captures=(path,)))
            except DivulgeError as exc:
                print(f"{path.name}: error ({str(exc)[:60]})")
                continue
            except Exception as exc:  # older code crashed on some captures: say so and measure the rest
                print(f"{path.name}: crash ({type(exc).__name__}: {exc})")
                continue
            levels = collections.Counter(o.confidence for o in report.observations)
            negative = any(path.name.endswith(n) for n in NEGATIVE)
            detail = "; ".join(sorted({f"{o.data_type}/{o.identifier}@{o.host} key={o.key}" for o in report.observations}))
            print(f"{path.name}{' (negative)' if negative else ''}: {report.flows} flows, "
                  f"{len(report.observations)} observations {dict(sorted(levels.items()))} {detail[:300]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
