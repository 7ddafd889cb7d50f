"""The example hall in tests: the fixed Monday morning, moments of its week, its
file's data and variants, services and apps built around it, and accounts written
straight to its database."""

from __future__ import annotations

import copy
import tomllib
from datetime import datetime, timedelta, timezone

from sqlmodel import select

from hallq.core.accounts import users as accounts
from hallq.core.hallfile import HallFile, parse_hall_file
from hallq.core.models import Hall, User
from hallq.core.service import HallService
from hallq.core.txn import Actor
from hallq.db import Database

from .project import EXAMPLE_HALL

# 10:00 in Shanghai on a Monday: the example hall is open.
MONDAY_10AM = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
SHANGHAI = timezone(timedelta(hours=8))
EXAMPLE = tomllib.loads(EXAMPLE_HALL.read_text(encoding="utf-8"))  # the example hall file's data: deep-copy it to change it


def local(day: int, hh: int, mm: int = 0) -> datetime:
    """A moment in Shanghai in the week of MONDAY_10AM (day 0 = that Monday)."""
    return datetime(2026, 11, 23 + day, hh, mm, tzinfo=SHANGHAI).astimezone(timezone.utc)


def make_service(url: str, clock, publisher=None) -> HallService:
    db = Database.from_url(url)
    db.create_all()
    service = HallService(db, publisher=publisher, clock_=clock)
    service.load_hall(parse_hall_file(EXAMPLE_HALL))
    return service


def make_app(halls: HallService, **settings):
    """A Flask app around a hall engine the test made, as `hallq serve` builds one (settings as given)."""
    from hallq.assembly import build
    from hallq.config import load_settings
    from hallq.web import create_app

    return create_app(hallq=build(load_settings(**settings), halls=halls))


def variant(slug: str, **hall_changes) -> HallFile:
    """The example hall under another id and slug, with some hall settings changed."""
    data = copy.deepcopy(EXAMPLE)
    data["hall"].update(id=f"test-{slug}", slug=slug, **hall_changes)
    return HallFile.model_validate(data)


def person(hall, name: str, role: str = "staff", slug: str | None = "district") -> Actor:
    """An account written straight to the database: argon2 costs ~0.5 s a password here.
    slug=None: an account of no hall (an administrator's)."""
    with hall.db.write() as session:
        hall_id = session.exec(select(Hall.id).where(Hall.slug == slug)).one() if slug else None
        user = User(name=name, role=role, hall_id=hall_id, created_at=MONDAY_10AM)
        session.add(user)
        session.flush()
        return accounts.actor_for(user)


def both_windows_busy_with_mi(hall, boss: Actor, clock) -> None:
    """Windows 1 and 2 (they serve SI and MI) open, each serving an MI case, ten more MI visitors
    waiting for 30 minutes: nobody is ahead of an SI ticket issued now, yet it will wait."""
    for number in (1, 2):
        hall.window_action("district", number, "open", actor=boss)
    for _ in range(12):
        hall.issue_ticket("district", service="MI", actor=boss)
    for number in (1, 2):
        hall.window_action("district", number, "call-next", actor=boss)
    clock.advance(minutes=30)


class Desk:
    """One window as its staff member works it."""

    def __init__(self, hall, number: int, actor: Actor, slug: str = "district"):
        self.hall, self.number, self.actor, self.slug = hall, number, actor, slug

    @classmethod
    def opened(cls, hall, number: int, name: str) -> "Desk":
        """Window `number` of the example hall, opened by a new staff member `name`."""
        desk = cls(hall, number, person(hall, name))
        desk("open")
        return desk

    def __call__(self, action: str, **params) -> dict:
        return self.hall.window_action(self.slug, self.number, action, actor=self.actor, **params)

    def called(self) -> str:
        """Call next and return the called ticket's number."""
        return self("call-next")["ticket"]["number"]
