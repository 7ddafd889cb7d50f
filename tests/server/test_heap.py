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
