"""The live pages' protocol (Socket.IO), spoken by the server's pages and by an edge
call screen's own page server alike: a page sends `join` with {"hall": slug,
"window": n?, "manager": bool?, "ticket": tracking id?}, is answered {"ok": true} or
{"ok": false, "error": {code, message}}, and receives a `snapshot`, then `event`s
and `queue` summaries. The room names are built here, and what the public rooms
may carry (no tickets' tracking ids) is decided here."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Join:
    hall: str
    window: int | None = None
    manager: bool = False
    ticket: str | None = None


class BadJoin(ValueError):
    """A join request that is not one; `answer` is what the page is told."""

    def __init__(self, message: str):
        super().__init__(message)
        self.answer = error("bad_request", message)


def error(code: str, message: str) -> dict:
    return {"ok": False, "error": {"code": code, "message": message}}


def parse_join(data) -> Join:
    """The join request a page sent (BadJoin saying what is wrong with it)."""
    if not isinstance(data, dict) or not isinstance(data.get("hall"), str):
        raise BadJoin("send {'hall': slug, 'window': number?}")
    window = data.get("window")
    if window is not None and (isinstance(window, bool) or not isinstance(window, int)):
        raise BadJoin("window must be a number")
    ticket = data.get("ticket")
    if ticket is not None and not (isinstance(ticket, str) and 0 < len(ticket) <= 64):
        raise BadJoin("ticket must be a ticket's tracking id")
    return Join(hall=data["hall"], window=window, manager=bool(data.get("manager")), ticket=ticket)


def hall_room(hall: str) -> str:
    return f"hall:{hall}"


def window_room(hall: str, window: int) -> str:
    return f"window:{hall}:{window}"


def manager_room(hall: str) -> str:
    """Signed-in managers of the hall: for what only they may see (balancer suggestions)."""
    return f"manager:{hall}"


def ticket_room(hall: str, ticket: str) -> str:
    """One ticket's phone tracker: the only room that hears the ticket's tracking id."""
    return f"ticket:{hall}:{ticket}"


def public(value):
    """A copy of an event or snapshot without tickets' tracking ids.

    The hall and window rooms are open to anyone on the hall's network; a
    ticket's tracking id (its `ticket`, or `id` inside a ticket) would let them
    follow any visitor's ticket. Numbers, services and windows are on the
    screens anyway and stay.
    """
    if isinstance(value, list):
        return [public(v) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        if key == "ticket" and isinstance(item, str):
            continue
        if key == "ticket" and isinstance(item, dict):
            out[key] = public({k: v for k, v in item.items() if k != "id"})
        else:
            out[key] = public(item)
    return out
