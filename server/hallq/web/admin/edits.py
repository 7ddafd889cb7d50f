"""Turns the admin forms into changes of the hall file (plain dicts), so every
change is validated by HallFile and applied by hallfile.load_hall."""

from __future__ import annotations

from hallq.core import calendar
from hallq.core.accounts import admin

from ...core.errors import Invalid


def _text(form, key: str) -> str:
    # Never cut: a name too long is refused with its limit (admin.check_names), not saved shortened.
    return (form.get(key) or "").strip()


def _number(form, key: str, kind=float, *, optional: bool = False):
    raw = _text(form, key)
    if raw == "" and optional:
        return None
    try:
        return kind(raw)
    except ValueError:
        raise Invalid("bad_number", f"{key} must be a number", field=key) from None


def _hours(form, key: str = "hours") -> list[str]:
    raw = _text(form, key).replace("，", ",").replace(";", ",")
    return [part.strip() for part in raw.split(",") if part.strip()]


def edit_hall(spec: dict, form, adding: bool = False) -> None:
    hall = spec["hall"]
    if adding:
        raise Invalid("bad_kind", "a hall is not added here")
    row = dict(name=_text(form, "name") or hall["name"], name_en=_text(form, "name_en"))
    admin.check_names(row, admin.NAME_LIMITS["hall"])
    hall.update(
        **row,
        hours=_hours(form) or hall["hours"],
        weekday_hours=_weekday_hours(form),
        recall_limit=_number(form, "recall_limit", int),
        requeue_skipped=form.get("requeue_skipped") == "on",
        requeue_grace_minutes=_number(form, "requeue_grace_minutes", int),
        stop_issuing_minutes_before_close=_number(form, "stop_issuing_minutes_before_close", int),
        calendar=_text(form, "calendar") or hall.get("calendar", "cn"),
        closed_days=_dates(form, "closed_days"),
        extra_working_days=_dates(form, "extra_working_days"),
    )


# The names a manager may give a weekday on the form, each → the hall file's key.
_WEEKDAY_NAMES = {name: key for i, key in enumerate(calendar.WEEKDAYS)
                  for name in (key, ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")[i],
                               "周" + "一二三四五六日"[i], "星期" + "一二三四五六日"[i])}
_WEEKDAY_NAMES.update({"周天": "sun", "星期天": "sun"})


def _weekday_hours(form) -> dict[str, list[str]]:
    """Lines like `sat: 09:00-12:00` or `周五：08:30-12:00, 13:30-16:00` → {"sat": [...], "fri": [...]}."""
    hours: dict[str, list[str]] = {}
    for line in _text(form, "weekday_hours").splitlines():
        if not line.strip():
            continue
        name, sep, ranges = line.replace("：", ":").partition(":")
        key = _WEEKDAY_NAMES.get(name.strip().lower())
        # "sat 09:00-12:00" has no colon after the day; "09:00-12:00" alone names none.
        if key is None or not sep:
            name, _, ranges = line.strip().partition(" ")
            key = _WEEKDAY_NAMES.get(name.strip().lower())
        if key is None:
            raise Invalid("bad_weekday", f"each line of the weekday hours starts with a weekday (mon … sun, 周一 … 周日): {line.strip()!r}",
                          field="weekday_hours")
        if key in hours:
            raise Invalid("bad_weekday", f"{key} is given twice in the weekday hours", field="weekday_hours")
        hours[key] = [part.strip() for part in ranges.replace("，", ",").replace(";", ",").split(",") if part.strip()]
    return hours


def _dates(form, key: str) -> list[str]:
    """Dates one per line or separated by commas (HallFile checks each is a date)."""
    raw = _text(form, key).replace("，", ",").replace("、", ",")
    return [part.strip() for line in raw.splitlines() for part in line.split(",") if part.strip()]


def _save(spec: dict, kind: str, row: dict, adding: bool) -> None:
    (admin.add_item if adding else admin.change_item)(spec, kind, row)


def edit_zone(spec: dict, form, adding: bool = False) -> None:
    row = {"code": _text(form, "code"), "name": _text(form, "name"), "name_en": _text(form, "name_en")}
    _save(spec, "zones", row, adding)


def edit_service(spec: dict, form, adding: bool = False) -> None:
    row = {
        "code": _text(form, "code"),
        "name": _text(form, "name"),
        "name_en": _text(form, "name_en"),
        "prefix": _text(form, "prefix").upper(),
        "zone": _text(form, "zone") or None,
        "handling_minutes": _number(form, "handling_minutes"),
        "daily_quota": _number(form, "daily_quota", int, optional=True),
        "hours": _hours(form),
    }
    _save(spec, "services", row, adding)


def edit_window(spec: dict, form, adding: bool = False) -> None:
    number = _number(form, "number", int)
    old = next((w for w in spec["windows"] if w["number"] == number), None) if not adding else None
    weights = (old or {"services": {}})["services"]
    services = {code: weights.get(code, 1.0) for code in form.getlist("services")}
    row = {"number": number, "name": _text(form, "name"), "zone": _text(form, "zone") or None, "services": services}
    _save(spec, "windows", row, adding)


def retire(spec: dict, kind: str, key) -> None:
    """Drop a zone, service or window from the file: load_hall then marks it inactive."""
    if kind == "zones":
        spec["zones"] = [z for z in spec["zones"] if z["code"] != key]
        for item in spec["services"] + spec["windows"]:
            if item.get("zone") == key:
                item["zone"] = None
    elif kind == "services":
        spec["services"] = [s for s in spec["services"] if s["code"] != key]
        for w in spec["windows"]:
            w["services"].pop(key, None)
    elif kind == "windows":
        spec["windows"] = [w for w in spec["windows"] if str(w["number"]) != str(key)]
    else:
        raise Invalid("bad_kind", f"cannot retire {kind}")


def edit_reviews(spec: dict, form, adding: bool = False) -> None:
    """好差评: deadlines in working days, the phone's rating window, what an unrated service
    becomes, how long a visitor's number is kept, the reasons a visitor picks."""
    if adding:
        raise Invalid("bad_kind", "the 好差评 settings are not added here")
    becomes = _text(form, "unrated_becomes")
    reasons = [line.strip() for line in _text(form, "bad_reasons").splitlines() if line.strip()]
    spec["reviews"] = dict(
        spec.get("reviews") or {},
        rectify_working_days=_number(form, "rectify_working_days", int),
        callback_working_days=_number(form, "callback_working_days", int),
        due_soon_working_days=_number(form, "due_soon_working_days", int),
        rate_within_working_days=_number(form, "rate_within_working_days", int),
        unrated_becomes=_number(form, "unrated_becomes", int) if becomes else None,
        contact_retention_days=_number(form, "contact_retention_days", int),
        bad_reasons=reasons,
    )


EDITS = {"hall": edit_hall, "zones": edit_zone, "services": edit_service, "windows": edit_window, "reviews": edit_reviews}
