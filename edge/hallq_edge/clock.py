"""The device's clock. Every edge role takes `now` (a function returning an
aware UTC datetime) so that tests, the demo and a hall pinned to another time
decide with the same clock; this is the default: the device's own."""

from __future__ import annotations

from datetime import datetime, timezone


def utcnow() -> datetime:
    """Now, in UTC, by the device's system clock."""
    return datetime.now(timezone.utc)


def parse_moment(text: object) -> datetime | None:
    """An ISO 8601 moment from a message ('…Z' or with an offset) as an aware datetime; None if it is not one."""
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def age_seconds(text: object, now: datetime) -> float | None:
    """Seconds from the moment in `text` to `now` (negative: in the future); None if `text` is no moment."""
    moment = parse_moment(text)
    return None if moment is None else (now - moment).total_seconds()
