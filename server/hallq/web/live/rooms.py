"""Room names, built in one place."""


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
