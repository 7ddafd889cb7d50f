"""Issue tickets from 32 concurrent clients through the HTTP API.

Prints tickets/s, p50/p99 latency and the number of duplicate ticket numbers
(must be 0). Usage:  python benchmarks/issue_tickets_http.py [--clients 32]
[--tickets 4000] [--workers 2 --redis-url redis://127.0.0.1:6379/15]
[--database-url postgresql://...]

Several server processes (--workers) need Redis (Socket.IO rooms are shared
through it). The clients run in --client-processes processes, so the load
generator is not held to one core by its own interpreter lock.
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


def client(base: str, token: str, count: int, offset: int, latencies: list, numbers: list, errors: list) -> None:
    url = urlparse(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
    for i in range(count):
        body = json.dumps({"service": SERVICES[(offset + i) % len(SERVICES)]})
        t0 = time.perf_counter()
        conn.request("POST", "/api/v1/halls/district/tickets", body, headers)
        resp = conn.getresponse()
        data = resp.read()
        latencies.append(time.perf_counter() - t0)
        if resp.status == 201:
            ticket = json.loads(data)
            numbers.append((ticket["business_date"], ticket["number"]))
        else:
            errors.append((resp.status, data[:200]))
    conn.close()


def client_process(base: str, token: str, first: int, count: int, per: int, start_at: float, out) -> None:
    """One load-generating process: `count` client threads, each issuing `per` tickets."""
    latencies: list[float] = []
    numbers: list = []
    errors: list = []
    threads = [threading.Thread(target=client, args=(base, token, per, first + i, latencies, numbers, errors)) for i in range(count)]
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
    args = ap.parse_args()
    context = multiprocessing.get_context("spawn")
    with running_server(args.database_url, threads=args.threads, workers=args.workers, redis_url=args.redis_url) as (base, token, _env):
        per = args.tickets // args.clients
        out = context.Queue()
        start_at = time.time() + 2.0
        shares = [args.clients // args.client_processes + (i < args.clients % args.client_processes) for i in range(args.client_processes)]
        procs, first = [], 0
        for share in shares:
            procs.append(context.Process(target=client_process, args=(base, token, first, share, per, start_at, out)))
            first += share
        for proc in procs:
            proc.start()
        results = [out.get() for _ in procs]
        for proc in procs:
            proc.join()
        elapsed = max(r[3] for r in results) - start_at
    latencies = [x for r in results for x in r[0]]
    numbers = [x for r in results for x in r[1]]
    errors = [x for r in results for x in r[2]]
    latencies.sort()
    q = statistics.quantiles(latencies, n=100)
    dupes = len(numbers) - len(set(numbers))
    backend = "PostgreSQL" if args.database_url.startswith("postgres") else "SQLite"
    print(f"backend            {backend}")
    print(f"server processes   {args.workers} × {args.threads} threads")
    print(f"clients            {args.clients} (in {args.client_processes} processes)")
    print(f"tickets issued     {len(numbers)} ({len(errors)} errors)")
    print(f"throughput         {len(numbers) / elapsed:.0f} tickets/s")
    print(f"latency p50        {q[49] * 1000:.1f} ms")
    print(f"latency p99        {q[98] * 1000:.1f} ms")
    print(f"duplicate numbers  {dupes}")
    if errors:
        print("first error:", errors[0])


if __name__ == "__main__":
    main()
