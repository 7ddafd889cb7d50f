"""Admin pages: plain forms (CSRF-protected), each change applied through HallService."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from pydantic import ValidationError

from hallq.core.accounts import admin

from ...core.enums import Role
from ...core.errors import HallError
from ...core.hallfile import HallFile
from ..context import hallq, office
from ..manager import sources
from ..pages import MANAGERS, hall_or_404, roles_required, signed_in_actor
from .edits import EDITS, retire
from .problems import problem_text

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/<hall>")
@roles_required(*MANAGERS)
def overview(hall, new_device: dict | None = None):
    actor = signed_in_actor()
    spec = office().hall_spec(hall, actor=actor)
    roles = [r.value for r in Role] if actor.role == Role.ADMIN else [Role.STAFF.value, Role.MANAGER.value, Role.DEVICE.value]
    return render_template(
        "admin/hall.html",
        hall=hall_or_404(hall),
        spec=spec,
        users=office().users(hall, actor=actor),
        roles=roles,
        devices=sources.devices(hall, include_revoked=True),
        device_roles=_device_roles(),
        new_device=new_device,
        me=actor.name,
        name_limits=admin.NAME_LIMITS["item"],
    )


def _device_roles() -> tuple:
    try:
        from hallq.core.devices import registry as devices
    except ImportError:
        return ()
    return devices.ROLES


def _apply(hall: str, change) -> None:
    actor = signed_in_actor()
    data = office().hall_spec(hall, actor=actor).model_dump()
    change(data)
    office().apply_hall_spec(hall, HallFile.model_validate(data), actor=actor)


def _edit(hall: str, kind: str, *, adding: bool):
    edit = EDITS.get(kind)
    if edit is None:
        return redirect(url_for("admin.overview", hall=hall))
    try:
        _apply(hall, lambda data: edit(data, request.form, adding))
        flash(_("Saved."), "ok")
    except (HallError, ValidationError) as exc:
        flash(problem_text(exc), "error")
    return redirect(url_for("admin.overview", hall=hall) + f"#{kind}")


@bp.post("/<hall>/<kind>")
@roles_required(*MANAGERS)
def save(hall, kind):
    """Change the hall's settings or an existing zone, service or window (an unknown one is refused, not added)."""
    return _edit(hall, kind, adding=False)


@bp.post("/<hall>/<kind>/new")
@roles_required(*MANAGERS)
def add(hall, kind):
    """Add a zone, service or window; an existing code or number is refused, never overwritten."""
    return _edit(hall, kind, adding=True)


@bp.post("/<hall>/<kind>/<key>/retire")
@roles_required(*MANAGERS)
def retire_item(hall, kind, key):
    """Retire a zone, service or window (kept in the database for past tickets)."""
    try:
        _apply(hall, lambda data: retire(data, kind, key))
        flash(_("Retired."), "ok")
    except (HallError, ValidationError) as exc:
        flash(problem_text(exc), "error")
    return redirect(url_for("admin.overview", hall=hall) + f"#{kind}")


@bp.post("/<hall>/users")
@roles_required(*MANAGERS)
def create_user(hall):
    f = request.form
    try:
        office().create_hall_user(
            hall,
            actor=signed_in_actor(),
            name=f.get("name", "").strip(),
            role=f.get("role", ""),
            password=f.get("password", ""),
            display_name=f.get("display_name", "").strip(),
            staff_no=f.get("staff_no", "").strip(),
        )
        flash(_("Account created."), "ok")
    except HallError as exc:
        flash(problem_text(exc), "error")
    return redirect(url_for("admin.overview", hall=hall) + "#users")


@bp.post("/<hall>/users/<name>")
@roles_required(*MANAGERS)
def update_user(hall, name):
    f = request.form
    try:
        office().update_hall_user(
            hall,
            name,
            actor=signed_in_actor(),
            role=f.get("role") or None,
            active=f.get("active") == "on" if "active_present" in f else None,
            display_name=f.get("display_name"),
            staff_no=f.get("staff_no"),
            password=f.get("password") or None,
        )
        flash(_("Saved."), "ok")
    except HallError as exc:
        flash(problem_text(exc), "error")
    return redirect(url_for("admin.overview", hall=hall) + "#users")


@bp.post("/<hall>/devices")
@roles_required(*MANAGERS)
def add_device(hall):
    """Register a device; its MQTT password is shown on this one page and never again."""
    registry = hallq().devices
    if registry is None:
        return redirect(url_for("admin.overview", hall=hall) + "#devices")
    f = request.form
    window = f.get("window", "").strip()
    try:
        created = registry.add(
            hall=hall, name=f.get("name", "").strip(), role=f.get("role", ""), window=int(window) if window.isdigit() else None,
            actor=signed_in_actor(),
        )
    except HallError as exc:
        flash(problem_text(exc), "error")
        return redirect(url_for("admin.overview", hall=hall) + "#devices")
    return overview(hall, new_device=created), 201


@bp.post("/<hall>/devices/<name>/revoke")
@roles_required(*MANAGERS)
def revoke_device(hall, name):
    """Revoke a device's credentials: the broker refuses it from now on."""
    registry = hallq().devices
    try:
        if registry is not None:
            registry.revoke(hall=hall, name=name, actor=signed_in_actor())
            flash(_("Device %(name)s revoked.", name=name), "ok")
    except HallError as exc:
        flash(problem_text(exc), "error")
    return redirect(url_for("admin.overview", hall=hall) + "#devices")
