"""How steady is this machine? The same small piece of Python work, timed thousands of times.

A latency figure's tail (p99) is bounded below by how often the machine itself
runs a fixed piece of work slowly. This times one unit of pure Python work
(0.5–1.6 ms on the project machines so far) every few milliseconds for --seconds, by the
wall clock and by the thread's own CPU clock, and prints the percentiles. When
the CPU clock's tail is as long as the wall clock's, the slowness is not other
threads or processes taking turns (that would leave the thread's CPU time
alone) but the processor itself running the thread slowly: on a virtual
machine, the host giving its virtual CPU less than a whole core.

Usage:  python benchmarks/machine_jitter.py [--seconds 25] [--smoke]
"""

from __future__ import annotations

import argparse
import statistics
import time


def unit() -> int:
    x = 0
    for i in range(20_000):
        x += i * i
    return x


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=25.0)
    ap.add_argument("--smoke", action="store_true", help="a 1-second run: does it still work?")
    args = ap.parse_args()
    if args.smoke:
        args.seconds = 1.0
    wall, cpu = [], []
    end = time.monotonic() + args.seconds
    while time.monotonic() < end:
        w, c = time.perf_counter_ns(), time.thread_time_ns()
        unit()
        wall.append((time.perf_counter_ns() - w) / 1e6)
        cpu.append((time.thread_time_ns() - c) / 1e6)
        time.sleep(0.003)
    for name, xs in (("wall clock", wall), ("thread CPU", cpu)):
        q = statistics.quantiles(xs, n=1000)
        print(f"{name:<11} units={len(xs)}  p50={q[499]:.2f} ms  p99={q[989]:.2f} ms  p99.9={q[998]:.2f} ms  "
              f"max={max(xs):.2f} ms  (p99 ÷ p50 = {q[989] / q[499]:.1f})")


if __name__ == "__main__":
    main()
