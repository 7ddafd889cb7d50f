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
