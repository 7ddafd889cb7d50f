"""The MemoryLink (support/memory_link.py) stands in for DeviceLink in the roles' fast
tests only as long as it behaves like it: the same interface, the same bytes on the
same topics, the same messages handed to the same handlers, requests checked and answered as
the server does, and a handler's failure kept, not lost. Checked here against DeviceLink itself (never connected: no broker)."""

from __future__ import annotations

import inspect
import time
from types import SimpleNamespace

import pytest

from hallq.ports import free_port
from hallq_edge.link import DeviceLink
from hallq_protocol import topics
from support.memory_link import MemoryLink

TRANSPORT = {"client", "host", "port", "keepalive"}  # paho's client and where it connects: nothing a role uses


@pytest.fixture
def real(clock):
    link = DeviceLink(hall="district", device="disp-1", username="district.disp-1", password="x", port=free_port(), now=clock.now)
    sent = []
    link.client.publish = lambda topic, payload, qos=0, retain=False: sent.append((topic, payload, retain))
    link.sent = sent
    return link


def public(obj) -> set[str]:
    return {n for n in dir(obj) if not n.startswith("_")}


def parameters(fn) -> list[tuple]:
    """A function's parameters: names, kinds and defaults (annotations are the code's business)."""
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


def test_it_has_what_a_device_link_offers_with_the_same_signatures(real):
    double = MemoryLink(device="disp-1")

    assert public(real) - TRANSPORT - {"sent"} <= public(double)
    for name in public(DeviceLink) - TRANSPORT:
        real_member, double_member = inspect.getattr_static(DeviceLink, name), inspect.getattr_static(MemoryLink, name)
        assert type(real_member) is type(double_member), name  # method or property alike
        if callable(real_member):
            assert parameters(real_member) == parameters(double_member), name


def test_requests_and_results_are_the_same_bytes_on_the_same_topics(real, clock):
    double = MemoryLink(device="disp-1", now=clock.now)
    double.start()

    for link in (real, double):
        link.request("issue_ticket", request_id="r-1", service="SI", priority="green")
        link.request("status", request_id="r-2", expect_answer=False, paper="out")
        link.send_result("k-1", "error", "打印机卡纸" * 50)

    sent = [(m.topic, m.payload) for m in double.published if m.topic != topics.availability("district", "disp-1")]
    assert sent == [(topic, payload) for topic, payload, _ in real.sent]
    assert double.requests[0] == {"id": "r-1", "action": "issue_ticket", "at": clock.now().isoformat(), "service": "SI", "priority": "green"}


def test_the_same_messages_reach_the_same_handlers(real):
    double = MemoryLink(device="disp-1")
    double.start()
    got = {"real": [], "double": []}
    for key, link in (("real", real), ("double", double)):
        link.subscribe(topics.all_window_states("district"), lambda body, k=key: got[k].append(("state", body)))
        link.subscribe(topics.calls("district"), lambda body, k=key: got[k].append(("call", body)))
    messages = [
        (topics.window_state("district", 5), '{"number": 5, "version": 2, "state": "serving", "staff": {"name": "王芳"}}'.encode()),
        (topics.window_state("district", 6), b"[1, 2]"),  # JSON, not an object
        (topics.calls("district"), b"\xff\xfe"),  # not UTF-8
        (topics.calls("district"), b"call A001"),  # not JSON
        (topics.calls("other"), b'{"number": "X001"}'),  # another hall: no subscription
        (topics.calls("district"), '{"number": "A001", "window": 5}'.encode()),
    ]

    for topic, payload in messages:
        real._on_message(real.client, None, SimpleNamespace(topic=topic, payload=payload))
        double.deliver(topic, payload)

    assert got["double"] == got["real"] == [("state", {"number": 5, "version": 2, "state": "serving", "staff": {"name": "王芳"}}),
                                            ("call", {"number": "A001", "window": 5})]


def test_requests_are_answered_as_the_server_answers_them(clock):
    answers = {"call_next": {"state": "serving"}, "recall": None}
    double = MemoryLink(device="caller-5", role="caller", respond=answers, now=clock.now)

    assert double.call("call_next") is None  # down: no request is made
    double.start()
    assert double.call("call_next") == {"id": double.requests[0]["id"], "status": "ok", "data": {"state": "serving"}}
    started = time.monotonic()
    assert double.call("recall", timeout=30) is None  # unanswered: at once, not after the timeout
    assert time.monotonic() - started < 10
    refused = double.call("issue_ticket", service="SI")  # not a caller's action: refused as the server refuses it
    assert refused["status"] == "error" and refused["error"]["code"] == "action_not_allowed"
    bad = double.call("call_next", reason="x" * 101)
    assert bad["status"] == "error" and bad["error"]["code"] == "bad_request"
    assert double.actions() == ["call_next", "recall", "issue_ticket", "call_next"]


def test_a_handler_that_fails_or_waits_on_the_links_thread_is_reported(clock):
    double = MemoryLink(device="screen-1", respond={"status": {}}, now=clock.now)
    double.subscribe(topics.queue("district"), lambda body: 1 / 0)
    double.subscribe(topics.calls("district"), lambda body: double.call("status"))
    double.start()

    double.deliver(topics.queue("district"), {"services": []})
    double.deliver(topics.calls("district"), {"number": "A001"})

    assert [type(e) for e in double.errors] == [ZeroDivisionError, RuntimeError]
    with pytest.raises(AssertionError, match="2 error"):
        double.check()
