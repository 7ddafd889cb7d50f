"""Turns the admin forms into changes of the hall file (plain dicts), so every
change is validated by HallFile and applied by hallfile.load_hall."""

from __future__ import annotations

from ...core.errors import Invalid


def _text(form, key: str, limit: int = 100) -> str:
    return (form.get(key) or "").strip()[:limit]


def _number(form, key: str, kind=float, *, optional: bool = False):
    raw = _text(form, key, 20)
    if raw == "" and optional:
        return None
    try:
        return kind(raw)
    except ValueError:
        raise Invalid("bad_number", f"{key} must be a number") from None


def _hours(form, key: str = "hours") -> list[str]:
    raw = _text(form, key, 200).replace("，", ",").replace(";", ",")
    return [part.strip() for part in raw.split(",") if part.strip()]


def edit_hall(spec: dict, form) -> None:
    hall = spec["hall"]
    hall.update(
        name=_text(form, "name") or hall["name"],
        name_en=_text(form, "name_en"),
        hours=_hours(form) or hall["hours"],
        recall_limit=_number(form, "recall_limit", int),
        requeue_skipped=form.get("requeue_skipped") == "on",
        requeue_grace_minutes=_number(form, "requeue_grace_minutes", int),
        stop_issuing_minutes_before_close=_number(form, "stop_issuing_minutes_before_close", int),
    )


def _put(items: list[dict], key: str, value, row: dict) -> None:
    for i, item in enumerate(items):
        if item[key] == value:
            items[i] = {**item, **row}
            return
    items.append(row)


def edit_zone(spec: dict, form) -> None:
    code = _text(form, "code", 32)
    _put(spec["zones"], "code", code, {"code": code, "name": _text(form, "name"), "name_en": _text(form, "name_en")})


def edit_service(spec: dict, form) -> None:
    code = _text(form, "code", 32)
    row = {
        "code": code,
        "name": _text(form, "name"),
        "name_en": _text(form, "name_en"),
        "prefix": _text(form, "prefix", 2).upper(),
        "zone": _text(form, "zone", 32) or None,
        "handling_minutes": _number(form, "handling_minutes"),
        "daily_quota": _number(form, "daily_quota", int, optional=True),
        "hours": _hours(form),
    }
    _put(spec["services"], "code", code, row)


def edit_window(spec: dict, form) -> None:
    number = _number(form, "number", int)
    old = next((w for w in spec["windows"] if w["number"] == number), {"services": {}})
    chosen = form.getlist("services")
    services = {code: old["services"].get(code, 1.0) for code in chosen}
    row = {"number": number, "name": _text(form, "name"), "zone": _text(form, "zone", 32) or None, "services": services}
    _put(spec["windows"], "number", number, row)


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


EDITS = {"hall": edit_hall, "zones": edit_zone, "services": edit_service, "windows": edit_window}
