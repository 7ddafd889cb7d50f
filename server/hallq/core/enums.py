"""The hall's vocabulary: ticket and window states, priority classes, roles."""

from enum import StrEnum


class Priority(StrEnum):
    """Priority class of a ticket; see docs/calling-policy.md for how each weighs."""

    NORMAL = "normal"
    APPOINTMENT = "appointment"
    GREEN = "green"  # 绿色通道: elderly, disabled, pregnant, veterans


class TicketStatus(StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    DONE = "done"
    NO_SHOW = "no_show"
    EXPIRED = "expired"  # closed by the hall at closing time or day end
    CANCELLED = "cancelled"


class Step(StrEnum):
    """A step of a ticket's journey (see tickets/journey.py)."""

    ISSUED = "issued"  # taken at a dispenser, kiosk, phone or the API; or handed in by an offline dispenser
    CALLED = "called"  # called to a window (next, or by number)
    RECALLED = "recalled"  # called again at the same window
    STARTED = "started"  # the visitor arrived: service began
    REQUEUED = "requeued"  # did not come; back in the queue once, after a grace period
    NO_SHOW = "no_show"  # did not come (skipped, or past the recall limit): closed
    TRANSFERRED = "transferred"  # sent by its window to another service: the leg ends, a new one begins
    MOVED = "moved"  # a waiting ticket moved by a manager to another service: a new leg begins
    COMPLETED = "completed"  # service done (办结)
    CLOSED = "closed"  # closed by the day's sweep (hall closed, or day end) before it was done


OPEN_TICKET_STATUSES = (TicketStatus.WAITING, TicketStatus.CALLED, TicketStatus.SERVING)
AT_WINDOW_STATUSES = (TicketStatus.CALLED, TicketStatus.SERVING)


class WindowState(StrEnum):
    CLOSED = "closed"
    IDLE = "idle"
    SERVING = "serving"  # a ticket is called to, or being served at, the window
    PAUSED = "paused"


class Role(StrEnum):
    STAFF = "staff"
    MANAGER = "manager"
    ADMIN = "admin"
    DEVICE = "device"  # dispensers, kiosks and integrations: may issue tickets only
