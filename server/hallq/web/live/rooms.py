"""Room names, built in one place."""


def hall_room(hall: str) -> str:
    return f"hall:{hall}"


def window_room(hall: str, window: int) -> str:
    return f"window:{hall}:{window}"


def manager_room(hall: str) -> str:
    """Signed-in managers of the hall: for what only they may see (balancer suggestions)."""
    return f"manager:{hall}"
