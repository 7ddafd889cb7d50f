"""Sources the manager and admin pages show when their modules are present:
the balancer's suggestions (core/balancing.py, issue 5) and the device
registry (core/devices.py, issue 3). Each says {"available": False} without."""

from __future__ import annotations

import importlib
import logging

from flask import current_app

log = logging.getLogger("hallq.manager")


def _module(name: str):
    try:
        return importlib.import_module(f"hallq.core.{name}")
    except ImportError:
        return None


def balancer_for(hall: str):
    """The hall's balancer: the one the app was given (hallq.balancer_for), else one with default settings."""
    factory = current_app.extensions.get("hallq.balancer_for")
    if factory is not None:
        return factory(hall)
    balancing = _module("balancing")
    if balancing is None:
        return None
    balancers = current_app.extensions.setdefault("hallq.balancers", {})
    if hall not in balancers:
        balancers[hall] = balancing.Balancer()
    return balancers[hall]


def suggestions(service, hall: str) -> dict:
    """The balancer's current suggestions for the hall."""
    balancer = balancer_for(hall)
    if balancer is None:
        return {"available": False, "suggestions": []}
    try:
        found = balancer.suggestions(service, hall) if balancer.mode != "off" else []
    except Exception:  # a broken balancer must not take the manager's page down
        log.exception("balancer failed for hall %s", hall)
        return {"available": True, "mode": balancer.mode, "suggestions": [], "error": "balancer_failed"}
    return {"available": True, "mode": balancer.mode, "suggestions": [s.as_dict() for s in found]}


def apply_suggestion(service, hall: str, suggestion_id: str, actor) -> list[dict]:
    """Apply one suggestion as the signed-in manager (audited by set_window_services)."""
    from ...core.errors import NotFound

    balancer = balancer_for(hall)
    if balancer is None:
        raise NotFound("no_balancer", "the balancer is not installed on this server")
    return balancer.apply(service, hall, suggestion_id, actor=actor)


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
