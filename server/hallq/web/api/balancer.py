"""The balancer's API: its mode and auto-mode limits, its suggestions, applying one.
Managers and admins of the hall only; a browser session sends its CSRF token."""

from __future__ import annotations

from typing import Literal

from flask import jsonify
from pydantic import Field

from ...core import balancer_store
from .. import hall_service
from ..manager import sources
from . import bp
from .auth import current_actor
from .routes import json_body
from .schemas import Body


class BalancerLimits(Body):
    max_changes_per_hour: int | None = Field(None, ge=0, le=1000, description="Auto mode: window changes in any hour")
    min_hold_minutes: float | None = Field(None, ge=0, le=480, description="Auto mode: a window it changed is left alone this long")
    max_helpers_per_service: int | None = Field(None, ge=0, le=1000, description="Windows helping one service at once")
    max_services_per_window: int | None = Field(None, ge=1, le=50, description="Never more services at one window")


class BalancerChange(Body):
    mode: Literal["off", "suggest", "auto"] | None = Field(None, description="off, suggest (a manager applies) or auto (applied within the limits)")
    limits: BalancerLimits | None = None


@bp.get("/api/v1/halls/<hall>/balancer")
def balancer_settings(hall):
    return jsonify(balancer_store.settings_view(hall_service(), hall, actor=current_actor()))


@bp.patch("/api/v1/halls/<hall>/balancer")
def change_balancer(hall):
    body = json_body(BalancerChange)
    changes = {"mode": body.mode} if body.mode else {}
    if body.limits:
        changes.update(body.limits.model_dump(exclude_none=True))
    view = balancer_store.change_settings(hall_service(), hall, changes, actor=current_actor())
    sources.balancer_changed(hall)
    return jsonify(view)


@bp.get("/api/v1/halls/<hall>/balancer/suggestions")
def balancer_suggestions(hall):
    balancer_store.settings_view(hall_service(), hall, actor=current_actor())  # managers only
    return jsonify(sources.suggestions(hall_service(), hall))


@bp.post("/api/v1/halls/<hall>/balancer/suggestions/<suggestion_id>/apply")
def apply_balancer_suggestion(hall, suggestion_id):
    actor = current_actor()
    balancer_store.settings_view(hall_service(), hall, actor=actor)  # managers only, before anything is worked out
    return jsonify({"windows": sources.apply_suggestion(hall_service(), hall, suggestion_id, actor)})


def openapi_paths(hall_param: dict, secured: list, errors, body, ok) -> dict:
    """This module's part of the OpenAPI document (see openapi.py)."""
    sid = {"name": "suggestion_id", "in": "path", "required": True, "schema": {"type": "string"}}
    return {
        "/api/v1/halls/{hall}/balancer": {
            "get": {
                "summary": "Manager: the balancer's mode and auto-mode limits",
                "parameters": [hall_param],
                "security": secured,
                "responses": {**ok("BalancerSettings"), **errors(401, 403, 404)},
            },
            "patch": {
                "summary": "Manager: switch the balancer off, to suggest or to auto, or change its auto-mode limits (audited)",
                "parameters": [hall_param],
                "security": secured,
                "requestBody": body(BalancerChange),
                "responses": {**ok("BalancerSettings"), **errors(400, 401, 403, 404, 422)},
            },
        },
        "/api/v1/halls/{hall}/balancer/suggestions": {
            "get": {
                "summary": "Manager: the balancer's current suggestions, each with its reason",
                "parameters": [hall_param],
                "security": secured,
                "responses": {"200": {"description": "{available, mode, suggestions: [{id, kind, service, windows, changes, reason, reason_en}]}"}, **errors(401, 403, 404)},
            }
        },
        "/api/v1/halls/{hall}/balancer/suggestions/{suggestion_id}/apply": {
            "post": {
                "summary": "Manager: apply one suggestion (each window change audited); 409 stale_suggestion when the hall has changed",
                "parameters": [hall_param, sid],
                "security": secured,
                "responses": {"200": {"description": "{windows: [the windows' new states]}"}, **errors(401, 403, 404, 409)},
            }
        },
    }


SETTINGS_SCHEMA = {
    "type": "object",
    "properties": {
        "mode": {"type": "string", "enum": ["off", "suggest", "auto"]},
        "modes": {"type": "array", "items": {"type": "string"}},
        "limits": {"type": "object", "description": "max_changes_per_hour, min_hold_minutes, max_helpers_per_service, max_services_per_window"},
        "qualified": {"type": "object", "description": "How many staff accounts and windows have qualifications"},
        "version": {"type": "integer"},
        "updated_at": {"type": ["string", "null"], "format": "date-time"},
        "updated_by": {"type": "string", "description": "Account of the last change, or 'hall file'"},
    },
}
