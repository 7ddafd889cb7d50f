"""What the manager and admin pages show besides the hall itself: the balancer's
suggestions (core/balancer, kept per app by web/manager/balancer_live.py) and the
device registry (core/devices). The balancer says {"available": False} on an app
built without it."""

from __future__ import annotations

import logging

from ...core.errors import HallError, NotFound
from ..context import hallq

log = logging.getLogger("hallq.manager")


def balancer_for(hall: str):
    """The hall's balancer: the one the app was given (hallq.balancer_for), else the app's own, with the stored settings."""
    running = hallq()
    if running.balancer_for is not None:
        return running.balancer_for(hall)
    return None if running.balancers is None else running.balancers.get(hall)


def suggestions(service, hall: str) -> dict:
    """The balancer's current suggestions for the hall."""
    factory, balancers = hallq().balancer_for, hallq().balancers
    if factory is None and balancers is None:
        return {"available": False, "suggestions": []}
    mode = "off"
    try:
        if factory is not None:
            balancer = factory(hall)
            mode = balancer.mode
            found = balancer.suggestions(service, hall) if mode != "off" else []
        else:
            mode, found = balancers.suggestions(hall)
    except HallError:
        raise
    except Exception:  # a broken balancer must not take the manager's page down
        log.exception("balancer failed for hall %s", hall)
        return {"available": True, "mode": mode, "suggestions": [], "error": "balancer_failed"}
    return {"available": True, "mode": mode, "suggestions": [s.as_dict() for s in found]}


def apply_suggestion(service, hall: str, suggestion_id: str, actor) -> list[dict]:
    """Apply one suggestion as the signed-in manager (audited by set_window_services)."""
    factory, balancers = hallq().balancer_for, hallq().balancers
    if factory is not None:
        return factory(hall).apply(service, hall, suggestion_id, actor=actor)
    if balancers is None:
        raise NotFound("no_balancer", "the balancer is not installed on this server")
    return balancers.apply(hall, suggestion_id, actor=actor)


def balancer_changed(hall: str) -> None:
    """After a manager's change of mode or limits: push the suggestions that follow from it to every manager now."""
    runner = hallq().balancer_runner
    if runner is None:
        return
    try:
        runner.push_now(hall)
    except Exception:  # the change is made and published; the next look pushes the suggestions
        log.exception("could not push the balancer's suggestions for hall %s", hall)


def devices(hall: str, *, include_revoked: bool = False) -> dict:
    """The hall's devices with availability, last seen and paper state."""
    registry = hallq().devices
    try:
        return {"available": True, "devices": registry.list(hall, include_revoked=include_revoked)}
    except Exception:
        log.exception("device registry failed for hall %s", hall)
        return {"available": True, "devices": [], "error": "devices_failed"}
