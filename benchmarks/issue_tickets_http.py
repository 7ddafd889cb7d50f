"""Issue tickets from 32 concurrent clients through the HTTP API.

Prints tickets/s, p50/p99 latency and the number of duplicate ticket numbers
(must be 0). Usage:  python benchmarks/issue_tickets_http.py [--clients 32]
[--tickets 4000] [--workers 2 --redis-url redis://127.0.0.1:6379/15]
[--database-url postgresql://...] [--port P] [--mqtt-port P] [--get] [--smoke]

Several server processes (--workers) need Redis (Socket.IO rooms are shared
through it). The clients run in --client-processes processes, so the load
generator is not held to one core by its own interpreter lock. --get times a
plain `GET /api/v1/halls` instead (one small query): what the HTTP stack itself
serves per second.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import statistics
import threading
import time
from urllib.parse import urlparse

from _server import running_server

SERVICES = ["SI", "MI", "HR", "HF", "BL", "TX", "RE", "CX"]


def client(base: str, token: str, count: int, offset: int, get: bool, latencies: list, numbers: list, errors: list) -> None:
    """POST `count` tickets (or, with `get`, GET the list of halls `count` times); a ticket's
    (business date, number), or None for a GET answered, goes to `numbers`."""
    url = urlparse(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
    for i in range(count):
        t0 = time.perf_counter()
        if get:
            conn.request("GET", "/api/v1/halls", headers=headers)
        else:
            conn.request("POST", "/api/v1/halls/district/tickets", json.dumps({"service": SERVICES[(offset + i) % len(SERVICES)]}), headers)
        resp = conn.getresponse()
        data = resp.read()
        latencies.append(time.perf_counter() - t0)
        if resp.status == (200 if get else 201):
            ticket = None if get else json.loads(data)
            numbers.append(None if get else (ticket["business_date"], ticket["number"]))
        else:
            errors.append((resp.status, data[:200]))
    conn.close()


def client_process(base: str, token: str, first: int, count: int, per: int, get: bool, start_at: float, out) -> None:
    """One load-generating process: `count` client threads, each sending `per` requests."""
    latencies: list[float] = []
    numbers: list = []
    errors: list = []
    threads = [threading.Thread(target=client, args=(base, token, per, first + i, get, latencies, numbers, errors)) for i in range(count)]
    time.sleep(max(0.0, start_at - time.time()))  # every process starts together
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.put((latencies, numbers, errors, time.time()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--tickets", type=int, default=4000)
    ap.add_argument("--client-processes", type=int, default=2)
    ap.add_argument("--database-url", default="")
    ap.add_argument("--workers", type=int, default=1, help="server processes (more than 1 needs --redis-url)")
    ap.add_argument("--redis-url", default="")
    ap.add_argument("--threads", type=int, default=64, help="threads per server process (HALLQ_THREADS)")
    ap.add_argument("--port", type=int, default=0, help="the server's HTTP port (default: one found free)")
    ap.add_argument("--mqtt-port", type=int, default=0, help="the server's embedded MQTT broker's port (default: one found free)")
    ap.add_argument("--get", action="store_true", help="time GET /api/v1/halls (one small query) instead of issuing tickets")
    ap.add_argument("--smoke", action="store_true", help="a tiny run (4 clients, 40 tickets then 40 GETs, 8 server threads): does it still work?")
    args = ap.parse_args()
    if args.smoke:
        args.clients, args.tickets, args.client_processes, args.threads = 4, 40, 1, 8
    backend = "PostgreSQL" if args.database_url.startswith("postgres") else "SQLite"
    print(f"backend            {backend}")
    print(f"server processes   {args.workers} × {args.threads} threads")
    print(f"clients            {args.clients} (in {args.client_processes} processes)")
    with running_server(args.database_url, threads=args.threads, workers=args.workers, redis_url=args.redis_url,
                        port=args.port, mqtt_port=args.mqtt_port) as served:
        # The smoke run tries both kinds of load on the one server.
        for get in ([False, True] if args.smoke else [args.get]):
            report(get, *load(served.base, served.token, args, get))


def load(base: str, token: str, args, get: bool) -> tuple[list, list, list, float]:
    """Run the clients once; (latencies, numbers, errors, seconds taken)."""
    context = multiprocessing.get_context("spawn")
    per = args.tickets // args.clients
    out = context.Queue()
    start_at = time.time() + 2.0
    shares = [args.clients // args.client_processes + (i < args.clients % args.client_processes) for i in range(args.client_processes)]
    procs, first = [], 0
    for share in shares:
        procs.append(context.Process(target=client_process, args=(base, token, first, share, per, get, start_at, out)))
        first += share
    for proc in procs:
        proc.start()
    results = [out.get() for _ in procs]
    for proc in procs:
        proc.join()
    elapsed = max(r[3] for r in results) - start_at
    return [x for r in results for x in r[0]], [x for r in results for x in r[1]], [x for r in results for x in r[2]], elapsed


def report(get: bool, latencies: list, numbers: list, errors: list, elapsed: float) -> None:
    q = statistics.quantiles(sorted(latencies), n=100)
    if get:
        print(f"GET /api/v1/halls  {len(numbers)} answered ({len(errors)} errors)")
        print(f"throughput         {len(numbers) / elapsed:.0f} requests/s")
    else:
        print(f"tickets issued     {len(numbers)} ({len(errors)} errors)")
        print(f"throughput         {len(numbers) / elapsed:.0f} tickets/s")
    print(f"latency p50        {q[49] * 1000:.1f} ms")
    print(f"latency p99        {q[98] * 1000:.1f} ms")
    if not get:
        print(f"duplicate numbers  {len(numbers) - len(set(numbers))}")
    if errors:
        print("first error:", errors[0])

if __name__ == "__main__":
    main()
