"""A served process keeps its start-up objects out of the garbage collector's full collections."""

from __future__ import annotations

import gc
from types import SimpleNamespace

import pytest

from hallq import heap
from hallq.web.server import _Gunicorn


@pytest.fixture
def unfrozen():
    gc.unfreeze()
    yield
    gc.unfreeze()  # give the test process its objects back


def test_settle_takes_what_lives_now_out_of_full_collections(unfrozen):
    keep = [[i] for i in range(20_000)]  # start-up state that lives on
    assert len(gc.get_objects()) > 20_000
    heap.settle()
    assert gc.get_freeze_count() > 20_000
    walked = len(gc.get_objects())  # what a full collection still walks
    assert walked < 5_000, walked
    later = [[i] for i in range(100)]
    assert len(gc.get_objects()) >= walked + 100  # new objects are collected as before
    del keep, later


def test_each_served_process_settles_after_its_background_work_starts(unfrozen):
    started = []
    app = object()
    server = _Gunicorn(lambda: app, {"bind": "127.0.0.1:0"}, lambda a: started.append((a, gc.get_freeze_count())))
    server.cfg.post_worker_init(SimpleNamespace(wsgi=app))
    assert started == [(app, 0)]  # the MQTT bridge and the balancer start first...
    assert gc.get_freeze_count() > 0  # ...then the heap settles


def test_the_settler_freezes_what_lives_on_and_its_full_pass_frees_frozen_garbage(unfrozen):
    import weakref

    class Node:
        pass

    now = [0.0]
    settler = heap.Settler(every=30, full_every=3600, clock=lambda: now[0])
    heap.settle()

    def walked(obj) -> bool:  # in the reach of a full collection (gc.get_objects leaves the frozen out)
        return any(o is obj for o in gc.get_objects())

    # A device's session, made after start-up, that lives on; and a cycle of objects that will die.
    session = [[i] for i in range(5_000)]
    cycle = Node()
    cycle.me = cycle
    gone = weakref.ref(cycle)
    assert walked(session[0])
    now[0] = 30
    settler.tick()
    assert not walked(session[0])  # out of the full collections' reach
    del cycle
    gc.collect()
    assert gone() is not None  # frozen garbage: a plain collection never frees it...
    now[0] = 3600
    settler.tick()  # ...the hourly full pass does
    assert gone() is None
    assert not walked(session[0])  # and what lives is frozen again
    del session


def test_the_settler_reports_slow_collections(unfrozen, caplog):
    now = [0.0]
    settler = heap.Settler(slow_ms=0.0, clock=lambda: now[0]).start()
    try:
        gc.collect()
        assert settler.slow >= 1
        now[0] = 61
        with caplog.at_level("WARNING", logger="hallq.heap"):
            settler.tick()
        assert any("garbage collections took longer than 0 ms" in r.getMessage() for r in caplog.records)
        assert settler.slow == 0
    finally:
        settler.stop()
