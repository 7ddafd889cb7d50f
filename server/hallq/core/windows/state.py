"""A window's state, set back when it closes or its ticket is gone."""

from __future__ import annotations

from datetime import datetime

from hallq.core.enums import WindowState
from hallq.core.models import Window


def reset_window(window: Window, state: WindowState, now: datetime, keep_staff: bool = False) -> None:
    window.state = state
    window.current_ticket_id = None
    window.pause_reason = None
    if not keep_staff:
        window.staff_id = None
    window.since = now
    window.version += 1
