"""Coalescing (hallq/coalesce.py): a burst of requests is one run, and closing waits for the run
under way, so that what the runs use (a database) may be closed right after."""

from __future__ import annotations

import threading

from hallq.coalesce import Coalescer


def test_a_burst_is_one_run_and_close_waits_for_the_run_under_way():
    started, release, runs = threading.Event(), threading.Event(), []

    def run(key) -> None:
        runs.append(key)
        started.set()
        release.wait(10)

    soon = Coalescer(run, interval=0.01)
    for _ in range(5):
        soon.request("district")
    assert started.wait(10)
    closing = threading.Thread(target=soon.close)
    closing.start()
    closing.join(0.3)
    assert closing.is_alive()  # the run is still under way: close has not returned
    release.set()
    closing.join(10)
    assert not closing.is_alive() and runs == ["district"]
    soon.request("district")  # closed: nothing more runs
    soon.request("other", after=0)
    assert runs == ["district"] and not soon._timers
