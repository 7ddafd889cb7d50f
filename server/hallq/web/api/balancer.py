"""The balancer's API: its mode and auto-mode limits, its suggestions, applying one.
Managers and admins of the hall only; a browser session sends its CSRF token."""

from __future__ import annotations

from flask import jsonify

from hallq.core.balancer import store as balancer_store

from ..context import hall_service
from ..manager import sources
from .auth import current_actor
from .blueprint import bp
from .routes import json_body
from ...core.errors import Invalid
from .schemas import BalancerChange


@bp.get("/api/v1/halls/<hall>/balancer")
def balancer_settings(hall):
    return jsonify(balancer_store.settings_view(hall_service(), hall, actor=current_actor()))


@bp.patch("/api/v1/halls/<hall>/balancer")
def change_balancer(hall):
    body = json_body(BalancerChange)
    changes = {"mode": body.mode} if body.mode else {}
    if body.limits:
        changes.update(body.limits.model_dump(exclude_none=True))
    if not changes:
        raise Invalid("nothing_to_change", "give a mode, or limits to change")
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
