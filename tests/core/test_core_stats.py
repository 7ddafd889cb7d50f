"""The days' figures (issue 13, item 3): a hand-made day rolled up by the next day's sweep, per
hall, service, window, staff and hour, rebuilt by `hallq stats rebuild`, and read live for today.
Every expected figure is worked out by hand from the steps below (the example hall, Monday
23 Nov 2026, Shanghai time)."""

from __future__ import annotations

import json
from types import SimpleNamespace
from datetime import date, datetime

import pytest
from click.testing import CliRunner
from sqlmodel import select

from hallq.cli import cli
from hallq.core.devices.service import DeviceService
from hallq.core.errors import Forbidden
from hallq.core.models import Service, User, Window
from hallq.core.stats.models import DayFigure
from hallq.core.stats.service import StatsService
from support.halls import Desk, person

MONDAY = "2026-11-23"


@pytest.fixture
def monday(hall, clock):
    """The hand-made day, from 10:00:
    A001 (SI) issued 10:00, called at window 1 at 10:04, started 10:06, completed 10:16: wait 4, handling 10; rated 5.
    A002 (SI) issued 10:02, called at window 1 at 10:16 (wait 14), started 10:17, transferred to HR
      at 10:20 (leg 1 handled 3), called at window 7 at 10:25 (leg 2 waited 5), completed 10:35
      without "start" (handled 10, from the call): handling 13 in all; rated 2.
    B001 (MI) issued 10:05, never called: walked away when the day's sweep closes it."""
    kiosk = person(hall, "kiosk1", "device")
    devices = DeviceService(hall)
    devices.add(hall="district", name="review-1", role="review", window=1)
    devices.add(hall="district", name="review-7", role="review", window=7)
    one, seven = Desk.opened(hall, 1, "s1"), Desk.opened(hall, 7, "s7")
    a1 = hall.issue_ticket("district", service="SI", actor=kiosk)
    clock.advance(minutes=2)
    a2 = hall.issue_ticket("district", service="SI", actor=kiosk)
    clock.advance(minutes=2)
    one("call-next")  # 10:04
    clock.advance(minutes=1)
    hall.issue_ticket("district", service="MI", actor=kiosk)  # 10:05, B001
    clock.advance(minutes=1)
    one("start")  # 10:06
    clock.advance(minutes=10)
    one("complete")  # 10:16
    devices.review("district", "review-1", ticket=a1["id"], score=5)
    one("call-next")  # 10:16: A002
    clock.advance(minutes=1)
    one("start")  # 10:17
    clock.advance(minutes=3)
    one("transfer", service="HR")  # 10:20
    clock.advance(minutes=5)
    seven("call-next")  # 10:25
    clock.advance(minutes=10)
    seven("complete")  # 10:35
    devices.review("district", "review-7", ticket=a2["id"], score=2)
    return hall


def ids(hall) -> dict:
    with hall.db.read() as session:
        services = {s.code: s.id for s in session.exec(select(Service)).all()}
        windows = {w.number: w.id for w in session.exec(select(Window)).all()}
        users = {u.name: u.id for u in session.exec(select(User)).all()}
    return {("service", "SI"): services["SI"], ("service", "HR"): services["HR"], ("service", "MI"): services["MI"],
            ("window", 1): windows[1], ("window", 7): windows[7], ("staff", "s1"): users["s1"], ("staff", "s7"): users["s7"]}


def rows(hall) -> dict:
    with hall.db.read() as session:
        return {(r.day.isoformat(), r.dimension, r.key): SimpleNamespace(**r.model_dump()) for r in session.exec(select(DayFigure)).all()}


def counts(row) -> tuple:
    return (row.issued, row.called, row.completed, row.no_show, row.walked_away, row.closed, row.transferred)


def waits(row) -> tuple:
    return (row.wait_n, row.wait_sum, row.wait_hist, row.handling_n, row.handling_sum, row.handling_hist)


def reviews(row) -> tuple:
    return (row.reviews, row.reviews_5, row.reviews_satisfied, row.reviews_bad, row.score_sum)


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
    today = stats.figures("district", stats.today("district"), stats.today("district"))[("hall", 0)]
    # B001 still waits: its day is open, so it is neither walked away nor closed yet
    assert (today["tickets"], today["cases"], today["wait_mean"], today["wait_median"], today["handling_mean"]) == (3, 2, 9.0, 4.0, 11.5)
    assert (today["walked_away_rate"], today["active_rating_rate"], today["five_star_rate"], today["satisfaction_rate"]) == (0.0, 1.0, 0.5, 0.5)
    clock.advance(days=1)
    day = stats.figures("district", date(2026, 11, 23), stats.today("district"))[("hall", 0)]
    assert (day["tickets"], day["cases"], day["walked_away_rate"]) == (3, 2, 0.3333)  # the sweep closed B001
    assert rows(monday) != {}


def test_stats_rebuild_writes_every_finished_day_again_and_says_so(monday, clock, sqlite_url):
    clock.advance(days=1)
    monday.sweep("district")
    with monday.db.write() as session:  # figures gone (say, a table restored from an old backup)
        for r in session.exec(select(DayFigure)).all():
            session.delete(r)
    assert rows(monday) == {}
    # The command runs on the real clock, long after that Monday: a finished day.
    result = CliRunner().invoke(cli, ["--database-url", sqlite_url, "stats", "rebuild", "--hall", "district"])
    assert result.exit_code == 0, result.output
    assert f"district: 1 day(s) rolled up, {MONDAY} to {MONDAY}" in result.output
    assert counts(rows(monday)[(MONDAY, "hall", 0)]) == (3, 2, 2, 0, 1, 0, 1)
    shown = CliRunner().invoke(cli, ["--database-url", sqlite_url, "stats", "show", "--hall", "district", "--since", MONDAY])
    assert shown.exit_code == 0, shown.output
    figures = json.loads(shown.output)
    assert (figures["tickets"], figures["cases"], figures["wait_p90"], figures["handling_p90"], figures["bad_reviews"]) == (3, 2, 14.0, 13.0, 1)
    bad = CliRunner().invoke(cli, ["--database-url", sqlite_url, "stats", "rebuild", "--hall", "nowhere"])
    assert bad.exit_code != 0 and "no hall 'nowhere'" in bad.output


def test_figures_across_a_holiday_an_adjusted_working_sunday_and_a_month_boundary_in_shanghai(hall, clock):
    """A hall open around the clock on China's calendar. Worked out by hand from the State
    Council's 2026 notice: Sunday 20 Sep is a working day (调休 for National Day) and Friday
    25 Sep a holiday (中秋节), so 20-24 Sep has 5 working days (weekdays alone would say 4), 25 Sep
    none (they would say 1), and November 21 (every weekday, no holiday). A ticket at 00:10 on 1 Dec in Shanghai is 16:10 UTC on 30 Nov:
    it belongs to December."""
    from hallq.core.errors import Refused
    from support.halls import variant

    hall.load_hall(variant("night", hours=["00:00-24:00"], stop_issuing_minutes_before_close=0))
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
    at("2026-11-30T23:50")
    hall.issue_ticket("night", service="SI", actor=kiosk)
    at("2026-12-01T00:10")
    hall.issue_ticket("night", service="SI", actor=kiosk)

    september = stats.report("night", date(2026, 9, 20), date(2026, 9, 24), viewer=boss)
    t = september["totals"]
    assert (september["working_days"], t["tickets"], t["cases"], t["wait_mean"], t["handling_mean"], t["tickets_per_working_day"]) == (5, 1, 1, 5.0, 10.0, 0.2)
    holiday = stats.report("night", date(2026, 9, 25), date(2026, 9, 25), viewer=boss)
    assert (holiday["working_days"], holiday["totals"]["tickets"], holiday["totals"]["tickets_per_working_day"]) == (0, 0, None)
    november = stats.report("night", date(2026, 11, 1), date(2026, 11, 30), viewer=boss)
    assert (november["working_days"], november["totals"]["tickets"], november["totals"]["walked_away_rate"]) == (21, 1, 1.0)
    december = stats.report("night", date(2026, 12, 1), date(2026, 12, 1), viewer=boss)
    assert (december["totals"]["tickets"], december["live_days"], december["hours"][0]["hour"]) == (1, ["2026-12-01"], 0)
    assert rows(hall)[("2026-11-30", "hall", 0)].walked_away == 1  # the first write after midnight rolled it up
    with pytest.raises(Forbidden):
        stats.report("night", date(2026, 11, 1), date(2026, 11, 30), viewer=kiosk)
