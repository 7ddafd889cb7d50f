"""Waiting for something another thread or process does."""

from __future__ import annotations

import time

import pytest

WAIT = 20.0  # generous: a slow machine waits longer, it does not fail


def wait_for(predicate, timeout: float = WAIT, what: str = "condition", *, seen=None):
    """Poll until predicate() is truthy and return it; fail after `timeout` seconds, saying what
    `seen()` (if given) shows then."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}" + (f"; at the end: {seen()}" if seen else ""))
        time.sleep(0.02)
