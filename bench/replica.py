#!/usr/bin/env python3
"""Replica lag under load (BENCHMARKS.md, "Failover and read replicas").

A NATS server of its own (nats-server 2.10+ with `sync_interval: always`), a leader and a
read replica on one stream; wrk sends coupon claims to the leader for SECONDS while
this script samples the replica's `dacu_replica_lag_events` every 20 ms and, ten times
a second, times a read-your-write: a claim on the leader, then a read on the replica at
the position it returned (`?at_least=`).

    python3 bench/replica.py --dacu target/release/dacu --nats-server PATH [--seconds 10]
"""

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve import CLOCK, FESTIVAL, WRK_LUA, post, sh, wrk_numbers  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def node(dacu, data, log, extra=()):
    cmd = [dacu, "serve", "--data", data, "--log", log, "--listen", "127.0.0.1:0", "--set", f'clock.start="{CLOCK}"',
           "--set", "limits.rate_per_token=0", "--set", "limits.connections=4096", *extra]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                         env={**os.environ, "DACU_LOG": "warn"})
    url = re.search(r"http://\S+", p.stdout.readline()).group(0).rstrip("/")
    return p, url


def wait_role(url, role):
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url + "/readyz") as r:
                if r.read().decode().startswith("ready: " + role):
                    return
        except OSError:
            pass
        time.sleep(0.02)
    raise SystemExit(f"{url} never became {role}")


def lag(url):
    with urllib.request.urlopen(url + "/metrics") as r:
        m = re.search(r"^dacu_replica_lag_events (\S+)$", r.read().decode(), re.M)
        return int(float(m.group(1))) if m else 0


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, int(len(xs) * p + 0.999999) - 1))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dacu", default="target/release/dacu")
    ap.add_argument("--nats-server", required=True)
    ap.add_argument("--seconds", type=int, default=10)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="dacu-replica-")
    port = free_port()
    conf = os.path.join(work, "nats.conf")
    with open(conf, "w") as f:
        f.write(f'listen: 127.0.0.1:{port}\njetstream {{\n  store_dir: "{work}/js"\n  sync_interval: always\n}}\n')
    nats = subprocess.Popen([a.nats_server, "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    log = f"nats://127.0.0.1:{port}/BENCH"
    procs = []
    try:
        tok = sh(a.dacu, "token", "create", "--data", os.path.join(work, "tok"), "--log", log, "--role",
                 "operator").strip()
        lp, leader = node(a.dacu, os.path.join(work, "l"), log, ["--festival", FESTIVAL])
        procs.append(lp)
        wait_role(leader, "leader")
        rp, replica = node(a.dacu, os.path.join(work, "r"), log, ["--replica"])
        procs.append(rp)
        wait_role(replica, "replica")
        post(leader, tok, "/v1/commands", {
            "type": "create_coupon", "id": "c-big", "coupon": "big", "issuer": "platform", "scope": "platform",
            "threshold": 1000, "off": 100, "stock": 1_000_000_000, "claim_from": "2021-11-01T00:00:00+08:00",
            "claim_until": "2021-11-08T00:00:00+08:00", "valid_days": 3})
        lua = os.path.join(work, "claim.lua")
        with open(lua, "w") as f:
            f.write(WRK_LUA.replace("TOKEN", tok))
        samples, ryw = [], []
        done = threading.Event()

        def sample():
            i = 0
            while not done.is_set():
                samples.append(lag(replica))
                if i % 5 == 0:
                    t0 = time.perf_counter()
                    r = post(leader, tok, "/v1/coupons/big/claims", {"user": f"ryw{i}", "id": f"ryw{i}"})
                    req = urllib.request.Request(f"{replica}/v1/wallets/ryw{i}?at_least={r['last_seq']}",
                                                 headers={"Authorization": f"Bearer {tok}"})
                    t1 = time.perf_counter()
                    urllib.request.urlopen(req).read()
                    ryw.append(((t1 - t0) * 1000, (time.perf_counter() - t1) * 1000))
                i += 1
                time.sleep(0.02)

        t = threading.Thread(target=sample)
        t.start()
        out = sh("wrk", "-t2", "-c32", f"-d{a.seconds}s", "--latency", "-s", lua, leader)
        done.set()
        t.join()
        rps, p50, p99, bad = wrk_numbers(out)
        print(f"claims on the leader: {rps:,.0f}/s, p50 {p50:.2f} ms, p99 {p99:.2f} ms, non-2xx {bad}")
        print(f"replica lag over {len(samples)} samples: p50 {pct(samples, 0.5)} events, p99 {pct(samples, 0.99)}, "
              f"max {max(samples)}")
        w = [x[0] for x in ryw]
        r = [x[1] for x in ryw]
        print(f"read-your-write over {len(ryw)}: the write p50 {pct(w, 0.5):.2f} ms p99 {pct(w, 0.99):.2f} ms; "
              f"then the replica's read at its position p50 {pct(r, 0.5):.2f} ms p99 {pct(r, 0.99):.2f} ms")
    finally:
        for p in procs:
            p.terminate()
            p.wait()
        nats.terminate()
        nats.wait()


if __name__ == "__main__":
    main()
