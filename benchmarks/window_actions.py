"""Call-next and complete from every window at once, through the HTTP API.

20 windows (the example hall's), each a staff member's client in a loop of
call-next then complete, against a backlog of waiting tickets, one server process
on SQLite (its embedded MQTT broker and live pages running, as served). Prints
cycles/s, the server's CPU time per cycle, p50/p99 of each action, and the
tickets called twice (must be 0). Usage:

  python benchmarks/window_actions.py [--windows 20] [--backlog 2000] [--cycles 1000]
         [--against DIR] [--port P] [--mqtt-port P] [--smoke]

--against DIR runs the same measurement first with the server's code from another
checkout of HallQ (e.g. `git worktree add /tmp/before HEAD~5`), so a change is
measured before and after in one run, on one machine, one after the other.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import statistics
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

from _server import running_server

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time so far of process `pid` and its descendants (the server's workers; Linux /proc)."""
    parents, own = {}, {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        child = int(stat.parent.name)
        parents[child], own[child] = int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK
    tree, grew = {pid}, True
    while grew:
        more = {p for p, parent in parents.items() if parent in tree} - tree
        tree |= more
        grew = bool(more)
    return sum(own.get(p, 0.0) for p in tree)


class Api:
    def __init__(self, base: str, token: str):
        url = urlparse(base)
        self.conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        self.headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}

    def post(self, path: str, body: dict | None = None) -> tuple[int, dict]:
        self.conn.request("POST", "/api/v1/halls/district" + path, json.dumps(body or {}), self.headers)
        resp = self.conn.getresponse()
        return resp.status, json.loads(resp.read() or b"{}")


def staff_tokens(env: dict, windows: int) -> list[str]:
    """A staff account and API token per window (the `hallq` CLI, as an administrator would)."""
    import subprocess
    import sys

    def run(*args, **kw):
        return subprocess.run([sys.executable, "-m", "hallq", *args], env=env, check=True, capture_output=True, text=True, **kw)

    tokens = []
    for n in range(1, windows + 1):
        run("user", "add", f"bench-staff{n:02d}", "--role", "staff", "--hall", "district", "--password-stdin", input="bench-password\n")
        tokens.append(run("token", "create", f"bench-staff{n:02d}").stdout.strip())
    return tokens


def fill(base: str, token: str, backlog: int) -> None:
    """Issue `backlog` tickets over the hall's services (8 clients)."""
    services = ["SI", "MI", "HR", "HF", "BL", "TX", "RE", "CX"]

    def issue(first: int) -> None:
        api = Api(base, token)
        for i in range(first, backlog, 8):
            status, body = api.post("/tickets", {"service": services[i % len(services)]})
            assert status == 201, body

    threads = [threading.Thread(target=issue, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def window_client(base: str, token: str, window: int, cycles: int, ready, go, out) -> None:
    """Open the window, say so, and once every window is open call-next + complete `cycles` times
    (or until nobody waits for it)."""
    api = Api(base, token)
    status, body = api.post(f"/windows/{window}/open")
    assert status == 200, body
    called, calls, completes, errors = [], [], [], []
    ready.put(window)
    go.wait()
    for _ in range(cycles):
        t0 = time.perf_counter()
        status, body = api.post(f"/windows/{window}/call-next")
        t1 = time.perf_counter()
        if status == 409 and body["error"]["code"] == "queue_empty":
            break
        if status != 200:
            errors.append((status, body))
            continue
        called.append((body["last_ticket"]["business_date"], body["last_ticket"]["number"]))
        status, body = api.post(f"/windows/{window}/complete")
        t2 = time.perf_counter()
        if status != 200:
            errors.append((status, body))
        calls.append(t1 - t0)
        completes.append(t2 - t1)
    out.put((called, calls, completes, errors, time.time()))


def measure(args, pythonpath: str | None) -> dict:
    """One run against a freshly served hall; its figures."""
    with running_server(port=args.port, mqtt_port=args.mqtt_port, pythonpath=pythonpath) as served:
        fill(served.base, served.token, args.backlog)
        tokens = staff_tokens(served.env, args.windows)
        per_window = max(1, args.cycles // args.windows)
        context = multiprocessing.get_context("spawn")
        out, ready, go = context.Queue(), context.Queue(), context.Event()
        procs = [context.Process(target=window_client, args=(served.base, tokens[w - 1], w, per_window, ready, go, out))
                 for w in range(1, args.windows + 1)]
        for proc in procs:
            proc.start()
        for _ in procs:  # every window open (and every client process started) before the clock runs
            ready.get(timeout=120)
        cpu0 = cpu_seconds(served.pid)
        start_at = time.time()
        go.set()
        results = [out.get() for _ in procs]
        cpu1 = cpu_seconds(served.pid)
        for proc in procs:
            proc.join()
    elapsed = max(r[4] for r in results) - start_at
    called = [x for r in results for x in r[0]]
    calls = sorted(x for r in results for x in r[1])
    completes = sorted(x for r in results for x in r[2])
    cycles = len(completes)
    return {
        "cycles": cycles, "seconds": elapsed, "cycles_per_s": cycles / elapsed, "cpu_ms_per_cycle": 1000 * (cpu1 - cpu0) / max(cycles, 1),
        "call_p50": statistics.median(calls), "call_p99": calls[int(0.99 * (len(calls) - 1))],
        "complete_p50": statistics.median(completes), "complete_p99": completes[int(0.99 * (len(completes) - 1))],
        "double_calls": len(called) - len(set(called)), "errors": [e for r in results for e in r[3]],
    }


def report(label: str, f: dict) -> None:
    print(f"-- {label}")
    print(f"cycles             {f['cycles']} in {f['seconds']:.1f} s ({len(f['errors'])} errors)")
    print(f"throughput         {f['cycles_per_s']:.0f} call+complete cycles/s")
    print(f"server CPU         {f['cpu_ms_per_cycle']:.1f} ms per cycle")
    print(f"call-next p50/p99  {f['call_p50'] * 1000:.1f} / {f['call_p99'] * 1000:.1f} ms")
    print(f"complete p50/p99   {f['complete_p50'] * 1000:.1f} / {f['complete_p99'] * 1000:.1f} ms")
    print(f"tickets called twice {f['double_calls']}")
    if f["errors"]:
        print("first error:", f["errors"][0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--windows", type=int, default=20)
    ap.add_argument("--backlog", type=int, default=2000, help="tickets waiting when the windows start")
    ap.add_argument("--cycles", type=int, default=1000, help="call-next + complete cycles in all (spread over the windows)")
    ap.add_argument("--against", default="", help="another HallQ checkout to measure first, with the same load")
    ap.add_argument("--port", type=int, default=0, help="the server's HTTP port (default: one found free)")
    ap.add_argument("--mqtt-port", type=int, default=0, help="the server's embedded MQTT broker's port (default: one found free)")
    ap.add_argument("--smoke", action="store_true", help="a tiny run (2 windows, 20 tickets, 10 cycles): does it still work?")
    args = ap.parse_args()
    if args.smoke:
        args.windows, args.backlog, args.cycles = 2, 20, 10
    args.windows = min(args.windows, 20)  # the example hall has 20
    print(f"windows            {args.windows}, backlog {args.backlog} tickets, {args.cycles} cycles, SQLite, 1 server process")
    runs = []
    if args.against:
        checkout = Path(args.against).resolve()
        runs.append((f"server code from {checkout}", f"{checkout / 'server'}{os.pathsep}{checkout / 'edge'}"))
    runs.append(("server code from this checkout", None))
    figures = []
    for label, pythonpath in runs:
        figures.append(measure(args, pythonpath))
        report(label, figures[-1])
    if len(figures) == 2:
        before, after = figures
        print(f"-- after / before: {after['cycles_per_s'] / before['cycles_per_s']:.2f}× the cycles per second, "
              f"{after['cpu_ms_per_cycle'] / before['cpu_ms_per_cycle']:.2f}× the CPU per cycle")


if __name__ == "__main__":
    main()
