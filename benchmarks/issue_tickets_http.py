"""Issue tickets from 32 concurrent clients through the HTTP API.

Prints tickets/s, p50/p99 latency and the number of duplicate ticket numbers
(must be 0). Usage:  python benchmarks/issue_tickets_http.py [--clients 32]
[--tickets 4000] [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import http.client
import json
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--tickets", type=int, default=4000)
    ap.add_argument("--database-url", default="")
    args = ap.parse_args()
    with running_server(args.database_url) as (base, token, _env):
        latencies: list[float] = []
        numbers: list = []
        errors: list = []
        per = args.tickets // args.clients
        threads = [
            threading.Thread(target=client, args=(base, token, per, i, latencies, numbers, errors)) for i in range(args.clients)
        ]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
    latencies.sort()
    q = statistics.quantiles(latencies, n=100)
    dupes = len(numbers) - len(set(numbers))
    backend = "PostgreSQL" if args.database_url.startswith("postgres") else "SQLite"
    print(f"backend            {backend}")
    print(f"clients            {args.clients}")
    print(f"tickets issued     {len(numbers)} ({len(errors)} errors)")
    print(f"throughput         {len(numbers) / elapsed:.0f} tickets/s")
    print(f"latency p50        {q[49] * 1000:.1f} ms")
    print(f"latency p99        {q[98] * 1000:.1f} ms")
    print(f"duplicate numbers  {dupes}")
    if errors:
        print("first error:", errors[0])


if __name__ == "__main__":
    main()
