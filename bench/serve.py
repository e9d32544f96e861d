#!/usr/bin/env python3
"""The service benchmarks of BENCHMARKS.md ("The HTTP service"), side by side in one run.

Load comes from generators not written here: wrk (coupon claims, impressions), redis-benchmark (the
Redis Lua design of the same claim), hey (cart pricing at a fixed rate) and curl (batch
ingest). Only the SSE subscribers, which measure rather than load, are this script's
own. Everything runs on 127.0.0.1 on free ports; the Redis keys it makes are
`dacu-bench:*`, deleted afterwards.

    python3 bench/serve.py --dacu target/release/dacu [--seconds 20] [--scale 500000]
"""

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FESTIVAL = os.path.join(ROOT, "festivals", "example-mini.toml")
BIG = os.path.join(ROOT, "festivals", "kuaishou-116-2021.toml")
CLOCK = "2021-11-05T10:00:00+08:00"


def sh(*args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw).stdout


class Serve:
    """`dacu serve` on a free port, with the rate limit off and room for 1,000 streams."""

    def __init__(self, dacu, data, festival=None, sets=()):
        cmd = [dacu, "serve", "--data", data, "--listen", "127.0.0.1:0", "--set", f'clock.start="{CLOCK}"',
               "--set", "limits.rate_per_token=0", "--set", "limits.connections=4096"]
        if festival:
            cmd += ["--festival", festival]
        for s in sets:
            cmd += ["--set", s]
        self.p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                  env={**os.environ, "DACU_LOG": "warn"})
        line = self.p.stdout.readline()
        self.url = re.search(r"http://\S+", line).group(0).rstrip("/")

    def stop(self):
        self.p.terminate()
        self.p.wait()


def token(dacu, data):
    return sh(dacu, "token", "create", "--data", data, "--role", "operator").strip()


def post(url, tok, path, body):
    req = urllib.request.Request(url + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"Authorization": f"Bearer {tok}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())


def durable_seq(url):
    with urllib.request.urlopen(url + "/metrics") as r:
        m = re.search(r"^dacu_durable_seq (\S+)$", r.read().decode(), re.M)
        return int(float(m.group(1))) if m else 0


def cpu_s(pid):
    """A process's CPU time so far (user and system), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def served_ms(url, route, method):
    """The service's own view of a route: its request-duration summary's p50, p99 and
    maximum in ms (from the request's arrival in the router to its answer)."""
    with urllib.request.urlopen(url + "/metrics") as r:
        text = r.read().decode()
    q = {}
    for quant, val in re.findall(r'^dacu_http_request_duration_seconds\{route="' + re.escape(route) + r'",method="'
                                 + method + r'",quantile="([\d.]+)"\} (\S+)$', text, re.M):
        q[quant] = float(val) * 1000
    return f"served p50 {q.get('0.5', 0):.2f} ms, p99 {q.get('0.99', 0):.2f} ms, max {q.get('1', 0):.2f} ms"


def new_dir(dacu, work, name, festival):
    """A fresh data directory holding `festival` and nothing else."""
    data = os.path.join(work, name)
    p = subprocess.run([dacu, "ingest", "--data", data, "--festival", festival], input="", text=True,
                       capture_output=True)
    assert p.returncode == 0, p.stderr
    return data


WRK_LUA = r"""
local threads = 0
function setup(thread) threads = threads + 1; thread:set("tid", threads) end
local n = 0
request = function()
  n = n + 1
  local body = string.format('{"user":"u%d-%d","id":"k%d-%d"}', tid, n, tid, n)
  return wrk.format("POST", "/v1/coupons/big/claims",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer TOKEN"}, body)
end
"""


def wrk_numbers(out):
    rps = float(re.search(r"Requests/sec:\s+(\S+)", out).group(1))
    lat = {}
    for pct, val, unit in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)$", out, re.M):
        lat[pct] = float(val) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, lat.get("50"), lat.get("99"), int(bad.group(1)) if bad else 0


def claims(dacu, work, seconds):
    data = new_dir(dacu, work, "claims", FESTIVAL)
    tok = token(dacu, data)
    s = Serve(dacu, data)
    try:
        post(s.url, tok, "/v1/commands", {
            "type": "create_coupon", "id": "c-big", "coupon": "big", "issuer": "platform", "scope": "platform",
            "threshold": 1000, "off": 100, "stock": 1_000_000_000, "claim_from": "2021-11-01T00:00:00+08:00",
            "claim_until": "2021-11-08T00:00:00+08:00", "valid_days": 3})
        lua = os.path.join(work, "claim.lua")
        with open(lua, "w") as f:
            f.write(WRK_LUA.replace("TOKEN", tok))
        cpu0 = cpu_s(s.p.pid)
        t0 = os.times()
        out = sh("wrk", "-t2", "-c64", f"-d{seconds}s", "--latency", "-s", lua, s.url)
        t1 = os.times()
        server_cpu = cpu_s(s.p.pid) - cpu0
        wrk_cpu = (t1.children_user + t1.children_system) - (t0.children_user + t0.children_system)
        rps, p50, p99, bad = wrk_numbers(out)
        with urllib.request.urlopen(urllib.request.Request(
                s.url + "/v1/coupons/big", headers={"Authorization": f"Bearer {tok}"})) as r:
            claimed = json.loads(r.read())["claimed"]
        served = served_ms(s.url, "/v1/coupons/{coupon}/claims", "POST")
    finally:
        s.stop()
    print(f"dacu claims (64 connections, durable): {rps:,.0f}/s, p50 {p50:.2f} ms, p99 {p99:.2f} ms, "
          f"non-2xx {bad}, claimed {claimed:,}; {served}")
    n = rps * seconds
    print(f"  CPU per claim: the service {server_cpu / n * 1e6:.1f} µs, wrk {wrk_cpu / n * 1e6:.1f} µs "
          f"(of {2 * 1e6 / rps:.1f} µs of two cores' time per claim)")
    return rps


REDIS_LUA = """
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then return -1 end
local s = tonumber(redis.call('GET', KEYS[1]) or '0')
if s <= 0 then return 0 end
redis.call('DECR', KEYS[1])
redis.call('SADD', KEYS[2], ARGV[1])
return 1
"""


def redis(seconds):
    keys = ["dacu-bench:stock", "dacu-bench:claimed"]
    sh("redis-cli", "SET", keys[0], "1000000000")
    sha = sh("redis-cli", "SCRIPT", "LOAD", REDIS_LUA).strip()
    try:
        # About `seconds` of work at the rate this machine reaches (measured first).
        probe = sh("redis-benchmark", "-q", "-c", "64", "-n", "100000", "-r", "100000000",
                   "EVALSHA", sha, "2", *keys, "u:__rand_int__")
        rate = float(re.search(r"([\d.]+) requests per second", probe).group(1))
        n = int(rate * seconds)
        out = sh("redis-benchmark", "-c", "64", "-n", str(n), "-r", "100000000",
                 "EVALSHA", sha, "2", *keys, "u:__rand_int__")
    finally:
        sh("redis-cli", "DEL", *keys)
    rps = float(re.search(r"throughput summary: ([\d.]+) requests per second", out).group(1))
    row = re.search(r"latency summary \(msec\):\s+avg\s+min\s+p50\s+p95\s+p99\s+max\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)",
                    out)
    p50, p99 = float(row.group(3)), float(row.group(5))
    print(f"Redis Lua claims (64 clients, EVALSHA, not durable): {rps:,.0f}/s, p50 {p50:.2f} ms, p99 {p99:.2f} ms")
    return rps


def quote(dacu, work, seconds, rate):
    data = new_dir(dacu, work, "quote", FESTIVAL)
    tok = token(dacu, data)
    s = Serve(dacu, data)
    try:
        post(s.url, tok, "/v1/commands", [
            {"type": "register_merchant", "merchant": "m1", "name": "M", "brand_tier": "ska", "category": "c"},
            {"type": "create_fullcut", "id": "f1", "fullcut": "f1", "scope": "store", "merchant": "m1",
             "tiers": [[10000, 1000], [30000, 4000]], "start": "2021-11-01T00:00:00+08:00",
             "end": "2021-11-08T00:00:00+08:00"},
            {"type": "create_coupon", "id": "c1", "coupon": "p10", "issuer": "platform", "scope": "platform",
             "threshold": 10000, "off": 1000, "stock": 1000, "claim_from": "2021-11-01T00:00:00+08:00",
             "claim_until": "2021-11-08T00:00:00+08:00", "valid_days": 3},
            {"type": "claim_coupon", "id": "k1", "coupon": "p10", "user": "u1"}])
        body = json.dumps({"user": "u1", "lines": [{"merchant": "m1", "sku": "a", "qty": 2, "price": 9900},
                                                   {"merchant": "m1", "sku": "b", "qty": 1, "price": 15000}]})
        workers = 20
        out = sh("hey", "-z", f"{seconds}s", "-c", str(workers), "-q", str(rate // workers), "-m", "POST",
                 "-H", f"Authorization: Bearer {tok}", "-T", "application/json", "-d", body, s.url + "/v1/quote")
        served = served_ms(s.url, "/v1/quote", "POST")
        # The floor: the same load against /healthz (no engine, no body) right after.
        floor = sh("hey", "-z", f"{seconds}s", "-c", str(workers), "-q", str(rate // workers), s.url + "/healthz")
    finally:
        s.stop()

    def hey_numbers(text):
        got = float(re.search(r"Requests/sec:\s+(\S+)", text).group(1))
        pct = {p: float(v) * 1000 for p, v in re.findall(r"(50|99)% in ([\d.]+) secs", text)}
        return got, pct, dict(re.findall(r"\[(\d+)\]\s+(\d+) responses", text))
    got, pct, codes = hey_numbers(out)
    print(f"quote at {rate}/s offered ({got:,.0f}/s served): p50 {pct['50']:.2f} ms, p99 {pct['99']:.2f} ms, "
          f"statuses {codes}; {served}")
    got, pct, codes = hey_numbers(floor)
    print(f"  the floor, /healthz at the same rate ({got:,.0f}/s served): p50 {pct['50']:.2f} ms, "
          f"p99 {pct['99']:.2f} ms, statuses {codes}")


IMPRESSION_LUA = r"""
request = function()
  return wrk.format("POST", "/v1/impressions",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer TOKEN"}, 'BODY')
end
"""


def impressions(dacu, work, seconds, chunk):
    """Guaranteed-traffic decisions through the service on the 116 file: `POST
    /v1/impressions` one opportunity and 1,000 a request (wrk), then NDJSON batches of
    `impression` lines through `POST /v1/commands` (one curl, in order)."""
    data = new_dir(dacu, work, "impressions", BIG)
    tok = token(dacu, data)
    s = Serve(dacu, data)
    try:
        for count in (1, 1000):
            body = json.dumps({"slot": "main_venue", "segment": "returning", "count": count})
            lua = os.path.join(work, f"impression-{count}.lua")
            with open(lua, "w") as f:
                f.write(IMPRESSION_LUA.replace("TOKEN", tok).replace("BODY", body))
            out = sh("wrk", "-t2", "-c64", f"-d{seconds}s", "--latency", "-s", lua, s.url)
            rps, p50, p99, bad = wrk_numbers(out)
            print(f"POST /v1/impressions, {count} a request (64 connections, durable): {rps:,.0f} requests/s = "
                  f"{rps * count:,.0f} decisions/s, p50 {p50:.2f} ms, p99 {p99:.2f} ms, non-2xx {bad}")
        print(f"  {served_ms(s.url, '/v1/impressions', 'POST')}")
        slots, segments = ["main_venue", "featured_feed", "live_rec", "search"], ["returning", "new", "lapsed"]
        files, n = [], 0
        d = os.path.join(work, "impression-chunks")
        os.makedirs(d, exist_ok=True)
        for i in range(20):
            p = os.path.join(d, f"{i:04}.ndjson")
            with open(p, "w") as f:
                for k in range(chunk):
                    j = n + k
                    f.write(json.dumps({"type": "impression", "id": f"imp{j}", "slot": slots[j % 4],
                                        "segment": segments[j // 4 % 3], "count": 1,
                                        "at": "2021-11-11T20:30:00+08:00"}) + "\n")
            n += chunk
            files.append(p)
        took, bad = curl_in_order(work, "impressions", s.url, tok, files)
        print(f"POST /v1/commands, NDJSON batches of {chunk:,} impression lines (one opportunity each, with ids): "
              f"{n / took:,.0f} decisions/s in {took:.2f} s, non-200 {bad}")
    finally:
        s.stop()


def chunks(path, work, lines_per):
    out, buf, n = [], [], 0
    with open(path) as f:
        for line in f:
            buf.append(line)
            if len(buf) == lines_per:
                out.append(buf)
                buf = []
    if buf:
        out.append(buf)
    files = []
    d = os.path.join(work, "chunks")
    os.makedirs(d, exist_ok=True)
    for i, c in enumerate(out):
        p = os.path.join(d, f"{i:06}.ndjson")
        with open(p, "w") as f:
            f.writelines(c)
        files.append(p)
        n += len(c)
    return files, n


def curl_in_order(work, name, url, tok, files):
    """Posts each NDJSON file to /v1/commands?events=false, in order, with one curl over
    one kept-alive connection (`next` separates the requests of a curl config); returns
    the seconds taken and how many requests did not answer 200."""
    cfg = os.path.join(work, name + ".curl")
    blocks = [f'silent\nurl = "{url}/v1/commands?events=false"\nheader = "Authorization: Bearer {tok}"\n'
              f'header = "Content-Type: application/x-ndjson"\ndata-binary = "@{f}"\n'
              f'output = "/dev/null"\nwrite-out = "%{{http_code}}\\n"\n' for f in files]
    with open(cfg, "w") as c:
        c.write("next\n".join(blocks))
    t0 = time.monotonic()
    codes = sh("curl", "--config", cfg).split()
    took = time.monotonic() - t0
    return took, sum(c != "200" for c in codes) + (len(files) - len(codes))


def http_ingest(dacu, work, files, name, subscribers=0):
    """Posts the chunks in order with curl, one at a time; lines/s. With `subscribers`,
    that many SSE streams follow `totals` meanwhile; returns their staleness too."""
    data = new_dir(dacu, work, name, BIG)
    tok = token(dacu, data)
    s = Serve(dacu, data)
    try:
        sse = Subscribers(s.url, tok, subscribers) if subscribers else None
        if sse:
            sse.start()
        took, bad = curl_in_order(work, name, s.url, tok, files)
        stale = sse.stop() if sse else None
    finally:
        s.stop()
    return took, bad, stale


class Subscribers:
    """`n` SSE streams of `totals`, and a poller of the durable position: an update with id
    P that arrives at t is stale by t − (when P was first seen durable)."""

    def __init__(self, url, tok, n):
        self.host, self.port = re.match(r"http://([^:]+):(\d+)", url).groups()
        self.url, self.tok, self.n = url, tok, n
        self.arrivals = []  # (monotonic time, id)
        self.durable = []  # (monotonic time, seq)
        self.done = threading.Event()
        self.connected = 0

    def start(self):
        self.loop_thread = threading.Thread(target=lambda: asyncio.run(self.run()), daemon=True)
        self.loop_thread.start()
        self.poll_thread = threading.Thread(target=self.poll, daemon=True)
        self.poll_thread.start()
        deadline = time.monotonic() + 60
        while self.connected < self.n and time.monotonic() < deadline:
            time.sleep(0.1)

    def poll(self):
        while not self.done.is_set():
            self.durable.append((time.monotonic(), durable_seq(self.url)))
            time.sleep(0.01)

    async def one(self):
        r, w = await asyncio.open_connection(self.host, int(self.port))
        w.write((f"GET /v1/events?topics=totals HTTP/1.1\r\nHost: {self.host}\r\n"
                 f"Authorization: Bearer {self.tok}\r\nAccept: text/event-stream\r\n\r\n").encode())
        await w.drain()
        self.connected += 1
        first = True
        while not self.done.is_set():
            try:
                line = await asyncio.wait_for(r.readline(), 0.5)
            except asyncio.TimeoutError:
                continue
            if not line:
                break
            if line.startswith(b"id: "):
                if first:
                    first = False  # the value on connecting, not an update
                    continue
                self.arrivals.append((time.monotonic(), int(line[4:])))
        w.close()

    async def run(self):
        await asyncio.gather(*(self.one() for _ in range(self.n)), return_exceptions=True)

    def stop(self):
        self.done.set()
        self.loop_thread.join(10)
        stale = []
        seen = sorted(self.durable)
        for t, p in sorted(self.arrivals):
            k = next((tt for tt, seq in seen if seq >= p), None)
            if k is not None:
                stale.append(max(0.0, t - k))
        stale.sort()
        if not stale:
            return None
        return {"updates": len(stale), "p50_ms": stale[len(stale) // 2] * 1000,
                "p99_ms": stale[int(len(stale) * 0.99)] * 1000, "connected": self.connected}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dacu", default=os.path.join(ROOT, "target", "release", "dacu"))
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--scale", type=int, default=300_000, help="festival-mix lines for the ingest rows")
    ap.add_argument("--quote-rate", type=int, default=1000)
    ap.add_argument("--chunk", type=int, default=10_000, help="NDJSON lines a request (limits.batch_commands)")
    ap.add_argument("--subscribers", type=int, default=1000)
    ap.add_argument("--only", default="claims,redis,quote,impressions,ingest,sse")
    a = ap.parse_args()
    only = set(a.only.split(","))
    for tool in ["wrk", "hey", "redis-benchmark", "curl"]:
        if not shutil.which(tool):
            sys.exit(f"bench/serve.py needs `{tool}` (Debian: apt-get install wrk hey redis-tools curl)")
    work = tempfile.mkdtemp(prefix="dacu-bench-serve-")
    try:
        if "claims" in only:
            d = claims(a.dacu, work, a.seconds)
        if "redis" in only:
            r = redis(a.seconds)
            if "claims" in only:
                print(f"  dacu / Redis: {d / r:.2f}")
        if "quote" in only:
            quote(a.dacu, work, a.seconds, a.quote_rate)
        if "impressions" in only:
            impressions(a.dacu, work, a.seconds, a.chunk)
        if only & {"ingest", "sse"}:
            stream = os.path.join(work, "festival.jsonl")
            sh(a.dacu, "simulate", "--festival", BIG, "--scale", str(a.scale), "--mix", "festival", "--seed", "116",
               "--out", stream, "--quiet")
            t0 = time.monotonic()
            p = subprocess.run([a.dacu, "ingest", "--data", os.path.join(work, "ingest"), "--festival", BIG],
                               stdin=open(stream), capture_output=True, text=True)
            cli = time.monotonic() - t0
            files, n = chunks(stream, work, a.chunk)
            print(f"dacu ingest: {n:,} lines in {cli:.2f} s = {n / cli:,.0f} lines/s (exit {p.returncode})")
            took, bad, _ = http_ingest(a.dacu, work, files, "http")
            print(f"HTTP batch ingest (NDJSON, {a.chunk:,} lines a request, ?events=false, one curl, one request at a time): {n / took:,.0f} lines/s "
                  f"in {took:.2f} s, non-200 {bad}; {(n / took) / (n / cli):.0%} of dacu ingest")
            if "sse" in only:
                took2, bad2, stale = http_ingest(a.dacu, work, files, "http-sse", a.subscribers)
                print(f"  with {a.subscribers} SSE subscribers of `totals`: {n / took2:,.0f} lines/s "
                      f"({(took / took2) - 1:+.0%} throughput), non-200 {bad2}; staleness {stale}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
