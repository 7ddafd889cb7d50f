"""The hall's back office: accounts and sign-in, administration (the hall file and
its accounts), and the figures the people's pages show. It shares the hall
engine's unit of work, so its changes are audited and published the same way."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Iterator

from hallq.core import audit, figures, hallfile
from hallq.core.accounts import admin
from hallq.core.accounts import users as accounts
from hallq.core.errors import Invalid
from hallq.core.service import HallService
from hallq.core.txn import SYSTEM, Actor, Txn, audit_entry, find_hall

TOKEN_CACHE_SECONDS = 5.0


class OfficeService:
    def __init__(self, halls: HallService):
        self.work = halls.work
        self.db = halls.db
        self.clock = halls.clock
        self._token_cache: dict[str, tuple[float, Actor | None]] = {}

    # -- accounts ---------------------------------------------------------

    def add_user(self, *, name: str, role: str, password: str, hall: str | None = None, display_name: str = "", staff_no: str = "") -> dict:
        """An account (the CLI's `user add`): refused, never cut, when a name is too long."""
        admin.check_names({"display_name": display_name, "staff_no": staff_no}, admin.USER_LIMITS)
        def op(session) -> dict:
            hall_row = find_hall(session, hall) if hall else None
            user = accounts.create_user(
                session, name=name, role=role, password=password, now=self.clock.now(), hall=hall_row,
                display_name=display_name, staff_no=staff_no,
            )
            return {"name": user.name, "role": str(user.role), "hall": hall_row.slug if hall_row else None}

        return self.work.change(op)

    def create_token(self, name: str, label: str = "", *, actor: Actor | None = None) -> str:
        """A new API token for user `name` (shown once), audited as `token.create` by `actor`."""
        now = self.clock.now()

        def op(session) -> str:
            token = accounts.create_token(session, user_name=name, now=now, label=label)
            owner = accounts.user_named(session, name)
            session.add(audit_entry(now, actor or SYSTEM, "token.create", name, hall_id=owner.hall_id, label=label))
            return token

        return self.work.change(op)

    def sign_in(self, name: str, password: str, *, address: str, via: str) -> Actor | None:
        """Check a person's sign-in and audit it, good or not (`auth.sign_in`, `auth.sign_in_failed`,
        with the client's address and `via`: form or api). The account's hall sees both. The password
        is checked in a read (it is slow on purpose), the audit line written in a short change after."""
        with self.db.read() as session:
            user = accounts.authenticate(session, name, password)
            known = user or accounts.user_named(session, name)
            actor = replace(accounts.actor_for(user), origin=address) if user else None
            who = actor or Actor(name=name, role=str(known.role) if known else "", origin=address)
            hall_id = known.hall_id if known else None
        entry = audit_entry(self.clock.now(), who, "auth.sign_in" if actor else "auth.sign_in_failed", name,
                            hall_id=hall_id, via=via)
        self.work.change(lambda session: session.add(entry))
        return actor

    def actor_for_token(self, token: str) -> Actor | None:
        """The token's owner. Answers are remembered for TOKEN_CACHE_SECONDS, so a
        revoked token or deactivated account stops working within that time."""
        now = time.monotonic()
        hit = self._token_cache.get(token)
        if hit is not None and hit[0] > now:
            return hit[1]
        with self.db.read() as session:
            actor = accounts.actor_for_token(session, token)
        if len(self._token_cache) > 10_000:
            self._token_cache.clear()
        self._token_cache[token] = (now + TOKEN_CACHE_SECONDS, actor)
        return actor

    def actor_for_login(self, name: str, password: str) -> Actor | None:
        with self.db.read() as session:
            user = accounts.authenticate(session, name, password)
            return accounts.actor_for(user) if user else None

    # -- pages: staff figures, trends, layout, administration --------------

    def hall_id(self, slug: str) -> int:
        """The hall's database id (what an Actor's hall_id refers to)."""
        return self.work.read_hall(slug, lambda session, hall: hall.id)

    def staff_today(self, slug: str, user_id: int) -> dict:
        """A staff member's figures for today: served, no-shows, mean handling time."""
        return self.work.read_hall(slug, lambda session, hall: figures.staff_today(session, hall, user_id, self.clock.now()))

    def staff_window(self, slug: str, user_id: int) -> int | None:
        """The window this staff member has open in the hall, if any."""
        return self.work.read_hall(slug, lambda session, hall: figures.staff_window(session, hall, user_id))

    def service_trends(self, slug: str) -> dict:
        return self.work.read_hall(slug, lambda session, hall: figures.service_trends(session, hall, self.clock.now()))

    def waiting_tickets(self, slug: str) -> list[dict]:
        return self.work.read_hall(slug, lambda session, hall: figures.waiting_tickets(session, hall, self.clock.now()))

    def layout(self, slug: str) -> dict:
        """The hall's zones and services (names, prefixes, zone of each service)."""
        return self.work.read_hall(slug, figures.layout)

    def hall_spec(self, slug: str, *, actor: Actor) -> hallfile.HallFile:
        """Administration: the hall's configuration as an editable hall file."""

        def read(session, hall):
            admin.require_admin(actor, hall)
            return admin.export_hall(session, hall)

        return self.work.read_hall(slug, read)

    def apply_hall_spec(self, slug: str, spec: hallfile.HallFile, *, actor: Actor) -> dict:
        """Administration: apply an edited hall file to this hall (same rules as `hallq hall load`)."""

        def op(tx: Txn):
            admin.require_admin(actor, tx.hall)
            if spec.hall.id != tx.hall.code:
                raise Invalid("other_hall", "this hall file describes another hall")
            hallfile.load_hall(tx.session, spec, tx.now)
            tx.audit("hall.edit", tx.hall.slug, services=len(spec.services), windows=len(spec.windows))
            tx.emit("hall.configured")
            return {"hall": tx.hall.slug, "services": len(spec.services), "windows": len(spec.windows)}

        return self.work.write(slug, op, actor=actor)

    def audit_page(self, slug: str, *, actor: Actor, filters: audit.AuditFilter, before: int | None = None) -> tuple[list[dict], int | None]:
        """Managers and administrators: a page of the hall's audit, newest first (see core.audit)."""

        def read(session, hall):
            admin.require_admin(actor, hall)
            return audit.page(session, hall.id, filters, before=before)

        return self.work.read_hall(slug, read)

    def audit_export(self, slug: str, *, actor: Actor, filters: audit.AuditFilter) -> Iterator[dict]:
        """Managers and administrators: every line the filter selects, oldest first. The export is
        itself audited (`audit.export`, with its filter) before the first line is read."""

        def op(tx: Txn) -> int:
            admin.require_admin(actor, tx.hall)
            tx.audit("audit.export", tx.hall.slug, filter=filters.as_dict())
            return tx.hall.id

        hall_id = self.work.write(slug, op, actor=actor)

        def lines() -> Iterator[dict]:
            after = 0
            while True:
                with self.db.read() as session:  # a short read per batch, not one held for the whole download
                    rows = audit.batch(session, hall_id, filters, after=after)
                if not rows:
                    return
                yield from rows
                after = rows[-1]["id"]

        return lines()

    def users(self, slug: str, *, actor: Actor) -> list[dict]:
        def read(session, hall):
            admin.require_admin(actor, hall)
            return admin.list_users(session, hall)

        return self.work.read_hall(slug, read)

    def create_hall_user(self, slug: str, *, actor: Actor, name: str, role: str, password: str, display_name: str = "", staff_no: str = "") -> dict:
        """Administration: a new account of this hall."""

        def op(tx: Txn):
            admin.require_admin(actor, tx.hall)
            admin.check_names({"display_name": display_name, "staff_no": staff_no}, admin.USER_LIMITS)
            user = accounts.create_user(
                tx.session, name=name, role=admin.check_role(actor, role), password=password, now=tx.now,
                hall=tx.hall, display_name=display_name, staff_no=staff_no,
            )
            tx.audit("user.create", user.name, role=str(user.role))
            return {"name": user.name, "role": str(user.role)}

        return self.work.write(slug, op, actor=actor)

    def update_hall_user(self, slug: str, name: str, *, actor: Actor, password: str | None = None, **changes) -> dict:
        """Administration: change an account's role, state, names, or set a new password."""

        def op(tx: Txn):
            admin.require_admin(actor, tx.hall)
            user = admin.update_user(tx.session, tx.hall, actor, name, **changes)
            if password:
                accounts.set_password(tx.session, name=user.name, password=password)
            tx.audit("user.update", user.name, **{k: v for k, v in changes.items() if v is not None}, password_reset=bool(password))
            return {"name": user.name, "role": str(user.role), "active": user.active}

        return self.work.write(slug, op, actor=actor)
