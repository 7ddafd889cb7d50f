"""The days' figures (issue 13, items 3 and 4): a hand-made day (support/figures.py) rolled up by
the next day's sweep, per hall, service, window, staff and hour, and read live for today; the
figures across the calendar's holidays and a month boundary. Every expected figure is worked
out by hand from the steps (the example hall, Monday 23 Nov 2026, Shanghai time)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlmodel import select

from hallq.core.errors import Forbidden
from hallq.core.models import Ticket
from hallq.core.stats.service import StatsService
from support.figures import MONDAY, counts, hand_made_monday, ids, reviews, rows, waits
from support.halls import Desk, person


@pytest.fixture
def monday(hall, clock):
    return hand_made_monday(hall, clock)


def test_the_next_days_sweep_rolls_up_the_day_per_hall_service_window_staff_and_hour(monday, clock):
    hall = monday
    assert rows(hall) == {}  # the day is not over
    clock.advance(days=1, minutes=-40)  # Tuesday 09:55: the first write of the day sweeps
    hall.issue_ticket("district", service="SI", actor=person(hall, "kiosk2", "device"))
    got, key = rows(hall), ids(hall)

    def row(dimension, name):
        return got[(MONDAY, dimension, name if dimension in ("hall", "hour") else key[(dimension, name)])]

    # per ticket: A001 and A002 completed (A002 after a transfer), B001 walked away
    for r in (row("hall", 0), row("hour", 10)):
        assert counts(r) == (3, 2, 2, 0, 1, 0, 1)
        assert waits(r) == (2, 18.0, {"4": 1, "14": 1}, 2, 23.0, {"10": 1, "13": 1})
    assert reviews(row("hall", 0)) == (2, 1, 1, 1, 7)
    # the waits promised at issue against the waits measured (4 and 14 minutes; B001 never waited to a call)
    with hall.db.read() as session:
        promised = dict(session.exec(select(Ticket.number, Ticket.estimated_wait_minutes)).all())
    assert promised["A001"] is not None and promised["A002"] is not None
    assert row("hall", 0).promise_n == 2
    assert row("hall", 0).promise_error_sum == pytest.approx(abs(promised["A001"] - 4) + abs(promised["A002"] - 14))
    # per leg, in its service: SI has A001 and A002's first leg, HR its second
    assert counts(row("service", "SI")) == (2, 2, 1, 0, 0, 0, 1)
    assert waits(row("service", "SI")) == (2, 18.0, {"4": 1, "14": 1}, 2, 13.0, {"10": 1, "3": 1})
    assert counts(row("service", "HR")) == (1, 1, 1, 0, 0, 0, 0)
    assert waits(row("service", "HR")) == (1, 5.0, {"5": 1}, 1, 10.0, {"10": 1})
    assert counts(row("service", "MI")) == (1, 0, 0, 0, 1, 0, 0) and row("service", "MI").wait_n == 0
    assert reviews(row("service", "SI")) == (1, 1, 1, 0, 5) and reviews(row("service", "HR")) == (1, 0, 0, 1, 2)
    # per leg, where it was served: window 1 and s1 the first legs, window 7 and s7 A002's second
    for r in (row("window", 1), row("staff", "s1")):
        assert counts(r) == (0, 2, 1, 0, 0, 0, 1)
        assert waits(r) == (2, 18.0, {"4": 1, "14": 1}, 2, 13.0, {"10": 1, "3": 1})
        assert reviews(r) == (1, 1, 1, 0, 5)
    for r in (row("window", 7), row("staff", "s7")):
        assert counts(r) == (0, 1, 1, 0, 0, 0, 0) and reviews(r) == (1, 0, 0, 1, 2)
    assert {k[1] for k in got} == {"hall", "service", "window", "staff", "hour"}
    assert all(k[0] == MONDAY for k in got)  # Tuesday is not over


def test_today_is_read_live_and_a_finished_day_from_its_rows(monday, clock):
    stats = StatsService(monday)
    figures = stats.figures("district", stats.today("district"), stats.today("district"))
    today = figures[("hall", 0)]
    # B001 still waits: its day is open, so it is neither walked away nor closed yet
    assert (today["tickets"], today["cases"], today["wait_mean"], today["wait_median"], today["handling_mean"]) == (3, 2, 9.0, 4.0, 11.5)
    # Two ratings of three legs served (A002 was served at window 1, then transferred and served at window 7).
    assert (today["walked_away_rate"], today["active_rating_rate"], today["five_star_rate"], today["satisfaction_rate"]) == (0.0, 0.6667, 0.5, 0.5)
    # 转办率: of the legs ended at a window (A001 and A002's second completed, A002's first sent on), 1 of 3;
    # SI: A001 completed, A002 sent on; HR and window 7: A002 completed there; window 1: as SI.
    key = ids(monday)
    assert [figures[k]["transfer_rate"] for k in (("hall", 0), ("service", key[("service", "SI")]), ("service", key[("service", "HR")]),
                                                  ("window", key[("window", 1)]), ("window", key[("window", 7)]))] == [0.3333, 0.5, 0.0, 0.5, 0.0]
    clock.advance(days=1)
    day = stats.figures("district", date(2026, 11, 23), stats.today("district"))[("hall", 0)]
    assert (day["tickets"], day["cases"], day["walked_away_rate"]) == (3, 2, 0.3333)  # the sweep closed B001
    assert rows(monday) != {}


def test_figures_across_holidays_adjusted_working_weekends_and_a_month_boundary_in_shanghai(hall, clock):
    """A hall open around the clock on China's calendar. Worked out by hand from the State
    Council's 2026 notice: Sunday 20 Sep is a working day (调休 for National Day) and Friday
    25 Sep a holiday (中秋节), so 20-24 Sep has 5 working days (weekdays alone would say 4), 25 Sep
    none (they would say 1); 1-7 Oct are National Day's holidays and Saturday 10 Oct a working day
    (调休), so 1-10 Oct has 3 working days, the 8th, 9th and 10th (weekdays alone would say 7);
    November 21 (every weekday, no holiday). A ticket at 00:10 on 1 Dec in Shanghai is 16:10 UTC on
    30 Nov: it belongs to December."""
    from hallq.core.errors import Refused
    from support.halls import variant

    hall.load_hall(variant("night", hours=["00:00-24:00"], stop_issuing_minutes_before_close=0, requeue_skipped=False))
    kiosk, boss = person(hall, "kiosk-n", "device", slug="night"), person(hall, "boss-n", "manager", slug="night")
    stats = StatsService(hall)

    def at(moment: str) -> None:  # Shanghai time
        clock.advance(seconds=(datetime.fromisoformat(moment + "+08:00") - clock.now()).total_seconds())

    at("2026-09-20T10:00")
    hall.issue_ticket("night", service="SI", actor=kiosk)
    desk = Desk(hall, 1, person(hall, "n1", slug="night"), slug="night")
    desk("open")
    at("2026-09-20T10:05")
    desk("call-next")
    at("2026-09-20T10:15")
    desk("complete")
    at("2026-09-25T10:00")
    with pytest.raises(Refused) as closed:
        hall.issue_ticket("night", service="SI", actor=kiosk)
    assert closed.value.code == "hall_closed_today"
    at("2026-10-10T09:00")  # the 调休 Saturday: a ticket called and not answered (过号)
    hall.issue_ticket("night", service="SI", actor=kiosk)
    at("2026-10-10T09:03")
    desk("open")  # the day's close signed everyone out
    desk("call-next")
    at("2026-10-10T09:06")
    desk("skip")
    at("2026-11-30T23:50")
    hall.issue_ticket("night", service="SI", actor=kiosk)
    at("2026-12-01T00:10")
    hall.issue_ticket("night", service="SI", actor=kiosk)

    september = stats.report("night", date(2026, 9, 20), date(2026, 9, 24), viewer=boss)
    t = september["totals"]
    assert (september["working_days"], t["tickets"], t["cases"], t["wait_mean"], t["handling_mean"], t["tickets_per_working_day"]) == (5, 1, 1, 5.0, 10.0, 0.2)
    holiday = stats.report("night", date(2026, 9, 25), date(2026, 9, 25), viewer=boss)
    assert (holiday["working_days"], holiday["totals"]["tickets"], holiday["totals"]["tickets_per_working_day"]) == (0, 0, None)
    october = stats.report("night", date(2026, 10, 1), date(2026, 10, 10), viewer=boss)
    t = october["totals"]
    assert (october["working_days"], t["tickets"], t["cases"], t["wait_mean"], t["no_show_rate"], t["tickets_per_working_day"]) == (3, 1, 0, 3.0, 1.0, 0.3)
    assert [(c["day"], c["hour"], c["tickets"]) for c in october["heat"]] == [("2026-10-10", 9, 1)]
    november = stats.report("night", date(2026, 11, 1), date(2026, 11, 30), viewer=boss)
    assert (november["working_days"], november["totals"]["tickets"], november["totals"]["walked_away_rate"]) == (21, 1, 1.0)
    assert [(c["day"], c["hour"], c["tickets"]) for c in november["heat"]] == [("2026-11-30", 23, 1)]  # from the stored rows
    december = stats.report("night", date(2026, 12, 1), date(2026, 12, 1), viewer=boss)
    assert [(c["day"], c["hour"], c["tickets"]) for c in december["heat"]] == [("2026-12-01", 0, 1)]  # live
    assert (december["totals"]["tickets"], december["live_days"], december["hours"][0]["hour"]) == (1, ["2026-12-01"], 0)
    assert rows(hall)[("2026-11-30", "hall", 0)].walked_away == 1  # the first write after midnight rolled it up
    with pytest.raises(Forbidden):
        stats.report("night", date(2026, 11, 1), date(2026, 11, 30), viewer=kiosk)


def test_every_figure_is_in_the_published_schema():
    """The figures the API and the report give (derive) are the ones its schema (and so the OpenAPI
    document) describes: a figure added to one and not the other fails here."""
    from hallq.core.stats.rollup import Cell
    from hallq.core.stats.service import derive
    from hallq_protocol.shapes import Figures

    assert set(derive(Cell())) == set(Figures.__annotations__)
