"""The public shapes: what the REST API answers, the live pages receive and the
devices are sent. The hall engine builds these dicts (hallq.core.shapes); the
server's OpenAPI document and its MQTT payload checks are generated from these
definitions. Nothing personal about a visitor is ever in them.

Moments are ISO 8601 UTC strings ("2026-11-23T02:00:00Z"); minutes are floats.
"""

from __future__ import annotations

from typing import Literal, NotRequired

try:  # pydantic (the server's, which generates the OpenAPI schemas from these) needs this one on Python < 3.12
    from typing_extensions import TypedDict
except ImportError:  # an edge device without it: the standard library's serves
    from typing import TypedDict

Priority = Literal["normal", "appointment", "green"]
TicketStatus = Literal["waiting", "called", "serving", "done", "no_show", "expired", "cancelled"]
WindowState = Literal["closed", "idle", "serving", "paused"]

# What a dispenser and the server assume when the device's config does not say otherwise.
BLOCK_SIZE = 20  # numbers a dispenser reserves for issuing offline
REQUEST_MAX_AGE = 60.0  # seconds after which a request or command is too old to act on


class WindowRef(TypedDict):
    number: int
    name: str


# Field docstrings below become the fields' descriptions in the OpenAPI document
# (pydantic reads them; on a device they are only comments).
DESCRIBED = {"use_attribute_docstrings": True}


class Ticket(TypedDict):
    """A ticket as the visitor (tracker page), the staff and the displays see it."""

    __pydantic_config__ = DESCRIBED  # type: ignore[misc]

    id: NotRequired[str]
    """Unguessable id used by the phone tracker; only its holder (the QR on the ticket) and the
    hall's staff, managers and administrators are told it"""
    number: str
    hall: str
    service: str
    service_name: str
    service_name_en: str
    priority: Priority
    status: TicketStatus
    business_date: str
    issued_at: str | None
    called_at: str | None
    started_at: str | None
    finished_at: str | None
    recalls: int
    close_reason: str | None
    window: WindowRef | None
    ahead: int | None
    """Waiting tickets that will be called before this one"""
    estimated_wait_minutes: float | None


class JourneyStep(TypedDict):
    """One step of a ticket's journey, as it was written (never changed afterwards)."""

    __pydantic_config__ = DESCRIBED  # type: ignore[misc]

    at: str
    step: Literal["issued", "called", "recalled", "started", "requeued", "no_show", "transferred", "moved", "completed", "closed"]
    leg: int
    """1, then one more after each transfer or move: each leg is one service"""
    service: str
    window: int | None
    staff: str | None
    """The staff member at the window (or the manager who moved it)"""
    detail: str
    """How it was called (next, direct), why it ended (skipped, recall_limit, hall_closed, day_end), where it went"""


class JourneyLeg(TypedDict):
    __pydantic_config__ = DESCRIBED  # type: ignore[misc]

    leg: int
    service: str | None
    wait_minutes: float | None
    """From the leg's beginning to its first call"""
    handling_minutes: float | None
    """From "start" (or, without it, the call the visitor answered) to completion or transfer"""
    window: int | None
    ended: str


class Journey(TypedDict):
    """A ticket's whole journey and what it measures (definitions: docs/figures.md)."""

    __pydantic_config__ = DESCRIBED  # type: ignore[misc]

    number: str
    business_date: str
    status: TicketStatus
    outcome: Literal["open", "completed", "no_show", "walked_away", "closed"]
    wait_minutes: float | None
    """From issue to the first call"""
    handling_minutes: float | None
    """The legs' handling, summed"""
    calls: int
    requeues: int
    transfers: int
    legs: list[JourneyLeg]
    steps: list[JourneyStep]


class TicketAtWindow(TypedDict):
    """The ticket a window is calling or serving."""

    id: NotRequired[str]
    """The ticket's tracking id: only for the hall's staff, managers and administrators"""
    number: str
    service: str
    status: TicketStatus
    priority: Priority
    called_at: str | None
    started_at: str | None
    recalls: int


class Staff(TypedDict):
    name: str
    staff_no: str


class WindowService(TypedDict):
    code: str
    weight: float


class Window(TypedDict):
    """A window's state, its ticket, its staff member and the services it serves."""

    __pydantic_config__ = DESCRIBED  # type: ignore[misc]

    number: int
    name: str
    zone: str | None
    state: WindowState
    since: str | None
    minutes_in_state: float | None
    pause_reason: str | None
    version: int
    """Grows with every change of this window"""
    staff: Staff | None
    ticket: TicketAtWindow | None
    services: list[WindowService]


class QueueEntry(TypedDict):
    """One service's queue: how many wait, the oldest wait, the estimate for a ticket taken now."""

    service: str
    name: str
    name_en: str
    prefix: str
    waiting: int
    oldest_wait_minutes: float | None
    estimated_wait_minutes: float | None
    open_windows: float


class Queue(TypedDict):
    hall: str
    services: list[QueueEntry]


class QueueMessage(Queue):
    """The hall's queue summary as devices get it (retained)."""

    at: str
    version: int


# -- what devices are sent over MQTT ---------------------------------------------------


class CallMessage(TypedDict):
    """One call or recall, for call screens: 请 {number} 号到 {window} 号窗口办理."""

    hall: str
    window: int
    window_name: str
    number: str
    service: str | None
    how: Literal["next", "direct", "recall"]
    recalls: int
    version: int
    at: str


class CompletedMessage(TypedDict):
    """The ticket last completed at a window, for its review box."""

    hall: str
    window: int
    ticket: str
    number: str
    at: str | None
    reviewed: bool
    version: NotRequired[int]  # grows with every message on this window's topic (none from an older server)


class ServiceButton(TypedDict):
    code: str
    name: str
    name_en: str
    prefix: str


class PrintedTicket(TypedDict, total=False):
    """What a dispenser needs to print a kiosk's ticket with its own layout (id and number always)."""

    id: str  # public id, for the QR code of the tracker page
    number: str
    service: str
    service_name: str
    priority: Priority
    ahead: int | None
    estimated_wait_minutes: float | None
    issued_at: str | None


class DeviceConfig(TypedDict):
    """Retained configuration a device receives when it connects."""

    device: str
    role: str
    hall: dict
    window: int | None
    services: list[ServiceButton]
    request_max_age: float
    block_size: int
    tracker_url: str  # "{ticket}" is replaced by the ticket's public id
    server_time: str
    version: NotRequired[int]  # grows with every config sent to this device (none from an older server)


class Figures(TypedDict):
    """A day's or a range's figures (definitions: docs/figures.md): minutes, rates from 0 to 1,
    null where there is nothing to count or divide."""

    __pydantic_config__ = DESCRIBED  # type: ignore[misc]

    tickets: int
    """Tickets issued (per service: legs begun, a transfer in included; 0 per window and staff)"""
    cases: int
    """Completed (办结)"""
    wait_mean: float | None
    wait_median: float | None
    """By nearest rank, to the whole minute"""
    wait_p90: float | None
    handling_mean: float | None
    handling_p90: float | None
    no_show_rate: float | None
    """Of the tickets (or legs) that ended"""
    walked_away_rate: float | None
    wait_promise_error: float | None
    """Mean absolute error of the wait promised at issue (the wait predictor's) against the wait measured (per ticket: hall and hour)"""
    wait_simple_error: float | None
    """The same for the simple estimate (people ahead × handling ÷ windows) made at issue beside the promise"""
    transfers: int
    """Legs ended by a transfer (转办) or a manager's move"""
    transfer_rate: float | None
    """Of the legs served at a window, the share its window sent on to another service (转办率)"""
    reviews: int
    """好差评 of these tickets (one per service leg), without those an approved appeal removed"""
    reviews_phone: int
    """Of the reviews, rated on the phone (the ticket's tracker)"""
    reviews_box: int
    """Of the reviews, rated at the window's review box"""
    reviews_default: int
    """Of the reviews, unrated services counted as the hall's default level (not active ratings)"""
    reviews_by_level: dict[str, int]
    """Reviews per level, "5" (非常满意) to "1" (非常不满意)"""
    active_rating_rate: float | None
    """Reviews the visitors gave (not the hall's default) ÷ cases"""
    five_star_rate: float | None
    satisfaction_rate: float | None
    """Rated 4 or 5, of the reviews"""
    bad_reviews: int
    """Rated 1 or 2"""
    mean_score: float | None
    appealed_removed: int
    """Bad ratings an approved appeal (申诉) took out of the rates"""
    bad_cases: int
    """Rectification cases opened (差评整改), one per bad rating, appealed ones included"""
    rectified: int
    """Cases closed after rectification or explanation"""
    rectified_on_time: int
    """Of those, rectified or explained by the deadline (working days)"""
    rectification_rate: float | None
    """差评整改率: rectified ÷ bad reviews"""
    on_time_rectification_rate: float | None
    """Rectified on time ÷ bad reviews"""


class FigureTotals(Figures):
    __pydantic_config__ = DESCRIBED  # type: ignore[misc]

    tickets_per_working_day: float | None
    cases_per_working_day: float | None


class ZoneFigures(Figures):
    __pydantic_config__ = DESCRIBED  # type: ignore[misc]

    zone: str
    name: str
    name_en: str


class ServiceFigures(Figures):
    __pydantic_config__ = DESCRIBED  # type: ignore[misc]

    service: str | None
    name: str
    name_en: str


class WindowFigures(Figures):
    __pydantic_config__ = DESCRIBED  # type: ignore[misc]

    window: int | None


class StaffFigures(Figures):
    __pydantic_config__ = DESCRIBED  # type: ignore[misc]

    staff: str | None
    """The staff member's user name"""
    display_name: str
    staff_no: str


class HourFigures(Figures):
    __pydantic_config__ = DESCRIBED  # type: ignore[misc]

    hour: int
    """Of issue, 0–23, in the hall's time zone"""


class HeatCell(TypedDict):
    """One day's hour in the heat map: tickets issued in it, and their mean wait."""

    day: str
    hour: int
    tickets: int
    wait_mean: float | None


class ReviewCaseCounts(TypedDict):
    """Rectification cases (差评整改) as they stand today: still open, past their deadline, near it,
    with an appeal awaiting its decision"""

    open: int
    overdue: int
    due_soon: int
    appealed: int


class StatsReport(TypedDict):
    """A hall's figures for a day, a month or a range, in total and per zone, service, window,
    staff member and hour of issue."""

    __pydantic_config__ = DESCRIBED  # type: ignore[misc]

    hall: str
    name: str
    name_en: str
    since: str
    until: str
    working_days: int
    """In the hall's calendar (holidays and 调休 included)"""
    live_days: list[str]
    """Today, when the range holds it: its figures still move"""
    totals: FigureTotals
    review_cases: ReviewCaseCounts
    """The rectification cases of these tickets' bad ratings as they stand now"""
    zones: list[ZoneFigures]
    services: list[ServiceFigures]
    windows: list[WindowFigures]
    staff: list[StaffFigures]
    hours: list[HourFigures]
    heat: list[HeatCell]
    """Per day and hour of issue (days without tickets are left out)"""
