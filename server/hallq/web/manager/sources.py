"""Optional sources the manager page shows when their modules are installed:
the balancer's suggestions (core/balancing.py) and device availability
(core/devices.py). Each answers {"available": False} until its module exists."""

from __future__ import annotations

import importlib
import logging

log = logging.getLogger("hallq.manager")


def _module(name: str):
    try:
        return importlib.import_module(f"hallq.core.{name}")
    except ImportError:
        return None


def suggestions(service, hall: str) -> dict:
    """The balancer's current suggestions for the hall, if a balancer is installed."""
    fn = getattr(service, "balancing_suggestions", None)
    if fn is None:
        return {"available": False, "suggestions": []}
    try:
        result = fn(hall)
    except Exception:  # a broken balancer must not take the manager's page down
        log.exception("balancer failed for hall %s", hall)
        return {"available": True, "suggestions": [], "error": "balancer_failed"}
    items = result.get("suggestions", []) if isinstance(result, dict) else result
    return {"available": True, "suggestions": list(items or [])}


def devices(service, hall: str) -> dict:
    """The hall's devices with availability and last seen, if the device registry is installed."""
    fn = getattr(service, "devices", None)
    if fn is None:
        return {"available": False, "devices": []}
    try:
        return {"available": True, "devices": list(fn(hall))}
    except Exception:
        log.exception("device registry failed for hall %s", hall)
        return {"available": True, "devices": [], "error": "devices_failed"}
