"""The waits a visitor is told come from the wait predictor (issue 13, item 5): promised at issue
beside the simple estimate, shown on the ticket and the queue, played again after changes at a
pace the hall can afford, and judged against the waits that came in the day's figures."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from hallq.core.models import Ticket
from hallq.core.stats.service import StatsService
from hallq.core.waits.live import LiveWaits
from support.halls import both_windows_busy_with_mi


class Pace:
    """The monotonic seconds LiveWaits paces its plays by, moved by hand."""

    def __init__(self):
        self.seconds = 1000.0

    def __call__(self) -> float:
        return self.seconds


@pytest.fixture
def pace():
    return Pace()


@pytest.fixture
def live(hall, pace):
    waits = LiveWaits(min_seconds=2.0, monotonic=pace)
    hall.use_waits(waits)
    return waits


def issue(hall, boss, service: str, priority: str = "normal") -> dict:
    return hall.issue_ticket("district", service=service, priority=priority, actor=boss)


def stored(hall, number: str) -> tuple[float | None, float | None]:
    with hall.db.read() as session:
        return session.exec(select(Ticket.estimated_wait_minutes, Ticket.simple_wait_minutes).where(Ticket.number == number)).one()


def busy_with_mi(hall, boss, clock, pace):
    both_windows_busy_with_mi(hall, boss, clock)
    pace.seconds += 60


def test_the_promise_at_issue_is_the_predictors_and_the_simple_estimate_is_kept(hall, live, boss, clock, pace):
    """Nobody is ahead in SI, so the simple estimate says 0; but both windows serving SI are busy
    and the older MI tickets come first: the predictor sees the wait."""
    busy_with_mi(hall, boss, clock, pace)
    si = issue(hall, boss, "SI")
    assert si["ahead"] == 0 and si["estimated_wait_minutes"] > 10
    assert stored(hall, si["number"]) == (si["estimated_wait_minutes"], 0.0)
    # The ticket's own view and the queue's row for SI say the same wait.
    assert hall.ticket("district", si["id"])["estimated_wait_minutes"] == pytest.approx(si["estimated_wait_minutes"], abs=0.15)
    queue = {row["service"]: row for row in hall.queue("district")}
    assert queue["SI"]["waiting"] == 1 and queue["SI"]["estimated_wait_minutes"] > 10


def test_without_live_waits_the_engine_tells_the_simple_estimate(hall, boss, clock, pace):
    busy_with_mi(hall, boss, clock, pace)
    si = issue(hall, boss, "SI")
    assert si["estimated_wait_minutes"] == 0
    assert stored(hall, si["number"]) == (0.0, 0.0)


def test_a_probe_changes_nobody_elses_wait(hall, boss, clock, pace):
    from hallq.core.txn import hall_row
    from hallq.core.waits.predictor import WaitPredictor

    busy_with_mi(hall, boss, clock, pace)
    issue(hall, boss, "SI")
    issue(hall, boss, "SI", "green")
    with hall.db.read() as session:
        row = hall_row(session, "district")
        plain = WaitPredictor().play(session, row, clock.now(), hall.policy, probe=False)
        probed = WaitPredictor().play(session, row, clock.now(), hall.policy, probe=True)
    assert plain.next == {} and plain.tickets == probed.tickets and len(probed.tickets) == 12
    # A green ticket issued now goes before a normal one; both before the MI tickets issued later would.
    assert probed.next[(probed_id := _service_id(hall, "SI"), "green")] < probed.next[(probed_id, "normal")]
    # Who is ahead of each probe, counted as people_ahead counts: the green SI ticket is ahead of a
    # normal one issued now, the normal SI ticket (issued 0 minutes ago) is not ahead of a green one.
    assert probed.ahead[(probed_id, "normal")] == 2 and probed.ahead[(probed_id, "green")] == 1


def _service_id(hall, code: str) -> int:
    from hallq.core.models import Service

    with hall.db.read() as session:
        return session.exec(select(Service.id).where(Service.code == code)).one()


def test_plays_are_paced_and_a_stale_play_moves_the_promise_by_the_people_ahead(hall, live, boss, clock, pace):
    busy_with_mi(hall, boss, clock, pace)
    first = issue(hall, boss, "SI")  # played just before: nothing was issued since
    play = live.last("district")
    # Within the pace nothing is played again, however much changes: each new SI ticket is
    # promised the play's wait moved by one more person ahead, at the simple estimate's
    # minutes per person (12 minutes ÷ the SI share of windows 1 and 2: 2/3 + 2/3).
    second, third = issue(hall, boss, "SI"), issue(hall, boss, "SI")
    assert live.last("district") is play
    per_person = round(12 / (4 / 3), 1)
    assert second["estimated_wait_minutes"] == pytest.approx(first["estimated_wait_minutes"] + per_person, abs=0.15)
    assert third["estimated_wait_minutes"] == pytest.approx(first["estimated_wait_minutes"] + 2 * per_person, abs=0.15)
    # A waiting ticket's wait shrinks with the time since the play; one issued after the
    # play, with the time since its promise.
    clock.advance(minutes=1)
    mi = hall.ticket("district", "B012")
    assert mi["estimated_wait_minutes"] == pytest.approx(play.numbers["B012"] - 1, abs=0.15) and play.numbers["B012"] > 1
    assert hall.ticket("district", first["id"])["estimated_wait_minutes"] == pytest.approx(first["estimated_wait_minutes"] - 1, abs=0.15)
    # Past the pace, the next read plays the hall again (it changed): now every ticket is in it.
    pace.seconds += 2
    hall.ticket("district", first["id"])
    assert live.last("district") is not play and _id(hall, third) in live.last("district").tickets


def test_an_unchanged_hall_is_played_again_when_its_play_is_old(hall, live, boss, clock, pace):
    busy_with_mi(hall, boss, clock, pace)
    si = issue(hall, boss, "SI")
    pace.seconds += 2
    hall.ticket("district", si["id"])  # played again: the hall changed (a ticket issued)
    play = live.last("district")
    assert si["id"] and play.ahead[(_service_id(hall, "SI"), "normal")] == 1
    pace.seconds += 10
    clock.advance(seconds=29)
    hall.ticket("district", si["id"])
    assert live.last("district") is play  # nothing changed and it is not 30 s old
    clock.advance(seconds=1)
    hall.ticket("district", si["id"])
    assert live.last("district") is not play


def _id(hall, view: dict) -> int:
    with hall.db.read() as session:
        return session.exec(select(Ticket.id).where(Ticket.public_id == view["id"])).one()


def test_with_no_window_on_duty_the_simple_estimate_answers(hall, live, boss):
    tickets = [issue(hall, boss, "SI") for _ in range(3)]
    # No window open: the predictor has nobody to play; the configured windows stand in, as the
    # simple estimate does (windows 1-3 give SI 2/3, 4, 5, 8, 9 1/3, 12 1/4).
    planned = 3 * 2 / 3 + 4 / 3 + 1 / 4
    assert tickets[2]["estimated_wait_minutes"] == round(2 * 12 / planned, 1)
    assert stored(hall, tickets[2]["number"]) == (round(2 * 12 / planned, 1),) * 2


def test_an_unknown_hall_is_refused_as_before_and_leaves_nothing_behind(hall, live, boss):
    from hallq.core.errors import NotFound

    with pytest.raises(NotFound):
        hall.issue_ticket("nowhere", service="SI", actor=boss)
    assert live.last("nowhere") is None and "nowhere" not in live._halls


def test_a_failing_play_leaves_the_simple_estimate_and_the_ticket_issued(hall, boss, clock, pace, caplog):
    class Broken(LiveWaits):
        @staticmethod
        def _make(*args):
            raise RuntimeError("boom")

    hall.use_waits(Broken(monotonic=pace))
    t = issue(hall, boss, "SI")
    assert t["number"] == "A001" and t["estimated_wait_minutes"] is not None
    assert "wait prediction failed" in caplog.text


def test_the_days_figures_hold_both_against_the_waits_that_came(hall, live, boss, clock, pace):
    """Three tickets were called: B001 and B002 at once (0 minutes), the SI ticket after 20
    minutes; each one's promise and simple estimate, as stored at issue, against those waits."""
    busy_with_mi(hall, boss, clock, pace)
    si = issue(hall, boss, "SI")
    assert stored(hall, si["number"]) == (si["estimated_wait_minutes"], 0.0)
    clock.advance(minutes=20)  # window 1 finishes its MI case and calls the SI ticket
    hall.window_action("district", 1, "complete", actor=boss)
    hall.window_action("district", 1, "call", actor=boss, ticket=si["number"])
    (p1, s1), (p2, s2) = stored(hall, "B001"), stored(hall, "B002")
    monday = date(2026, 11, 23)
    day = StatsService(hall).report("district", monday, monday, viewer=boss)["totals"]
    assert day["wait_promise_error"] == round((p1 + p2 + abs(si["estimated_wait_minutes"] - 20)) / 3, 1)
    assert day["wait_simple_error"] == round((s1 + s2 + 20) / 3, 1)
    assert day["wait_promise_error"] < day["wait_simple_error"]


def test_a_summary_made_before_the_hall_could_be_played_again_is_made_again(hall, boss, clock, pace):
    """The screens' queue summary follows a change 0.05 s later, but the hall may be played only
    every 0.5 s: that first summary tells the last play's waits, and it is made again (every
    0.5 s, while the pace has not passed) until a play that saw the change tells its waits."""
    from hallq.core.derived import QueueSummaries
    from hallq.core.events import RecordingPublisher
    from support.waiting import wait_for

    live = LiveWaits(min_seconds=0.5, monotonic=pace)
    hall.use_waits(live)
    both_windows_busy_with_mi(hall, boss, clock)
    summaries = QueueSummaries(hall.publisher, hall.queue, clock.now, interval=0.05, behind=live.behind)
    screens = RecordingPublisher()
    summaries.add(screens)
    try:
        hall.queue("district")  # played now
        first = live.last("district")
        issue(hall, boss, "SI")  # a change within the pace
        wait_for(lambda: screens.events, what="the first summary")
        assert next(s for s in screens.events[0].data["services"] if s["service"] == "SI")["waiting"] == 1
        assert live.last("district") is first and live.behind("district") == 0.5  # not played: the pace has not passed
        pace.seconds += 1
        # Nothing but the summaries reads the hall: only a summary made again can play it.
        wait_for(lambda: live.last("district") is not first and len(screens.events) >= 2, what="the summary made again")
        assert live.behind("district") is None  # the new play saw the change: no more summaries are due
    finally:
        summaries.close()


def test_a_failed_play_leaves_the_last_play_answering_and_is_tried_again_after_the_pace(hall, live, boss, clock, pace,
                                                                                       caplog, monkeypatch):
    busy_with_mi(hall, boss, clock, pace)
    si = issue(hall, boss, "SI")
    pace.seconds += 2
    waited = hall.ticket("district", si["id"])["estimated_wait_minutes"]  # played: the ticket is in it
    good = live.last("district")
    issue(hall, boss, "SI")  # a change
    pace.seconds += 2

    def boom(*args):
        raise RuntimeError("boom")

    monkeypatch.setattr(LiveWaits, "_make", staticmethod(boom))
    assert hall.ticket("district", si["id"])["estimated_wait_minutes"] == waited  # the last play answers
    assert "wait prediction failed" in caplog.text and live.last("district") is good
    assert live.behind("district") is None  # no loop of queue summaries retrying a broken predictor
    caplog.clear()
    hall.ticket("district", si["id"])
    assert "wait prediction failed" not in caplog.text  # within the pace: not tried again at once
    # Still failing when the good play is 30 s old: its waits would never shrink again, so the
    # simple estimate answers (nobody is ahead of the SI ticket: 0).
    clock.advance(seconds=30)
    pace.seconds += 2
    assert hall.ticket("district", si["id"])["estimated_wait_minutes"] == 0.0 != waited
    monkeypatch.undo()
    pace.seconds += 2
    assert hall.ticket("district", si["id"])["estimated_wait_minutes"] > 0  # played again
    assert live.last("district") is not good and live.behind("district") is None


def test_a_ticket_back_in_the_queue_since_the_play_is_not_told_its_first_promise(hall, live, boss, clock, pace):
    """A ticket issued after the play, then called and transferred: it waits again, in another
    service, with an id above every ticket the play saw; its promise at issue is no answer."""
    busy_with_mi(hall, boss, clock, pace)
    si = issue(hall, boss, "SI")
    hall.window_action("district", 1, "complete", actor=boss)
    hall.window_action("district", 1, "call", actor=boss, ticket=si["number"])
    pace.seconds += 2
    hall.queue("district")  # played while the SI ticket was at window 1, not waiting
    hall.window_action("district", 1, "transfer", actor=boss, service="MI")  # waiting again, last in MI
    moved = hall.ticket("district", si["id"])
    assert moved["service"] == "MI" and moved["ahead"] == 10
    hall.waits = None  # what the hall says without a play: the simple estimate in MI
    assert moved["estimated_wait_minutes"] == hall.ticket("district", si["id"])["estimated_wait_minutes"] > 0


def test_a_moved_ticket_is_not_told_the_wait_of_the_service_it_left(hall, live, boss, clock, pace):
    busy_with_mi(hall, boss, clock, pace)
    si = issue(hall, boss, "SI")
    pace.seconds += 2
    in_si = hall.ticket("district", si["id"])["estimated_wait_minutes"]  # played, in SI
    play = live.last("district")
    hall.move_ticket("district", si["id"], service="MI", actor=boss)  # within the pace: not played again
    moved = hall.ticket("district", si["id"])
    assert live.last("district") is play and moved["service"] == "MI"
    hall.waits = None  # what the hall says without a play: the simple estimate in MI
    simple = hall.ticket("district", si["id"])["estimated_wait_minutes"]
    assert moved["estimated_wait_minutes"] == simple != in_si
