"""Benchmark: 10,000 requests with realistic bodies through plain mitmdump and through mitmdump + divulge addon.

    python bench/proxy_bench.py [--requests 10000] [--connections 8]

Everything runs on 127.0.0.1: a tiny asyncio upstream answering 204, mitmdump in forward mode, and an
asyncio client on keep-alive connections.  One run each: direct (no proxy, the latency baseline), plain
mitmdump, mitmdump with the addon (device profile of 30 values, session files written per flow).
Prints requests/s, p50/p99 added latency (proxy latency minus the direct latency at the same percentile)
and the throughput ratio (aim: the addon keeps >= 80% of plain mitmdump's throughput).
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import hashlib
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEVICE = REPO / "fixtures" / "devices" / "test-phone.yaml"
IMEI, ADID = "356938035643809", "38400000-8cf0-11bd-b23e-10b96e40000d"


def bodies() -> list[tuple[str, bytes, str]]:
    """(path, body, extra headers) in the shapes SDKs send."""
    beacon = json.dumps({"advertiserId": ADID, "android_id": "9774d56d682e549c", "eventName": "af_content_view",
                         "deviceData": {"model": "sdk_gphone64", "lat": "39.9042", "lon": "116.4074"}}).encode()
    umeng = gzip.compress(json.dumps({"header": {"imei_md5": hashlib.md5(IMEI.encode()).hexdigest(),
                                                 "mac": "021A2B3C4D5E"}, "content": {"ekv": [{"id": "x"}] * 5}}).encode())
    form = f"event=CUSTOM_APP_EVENTS&advertiser_id={ADID}&anon_id=XZ1&extinfo=%5B%22a2%22%5D".encode()
    plain = json.dumps({"items": [{"sku": f"A-{i}", "qty": 1} for i in range(10)]}).encode()
    return [("/api/v4/androidevent?app_id=org.example", beacon, "Content-Type: application/json\r\n"),
            ("/unify_logs", umeng, "Content-Type: application/json\r\nContent-Encoding: gzip\r\n"),
            ("/v17.0/1/activities", form, "Content-Type: application/x-www-form-urlencoded\r\n"),
            ("/v1/cart", plain, "Content-Type: application/json\r\n")]


async def upstream_server() -> tuple[asyncio.AbstractServer, int]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        try:
            while True:
                # mitmproxy writes headers and body separately; without quick ACKs Nagle + delayed ACK
                # would add 40 ms to every proxied request and measure the kernel, not the proxy.
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                if length:
                    await reader.readexactly(length)
                writer.write(b"HTTP/1.1 204 No Content\r\nServer: bench\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def client(connect: tuple[str, int], target: tuple[str, int], count: int, latencies: list[float],
                 via_proxy: bool) -> None:
    reader, writer = await asyncio.open_connection(*connect)
    samples = bodies()
    for i in range(count):
        path, body, extra = samples[i % len(samples)]
        url = f"http://{target[0]}:{target[1]}{path}" if via_proxy else path
        request = (f"POST {url} HTTP/1.1\r\nHost: {target[0]}:{target[1]}\r\n{extra}"
                   f"Content-Length: {len(body)}\r\n\r\n").encode() + body
        started = time.perf_counter()
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        latencies.append(time.perf_counter() - started)
        if not head.startswith(b"HTTP/1.1 204"):
            raise RuntimeError(head[:80])
    writer.close()


async def run_load(connect: tuple[str, int], target: tuple[str, int], total: int, connections: int,
                   via_proxy: bool) -> tuple[float, list[float]]:
    latencies: list[float] = []
    per = total // connections
    started = time.perf_counter()
    await asyncio.gather(*(client(connect, target, per, latencies, via_proxy) for _ in range(connections)))
    return per * connections / (time.perf_counter() - started), sorted(latencies)


def start_mitmdump(tmp: Path, with_addon: bool) -> tuple[subprocess.Popen[bytes], int]:
    sys.path.insert(0, str(REPO))
    from scanner.dynamic.capture import addon_path

    session = tmp / ("addon" if with_addon else "plain")
    session.mkdir()
    cmd = [str(Path(sys.executable).with_name("mitmdump")), "-q", "--listen-host", "127.0.0.1",
           "--listen-port", "0", "--set", f"confdir={tmp / 'ca'}", "--set", "flow_detail=0",
           "--set", "termlog_verbosity=error"]
    if with_addon:
        cmd += ["-s", str(addon_path()), "--set", f"divulge_session={session}", "--set", f"divulge_device={DEVICE}"]
    else:
        # Plain mitmdump has no proxy.json writer: a one-line script reports the port the same way.
        script = tmp / "port.py"
        script.write_text("import json\nfrom mitmproxy import ctx\nclass P:\n    def running(self):\n"
                          f"        open({str(session / 'proxy.json')!r}, 'w').write(json.dumps("
                          "{'listen': [list(a[:2]) for a in ctx.master.addons.get('proxyserver').listen_addrs()]}))\n"
                          "addons = [P()]\n")
        cmd += ["-s", str(script)]
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        path = session / "proxy.json"
        if path.exists() and path.read_text().strip():
            return process, int(json.loads(path.read_text())["listen"][0][1])
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("mitmdump did not start")


def pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))]


async def main_async(total: int, connections: int) -> None:
    server, port = await upstream_server()
    target = ("127.0.0.1", port)
    direct_rate, direct = await run_load(target, target, total, connections, False)
    print(f"direct (no proxy):    {direct_rate:8,.0f} req/s   p50 {pct(direct, .5) * 1e3:6.2f} ms  "
          f"p99 {pct(direct, .99) * 1e3:6.2f} ms")
    results = {}
    with tempfile.TemporaryDirectory(prefix="divulge-proxy-bench-") as tmp:
        for name, with_addon in (("plain mitmdump", False), ("mitmdump + divulge", True)):
            process, proxy_port = start_mitmdump(Path(tmp), with_addon)
            try:
                await run_load(("127.0.0.1", proxy_port), target, min(400, total), connections, True)  # warm-up
                rate, lat = await run_load(("127.0.0.1", proxy_port), target, total, connections, True)
            finally:
                process.terminate()
                process.wait(30)
            added50 = (pct(lat, .5) - pct(direct, .5)) * 1e3
            added99 = (pct(lat, .99) - pct(direct, .99)) * 1e3
            results[name] = rate
            print(f"{name:21s} {rate:8,.0f} req/s   added p50 {added50:6.2f} ms  added p99 {added99:6.2f} ms  "
                  f"(mean {statistics.fmean(lat) * 1e3:.2f} ms)")
            if with_addon:
                observations = (Path(tmp) / "addon" / "observations.jsonl").read_text().count("\n")
                print(f"{'':21s} {observations} observations written")
    server.close()
    ratio = results["mitmdump + divulge"] / results["plain mitmdump"]
    print(f"ratio: {ratio:.0%} of plain mitmdump's throughput (aim >= 80%) -> {'OK' if ratio >= 0.8 else 'BELOW AIM'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    asyncio.run(main_async(min(args.requests, 50_000), max(1, min(args.connections, 64))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
