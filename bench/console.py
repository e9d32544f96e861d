#!/usr/bin/env python3
"""The console benchmarks of BENCHMARKS.md ("The console"), in a real headless Chromium.

On a festival of `--scale` simulated commands (10M by default), served by `dacu serve`:

- first load: from navigation to the operator console's first render (the page records
  `performance.now()` then), and the bytes transferred (navigation + every resource), over
  `--loads` fresh page loads;
- push latency: an order is sent through the API and the time until the page shows its GMV
  (the page records `Date.now()` at each render), over `--orders` orders;
- the cost of one `console` push event at this size: the time to the first SSE event of
  `GET /v1/events?topics=console`, and its size.

Chromium is Debian's, driven over WebDriver by its chromedriver (both from Debian's
archive: `apt-get install chromium chromium-driver`). Everything runs on 127.0.0.1 on free
ports.

    python3 bench/console.py --dacu target/release/dacu [--scale 10000000] [--work DIR]
    python3 bench/console.py --dacu target/release/dacu --rehearsal docs/img/console-rehearsal.png

`--rehearsal PNG` instead runs `dacu demo --serve --exit` (the calibrated rehearsal at 1/400,
1.8M commands, in 3 minutes),
follows the console through it, reports how far behind the festival clock the screen ran,
and saves a screenshot halfway.
"""

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FESTIVAL = os.path.join(ROOT, "festivals", "kuaishou-116-2021.toml")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1920,1080"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, headers=None, timeout=120):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read() or b"null")


class Driver:
    """A chromedriver and one session of a fresh Chromium profile."""

    def __init__(self, profile):
        self.port = free_port()
        self.p = subprocess.Popen(["chromedriver", f"--port={self.port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{self.port}"
        for _ in range(200):
            try:
                if http("GET", self.base + "/status")["value"]["ready"]:
                    break
            except OSError:
                time.sleep(0.05)
        caps = {"capabilities": {"alwaysMatch": {"goog:chromeOptions": {
            "binary": "/usr/bin/chromium", "args": ARGS + [f"--user-data-dir={profile}"]}}}}
        self.sid = http("POST", self.base + "/session", caps)["value"]["sessionId"]

    def cmd(self, method, path, body=None):
        return http(method, f"{self.base}/session/{self.sid}{path}", body)["value"]

    def goto(self, url):
        self.cmd("POST", "/url", {"url": url})

    def js(self, script):
        return self.cmd("POST", "/execute/sync", {"script": script, "args": []})

    def wait(self, script, timeout_s=120):
        end = time.time() + timeout_s
        while time.time() < end:
            v = self.js(script)
            if v:
                return v
            time.sleep(0.02)
        raise SystemExit(f"timed out waiting for: {script}")

    def screenshot(self, path):
        import base64
        with open(path, "wb") as f:
            f.write(base64.b64decode(self.cmd("GET", "/screenshot")))

    def close(self):
        try:
            http("DELETE", f"{self.base}/session/{self.sid}")
        finally:
            self.p.terminate()
            self.p.wait()


def sh(*args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw).stdout


def q(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))]


def rehearsal(dacu, png, minutes):
    """Watches a rehearsal through its console: a screenshot halfway and one once settled."""
    import queue
    import signal
    import threading
    work = tempfile.mkdtemp(prefix="dacu-rehearsal-")
    p = subprocess.Popen([dacu, "demo", "--serve", "--minutes", str(minutes), "--listen", "127.0.0.1:0",
                          "--data", os.path.join(work, "demo")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    link = None
    for line in p.stdout:
        print("  " + line.rstrip())
        m = re.search(r"\(operator\): (http://\S+)", line)
        if m:
            link = m.group(1)
            break
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in p.stdout], daemon=True).start()
    profile = tempfile.mkdtemp(prefix="dacu-chromium-")
    d = Driver(profile)
    t0, shot = time.time(), False
    try:
        d.goto(link)
        while True:
            try:
                line = lines.get(timeout=0.5)
            except queue.Empty:
                line = ""
            if line:
                print("  " + line.rstrip())
            if not shot and time.time() - t0 > minutes * 30:
                d.screenshot(png)
                shot = True
                print(f"  screenshot at event {d.js('return document.body.dataset.seq')}: {png}")
            if "Serving until Ctrl-C" in line:
                time.sleep(2)
                settled = png.replace(".png", "-settled.png")
                d.screenshot(settled)
                print(f"  screenshot once settled: {settled}")
                break
            if p.poll() is not None:
                break
    finally:
        d.close()
        p.send_signal(signal.SIGINT)
        p.wait()
        while not lines.empty():
            print("  " + lines.get().rstrip())
        shutil.rmtree(profile, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    print(f"rehearsal played in {time.time() - t0:.0f} s")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rehearsal", metavar="PNG")
    ap.add_argument("--minutes", type=float, default=3)
    ap.add_argument("--dacu", default=os.path.join(ROOT, "target", "release", "dacu"))
    ap.add_argument("--scale", default="10000000")
    ap.add_argument("--loads", type=int, default=10)
    ap.add_argument("--orders", type=int, default=20)
    ap.add_argument("--work", help="keep the data here (reused when it exists)")
    a = ap.parse_args()
    if a.rehearsal:
        return rehearsal(a.dacu, a.rehearsal, a.minutes)
    work = a.work or tempfile.mkdtemp(prefix="dacu-console-bench-")
    os.makedirs(work, exist_ok=True)
    data = os.path.join(work, "data")
    if not os.path.exists(data):
        t0 = time.time()
        wl = os.path.join(work, "workload.jsonl")
        sh(a.dacu, "simulate", "--festival", FESTIVAL, "--scale", a.scale, "--out", wl, "--quiet")
        subprocess.run([a.dacu, "ingest", "--data", data, "--festival", FESTIVAL, wl], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.remove(wl)
        print(f"prepared {a.scale} simulated commands in {time.time() - t0:.0f} s")
    token = sh(a.dacu, "token", "create", "--data", data, "--role", "operator").strip()
    events = json.loads(sh(a.dacu, "report", "--data", data, "--json"))["events"]
    serve = subprocess.Popen([a.dacu, "serve", "--data", data, "--listen", "127.0.0.1:0", "--set", "limits.rate_per_token=0",
                              "--set", 'clock.start="2021-11-11T20:00:00+08:00"'],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env={**os.environ, "DACU_LOG": "warn"})
    url = re.search(r"http://\S+", serve.stdout.readline()).group(0).rstrip("/").rstrip(";")
    auth = {"Authorization": f"Bearer {token}"}
    try:
        # The cost of one console event at this size.
        t0 = time.time()
        req = urllib.request.Request(url + "/v1/events?topics=console", headers=auth)
        with urllib.request.urlopen(req, timeout=300) as r:
            size = 0
            for line in r:
                size += len(line)
                if line.startswith(b"data:"):
                    break
        first_event_ms = (time.time() - t0) * 1000
        print(f"festival of {events:,} events: first `console` event after {first_event_ms:.0f} ms, {size:,} bytes")

        loads, weights = [], []
        profile = tempfile.mkdtemp(prefix="dacu-chromium-")
        d = Driver(profile)
        try:
            weight = """const n = performance.getEntriesByType('navigation')[0];
                return n.transferSize + performance.getEntriesByType('resource')
                    .filter((r) => !r.name.includes('/v1/events')).reduce((s, r) => s + r.transferSize, 0);"""
            d.goto(f"{url}/login?token={token}")
            cold = d.wait("return window.__rendered_ms")
            cold_bytes = d.js(weight)
            print(f"first load in a fresh profile: first render after {cold:.0f} ms, {cold_bytes:,} bytes transferred")
            for _ in range(a.loads):
                d.goto(url + "/")
                loads.append(d.wait("return window.__rendered_ms"))
                weights.append(d.js(weight))
            print(f"reloads (assets cached): first render p50 {q(loads, .5):.0f} ms, max {max(loads):.0f} ms over {a.loads}; "
                  f"{statistics.median(weights):,.0f} bytes transferred")
            lat = []
            for i in range(a.orders):
                before = int(d.js("return document.querySelector('#gmv').dataset.fen"))
                paid = 10_000 + i
                t0 = time.time() * 1000
                http("POST", url + "/v1/commands", {"type": "order_paid", "order": f"bench-console-{i}-{int(t0)}",
                     "user": f"u-bench-{i}", "merchant": "m0", "channel": "shelf",
                     "lines": [{"sku": "m0-k0", "qty": 1, "price": paid, "paid": paid}],
                     "at": "2021-11-11T20:00:00+08:00"}, auth)
                want = before + paid
                shown = d.wait(f"""const r = (window.__renders || []).find((x) => x[1] === {want});
                    return r && r[0];""", 30)
                lat.append(shown - t0)
            print(f"order → GMV on screen: p50 {q(lat, .5):.0f} ms, p99 {q(lat, .99):.0f} ms, max {max(lat):.0f} ms over {a.orders} orders")
        finally:
            d.close()
            shutil.rmtree(profile, ignore_errors=True)
    finally:
        serve.terminate()
        serve.wait()
        if not a.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
