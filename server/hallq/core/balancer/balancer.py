"""The live balancer: watches each service's backlog against the windows serving
it and proposes changes to which services windows serve, within what each
window's staff member is qualified for.

Pressure of a service = max(oldest wait, expected time to clear its queue) ÷
its service-level target, where the time to clear is waiting × handling
minutes ÷ capacity (each working window serving the service counts by its share
of that window's weights, as in estimate.py).

* help: a service with someone waiting gets the qualified windows that stand
  idle; once its pressure reaches `trigger` it also gets busy qualified windows
  whose own services are quiet (pressure below `spare_below`), as many as its
  backlog needs to clear within its target;
* release: a window serving a service outside its usual ones goes back once
  that service is calm (pressure below `release_below`) and its own services
  need it.

Modes per hall: off (nothing), suggest (the manager sees each suggestion with
its reason and applies it), auto (applied at once, within the limits set, by
the actor `balancer`). Applying always goes through
HallService.set_window_services, so every change is audited with before and
after. Pure core: no web framework here.
"""

from __future__ import annotations

import hashlib
import math
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import func
from sqlmodel import Session, select

from hallq.core import clock
from hallq.core.enums import Role, TicketStatus, WindowState
from hallq.core.errors import Conflict, Invalid
from hallq.core.models import Hall, Service, Ticket, User, Window, WindowService
from hallq.core.txn import Actor, find_hall

MODES = ("off", "suggest", "auto")
BALANCER = Actor(name="balancer", role=Role.MANAGER)
WORKING = (WindowState.IDLE, WindowState.SERVING)


class BalancerSettings(BaseModel):
    """A hall's balancer settings (the [balancer] table of a scenario or hall config)."""

    model_config = ConfigDict(extra="forbid")

    mode: str = Field(default="suggest", pattern="^(off|suggest|auto)$")
    # Who may serve what: by staff account name, and by window number for windows
    # whose staff has no entry. Values are proficiency (1.0 on main services).
    qualifications: dict[str, dict[str, float]] = {}
    window_qualifications: dict[int, dict[str, float]] = {}
    # The services each window usually serves (what a release returns to);
    # a window missing here keeps what it served when the balancer first saw it.
    home: dict[int, dict[str, float]] = {}
    targets: dict[str, float] = {}
    default_target: float = Field(default=20.0, gt=0, le=480)
    trigger: float = Field(default=1.0, gt=0, le=20)
    spare_below: float = Field(default=0.5, ge=0, le=20)
    release_below: float = Field(default=0.25, ge=0, le=20)
    min_waiting: int = Field(default=3, ge=1, le=1000)
    # Weight a helping window gives the service it helps; None: the same as its
    # main service's, so it really helps rather than only when idle.
    help_weight: float | None = Field(default=None, gt=0, le=100)
    # Limits for auto mode.
    max_changes_per_hour: int = Field(default=30, ge=0, le=1000)
    min_hold_minutes: float = Field(default=10.0, ge=0, le=480)
    max_helpers_per_service: int = Field(default=20, ge=0, le=1000)
    max_services_per_window: int = Field(default=4, ge=1, le=50)

    @field_validator("qualifications", "window_qualifications", "home", "targets")
    @classmethod
    def _ranges(cls, v, info):
        # Proficiency is a share of full speed; a home weight is a window weight; a target is minutes.
        top = {"home": 100.0, "targets": 480.0}.get(info.field_name, 1.0)
        for key, value in v.items():
            for code, x in (value.items() if isinstance(value, dict) else [(key, value)]):
                if not 0 < x <= top:
                    where = f"{key}: {code}" if isinstance(value, dict) else code
                    raise ValueError(f"{where} must be above 0 and at most {top:g}, not {x:g}")
        return v

    @classmethod
    def parse(cls, data: dict) -> "BalancerSettings":
        """Validate settings; raise Invalid listing every problem."""
        try:
            return cls.model_validate(data or {})
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}" for e in exc.errors())
            raise Invalid("bad_balancer_settings", problems) from None

    def target(self, service: str) -> float:
        return self.targets.get(service, self.default_target)


@dataclass(frozen=True)
class ServiceLoad:
    code: str
    name: str
    waiting: int
    oldest_minutes: float
    handling_minutes: float
    capacity: float  # working windows serving it, each by its share

    @property
    def clear_minutes(self) -> float:
        """Expected minutes to clear today's queue with the windows serving it now."""
        if self.waiting == 0:
            return 0.0
        return math.inf if self.capacity <= 0 else self.waiting * self.handling_minutes / self.capacity


@dataclass(frozen=True)
class WindowLoad:
    number: int
    state: str
    staff: str | None  # account name of the staff member signed in
    services: dict[str, float]


@dataclass(frozen=True)
class HallLoad:
    at: datetime
    services: dict[str, ServiceLoad]
    windows: list[WindowLoad]


@dataclass(frozen=True)
class Change:
    window: int
    before: dict[str, float]
    after: dict[str, float]


@dataclass(frozen=True)
class Suggestion:
    kind: str  # help | release
    service: str
    changes: tuple[Change, ...]
    reason: str  # Chinese, as the hall reads it
    reason_en: str

    @property
    def id(self) -> str:
        text = repr((self.kind, self.service, [(c.window, sorted(c.before.items()), sorted(c.after.items())) for c in self.changes]))
        return hashlib.sha1(text.encode()).hexdigest()[:12]

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "kind": self.kind,
            "service": self.service,
            "windows": [c.window for c in self.changes],
            "changes": [{"window": c.window, "before": c.before, "after": c.after} for c in self.changes],
            "reason": self.reason,
            "reason_en": self.reason_en,
        }


def read_load(session: Session, hall: Hall, now: datetime) -> HallLoad:
    """What the balancer looks at: per service its queue, per window its state and services."""
    services = {s.id: s for s in session.exec(select(Service).where(Service.hall_id == hall.id, Service.active == True))}  # noqa: E712
    day = clock.business_date(now, hall.timezone)
    waiting = {
        sid: (n, oldest)
        for sid, n, oldest in session.exec(
            select(Ticket.service_id, func.count(), func.min(Ticket.queued_at))
            .where(Ticket.hall_id == hall.id, Ticket.status == TicketStatus.WAITING, Ticket.business_date == day)
            .group_by(Ticket.service_id)
        )
    }
    rows = session.exec(select(Window).where(Window.hall_id == hall.id, Window.active == True).order_by(Window.number)).all()  # noqa: E712
    links: dict[int, dict[str, float]] = {w.id: {} for w in rows}
    for link in session.exec(select(WindowService).where(WindowService.window_id.in_(list(links)))):
        if link.service_id in services:
            links[link.window_id][services[link.service_id].code] = link.weight
    staff_ids = {w.staff_id for w in rows if w.staff_id}
    names = dict(session.exec(select(User.id, User.name).where(User.id.in_(staff_ids))).all()) if staff_ids else {}
    windows = [WindowLoad(w.number, str(w.state), names.get(w.staff_id), links[w.id]) for w in rows]
    capacity: dict[str, float] = {}
    for w in windows:
        total = sum(w.services.values())
        if w.state in WORKING and total > 0:
            for code, weight in w.services.items():
                capacity[code] = capacity.get(code, 0.0) + weight / total
    loads = {}
    for sid, s in services.items():
        n, oldest = waiting.get(sid, (0, None))
        oldest_minutes = 0.0 if oldest is None else max((now - clock.as_utc(oldest)).total_seconds() / 60.0, 0.0)
        loads[s.code] = ServiceLoad(s.code, s.name, n, oldest_minutes, s.handling_minutes, capacity.get(s.code, 0.0))
    return HallLoad(now, loads, windows)


def _pressure(load: ServiceLoad, settings: BalancerSettings) -> float:
    if load.waiting == 0:
        return 0.0
    return max(load.oldest_minutes, load.clear_minutes) / settings.target(load.code)


def _and(items: list, zh: bool) -> str:
    items = [str(i) for i in items]
    if zh:
        return "、".join(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


class Balancer:
    """One hall's balancer: remembers its suggestions, its changes and each window's usual services."""

    def __init__(self, settings: BalancerSettings | dict | None = None):
        self.settings = settings if isinstance(settings, BalancerSettings) else BalancerSettings.parse(settings or {})
        self.home: dict[int, dict[str, float]] = {int(k): dict(v) for k, v in self.settings.home.items()}
        self.last_change: dict[int, datetime] = {}
        self.recent: deque[datetime] = deque()
        self.pending: dict[str, Suggestion] = {}

    def configure(self, settings: BalancerSettings) -> None:
        """Take new settings (a hall-file reload, a manager's change); auto mode's counters carry on."""
        self.settings = settings
        self.home = {int(k): dict(v) for k, v in settings.home.items()}

    @property
    def mode(self) -> str:
        return self.settings.mode

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise Invalid("bad_mode", f"balancer mode must be one of {', '.join(MODES)}, not {mode!r}")
        self.settings = self.settings.model_copy(update={"mode": mode})

    def qualified(self, window: WindowLoad) -> dict[str, float]:
        """Services the window's staff may serve, with proficiency."""
        if window.staff and window.staff in self.settings.qualifications:
            return self.settings.qualifications[window.staff]
        return self.settings.window_qualifications.get(window.number, {})

    # -- proposing ----------------------------------------------------------

    def propose(self, load: HallLoad) -> list[Suggestion]:
        """Suggestions for this moment, most pressing first (reads nothing from the hall, changes nothing in it)."""
        s = self.settings
        for w in load.windows:
            self.home.setdefault(w.number, dict(w.services))
        pressure = {code: _pressure(sl, s) for code, sl in load.services.items()}
        used: set[int] = set()
        out: list[Suggestion] = []
        for code in sorted(pressure, key=lambda c: -pressure[c]):
            sl = load.services[code]
            if sl.waiting == 0:
                continue
            pressed = pressure[code] >= s.trigger and sl.waiting >= s.min_waiting
            suggestion = self._help(load, code, pressure, used, idle_only=not pressed)
            if suggestion:
                out.append(suggestion)
        out.extend(self._releases(load, pressure, used))
        return out

    def _help(self, load: HallLoad, code: str, pressure: dict[str, float], used: set[int], *, idle_only: bool) -> Suggestion | None:
        """Qualified windows to add to a service: idle ones whenever it has someone
        waiting; when it is under pressure, also busy windows with little of their own work."""
        s = self.settings
        sl = load.services[code]
        helpers_now = sum(1 for w in load.windows if code in w.services and code not in self.home.get(w.number, {}))
        room = s.max_helpers_per_service - helpers_now
        if idle_only:
            needed = sl.waiting
        else:
            needed = math.ceil(max(sl.waiting * sl.handling_minutes / s.target(code) - sl.capacity, 1.0))
        candidates = []
        for w in load.windows:
            skill = self.qualified(w).get(code)
            if w.number in used or w.state not in WORKING or code in w.services or not skill:
                continue
            if len(w.services) >= s.max_services_per_window or (idle_only and w.state != WindowState.IDLE):
                continue
            own = max((pressure.get(c, 0.0) for c in w.services), default=0.0)
            if own >= s.spare_below:
                continue
            candidates.append((w.state != WindowState.IDLE, own, -skill, w.number, w))
        candidates.sort(key=lambda c: c[:4])
        chosen = [c[4] for c in candidates[: max(min(needed, room), 0)]]
        if not chosen:
            return None
        used.update(w.number for w in chosen)
        changes = tuple(
            Change(w.number, dict(w.services), {**w.services, code: s.help_weight or max(w.services.values(), default=1.0)})
            for w in chosen
        )
        idle = [w.number for w in chosen if w.state == WindowState.IDLE]
        quiet = [w.number for w in chosen if w.state != WindowState.IDLE]
        head_zh = f"{sl.name}（{code}）有 {sl.waiting} 人等候，最久 {sl.oldest_minutes:.0f} 分钟"
        head_en = f"{code} has {sl.waiting} waiting, oldest {sl.oldest_minutes:.0f} min"
        parts_zh, parts_en = [head_zh], [head_en]
        if idle:
            parts_zh.append(f"{_and(idle, True)} 号窗口空闲且具备资格")
            parts_en.append(f"window{'s' if len(idle) > 1 else ''} {_and(idle, False)} {'are' if len(idle) > 1 else 'is'} idle and qualified")
        if quiet:
            parts_zh.append(f"{_and(quiet, True)} 号窗口本身业务不忙且具备资格")
            parts_en.append(f"window{'s' if len(quiet) > 1 else ''} {_and(quiet, False)} {'have' if len(quiet) > 1 else 'has'} little of {'their' if len(quiet) > 1 else 'its'} own work and {'are' if len(quiet) > 1 else 'is'} qualified")
        return Suggestion("help", code, changes, "；".join(parts_zh), "; ".join(parts_en))

    def _releases(self, load: HallLoad, pressure: dict[str, float], used: set[int]) -> list[Suggestion]:
        s = self.settings
        by_service: dict[str, list[Change]] = {}
        for w in load.windows:
            home = self.home.get(w.number, {})
            extra = [c for c in w.services if c not in home and pressure.get(c, 0.0) < s.release_below]
            needed_home = any(pressure.get(c, 0.0) >= s.spare_below for c in home)
            if w.number in used or not extra or not needed_home:
                continue
            after = {c: wt for c, wt in w.services.items() if c not in extra}
            if not after:
                continue
            used.add(w.number)
            by_service.setdefault(extra[0], []).append(Change(w.number, dict(w.services), after))
        out = []
        for code, changes in by_service.items():
            sl = load.services[code]
            numbers = [c.window for c in changes]
            zh = f"{sl.name}（{code}）已缓解（{sl.waiting} 人等候，最久 {sl.oldest_minutes:.0f} 分钟）；{_and(numbers, True)} 号窗口回到本岗业务"
            en = (
                f"{code} is calm again ({sl.waiting} waiting, oldest {sl.oldest_minutes:.0f} min); "
                f"window{'s' if len(numbers) > 1 else ''} {_and(numbers, False)} go{'' if len(numbers) > 1 else 'es'} back to {'their' if len(numbers) > 1 else 'its'} own services"
            )
            out.append(Suggestion("release", code, tuple(changes), zh, en))
        return out

    # -- reading and acting through the engine ------------------------------

    def look(self, hall_service, slug: str) -> HallLoad:
        """Read the hall's load now (one short read transaction)."""
        with hall_service.db.read() as session:
            hall = find_hall(session, slug)
            return read_load(session, hall, hall_service.clock.now())

    def suggestions(self, hall_service, slug: str) -> list[Suggestion]:
        """Current suggestions (what the manager's live page shows); remembered for apply()."""
        found = self.propose(self.look(hall_service, slug))
        self.pending = {s.id: s for s in found}
        return found

    def apply(self, hall_service, slug: str, suggestion: Suggestion | str, *, actor: Actor) -> list[dict]:
        """Apply one suggestion (by id or object); refuse it if the hall has changed since."""
        if isinstance(suggestion, str):
            if suggestion not in self.pending:
                raise Conflict("stale_suggestion", f"suggestion {suggestion} is no longer current; look again")
            suggestion = self.pending[suggestion]
        load = self.look(hall_service, slug)
        windows = {w.number: w for w in load.windows}
        for change in suggestion.changes:
            w = windows.get(change.window)
            if w is None or w.services != change.before:
                raise Conflict("stale_suggestion", f"window {change.window} has changed since this was suggested; look again")
            skills = self.qualified(w)
            unqualified = sorted(c for c in change.after if c not in change.before and c not in skills)
            if unqualified:
                raise Conflict("not_qualified", f"window {change.window}'s staff is not qualified for {', '.join(unqualified)}")
        views = [hall_service.set_window_services(slug, c.window, c.after, actor=actor) for c in suggestion.changes]
        now = hall_service.clock.now()
        for c in suggestion.changes:
            self.last_change[c.window] = now
            self.recent.append(now)
        self.pending.pop(suggestion.id, None)
        return views

    def tick(self, hall_service, slug: str, *, actor: Actor = BALANCER) -> list[Suggestion]:
        """One look at the hall: off → nothing; suggest → the suggestions; auto → what was applied."""
        if self.mode == "off":
            self.pending = {}
            return []
        found = self.suggestions(hall_service, slug)
        if self.mode == "suggest":
            return found
        applied = []
        for suggestion in found:
            allowed = self._within_limits(suggestion, hall_service.clock.now())
            if allowed is None:
                continue
            try:
                self.apply(hall_service, slug, allowed, actor=actor)
            except Conflict:
                continue
            applied.append(allowed)
        return applied

    def _within_limits(self, suggestion: Suggestion, now: datetime) -> Suggestion | None:
        """The part of a suggestion auto mode may apply now, or None."""
        s = self.settings
        while self.recent and self.recent[0] <= now - timedelta(hours=1):
            self.recent.popleft()
        hold = timedelta(minutes=s.min_hold_minutes)
        room = s.max_changes_per_hour - len(self.recent)
        keep = [c for c in suggestion.changes if c.window not in self.last_change or now - self.last_change[c.window] >= hold]
        keep = keep[: max(room, 0)]
        if not keep:
            return None
        if len(keep) == len(suggestion.changes):
            return suggestion
        return Suggestion(suggestion.kind, suggestion.service, tuple(keep), suggestion.reason, suggestion.reason_en)
