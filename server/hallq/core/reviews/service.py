"""好差评's front door: a visitor's rating on the phone, and the rectification cases the hall's
managers work (and its staff read, their own only). One unit of work per change, audited and
published like every other change of the hall (work.py)."""

from __future__ import annotations

import logging
from typing import Any

from sqlmodel import func, select

from hallq.core import calendar, clock
from hallq.core.accounts import users as accounts
from hallq.core.enums import Role
from hallq.core.errors import Forbidden, Invalid, NotFound
from hallq.core.models import Service, Ticket, User, Window
from hallq.core.reviews import cases, contacts, export, ratings
from hallq.core.reviews.models import CaseStep, Review, ReviewCase
from hallq.core.reviews.settings import of_hall as settings_of
from hallq.core.shapes import iso
from hallq.core.stats.service import check_range
from hallq.core.txn import Actor, Txn
from hallq_protocol.privacy import mask

log = logging.getLogger("hallq.reviews")
MIN_PUBLIC_ID = 12  # a tracking id, never a ticket number (numbers are guessable and repeat daily)


class ReviewService:
    def __init__(self, halls, *, vault: contacts.ContactVault | None = None):
        self.halls = halls
        self.work = halls.work
        self.vault = vault  # None: no contacts are kept (contacts.py)

    # -- the visitor's phone ------------------------------------------------

    def _visitor_ticket(self, tx: Txn, public_id: Any) -> Ticket:
        ticket = None
        if isinstance(public_id, str) and len(public_id) >= MIN_PUBLIC_ID:
            ticket = tx.session.exec(select(Ticket).where(Ticket.public_id == public_id, Ticket.hall_id == tx.hall.id)).first()
        if ticket is None:
            raise NotFound("unknown_ticket", f"no ticket {str(public_id)[:32]!r} in hall {tx.hall.slug}")
        return ticket

    def rating_form(self, slug: str, public_id: str) -> dict:
        """What the ticket's tracker offers: the legs the visitor may still rate, those rated, the levels,
        indicators and the hall's reasons for a bad rating."""

        def read(tx: Txn) -> dict:
            ticket = self._visitor_ticket(tx, public_id)
            return _form(tx, ticket)

        return self.work.read(slug, read)

    def rate(self, slug: str, public_id: str, *, score: Any, leg: Any = None, indicators: Any = None, reasons: Any = None,
             comment: Any = None, phone: Any = None, consent: Any = None) -> dict:
        """A visitor's rating of a served leg of their ticket, from its tracker page (no sign-in: the
        tracking id is the visitor's). With a bad rating the visitor may leave a phone number for the
        callback, with their consent (contacts.py); the answer shows it masked only."""

        def op(tx: Txn) -> dict:
            ticket = self._visitor_ticket(tx, public_id)
            if phone is not None and not ratings.is_bad(score):
                raise Invalid("contact_for_bad_only", "a contact is left for the callback of a bad rating only")
            review = ratings.rate(tx, ticket, channel="phone", score=score, leg=leg, indicators=indicators, reasons=reasons,
                                  comment=comment)
            answer = {"ticket": ticket.public_id, "number": ticket.number, "leg": review.leg, "score": review.score,
                      "level": ratings.LEVELS[review.score]}
            if phone is not None:
                case = tx.session.exec(select(ReviewCase).where(ReviewCase.review_id == review.id)).one()
                contacts.attach(tx, case, self.vault, phone, consent)
                answer["contact"] = case.contact_masked
            ratings.emit_recorded(tx, review, ticket)
            return answer | {"form": _form(tx, ticket)}

        answer = self.work.write(slug, op, actor=Actor(name="visitor", role="visitor", origin="phone"))
        # Logged after commit, masked like every surface: the number itself is never logged.
        log.info("hall %s: ticket %s leg %s rated %s on the phone%s", slug, answer["number"], answer["leg"], answer["score"],
                 f"; callback number left: {answer['contact']}" if "contact" in answer else "")
        return answer

    # -- cases ----------------------------------------------------------------

    def cases(self, slug: str, *, viewer: Actor, filter: str = "open", mine: bool = False) -> dict:
        """The hall's cases for a manager (a staff member, or anyone with `mine`: their own), newest
        first, by filter (cases.FILTERS), with the count of each filter. Closed cases (a hall's
        years of them) are counted by the database and read only for the filters that show them."""
        if filter not in cases.FILTERS:
            raise Invalid("bad_filter", f"filter is one of {', '.join(cases.FILTERS)}")

        def read(tx: Txn) -> dict:
            own = _reader(viewer, tx)  # None: a manager's view of the hall; else a staff member's own
            if mine:
                own = viewer.user_id
            where = [ReviewCase.hall_id == tx.hall.id] + ([Review.staff_id == own] if own is not None else [])
            query = select(ReviewCase, Review).join(Review, Review.id == ReviewCase.review_id).where(*where)
            if filter not in ("closed", "all"):
                query = query.where(ReviewCase.state != cases.CLOSED)
            rows = tx.session.exec(query.order_by(ReviewCase.id.desc())).all()
            names = _names(tx, [r for _, r in rows])
            today, cal, settings = _today(tx)
            out, counts = [], dict.fromkeys(cases.FILTERS, 0)
            for case, review in rows:
                flag = cases.flags(case, today, cal, settings)
                for f in cases.FILTERS:
                    counts[f] += cases.matches(f, case, flag)
                if cases.matches(filter, case, flag):
                    out.append(_case_row(case, review, flag, names, contact=own is None))  # staff: without it
            if filter not in ("closed", "all"):  # the closed ones, counted without reading them
                counts["closed"] = tx.session.exec(select(func.count()).select_from(ReviewCase).join(Review, Review.id == ReviewCase.review_id)
                                                   .where(*where, ReviewCase.state == cases.CLOSED)).one()
                counts["all"] += counts["closed"]
            return {"hall": tx.hall.slug, "filter": filter, "today": today.isoformat(), "counts": counts, "cases": out}

        return self.work.read(slug, read)

    def case(self, slug: str, case_id: Any, *, viewer: Actor) -> dict:
        def read(tx: Txn) -> dict:
            return _case_detail(tx, _readable(tx, viewer, case_id), viewer)

        return self.work.read(slug, read)

    def case_action(self, slug: str, case_id: Any, action: str, *, actor: Actor, **params) -> dict:
        """One step of a case by a manager of the hall (cases.ACTIONS)."""

        def op(tx: Txn) -> dict:
            accounts.require_manager(actor, tx.hall)
            if action in ("approve_appeal", "reject_appeal") and actor.role != Role.ADMIN:
                raise Forbidden("admin_only", "an appeal is decided by an administrator, the level above the hall")
            case = cases.find_case(tx, case_id, lock=True)
            if action not in ("approve_appeal", "reject_appeal"):
                cases.take(tx, case, actor)
            case = cases.act(tx, case, action, **params)
            return _case_detail(tx, case, actor)

        return self.work.write(slug, op, actor=actor)

    def digest(self, slug: str, *, viewer: Actor, listed: bool = True) -> dict:
        """What needs a manager's attention today (the daily digest, and the live page's alerts): the
        cases past their deadline, due soon, and not yet called back in time, oldest deadline first.
        Without `listed`, only their counts (the live page asks after every change in the hall)."""

        def read(tx: Txn) -> dict:
            if viewer.role != "system":  # the console (`hallq cases digest`) reads every hall
                accounts.require_manager(viewer, tx.hall)
            found = tx.session.exec(select(ReviewCase, Review).join(Review, Review.id == ReviewCase.review_id)
                                    .where(ReviewCase.hall_id == tx.hall.id, ReviewCase.state != cases.CLOSED)
                                    .order_by(ReviewCase.due, ReviewCase.id)).all()
            today, cal, settings = _today(tx)
            names = _names(tx, [r for _, r in found]) if listed else {}
            picked: dict[str, list] = {"overdue": [], "due_soon": [], "callback_late": []}
            for case, review in found:
                flag = cases.flags(case, today, cal, settings)
                for key, cases_of_key in picked.items():
                    if flag[key]:
                        cases_of_key.append(_case_row(case, review, flag, names, contact=False) if listed else case.id)
            counts = {k: len(v) for k, v in picked.items()}
            return {"hall": tx.hall.slug, "today": today.isoformat(), "counts": counts, **(picked if listed else {})}

        return self.work.read(slug, read)

    def reveal_contact(self, slug: str, case_id: Any, *, actor: Actor) -> dict:
        """The visitor's number in full, for the manager handling the case (the first manager to act
        on it; asking first makes one the handler). Audited each time."""

        def op(tx: Txn) -> dict:
            accounts.require_manager(actor, tx.hall)
            case = cases.find_case(tx, case_id, lock=True)
            cases.take(tx, case, actor)
            if case.handler_id != actor.user_id:
                raise Forbidden("not_handler", "only the manager handling this case sees the visitor's contact")
            return {"case": case.id, "phone": contacts.reveal(tx, case, self.vault), "masked": case.contact_masked}

        answer = self.work.write(slug, op, actor=actor)
        log.info("hall %s: %s was shown the callback number of case %s (%s)", slug, actor.name, answer["case"], answer["masked"])
        return answer

    def export(self, slug: str, since, until, *, viewer: Actor) -> dict:
        """The ratings of the tickets issued in [since, until], one row each, for the provincial
        platform (export.py); managers of the hall, and the console."""
        check_range(since, until)

        def read(tx: Txn) -> dict:
            if viewer.role != "system":
                accounts.require_manager(viewer, tx.hall)
            return {"hall": tx.hall.slug, "code": tx.hall.code, "name": tx.hall.name, "since": since.isoformat(),
                    "until": until.isoformat(), "rows": export.rows(tx.session, tx.hall, since, until)}

        return self.work.read(slug, read)

    def ratings(self, slug: str, since, until, *, viewer: Actor, mine: bool = False) -> dict:
        """The ratings of [since, until] as the export has them: a manager sees the hall's, a staff
        member (or anyone with `mine`) their own; never a contact (the export has none)."""
        check_range(since, until)

        def read(tx: Txn) -> dict:
            own = _reader(viewer, tx)  # None: a manager's view of the hall; else a staff member's own
            if mine:
                own = viewer.user_id
            return {"hall": tx.hall.slug, "since": since.isoformat(), "until": until.isoformat(),
                    "ratings": export.rows(tx.session, tx.hall, since, until, staff=own)}

        return self.work.read(slug, read)



def _reader(viewer: Actor | None, tx: Txn) -> int | None:
    """None for a manager of the hall (every case); a staff member's user id (their own only)."""
    if viewer is None:
        raise Forbidden("login_required", "sign in to see the hall's cases")
    if viewer.role in (Role.MANAGER, Role.ADMIN, "system") and (viewer.hall_id is None or viewer.hall_id == tx.hall.id):
        return None
    if viewer.role == Role.STAFF and viewer.hall_id == tx.hall.id and viewer.user_id is not None:
        return viewer.user_id
    raise Forbidden("manager_only", f"only the managers and staff of hall {tx.hall.slug} see its cases")


def _readable(tx: Txn, viewer: Actor, case_id: Any) -> ReviewCase:
    own = _reader(viewer, tx)
    case = cases.find_case(tx, case_id)
    if own is not None and tx.session.get(Review, case.review_id).staff_id != own:
        raise NotFound("unknown_case", f"no case {case_id!r} of yours in hall {tx.hall.slug}")
    return case


def _today(tx: Txn):
    return clock.business_date(tx.now, tx.hall.timezone), calendar.of_hall(tx.hall), settings_of(tx.hall)


def _names(tx: Txn, reviews: list[Review]) -> dict:
    """Tickets, windows, staff and services the rows name, read once."""
    def by_id(model, ids):
        ids = {i for i in ids if i is not None}
        return {row.id: row for row in tx.session.exec(select(model).where(model.id.in_(ids)))} if ids else {}

    return {
        "ticket": by_id(Ticket, [r.ticket_id for r in reviews]),
        "window": by_id(Window, [r.window_id for r in reviews]),
        "staff": by_id(User, [r.staff_id for r in reviews]),
        "service": by_id(Service, [r.service_id for r in reviews]),
    }


def _review_view(review: Review, names: dict) -> dict:
    ticket, window = names["ticket"].get(review.ticket_id), names["window"].get(review.window_id)
    staff, service = names["staff"].get(review.staff_id), names["service"].get(review.service_id)
    return {
        "number": ticket.number if ticket else None,
        "day": ticket.business_date.isoformat() if ticket else None,
        "leg": review.leg,
        "service": service.code if service else None,
        "service_name": service.name if service else "",
        "service_name_en": service.name_en if service else "",
        "window": window.number if window else None,
        "staff": (staff.display_name or staff.name) if staff else None,
        "staff_no": staff.staff_no if staff else None,
        "score": review.score,
        "level": ratings.LEVELS[review.score],
        "level_en": ratings.LEVELS_EN[review.score],
        "channel": review.channel,
        "rated_at": iso(review.at),
        "reasons": list(review.reasons),
        "indicators": dict(review.indicators),
        "comment": mask(review.comment),  # free text: masked on every page (the shared function)
        "excluded": review.excluded,
    }


def _case_row(case: ReviewCase, review: Review, flag: dict, names: dict, *, contact: bool = True) -> dict:
    """A case as the lists show it; without `contact` (staff, the digest), nothing of the visitor's number."""
    row = {
        "id": case.id,
        "state": case.state,
        "opened_at": iso(case.opened_at),
        "callback_due": case.callback_due.isoformat(),
        "due": case.due.isoformat(),
        "called_back_on": case.called_back_on.isoformat() if case.called_back_on else None,
        "settled_on": case.settled_on.isoformat() if case.settled_on else None,
        "outcome": case.outcome or None,
        "follow_up_score": case.follow_up_score,
        "closed_at": iso(case.closed_at),
        "appeal": {"state": case.appeal_state, "kind": case.appeal_kind} if case.appeal_state else None,
        "contact": {"masked": case.contact_masked or None, "erased": case.contact_erased_at is not None},
        "flags": flag,
        "review": _review_view(review, names),
    }
    if not contact:
        del row["contact"]
    return row


def _case_detail(tx: Txn, case: ReviewCase, viewer: Actor | None) -> dict:
    """A case with its timeline and the steps `viewer` may take now (none for staff)."""
    review = tx.session.get(Review, case.review_id)
    today, cal, settings = _today(tx)
    manager = viewer is not None and viewer.role in (Role.MANAGER, Role.ADMIN)
    # Staff read their own cases without the visitor's contact.
    view = _case_row(case, review, cases.flags(case, today, cal, settings), _names(tx, [review]), contact=manager)
    actions = [a for a, (starts, _) in cases.ACTIONS.items() if case.state in starts]
    if case.state != cases.CLOSED and not case.appeal_state:
        actions.append("appeal")
    if case.appeal_state == "pending" and viewer is not None and viewer.role == Role.ADMIN and case.appeal_by != viewer.user_id:
        actions += ["approve_appeal", "reject_appeal"]
    view["actions"] = actions if manager else []
    handler = tx.session.get(User, case.handler_id) if case.handler_id else None
    view["handler"] = (handler.display_name or handler.name) if handler else None
    if manager:
        view["contact"]["may_reveal"] = bool(case.contact_sealed) and (case.handler_id in (None, viewer.user_id))
    view["timeline"] = [_step_view(s) for s in cases.steps_of(tx, case)]
    return view


def _step_view(step: CaseStep) -> dict:
    detail = {k: mask(v) if isinstance(v, str) else v for k, v in step.detail.items()}  # evidence notes are free text
    return {"at": iso(step.at), "step": step.step, "actor": step.actor, "role": step.actor_role, "note": mask(step.note),
            "detail": detail}


def _form(tx: Txn, ticket: Ticket) -> dict:
    rated = ratings.rated_legs(tx, ticket)
    served = ratings.served_legs(tx, ticket)
    open_until = ratings.open_until(tx, ticket)
    closed = clock.business_date(tx.now, tx.hall.timezone) > open_until
    windows = {w.id: w.number for w in tx.session.exec(select(Window).where(Window.hall_id == tx.hall.id))}
    services = tx.services
    legs = []
    for leg in served:
        service = services.get(leg.service_id)
        review = rated.get(leg.number)
        legs.append({
            "leg": leg.number, "window": windows.get(leg.window_id),
            "service": service.code if service else None,
            "service_name": service.name if service else "", "service_name_en": service.name_en if service else "",
            "rated": None if review is None else {"score": review.score, "level": ratings.LEVELS[review.score], "channel": review.channel},
            "may_rate": review is None and not closed,
        })
    return {
        "legs": legs,
        "open_until": open_until.isoformat(),
        "levels": [{"score": s, "level": ratings.LEVELS[s], "level_en": ratings.LEVELS_EN[s]} for s in sorted(ratings.LEVELS, reverse=True)],
        "indicators": list(ratings.INDICATORS),
        "bad_reasons": settings_of(tx.hall).bad_reasons,
        "max_comment": ratings.MAX_COMMENT,
    }
