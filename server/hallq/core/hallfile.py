"""The hall file: one TOML (or YAML) document describing a hall, and loading it.

Loading is an upsert keyed by the hall's id, service codes and window numbers:
re-loading changes names, hours, quotas and window services but leaves today's
tickets, counters and open windows as they are. Services and windows dropped
from the file are retired (inactive), never deleted, since tickets refer to them.
"""

from __future__ import annotations

import tomllib
from datetime import date, datetime
from typing import Literal
from pathlib import Path

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from sqlmodel import Session, select

from hallq.core import clock
from hallq.core.balancer import store as balancer_store
from hallq.core.balancer.balancer import BalancerSettings
from hallq.core.reviews.settings import ReviewSettings
from hallq.core.errors import Invalid
from hallq.core.models import Hall, Service, Window, WindowService, Zone

SLUG = r"^[a-z0-9][a-z0-9-]{0,31}$"


def _valid_hours(ranges: list[str]) -> list[str]:
    # A ValueError, so pydantic reports it with its place in the file, among all the others.
    try:
        clock.parse_hours(ranges)
    except Invalid as exc:
        raise ValueError(exc.message) from None
    return ranges


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ZoneSpec(_Strict):
    code: str = Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")
    name: str
    name_en: str = ""


class ServiceSpec(_Strict):
    code: str = Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")
    name: str
    name_en: str = ""
    prefix: str = Field(pattern=r"^[A-Z]{1,2}$")
    zone: str | None = None
    handling_minutes: float = Field(gt=0, le=480)
    daily_quota: int | None = Field(default=None, gt=0, le=9999)
    hours: list[str] = []

    @field_validator("hours")
    @classmethod
    def _hours(cls, v):
        return _valid_hours(v)


class WindowSpec(_Strict):
    number: int = Field(gt=0, le=9999)
    name: str
    zone: str | None = None
    services: dict[str, float] = {}

    @field_validator("services")
    @classmethod
    def _weights(cls, v):
        for code, w in v.items():
            if not 0 < w <= 100:
                raise ValueError(f"weight of {code} must be above 0 and at most 100")
        return v


class HallSpec(_Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    slug: str = Field(pattern=SLUG)
    name: str
    name_en: str = ""
    timezone: str = "Asia/Shanghai"
    hours: list[str] = ["08:30-12:00", "13:30-17:30"]
    # Other hours on some weekdays: {sat = ["09:00-12:00"], fri = ["08:30-12:00", "13:30-16:00"]}
    # (calendar.hours_on says which day keeps which).
    weekday_hours: dict[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], list[str]] = {}
    recall_limit: int = Field(default=3, ge=0, le=20)
    requeue_skipped: bool = False
    requeue_grace_minutes: int = Field(default=10, ge=0, le=240)
    stop_issuing_minutes_before_close: int = Field(default=0, ge=0, le=240)
    # Which days the hall is open (core/calendar.py): China's statutory holidays and adjusted
    # working days ("cn"), or "every_day"; and the hall's own closures and extra working days.
    calendar: Literal["cn", "every_day"] = "cn"
    closed_days: list[date] = []
    extra_working_days: list[date] = []

    @field_validator("hours")
    @classmethod
    def _hours(cls, v):
        return _valid_hours(v)

    @field_validator("weekday_hours")
    @classmethod
    def _weekday_hours(cls, v):
        for day, ranges in v.items():
            if not ranges:
                raise ValueError(f"weekday_hours.{day} is empty: give its hours, or leave the day out to keep the hall's hours "
                                 "(a day the hall is closed belongs in closed_days)")
            _valid_hours(ranges)
        return v

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v):
        try:
            clock.zone(v)
        except Exception:
            raise ValueError(f"unknown time zone {v!r}") from None
        return v


class HallFile(_Strict):
    hall: HallSpec
    zones: list[ZoneSpec] = []
    services: list[ServiceSpec]
    windows: list[WindowSpec] = []
    # The live balancer: who may serve what, targets, mode and auto-mode limits (docs/balancing.md).
    balancer: BalancerSettings = Field(default_factory=BalancerSettings)
    # 好差评: deadlines of a bad rating's case, the reasons a visitor may pick (docs/reviews.md).
    reviews: ReviewSettings = Field(default_factory=ReviewSettings)

    @model_validator(mode="after")
    def _consistent(self):
        zones = {z.code for z in self.zones}
        codes = [s.code for s in self.services]
        prefixes = [s.prefix for s in self.services]
        numbers = [w.number for w in self.windows]
        for label, items in (("service code", codes), ("ticket prefix", prefixes), ("window number", numbers)):
            dupes = sorted({str(x) for x in items if items.count(x) > 1})
            if dupes:
                raise ValueError(f"each {label} must be unique; repeated: {', '.join(dupes)}")
        for s in self.services:
            if s.zone and s.zone not in zones:
                raise ValueError(f"service {s.code} names unknown zone {s.zone}")
        for w in self.windows:
            if w.zone and w.zone not in zones:
                raise ValueError(f"window {w.number} names unknown zone {w.zone}")
            unknown = sorted(set(w.services) - set(codes))
            if unknown:
                raise ValueError(f"window {w.number} serves unknown services {', '.join(unknown)}")
        _check_balancer(self.balancer, set(codes), set(numbers))
        return self


def _check_balancer(b: BalancerSettings, codes: set[str], numbers: set[int]) -> None:
    """The [balancer] table names only services and windows the file has."""
    named = [(f"balancer.qualifications.{who}", None, skills) for who, skills in b.qualifications.items()]
    named += [(f"balancer.window_qualifications.{n}", n, skills) for n, skills in b.window_qualifications.items()]
    named += [(f"balancer.home.{n}", n, services) for n, services in b.home.items()]
    named.append(("balancer.targets", None, b.targets))
    for where, number, services in named:
        if number is not None and number not in numbers:
            raise ValueError(f"{where}: there is no window {number} in this file")
        unknown = sorted(set(services) - codes)
        if unknown:
            raise ValueError(f"{where}: unknown service {', '.join(unknown)}")


def parse_hall_file(path: str | Path) -> HallFile:
    """Read and validate a hall file; raise Invalid with every problem found."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise Invalid("unreadable", f"cannot read {path}: {exc.strerror}") from None
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
        else:
            data = tomllib.loads(text)
    except Exception as exc:
        raise Invalid("bad_syntax", f"{path.name}: {exc}") from None
    try:
        return HallFile.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'file'}: {e['msg']}" for e in exc.errors())
        raise Invalid("bad_hall_file", f"{path.name}: {problems}") from None


def _upsert(session: Session, model, key: dict, values: dict):
    row = session.exec(select(model).filter_by(**key)).first()
    if row is None:
        row = model(**key, **values)
    else:
        for k, v in values.items():
            setattr(row, k, v)
    session.add(row)
    session.flush()
    return row


def load_hall(session: Session, spec: HallFile, now: datetime) -> Hall:
    """Create or update the hall the file describes; return it."""
    h = spec.hall
    clash = session.exec(select(Hall).where(Hall.slug == h.slug, Hall.code != h.id)).first()
    if clash:
        raise Invalid("slug_taken", f"slug {h.slug} already belongs to hall {clash.code}")
    hall = _upsert(
        session,
        Hall,
        {"code": h.id},
        {
            "slug": h.slug,
            "name": h.name,
            "name_en": h.name_en,
            "timezone": h.timezone,
            "hours": h.hours,
            "weekday_hours": dict(h.weekday_hours),
            "recall_limit": h.recall_limit,
            "requeue_skipped": h.requeue_skipped,
            "requeue_grace_minutes": h.requeue_grace_minutes,
            "stop_issuing_minutes_before_close": h.stop_issuing_minutes_before_close,
            "calendar": h.calendar,
            "closed_days": sorted(d.isoformat() for d in h.closed_days),
            "extra_working_days": sorted(d.isoformat() for d in h.extra_working_days),
            "sweep_after": None,  # hours may have changed: recompute on the next operation
            "review_settings": spec.reviews.model_dump(),
        },
    )
    zones = {}
    for z in spec.zones:
        zones[z.code] = _upsert(session, Zone, {"hall_id": hall.id, "code": z.code}, {"name": z.name, "name_en": z.name_en, "active": True})
    for old in session.exec(select(Zone).where(Zone.hall_id == hall.id)).all():
        if old.code not in zones:
            old.active = False
            session.add(old)

    services = {}
    for s in spec.services:
        # A prefix given up by a retired service may be taken by a new one.
        services[s.code] = _upsert(
            session,
            Service,
            {"hall_id": hall.id, "code": s.code},
            {
                "name": s.name,
                "name_en": s.name_en,
                "prefix": s.prefix,
                "zone_id": zones[s.zone].id if s.zone else None,
                "handling_minutes": s.handling_minutes,
                "daily_quota": s.daily_quota,
                "hours": s.hours,
                "active": True,
            },
        )
    for old in session.exec(select(Service).where(Service.hall_id == hall.id)).all():
        if old.code not in services:
            old.active = False
            session.add(old)

    numbers = set()
    for w in spec.windows:
        numbers.add(w.number)
        window = _upsert(
            session,
            Window,
            {"hall_id": hall.id, "number": w.number},
            {"name": w.name, "zone_id": zones[w.zone].id if w.zone else None, "active": True},
        )
        links = {l.service_id: l for l in session.exec(select(WindowService).where(WindowService.window_id == window.id)).all()}
        wanted = {services[code].id: weight for code, weight in w.services.items()}
        for sid, link in links.items():
            if sid not in wanted:
                session.delete(link)
        for sid, weight in wanted.items():
            link = links.get(sid) or WindowService(window_id=window.id, service_id=sid)
            link.weight = weight
            session.add(link)
    for old in session.exec(select(Window).where(Window.hall_id == hall.id)).all():
        if old.number not in numbers:
            old.active = False
            session.add(old)
    balancer_store.save_from_file(session, hall, spec.balancer, {w.number: w.services for w in spec.windows}, now)
    session.flush()
    return hall
