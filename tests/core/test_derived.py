"""Derived state, computed once after commit for every transport: the queue summary
(core.derived.QueueSummaries) and the ticket last completed at a window (in the
ticket.completed and review.recorded events), so no transport reads the core back."""

from __future__ import annotations

from hallq.core.derived import QUEUE_SUMMARY, QueueSummaries
from hallq.core.devices.service import DeviceService
from hallq.core.events import RecordingPublisher
from support.halls import person
from support.waiting import wait_for


def counted(hall, asked: list):
    def queue(slug: str) -> list[dict]:
        asked.append(slug)
        return hall.queue(slug)

    return queue


def waiting(summary, service: str) -> int:
    return next(s["waiting"] for s in summary.data["services"] if s["service"] == service)


def test_a_burst_of_changes_is_summarised_once_and_handed_to_every_transport(hall):
    kiosk = person(hall, "kiosk1", "device")
    asked: list[str] = []
    summaries = QueueSummaries(hall.publisher, counted(hall, asked), hall.clock.now, interval=0.2)
    screens, devices = RecordingPublisher(), RecordingPublisher()
    summaries.add(screens)
    summaries.add(devices)

    for _ in range(5):
        hall.issue_ticket("district", service="SI", actor=kiosk)

    wait_for(lambda: screens.events and waiting(screens.events[-1], "SI") == 5, what="a summary after the last ticket")
    wait_for(lambda: len(devices.events) == len(screens.events) == len(asked), what="each summary handed to both")
    assert screens.kinds() == [QUEUE_SUMMARY] * len(asked) and asked == ["district"] * len(asked)
    assert all(a.data is b.data for a, b in zip(screens.events, devices.events))  # computed once, not once per transport
    summaries.close()


def test_without_a_transport_nothing_is_computed(hall):
    kiosk = person(hall, "kiosk1", "device")
    asked: list[str] = []
    summaries = QueueSummaries(hall.publisher, counted(hall, asked), hall.clock.now, interval=0.05)
    screens = RecordingPublisher()
    summaries.add(screens)
    summaries.remove(screens)

    hall.issue_ticket("district", service="SI", actor=kiosk)
    summaries.summarise("district")  # even asked directly: nobody to hand it to

    assert summaries not in hall.publisher.publishers and asked == [] and screens.events == []


def test_a_transport_subscribed_to_the_engine_hears_events_and_summaries(hall, publisher):
    kiosk = person(hall, "kiosk1", "device")
    transport = RecordingPublisher()
    hall.subscribe(transport)

    hall.issue_ticket("district", service="MI", actor=kiosk)

    wait_for(lambda: QUEUE_SUMMARY in transport.kinds(), what="the queue summary")
    assert transport.kinds()[0] == "ticket.issued" and QUEUE_SUMMARY not in publisher.kinds()  # the engine's own listeners: events only
    hall.unsubscribe(transport)
    assert transport not in hall.publisher.publishers and hall.summaries not in hall.publisher.publishers


def test_the_ticket_last_completed_rides_in_its_events(hall, publisher, office):
    staff = person(hall, "staff5", "staff")
    kiosk = person(hall, "kiosk1", "device")
    devices = DeviceService(hall)
    devices.add(hall="district", name="review-5", role="review", window=5)
    hall.window_action("district", 5, "open", actor=staff)
    first = hall.issue_ticket("district", service="SI", actor=kiosk)
    second = hall.issue_ticket("district", service="SI", actor=kiosk)

    def complete() -> dict:
        hall.window_action("district", 5, "call-next", actor=staff)
        hall.window_action("district", 5, "complete", actor=staff)
        event = [e for e in publisher.events if e.kind == "ticket.completed"][-1]
        assert event.data["last_completed"] == devices.last_completed("district", 5)  # what reading it back would give
        return event.data["last_completed"]

    assert complete() == {"ticket": first["id"], "number": "A001", "window": 5, "at": "2026-11-23T02:00:00Z", "reviewed": False}
    assert complete()["number"] == "A002"

    devices.review("district", "review-5", ticket=first["id"], score=5)  # the visitor before: late, but it counts
    late = publisher.events[-1]
    assert late.kind == "review.recorded" and late.data["last_completed"] == {**devices.last_completed("district", 5), "reviewed": False}
    assert late.data["last_completed"]["number"] == "A002"  # the box still asks for the last one

    devices.review("district", "review-5", ticket=second["id"], score=4)
    assert publisher.events[-1].data["last_completed"] == {"ticket": second["id"], "number": "A002", "window": 5,
                                                           "at": "2026-11-23T02:00:00Z", "reviewed": True}
