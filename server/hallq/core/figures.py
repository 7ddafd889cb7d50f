"""Read helpers for the people's pages: a staff member's figures for today,
queue trends, the list of waiting tickets and the hall's layout."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import groupby

from sqlalchemy import func
from sqlmodel import Session, select

from hallq.core import clock
from hallq.core.enums import Step, TicketStatus
from hallq.core.models import Hall, Service, Ticket, TicketStep, Window, Zone
from hallq.core.shapes import iso, minutes_between

TREND_MINUTES = 30
MAX_WAITING_LIST = 300


def staff_today(session: Session, hall: Hall, user_id: int, now: datetime) -> dict:
    """How many tickets the staff member finished today (and saw not come) and their mean
    handling time, from the tickets' journeys (tickets/journey.py: a completion without "start"
    is handled from the call the visitor answered, not 0 minutes)."""
    from hallq.core.tickets.journey import measure

    start = clock.day_start_moment(clock.business_date(now, hall.timezone), hall.timezone)
    theirs = select(TicketStep.ticket_id).where(
        TicketStep.hall_id == hall.id, TicketStep.at >= start, TicketStep.staff_id == user_id,
        TicketStep.step.in_((str(Step.COMPLETED), str(Step.NO_SHOW))),
    )
    steps = session.exec(select(TicketStep).where(TicketStep.ticket_id.in_(theirs)).order_by(TicketStep.ticket_id, TicketStep.id)).all()
    handled, no_show = [], 0
    for _, journey in groupby(steps, key=lambda s: s.ticket_id):
        for leg in measure(list(journey)).legs:
            if leg.staff_id != user_id:
                continue
            if leg.ended == Step.COMPLETED and leg.handling_minutes is not None:
                handled.append(leg.handling_minutes)
            elif leg.ended == Step.NO_SHOW:
                no_show += 1
    return {
        "served": len(handled),
        "no_show": no_show,
        "mean_handling_minutes": round(sum(handled) / len(handled), 1) if handled else None,
        "reviews": _reviews_today(session, hall, user_id, clock.business_date(now, hall.timezone)),
    }


def _reviews_today(session: Session, hall: Hall, user_id: int, day) -> dict | None:
    """Today's reviews (好差评) of this staff member: count, mean score (1–5) and bad ones (≤ 2)."""
    try:
        from hallq.core.reviews.models import Review
    except ImportError:  # the review boxes' store is not installed
        return None
    start = clock.day_start_moment(day, hall.timezone)
    scores = list(
        session.exec(select(Review.score).where(Review.hall_id == hall.id, Review.staff_id == user_id, Review.at >= start,
                                                # the visitors' own, still in the rates
                                                Review.channel != "default", Review.excluded == False)).all()  # noqa: E712
    )
    return {
        "count": len(scores),
        "mean_score": round(sum(scores) / len(scores), 2) if scores else None,
        "bad": sum(1 for s in scores if s <= 2),
    }


def service_trends(session: Session, hall: Hall, now: datetime, minutes: int = TREND_MINUTES) -> dict[str, dict]:
    """Per service code: tickets issued and called in the last `minutes`, and whether the queue grows."""
    since = now - timedelta(minutes=minutes)
    day = clock.business_date(now, hall.timezone)
    services = {s.id: s.code for s in session.exec(select(Service).where(Service.hall_id == hall.id)).all()}
    issued = dict(
        session.exec(
            select(Ticket.service_id, func.count())
            .where(Ticket.hall_id == hall.id, Ticket.business_date == day, Ticket.issued_at >= since)
            .group_by(Ticket.service_id)
        ).all()
    )
    called = dict(
        session.exec(
            select(Ticket.service_id, func.count())
            .where(Ticket.hall_id == hall.id, Ticket.business_date == day, Ticket.called_at >= since)
            .group_by(Ticket.service_id)
        ).all()
    )
    out = {}
    for sid, code in services.items():
        i, c = issued.get(sid, 0), called.get(sid, 0)
        out[code] = {"issued": i, "called": c, "trend": "rising" if i > c else "falling" if i < c else "steady", "minutes": minutes}
    return out


def waiting_tickets(session: Session, hall: Hall, now: datetime) -> list[dict]:
    """Today's waiting tickets in queue order (numbers only: nothing personal exists)."""
    day = clock.business_date(now, hall.timezone)
    services = {s.id: s.code for s in session.exec(select(Service).where(Service.hall_id == hall.id)).all()}
    rows = session.exec(
        select(Ticket)
        .where(Ticket.hall_id == hall.id, Ticket.business_date == day, Ticket.status == TicketStatus.WAITING)
        .order_by(Ticket.queued_at, Ticket.id)
        .limit(MAX_WAITING_LIST)
    ).all()
    return [
        {
            "id": t.public_id,
            "number": t.number,
            "service": services.get(t.service_id),
            "priority": str(t.priority),
            "issued_at": iso(t.issued_at),
            "waited_minutes": minutes_between(t.queued_at, now),
            "transfers": t.transfers,
        }
        for t in rows
    ]


def layout(session: Session, hall: Hall) -> dict:
    """The hall's active zones and services, with which zone each service belongs to."""
    zones = session.exec(select(Zone).where(Zone.hall_id == hall.id, Zone.active == True).order_by(Zone.id)).all()  # noqa: E712
    zone_codes = {z.id: z.code for z in zones}
    services = session.exec(
        select(Service).where(Service.hall_id == hall.id, Service.active == True).order_by(Service.prefix)  # noqa: E712
    ).all()
    return {"zones": [zone_row(z) for z in zones], "services": [service_row(s, zone_codes) for s in services]}


def zone_row(z: Zone) -> dict:
    """A zone as the hall file and the pages name it."""
    return {"code": z.code, "name": z.name, "name_en": z.name_en}


def service_row(s: Service, zone_codes: dict[int, str]) -> dict:
    """A service as the hall file and the pages name it (zone_codes: zone id → code)."""
    return {
        "code": s.code,
        "name": s.name,
        "name_en": s.name_en,
        "prefix": s.prefix,
        "zone": zone_codes.get(s.zone_id),
        "handling_minutes": s.handling_minutes,
    }


def staff_window(session: Session, hall: Hall, user_id: int) -> int | None:
    """The number of the open window this staff member is signed in at, if any."""
    return session.exec(
        select(Window.number).where(Window.hall_id == hall.id, Window.staff_id == user_id, Window.active == True, Window.state != "closed")  # noqa: E712
    ).first()


WAIT_ALERT_MINUTES = 30.0  # a hall's average wait is ~11 min (docs/DOMAIN): 30 is clearly too long
IDLE_ALERT_MINUTES = 2.0


def hall_alerts(windows: list[dict], queue: list[dict], devices: list[dict] = (), *, wait_limit: float = WAIT_ALERT_MINUTES) -> list[dict]:
    """What a manager should look at now, from the window and queue views (and device states)."""
    alerts = []
    waiting = {q["service"]: q for q in queue}
    for q in queue:
        oldest = q.get("oldest_wait_minutes")
        if oldest is not None and oldest > wait_limit:
            alerts.append({"kind": "long_wait", "service": q["service"], "minutes": oldest, "limit": wait_limit})
    for w in windows:
        if w["state"] != "idle" or (w.get("minutes_in_state") or 0) < IDLE_ALERT_MINUTES:
            continue
        backlog = [s["code"] for s in w.get("services", []) if waiting.get(s["code"], {}).get("waiting", 0) > 0]
        if backlog:
            top = max(backlog, key=lambda code: waiting[code]["waiting"])
            alerts.append({"kind": "idle_window", "window": w["number"], "service": top, "waiting": waiting[top]["waiting"]})
    for d in devices:
        if d.get("revoked"):
            continue
        name = d.get("device") or d.get("name")
        if not d.get("online", True):
            alerts.append({"kind": "device_offline", "device": name, "window": d.get("window")})
        if d.get("paper") == "out":
            alerts.append({"kind": "paper_out", "device": name})
    return alerts


def case_alerts(digest: dict) -> list[dict]:
    """The manager's alerts about bad-rating cases (reviews/service.py: digest): past their
    deadline, due soon, visitors not called back in time."""
    counts = digest["counts"]
    return [{"kind": kind, "count": counts[key]} for kind, key in
            (("cases_overdue", "overdue"), ("cases_due_soon", "due_soon"), ("callbacks_late", "callback_late")) if counts[key]]
