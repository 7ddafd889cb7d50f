"""The hall's figures as the statistics page, the API, the staff terminal and the command line
ask for them (the sums are rollup.py's; what they say is `derive`'s)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Callable

from sqlmodel import select

from hallq.core import calendar, clock
from hallq.core.accounts.users import require_manager
from hallq.core.errors import Invalid
from hallq.core.models import Service, User, Window, Zone
from hallq.core.reviews import cases
from hallq.core.stats import rollup
from hallq.core.stats.rollup import Cell
from hallq.core.txn import SYSTEM, Actor, Txn

MAX_RANGE_DAYS = 366


def derive(cell: Cell) -> dict:
    """What a cell's sums say, as the reports state it (minutes to one decimal, rates 0–1)."""
    def share(part: int, whole: int) -> float | None:
        return round(part / whole, 4) if whole else None

    def minutes(value: float | None) -> float | None:
        return None if value is None else round(value, 1)

    ended = cell.completed + cell.no_show + cell.walked_away + cell.closed
    return {
        "tickets": cell.issued,
        "cases": cell.completed,
        "wait_mean": minutes(cell.wait_sum / cell.wait_n if cell.wait_n else None),
        "wait_median": rollup.quantile(cell.wait_hist, 0.5),
        "wait_p90": rollup.quantile(cell.wait_hist, 0.9),
        "handling_mean": minutes(cell.handling_sum / cell.handling_n if cell.handling_n else None),
        "handling_p90": rollup.quantile(cell.handling_hist, 0.9),
        "no_show_rate": share(cell.no_show, ended),
        "walked_away_rate": share(cell.walked_away, ended),
        "wait_promise_error": minutes(cell.promise_error_sum / cell.promise_n if cell.promise_n else None),
        "wait_simple_error": minutes(cell.simple_error_sum / cell.simple_n if cell.simple_n else None),
        "transfers": cell.transferred,
        # 转办率: of the legs served at a window (finished there or sent on to another service), the share sent
        # on. A manager's move of a waiting ticket is no window's transfer. (A day stored before legs were
        # counted: unknown.)
        "transfer_rate": share(cell.served_legs - cell.completed, cell.served_legs) if cell.served_legs >= cell.completed else None,
        "reviews": cell.reviews,
        "reviews_phone": cell.reviews_phone,
        "reviews_box": cell.reviews - cell.reviews_phone - cell.reviews_default,
        "reviews_default": cell.reviews_default,
        "reviews_by_level": {"5": cell.reviews_5, "4": cell.reviews_satisfied - cell.reviews_5,
                             "3": cell.reviews - cell.reviews_satisfied - cell.reviews_bad,
                             "2": cell.reviews_bad - cell.reviews_1, "1": cell.reviews_1},
        # Ratings the visitors gave ÷ the legs they could rate (a day stored before legs were counted: its cases).
        "active_rating_rate": share(cell.reviews - cell.reviews_default, max(cell.served_legs, cell.completed)),
        "five_star_rate": share(cell.reviews_5, cell.reviews),
        "satisfaction_rate": share(cell.reviews_satisfied, cell.reviews),
        "bad_reviews": cell.reviews_bad,
        "mean_score": round(cell.score_sum / cell.reviews, 2) if cell.reviews else None,
        "appealed_removed": cell.appealed_removed,
        "bad_cases": cell.cases,
        "rectified": cell.rectified,
        "rectified_on_time": cell.rectified_on_time,
        # 差评整改率: of the bad ratings that opened a case and stay in the rates, the share rectified (or
        # explained) and closed. Bad ratings from before cases existed have none and count nowhere.
        "rectification_rate": share(cell.rectified, cell.cases - cell.appealed_removed),
        "on_time_rectification_rate": share(cell.rectified_on_time, cell.cases - cell.appealed_removed),
    }


class StatsService:
    """The days' figures of the halls a HallService keeps: rebuilt, read, reported."""

    def __init__(self, halls):
        self.work = halls.work

    def today(self, slug: str) -> date:
        return self.work.read_hall(slug, lambda session, hall: clock.business_date(self.work.clock.now(), hall.timezone))

    def rebuild(self, slug: str, *, since: date | None = None, until: date | None = None, actor: Actor = SYSTEM,
                progress: Callable[[list[date]], Callable[[date], None]] | None = None) -> list[date]:
        """Roll up again every finished day in [since, until] (default: all of them) that has
        tickets, one transaction a day; `progress(days)` gives a callback told of each day done."""
        today = self.today(slug)
        until = min(until or today - timedelta(days=1), today - timedelta(days=1))
        if since is not None and since > until:
            raise Invalid("bad_range", "the first day is after the last finished day", since=since.isoformat(), until=until.isoformat())
        days = self.work.read_hall(slug, lambda session, hall: rollup.days_with_tickets(session, hall, since or date.min, until))
        told = progress(days) if progress else None
        for day in days:
            self.work.write(slug, lambda tx, d=day: rollup.roll_up(tx.session, tx.hall, d), actor=actor)
            if told:
                told(day)

        def audit(tx: Txn) -> None:
            tx.audit("stats.rebuild", slug, days=len(days), first=days[0].isoformat() if days else None,
                     last=days[-1].isoformat() if days else None)

        self.work.write(slug, audit, actor=actor)
        return days

    def figures(self, slug: str, since: date, until: date) -> dict[tuple[str, int], dict]:
        """The range's figures per (dimension, key), derived (see derive)."""
        check_range(since, until)

        def read(tx: Txn) -> dict:  # after the sweep, if one is due: a finished day is closed and rolled up
            today = clock.business_date(tx.now, tx.hall.timezone)
            return {key: derive(cell) for key, cell in rollup.figures_for(tx.session, tx.hall, since, until, today).items()}

        return self.work.read(slug, read)

    def staff_month(self, slug: str, user_id: int) -> dict:
        """A staff member's own figures for this month so far (their legs: see rollup.py)."""
        def read(tx: Txn) -> dict:
            today = clock.business_date(tx.now, tx.hall.timezone)
            since = today.replace(day=1)
            cells = rollup.figures_for(tx.session, tx.hall, since, today, today, staff=user_id)  # their tickets only
            return {"since": since.isoformat(), "until": today.isoformat(), **derive(cells.get(("staff", user_id), Cell()))}

        return self.work.read(slug, read)

    def report(self, slug: str, since: date, until: date, *, viewer: Actor) -> dict:
        """The hall's figures for [since, until], for its managers and the administrators: the
        totals (with tickets and cases per working day of the hall's calendar), and the same
        figures per zone, service, window, staff member and hour of issue."""
        check_range(since, until)

        def read(tx: Txn) -> dict:
            if viewer.role != SYSTEM.role:  # the console (`hallq report`) reads every hall
                require_manager(viewer, tx.hall)
            session, hall = tx.session, tx.hall
            today = clock.business_date(tx.now, hall.timezone)
            cells = rollup.figures_for(session, hall, since, until, today)
            working = calendar.of_hall(hall).working_days(since, until)
            services = {s.id: s for s in session.exec(select(Service).where(Service.hall_id == hall.id)).all()}
            zones = {z.id: z for z in session.exec(select(Zone).where(Zone.hall_id == hall.id)).all()}
            windows = {w.id: w for w in session.exec(select(Window).where(Window.hall_id == hall.id)).all()}
            staff_ids = [key for (dim, key) in cells if dim == "staff"]
            staff = {u.id: u for u in session.exec(select(User).where(User.id.in_(staff_ids))).all()} if staff_ids else {}
            by_zone: dict[int, Cell] = defaultdict(Cell)
            for (dim, key), cell in cells.items():
                if dim == "service" and key in services and services[key].zone_id in zones:
                    by_zone[services[key].zone_id].merge(cell)

            def rows(dim: str, label) -> list[dict]:
                return [{**label(key), **derive(cell)} for (d, key), cell in sorted(cells.items()) if d == dim]

            totals = derive(cells.get(("hall", 0), Cell()))
            per_day = {"tickets_per_working_day": round(totals["tickets"] / working, 1) if working else None,
                       "cases_per_working_day": round(totals["cases"] / working, 1) if working else None}
            return {
                "hall": hall.slug,
                "name": hall.name,
                "name_en": hall.name_en,
                "since": since.isoformat(),
                "until": until.isoformat(),
                "working_days": working,
                "live_days": [d.isoformat() for d in _live(since, until, today)],
                "totals": {**totals, **per_day},
                "review_cases": cases.counts_for(session, hall, since, until, today),
                "zones": [{"zone": zones[z].code, "name": zones[z].name, "name_en": zones[z].name_en, **derive(c)}
                          for z, c in sorted(by_zone.items())],
                "services": rows("service", lambda k: {"service": services[k].code if k in services else None,
                                                       "name": services[k].name if k in services else "",
                                                       "name_en": services[k].name_en if k in services else ""}),
                "windows": rows("window", lambda k: {"window": windows[k].number if k in windows else None}),
                "staff": rows("staff", lambda k: {"staff": staff[k].name if k in staff else None,
                                                  "display_name": (staff[k].display_name or staff[k].name) if k in staff else "",
                                                  "staff_no": staff[k].staff_no if k in staff else ""}),
                "hours": rows("hour", lambda k: {"hour": k}),
                "heat": [{"day": day.isoformat(), "hour": hour, "tickets": cell.issued,
                          "wait_mean": round(cell.wait_sum / cell.wait_n, 1) if cell.wait_n else None}
                         for (day, hour), cell in sorted(rollup.hours_by_day(session, hall, since, until, today).items())],
            }

        return self.work.read(slug, read)


def month_days(year: int, month: int) -> tuple[date, date]:
    """The first and last day of a month (ValueError for no such month)."""
    import calendar as months

    first = date(year, month, 1)
    return first, first.replace(day=months.monthrange(year, month)[1])


def check_range(since: date, until: date) -> None:
    if since > until:
        raise Invalid("bad_range", "the first day is after the last", since=since.isoformat(), until=until.isoformat())
    if (until - since).days >= MAX_RANGE_DAYS:
        raise Invalid("range_too_long", f"at most {MAX_RANGE_DAYS} days at once", since=since.isoformat(), until=until.isoformat())


def _live(since: date, until: date, today: date) -> list[date]:
    """Today, when the range holds it: its figures are still moving."""
    return [today] if since <= today <= until else []
