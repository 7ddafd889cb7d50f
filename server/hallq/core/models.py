"""SQLModel tables. Every moment is an aware UTC datetime; the hall's time zone
turns it into a business date and local hours (see clock.py)."""

from datetime import date, datetime

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from hallq.core.enums import Priority, Role, TicketStatus, WindowState


class Hall(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=64)  # the hall file's stable id
    slug: str = Field(unique=True, max_length=32)  # used in URLs and MQTT topics
    name: str
    name_en: str = ""
    timezone: str = "Asia/Shanghai"
    hours: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Hours of their own for some weekdays ({"sat": ["09:00-12:00"]}): see calendar.hours_on.
    weekday_hours: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    recall_limit: int = 3
    requeue_skipped: bool = False
    requeue_grace_minutes: int = 10
    stop_issuing_minutes_before_close: int = 0
    # The days it is open (core/calendar.py): China's statutory calendar ("cn") or "every_day",
    # with the hall's own closures and extra working days (ISO dates).
    calendar: str = Field(default="cn", max_length=16)
    closed_days: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    extra_working_days: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Next moment at which open tickets must be swept (closing time or day end).
    sweep_after: datetime | None = None
    # 好差评: the hall file's [reviews] table (reviews/settings.py).
    review_settings: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False, default=dict))


class Zone(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("hall_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id", index=True)
    code: str = Field(max_length=32)
    name: str
    name_en: str = ""
    active: bool = True


class Service(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("hall_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id", index=True)
    code: str = Field(max_length=32)
    name: str
    name_en: str = ""
    prefix: str = Field(max_length=2)
    zone_id: int | None = Field(default=None, foreign_key="zone.id")
    handling_minutes: float = 10.0
    daily_quota: int | None = None
    # Empty: the hall's hours apply.
    hours: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    active: bool = True


class Window(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("hall_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id", index=True)
    number: int
    name: str
    zone_id: int | None = Field(default=None, foreign_key="zone.id")
    state: WindowState = WindowState.CLOSED
    staff_id: int | None = Field(default=None, foreign_key="user.id")
    # No foreign key: window and ticket point at each other, and a cycle of
    # constraints would need deferred creation on PostgreSQL for no gain.
    current_ticket_id: int | None = None
    pause_reason: str | None = None
    since: datetime | None = None
    version: int = 0  # grows with every change of this window's state
    active: bool = True


class WindowService(SQLModel, table=True):
    """Which services a window serves, and how strongly it prefers each."""

    window_id: int = Field(foreign_key="window.id", primary_key=True)
    service_id: int = Field(foreign_key="service.id", primary_key=True)
    weight: float = 1.0


class Ticket(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("hall_id", "business_date", "number"),
        # The queue heads (windows.queue_heads) and the counts of people ahead
        # (estimate._ahead_statement) are ranges of this one index.
        Index("ix_ticket_queue", "hall_id", "status", "service_id", "priority", "business_date", "queued_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(unique=True, max_length=24)  # unguessable id for the tracker
    hall_id: int = Field(foreign_key="hall.id")
    business_date: date
    number: str = Field(max_length=8)
    service_id: int = Field(foreign_key="service.id")
    priority: Priority = Priority.NORMAL
    status: TicketStatus = TicketStatus.WAITING
    issued_at: datetime
    # Orders the queue: the original issue time, kept across transfers and requeues.
    queued_at: datetime
    # The ticket may not be called before this (a skipped ticket's grace period).
    available_at: datetime
    window_id: int | None = Field(default=None, foreign_key="window.id")
    staff_id: int | None = Field(default=None, foreign_key="user.id")
    called_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    recalls: int = 0
    requeues: int = 0
    transfers: int = 0
    close_reason: str | None = None
    channel: str = "api"  # api, kiosk, dispenser, phone, appointment
    estimated_wait_minutes: float | None = None  # promised at issue (the predictor's, where the server runs one)
    simple_wait_minutes: float | None = None  # the simple estimate at issue, kept to compare (waits/estimate.py)


class TicketStep(SQLModel, table=True):
    """One step of a ticket's journey: written once, never changed (see tickets/journey.py).
    The ticket's own columns say where it is now; its steps say how it got there."""

    __table_args__ = (Index("ix_ticketstep_hall_at", "hall_id", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    hall_id: int = Field(foreign_key="hall.id")
    at: datetime
    step: str = Field(max_length=16)  # enums.Step
    leg: int = 1  # 1, then one more after each transfer or move: each leg is one service
    service_id: int = Field(foreign_key="service.id")  # the leg's service
    window_id: int | None = Field(default=None, foreign_key="window.id")
    staff_id: int | None = Field(default=None, foreign_key="user.id")
    detail: str = Field(default="", max_length=64)  # how it was called, why it closed, where it went


class TicketCounter(SQLModel, table=True):
    """Last number handed out per hall, prefix and business day."""

    hall_id: int = Field(foreign_key="hall.id", primary_key=True)
    prefix: str = Field(primary_key=True, max_length=2)
    business_date: date = Field(primary_key=True)
    last: int = 0


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=64)
    display_name: str = ""
    staff_no: str = ""  # 工号, shown on the window screen
    role: Role
    hall_id: int | None = Field(default=None, foreign_key="hall.id")  # None: every hall
    password_hash: str = ""
    active: bool = True
    created_at: datetime


class ApiToken(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    token_hash: str = Field(unique=True, max_length=64)  # sha256 hex of the token
    label: str = ""
    created_at: datetime
    last_used_at: datetime | None = None
    revoked: bool = False


class AuditEntry(SQLModel, table=True):
    """Who did what, when: every change made by a person or a device."""

    id: int | None = Field(default=None, primary_key=True)
    hall_id: int | None = Field(default=None, foreign_key="hall.id", index=True)
    at: datetime = Field(index=True)
    actor: str
    actor_role: str
    origin: str = Field(default="", max_length=64)  # where from: an address, "mqtt", "cli@host", "" for the server itself
    action: str
    target: str = ""
    detail: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class HallBalancer(SQLModel, table=True):
    """A hall's live-balancer settings (the hall file's [balancer] table, with the
    managers' changes of mode and limits) and which server process runs it."""

    hall_id: int = Field(foreign_key="hall.id", primary_key=True)
    settings: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    version: int = 0  # grows with every change, so every server process reloads it
    updated_at: datetime | None = None
    updated_by: str = ""
    # A lease: only the process named here, until then, ticks this hall (see core/balancer/store.py).
    lease_owner: str | None = Field(default=None, max_length=80)
    lease_until: datetime | None = None
