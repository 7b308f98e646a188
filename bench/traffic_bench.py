"""Benchmark: `divulge traffic` on a generated 50,000-entry HAR (aim: 5,000 entries/s or more).

    python bench/traffic_bench.py [--entries 50000]

The HAR mixes what SDKs send (JSON with device ids, form posts, base64'd gzip envelopes, query strings,
bodies without personal data) with values of the fixture device profile. Everything stays on disk locally.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEVICE = REPO / "fixtures" / "devices" / "test-phone.yaml"
IMEI, ADID, ANDROID_ID = "356938035643809", "38400000-8cf0-11bd-b23e-10b96e40000d", "9774d56d682e549c"


def _entry(i: int, start: float) -> dict:
    kind = i % 6
    headers = [{"name": "User-Agent", "value": "Dalvik/2.1.0 (Linux; U; Android 13; sdk_gphone64 Build/TE1A)"},
               {"name": "Accept-Encoding", "value": "gzip"}]
    post = None
    if kind == 0:
        url = "https://ulogs.umeng.com/unify_logs"
        envelope = base64.b64encode(gzip.compress(json.dumps({
            "header": {"imei_md5": hashlib.md5(IMEI.encode()).hexdigest(), "mac": "021A2B3C4D5E", "seq": i}}).encode(),
            mtime=0)).decode()
        post = {"mimeType": "application/json", "text": json.dumps({"envelope": envelope})}
    elif kind == 1:
        url = f"https://mi.gdt.qq.com/gdt_mview.fcg?posid={i}&muid={hashlib.md5(IMEI.encode()).hexdigest()}&lat=39904211&lng=116407395"
    elif kind == 2:
        url = "https://graph.facebook.com/v17.0/123/activities"
        post = {"mimeType": "application/x-www-form-urlencoded",
                "text": f"event=CUSTOM_APP_EVENTS&advertiser_id={ADID}&anon_id=XZ{i:08x}&custom_events=%5B%7B%22_eventName%22%3A%22view%22%7D%5D"}
    elif kind == 3:
        url = "https://t.appsflyer.com/api/v4/androidevent?app_id=org.divulge.fixture.shopping"
        post = {"mimeType": "application/json", "text": json.dumps({
            "advertiserId": ADID, "android_id": ANDROID_ID, "eventName": "af_content_view", "counter": i,
            "deviceData": {"model": "sdk_gphone64", "brand": "google", "lat": "39.9042", "lon": "116.4074"}})}
    elif kind == 4:
        url = f"https://cdn.divulge-fixture.example/img/{i}.webp"
    else:
        url = "https://api.shop.divulge-fixture.example/v1/cart"
        post = {"mimeType": "application/json", "text": json.dumps({
            "items": [{"sku": f"A-{i}", "qty": 1, "price": 19.9}], "session": f"{i:032x}", "coupon": None})}
    when = datetime.fromtimestamp(start + i * 0.05, UTC).isoformat().replace("+00:00", "Z")
    request: dict[str, object] = {"method": "POST" if post else "GET", "url": url, "httpVersion": "HTTP/2.0", "headers": headers,
               "queryString": [], "cookies": [], "headersSize": -1, "bodySize": len(post["text"]) if post else 0}
    if post:
        request["postData"] = post
    return {"startedDateTime": when, "time": 20, "request": request,
            "response": {"status": 204, "statusText": "", "httpVersion": "HTTP/2.0", "headers": [], "cookies": [],
                         "content": {"size": 0, "mimeType": ""}, "redirectURL": "", "headersSize": -1, "bodySize": 0},
            "cache": {}, "timings": {"send": 1, "wait": 18, "receive": 1}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=50_000)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from scanner.dynamic.traffic import TrafficOptions, analyse_traffic
    from scanner.knowledge.sdks import shared_catalog as load_sdk_catalog

    with tempfile.TemporaryDirectory(prefix="divulge-bench-") as tmp:
        har_path = Path(tmp) / "bench.har"
        har = {"log": {"version": "1.2", "creator": {"name": "divulge bench", "version": "1"},
                       "entries": [_entry(i, 1767261600.0) for i in range(args.entries)]}}
        har_path.write_text(json.dumps(har))
        size = har_path.stat().st_size
        catalog = load_sdk_catalog()  # loaded once per process in the CLI too; not part of the per-entry cost
        started = time.perf_counter()
        report = analyse_traffic(TrafficOptions(captures=(har_path,), device=DEVICE,
                                                first_party=("divulge-fixture.example",)), catalog=catalog)
        elapsed = time.perf_counter() - started
    rate = report.flows / elapsed
    print(f"divulge traffic: {report.flows} HAR entries ({size / 1e6:.1f} MB), {len(report.observations)} observations "
          f"in {elapsed:.2f} s = {rate:,.0f} entries/s (aim >= 5,000) -> {'OK' if rate >= 5000 else 'BELOW AIM'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
