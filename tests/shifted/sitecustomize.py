"""Loaded only by the clock-shifted test runs (`tests/run --shifted` puts this
folder on PYTHONPATH, so every Python process the tests start gets it too).

libfaketime 0.9.10 (Debian 12) answers EINVAL to
clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME), which is how CPython 3.11's
time.sleep waits, when the monotonic clock is left real (DONT_FAKE_MONOTONIC=1);
faking the monotonic clock instead makes every timed wait of a lock or event
hang. select() with a timeout is unaffected, so time.sleep waits with it here.
The project's code itself runs unchanged, under the fake wall clock.
"""

import os
import select
import time

if os.environ.get("FAKETIME"):

    def _sleep(seconds: float) -> None:
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            select.select([], [], [], remaining)

    time.sleep = _sleep
