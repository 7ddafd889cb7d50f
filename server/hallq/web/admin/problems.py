"""Why an admin form was not saved, in the page's language. Neither pydantic's
own English ("String should have at most…", "Field required") nor the engine's
messages reach the page: each is turned into a sentence naming the form field."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from pydantic import ValidationError

from hallq.core.accounts.users import MIN_PASSWORD

from ...core.errors import HallError
from ..messages import error_text

# The form fields, by the name the hall file gives them (the labels on the page).
FIELDS = {
    "code": _l("Code"),
    "name": _l("Name"),
    "name_en": _l("English name"),
    "prefix": _l("Prefix"),
    "zone": _l("Zone"),
    "handling_minutes": _l("Minutes per visitor"),
    "daily_quota": _l("Daily quota"),
    "hours": _l("Opening hours"),
    "number": _l("Number"),
    "services": _l("Services"),
    "display_name": _l("Display name"),
    "staff_no": _l("Staff number"),
    "recall_limit": _l("Recalls before a no-show"),
    "requeue_grace_minutes": _l("Minutes before a skipped ticket returns"),
    "stop_issuing_minutes_before_close": _l("Stop issuing this many minutes before closing"),
    "closed_days": _l("Days the hall is closed (one date a line, e.g. 2026-12-24)"),
    "extra_working_days": _l("Extra working days (one date a line)"),
    "weekday_hours": _l("Other hours on some weekdays (one a line, e.g. sat: 09:00-12:00)"),
    "rectify_working_days": _l("Working days to rectify a bad rating"),
    "callback_working_days": _l("Working days to call the visitor back"),
    "due_soon_working_days": _l("Working days left when a case is due soon"),
    "rate_within_working_days": _l("Working days the phone may rate a service"),
    "unrated_becomes": _l("A service left unrated becomes"),
    "contact_retention_days": _l("Days a visitor's number is kept after the case closes"),
    "bad_reasons": _l("Reasons for a bad rating (one a line)"),
}

# The admin's own refusals; %(…)s are filled from the error's details.
REFUSALS = {
    "zone_exists": _l("A zone with code %(key)s already exists. To change it, edit its row in the list."),
    "service_exists": _l("A service with code %(key)s already exists. To change it, edit its row in the list."),
    "window_exists": _l("Window %(key)s already exists. To change it, edit its row in the list."),
    "prefix_exists": _l("The ticket prefix %(prefix)s is already used by service %(service)s."),
    "unknown_item": _l("%(key)s is no longer in this hall. Reload the page."),
    "name_required": _l("A name is required."),
    "too_long": _l("%(field)s is too long: at most %(limit)s characters (this one has %(length)s)."),
    "bad_number": _l("%(field)s must be a number."),
    "bad_name": _l("A user name has 2–64 letters, digits, dots, dashes or underscores."),
    "user_exists": _l("That user name is already taken."),
    "weak_password": _l("A password has at least %(n)s characters."),
    "role_not_allowed": _l("You may not give this role."),
    "higher_role": _l("You may not change an account whose role is above yours."),
    "bad_role": _l("There is no such role."),
    "own_account": _l("You cannot deactivate yourself or change your own role."),
    "unknown_user": _l("There is no such account."),
    "bad_weekday": _l("%(field)s: each line starts with a weekday (mon … sun, 周一 … 周日), each weekday once."),
}


def field_label(field) -> str:
    """The page's label of a hall-file field (the field itself if it has none)."""
    label = FIELDS.get(str(field))
    return str(label) if label is not None else str(field)


def _validation_text(error: dict) -> str:
    field = next((p for p in reversed(error["loc"]) if isinstance(p, str) and p in FIELDS), None)
    label = field_label(field) if field else _("The configuration")
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "missing":
        return _("%(field)s is required.", field=label)
    if kind == "string_too_long":
        return _("%(field)s is too long: at most %(limit)s characters.", field=label, limit=ctx.get("max_length"))
    if kind == "string_pattern_mismatch":
        if field == "prefix":
            return _("The ticket prefix is one or two capital letters (A–Z).")
        if field == "code":
            return _("The code may have only letters, digits, - and _ (at most 32).")
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        bound = next(iter(ctx.values()), "")
        if isinstance(bound, float) and bound.is_integer():
            bound = int(bound)  # "more than 0", not "more than 0.0"
        words = {
            "greater_than": _("%(field)s must be more than %(n)s.", field=label, n=bound),
            "greater_than_equal": _("%(field)s must be at least %(n)s.", field=label, n=bound),
            "less_than": _("%(field)s must be less than %(n)s.", field=label, n=bound),
            "less_than_equal": _("%(field)s must be at most %(n)s.", field=label, n=bound),
        }
        return words[kind]
    if kind in ("int_parsing", "float_parsing", "int_type", "float_type", "int_from_float"):
        return _("%(field)s must be a number.", field=label)
    if field == "hours":
        return _("%(field)s: write the times like 08:30-12:00, 13:30-17:30.", field=label)
    if field == "weekday_hours":
        return _("%(field)s: a weekday, a colon and its times, like sat: 09:00-12:00 (times that do not overlap).", field=label)
    if field in ("closed_days", "extra_working_days"):
        return _("%(field)s: write real dates like 2026-12-24.", field=label)
    return _("%(field)s is not valid.", field=label)


def problem_text(exc: Exception) -> str:
    """The flash message for a refused form, in the page's language."""
    if isinstance(exc, ValidationError):
        text = _validation_text(exc.errors(include_url=False)[0])
    elif isinstance(exc, HallError) and exc.code in REFUSALS:
        details = {"n": MIN_PASSWORD, **exc.details}
        if "field" in details:
            details["field"] = field_label(details["field"])
        text = str(REFUSALS[exc.code]) % details
    else:
        text = error_text(exc.code, exc.message)
    return _("Not saved: %(problem)s", problem=text)
