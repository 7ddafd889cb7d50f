"""Sources the manager and admin pages show when their modules are present:
the balancer's suggestions (core/balancing.py and core/balancer_store.py, kept
per app by web/manager/balancer_live.py) and the device registry
(core/devices.py). Each says {"available": False} without."""

from __future__ import annotations

import importlib
import logging

from flask import current_app

from ...core.errors import HallError, NotFound

log = logging.getLogger("hallq.manager")


def _module(name: str):
    try:
        return importlib.import_module(f"hallq.core.{name}")
    except ImportError:
        return None


def balancer_for(hall: str):
    """The hall's balancer: the one the app was given (hallq.balancer_for), else the app's own, with the stored settings."""
    factory = current_app.extensions.get("hallq.balancer_for")
    if factory is not None:
        return factory(hall)
    balancers = current_app.extensions.get("hallq.balancers")
    return None if balancers is None else balancers.get(hall)


def suggestions(service, hall: str) -> dict:
    """The balancer's current suggestions for the hall."""
    factory = current_app.extensions.get("hallq.balancer_for")
    balancers = current_app.extensions.get("hallq.balancers")
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
    factory = current_app.extensions.get("hallq.balancer_for")
    if factory is not None:
        return factory(hall).apply(service, hall, suggestion_id, actor=actor)
    balancers = current_app.extensions.get("hallq.balancers")
    if balancers is None:
        raise NotFound("no_balancer", "the balancer is not installed on this server")
    return balancers.apply(hall, suggestion_id, actor=actor)


def balancer_changed(hall: str) -> None:
    """After a manager's change of mode or limits: push the suggestions that follow from it to every manager now."""
    runner = current_app.extensions.get("hallq.balancer_runner")
    if runner is None:
        return
    try:
        runner.push_now(hall)
    except Exception:  # the change is made and published; the next look pushes the suggestions
        log.exception("could not push the balancer's suggestions for hall %s", hall)


def device_service(service):
    """The device registry's front door, if installed (the MQTT runtime's own when running)."""
    runtime = current_app.extensions.get("hallq.mqtt")
    if runtime is not None and getattr(runtime, "devices", None) is not None:
        return runtime.devices
    actions = _module("device_actions")
    return None if actions is None else actions.DeviceService(service)


def devices(service, hall: str, *, include_revoked: bool = False) -> dict:
    """The hall's devices with availability, last seen and paper state."""
    registry = device_service(service)
    if registry is None:
        return {"available": False, "devices": []}
    try:
        return {"available": True, "devices": registry.list(hall, include_revoked=include_revoked)}
    except Exception:
        log.exception("device registry failed for hall %s", hall)
        return {"available": True, "devices": [], "error": "devices_failed"}
