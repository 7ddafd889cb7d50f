"""Issuing tickets (numbers, quotas, opening hours), finding them, and a manager's move to another service."""

from __future__ import annotations

import secrets
from datetime import date
from types import SimpleNamespace
from typing import Callable

from sqlalchemy import bindparam, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import select

from hallq.core import calendar, clock
from hallq.core.enums import Priority, Step, TicketStatus
from hallq.core.errors import Conflict, HallError, Invalid, NotFound, Refused
from hallq.core.models import Service, Ticket, TicketCounter
from hallq.core.tickets import journey
from hallq.core.txn import Txn
from hallq.core.waits import estimate


def parse_priority(value) -> Priority:
    try:
        return Priority(value or Priority.NORMAL)
    except ValueError:
        allowed = ", ".join(p.value for p in Priority)
        raise Invalid("bad_priority", f"priority must be one of {allowed}, not {value!r}") from None


def _counter_statement(dialect_insert):
    stmt = dialect_insert(TicketCounter).values(
        hall_id=bindparam("hall_id"), prefix=bindparam("prefix"), business_date=bindparam("day"), last=bindparam("count")
    )
    return stmt.on_conflict_do_update(
        index_elements=["hall_id", "prefix", "business_date"],
        set_={"last": TicketCounter.last + stmt.excluded.last},
    ).returning(TicketCounter.last)


_COUNTER = {"postgresql": _counter_statement(postgresql.insert), "sqlite": _counter_statement(sqlite.insert)}
_INSERT_TICKET = insert(Ticket).returning(Ticket.id, sort_by_parameter_order=True)


def next_number(tx: Txn, prefix: str, day: date, count: int = 1) -> int:
    """Atomically take `count` numbers for (hall, prefix, day); return the last one taken.

    One INSERT … ON CONFLICT DO UPDATE … RETURNING: atomic on PostgreSQL under
    any concurrency, and on SQLite inside the writer's BEGIN IMMEDIATE.
    """
    stmt = _COUNTER[tx.session.get_bind().dialect.name]
    params = {"hall_id": tx.hall.id, "prefix": prefix, "day": day, "count": count}
    return tx.session.connection().execute(stmt, params).scalar_one()


def format_number(prefix: str, n: int) -> str:
    return f"{prefix}{n:03d}"


def check_can_issue(tx: Txn, service: Service) -> None:
    """Refuse with a clear reason when the service takes no tickets now."""
    if not service.active:
        raise Refused("service_inactive", f"service {service.code} is not offered in this hall")
    day = clock.business_date(tx.now, tx.hall.timezone)
    why = calendar.of_hall(tx.hall).why_closed(day)
    if why is not None:
        raise Refused("hall_closed_today", f"the hall is closed today ({day.isoformat()}: {why}); it issues no tickets",
                      date=day.isoformat(), reason=why)
    spans = calendar.service_spans(tx.hall, service.hours, day)
    if spans is None:
        raise Refused("service_closed", f"service {service.code} issues no tickets today ({day.isoformat()}: outside the hall's hours that day)",
                      hours=[])
    if not clock.is_open(spans, tx.now, tx.hall.timezone, stop_minutes_before=tx.hall.stop_issuing_minutes_before_close):
        hours = ", ".join(str(s) for s in spans)
        raise Refused(
            "service_closed",
            f"service {service.code} issues tickets only during {hours}",
            hours=[str(s) for s in spans],
        )


def issue_ticket(tx: Txn, *, service_code: str, priority=None, channel: str = "api", boost: dict | None = None) -> tuple[Ticket, int, float | None]:
    """Issue the next ticket of a service: (ticket, people ahead, estimated wait).

    Refuses (Refused) when the quota is reached or the service is closed.
    """
    outcome = issue_tickets(tx, [(service_code, priority, channel)], boost=boost)[0]
    if isinstance(outcome, HallError):
        raise outcome
    return outcome


def issue_tickets(tx: Txn, requests: list[tuple], *, boost: dict | None = None, promise: Callable | None = None) -> list:
    """Issue several tickets in this transaction, in order, each as if issued alone.

    `requests` are (service code, priority, channel). Each outcome is
    (ticket, people ahead, estimated wait), or the HallError refusing that
    request, which then took no number. This is the hottest path of the
    server, so a batch costs one counter update per prefix, one count of the
    people ahead per service and class, and one INSERT for all its tickets,
    all prepared Core statements rather than the ORM's unit of work.

    The wait promised is `promise(service id, priority, people ahead, minutes per
    person)` (the predictor's, waits/live.py) when it has one, else the simple
    estimate; the simple estimate is kept beside it, so its error can be compared.
    """
    boost = boost or {}
    day = clock.business_date(tx.now, tx.hall.timezone)
    outcomes: list = [None] * len(requests)
    accepted: list[tuple[int, Service, Priority, str]] = []
    for i, (service_code, priority, channel) in enumerate(requests):
        try:
            service = tx.service_by_code(service_code) if isinstance(service_code, str) else None
            if service is None:
                raise NotFound("unknown_service", f"no service {service_code!r} in hall {tx.hall.slug}")
            prio = parse_priority(priority)
            check_can_issue(tx, service)
        except HallError as exc:
            outcomes[i] = exc
        else:
            accepted.append((i, service, prio, channel))
    numbers = _take_numbers(tx, day, [(i, service) for i, service, _, _ in accepted], outcomes)
    accepted = [a for a in accepted if a[0] in numbers]
    if not accepted:
        return outcomes

    # People ahead, counted before this batch's tickets exist: the waiting
    # tickets of the service whose virtual time (queued_at − boost) is not
    # later than the new ticket's; then the batch's own earlier tickets of the
    # same service whose class is boosted at least as much (all share tx.now).
    base: dict[tuple[int, Priority], int] = {}
    for _, service, prio, _ in accepted:
        if (service.id, prio) not in base:
            base[service.id, prio] = estimate.people_ahead(
                tx.session, hall_id=tx.hall.id, service_id=service.id, day=day, queued_at=tx.now,
                priority=prio, ticket_id=None, boost=boost,
            )
    rows, placed = [], []
    for i, service, prio, channel in accepted:
        ahead = base[service.id, prio] + sum(
            1 for s_id, q in placed if s_id == service.id and boost.get(q, 0.0) >= boost.get(prio, 0.0)
        )
        placed.append((service.id, prio))
        capacity = tx.capacity.get(service.id)
        simple = estimate.estimate_minutes(ahead, service.handling_minutes, capacity)
        promised = None if promise is None else promise(service.id, str(prio), ahead, estimate.estimate_minutes(1, service.handling_minutes, capacity))
        wait = simple if promised is None else promised
        rows.append((i, ahead, wait, dict(
            public_id=secrets.token_urlsafe(12),
            hall_id=tx.hall.id,
            business_date=day,
            number=format_number(service.prefix, numbers[i]),
            service_id=service.id,
            priority=prio,
            status=TicketStatus.WAITING,
            issued_at=tx.now,
            queued_at=tx.now,
            available_at=tx.now,
            channel=channel,
            estimated_wait_minutes=wait,
            simple_wait_minutes=simple,
            recalls=0,
            requeues=0,
            transfers=0,
        )))
    ids = tx.session.connection().execute(_INSERT_TICKET, [values for *_, values in rows]).scalars().all()
    steps = []
    for ticket_id, (i, ahead, wait, values) in zip(ids, rows):
        # A plain record, not an ORM object: nothing more is written to it in this transaction.
        record = SimpleNamespace(id=ticket_id, window_id=None, called_at=None, started_at=None, finished_at=None, close_reason=None, **values)
        outcomes[i] = (record, ahead, wait)
        steps.append(journey.step_row(tx, record, Step.ISSUED, detail=record.channel))
    journey.write(tx, steps)
    return outcomes


def _take_numbers(tx: Txn, day: date, wanted: list[tuple[int, Service]], outcomes: list) -> dict[int, int]:
    """Number the wanted tickets (request index → number), in order, one counter update per prefix.

    A ticket past its service's daily quota is refused (in `outcomes`) and
    takes no number; numbers taken and not used are given back.
    """
    by_prefix: dict[str, list[tuple[int, Service]]] = {}
    for i, service in wanted:
        by_prefix.setdefault(service.prefix, []).append((i, service))
    numbers: dict[int, int] = {}
    for prefix, group in by_prefix.items():
        last = next_number(tx, prefix, day, len(group))
        n = last - len(group)  # the last number issued before this batch
        for i, service in group:
            if service.daily_quota is not None and n + 1 > service.daily_quota:
                outcomes[i] = Refused(
                    "quota_reached",
                    f"today's {service.daily_quota} tickets for {service.code} have all been issued",
                    quota=service.daily_quota,
                )
                continue
            n += 1
            numbers[i] = n
        if n < last:
            next_number(tx, prefix, day, n - last)
    return numbers


def find_ticket(tx: Txn, ref: str) -> Ticket:
    """A ticket of this hall by public id, or by number within today."""
    ref = str(ref).strip()
    ticket = tx.session.exec(select(Ticket).where(Ticket.public_id == ref, Ticket.hall_id == tx.hall.id)).first()
    if ticket is None:
        day = clock.business_date(tx.now, tx.hall.timezone)
        ticket = tx.session.exec(
            select(Ticket).where(Ticket.hall_id == tx.hall.id, Ticket.business_date == day, Ticket.number == ref.upper())
        ).first()
    if ticket is None:
        raise NotFound("unknown_ticket", f"no ticket {ref!r} in hall {tx.hall.slug}")
    return ticket


def move_ticket(tx: Txn, ticket: Ticket, service_code: str) -> Ticket:
    """Move a waiting ticket to another service; it keeps its place by issue time."""
    target = tx.service_by_code(service_code)
    if target is None or not target.active:
        raise NotFound("unknown_service", f"no service {service_code!r} in hall {tx.hall.slug}")
    if ticket.status != TicketStatus.WAITING:
        raise Conflict("ticket_not_waiting", f"ticket {ticket.number} is {ticket.status}, not waiting")
    if target.id == ticket.service_id:
        raise Conflict("same_service", f"ticket {ticket.number} is already in {target.code}")
    source = tx.services[ticket.service_id]
    journey.record(tx, ticket, Step.MOVED, staff_id=tx.actor.user_id, detail=target.code)  # the leg it ends
    ticket.service_id = target.id
    ticket.transfers += 1
    tx.session.add(ticket)
    tx.audit("ticket.move", ticket.number, from_service=source.code, to_service=target.code)
    tx.emit("ticket.transferred", ticket=ticket.public_id, number=ticket.number, service=target.code, from_service=source.code)
    return ticket
