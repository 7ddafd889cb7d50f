"""Administration: the hall's configuration as an editable hall file, and its
accounts. Configuration changes go back through hallfile.load_hall, so the
admin pages and `hallq hall load` validate and apply them the same way."""

from __future__ import annotations

from sqlmodel import Session, select

from hallq.core.enums import Role
from hallq.core.errors import Conflict, Forbidden, Invalid, NotFound
from hallq.core.figures import service_row, zone_row
from hallq.core.hallfile import HallFile
from hallq.core.models import Hall, Service, User, Window, WindowService, Zone
from hallq.core.txn import Actor


def export_hall(session: Session, hall: Hall) -> HallFile:
    """The hall's active configuration as a HallFile (what `hallq hall load` reads)."""
    zones = session.exec(select(Zone).where(Zone.hall_id == hall.id, Zone.active == True).order_by(Zone.id)).all()  # noqa: E712
    zone_code = {z.id: z.code for z in zones}
    services = session.exec(select(Service).where(Service.hall_id == hall.id, Service.active == True).order_by(Service.id)).all()  # noqa: E712
    service_code = {s.id: s.code for s in services}
    windows = session.exec(select(Window).where(Window.hall_id == hall.id, Window.active == True).order_by(Window.number)).all()  # noqa: E712
    links: dict[int, dict[str, float]] = {}
    for link in session.exec(select(WindowService).where(WindowService.window_id.in_([w.id for w in windows] or [0]))).all():
        if link.service_id in service_code:
            links.setdefault(link.window_id, {})[service_code[link.service_id]] = link.weight
    return HallFile.model_validate(
        {
            "hall": {
                "id": hall.code,
                "slug": hall.slug,
                "name": hall.name,
                "name_en": hall.name_en,
                "timezone": hall.timezone,
                "hours": hall.hours,
                "weekday_hours": hall.weekday_hours,
                "recall_limit": hall.recall_limit,
                "requeue_skipped": hall.requeue_skipped,
                "requeue_grace_minutes": hall.requeue_grace_minutes,
                "stop_issuing_minutes_before_close": hall.stop_issuing_minutes_before_close,
                "calendar": hall.calendar,
                "closed_days": hall.closed_days,
                "extra_working_days": hall.extra_working_days,
            },
            "zones": [zone_row(z) for z in zones],
            "services": [{**service_row(s, zone_code), "daily_quota": s.daily_quota, "hours": s.hours} for s in services],
            "windows": [
                {"number": w.number, "name": w.name, "zone": zone_code.get(w.zone_id), "services": links.get(w.id, {})}
                for w in windows
            ],
            "reviews": hall.review_settings or {},
        }
    )


# The longest names the admin pages accept, in characters. A zone's, service's
# or window's Chinese name must fit a kiosk button and a hall-screen tile; the
# English name may be longer (it wraps). A longer name is refused, never cut.
NAME_LIMITS = {"hall": {"name": 100, "name_en": 100}, "item": {"name": 40, "name_en": 80}}
# An account's names: what the staff terminal and the window screen show.
USER_LIMITS = {"display_name": 64, "staff_no": 16}
# Each kind of item in a hall file: its list and the key that names it.
KEYS = {"zones": "code", "services": "code", "windows": "number"}


def check_names(row: dict, limits: dict[str, int]) -> None:
    """Refuse an empty Chinese name or a name longer than its limit."""
    if "name" in limits and not str(row.get("name") or "").strip():
        raise Invalid("name_required", "a name is required", field="name")
    for field, limit in limits.items():
        length = len(str(row.get(field) or ""))
        if length > limit:
            raise Invalid("too_long", f"{field} has {length} characters; at most {limit}", field=field, limit=limit, length=length)


def _index(spec: dict, kind: str, key) -> int | None:
    field = KEYS[kind]
    return next((i for i, item in enumerate(spec[kind]) if str(item[field]) == str(key)), None)


def _check_prefix(spec: dict, row: dict) -> None:
    # The hall file refuses a repeated prefix too, but in words a form cannot show.
    other = next((s for s in spec["services"] if s["prefix"] == row.get("prefix") and s["code"] != row["code"]), None)
    if other is not None:
        raise Conflict("prefix_exists", f"prefix {row['prefix']} is used by {other['code']}", prefix=row["prefix"], service=other["code"])


def add_item(spec: dict, kind: str, row: dict) -> None:
    """Add a zone, service or window to a hall file (as a dict); an existing code or number is refused, not overwritten."""
    key = row[KEYS[kind]]
    if _index(spec, kind, key) is not None:
        raise Conflict(f"{kind[:-1]}_exists", f"{kind[:-1]} {key} already exists", key=key)
    check_names(row, NAME_LIMITS["item"])
    if kind == "services":
        _check_prefix(spec, row)
    spec[kind].append(row)


def change_item(spec: dict, kind: str, row: dict) -> None:
    """Change an existing zone, service or window of a hall file; one that is no longer there is refused, not added."""
    key = row[KEYS[kind]]
    i = _index(spec, kind, key)
    if i is None:
        raise NotFound("unknown_item", f"no {kind[:-1]} {key} in this hall", key=key)
    check_names(row, NAME_LIMITS["item"])
    if kind == "services":
        _check_prefix(spec, row)
    spec[kind][i] = {**spec[kind][i], **row}


def require_admin(actor: Actor, hall: Hall) -> None:
    """Admins, and managers of this hall, administer it."""
    if actor.role == Role.ADMIN:
        return
    if actor.role == Role.MANAGER and actor.hall_id == hall.id:
        return
    raise Forbidden("admin_only", f"only an administrator or a manager of hall {hall.slug} may do this")


def list_users(session: Session, hall: Hall) -> list[dict]:
    """The hall's accounts (never their password hashes)."""
    rows = session.exec(select(User).where(User.hall_id == hall.id).order_by(User.role, User.name)).all()
    return [
        {"name": u.name, "display_name": u.display_name, "staff_no": u.staff_no, "role": str(u.role), "active": u.active}
        for u in rows
    ]


# Who outranks whom: no one may change an account of a higher role than their own
# (a manager may not reset an administrator's password, nor deactivate one).
RANK = {Role.DEVICE: 0, Role.STAFF: 1, Role.MANAGER: 2, Role.ADMIN: 3}


def require_rank(actor: Actor, user: User) -> None:
    """The actor may act on this account: its role is not above theirs."""
    if RANK[Role(user.role)] > RANK[Role(actor.role)]:
        raise Forbidden("higher_role", f"{user.name} is a {user.role}: only a {user.role} may change that account")


def _roles_for(actor: Actor) -> tuple[Role, ...]:
    # A manager may not make an admin (an admin reaches every hall).
    return tuple(Role) if actor.role == Role.ADMIN else (Role.STAFF, Role.MANAGER, Role.DEVICE)


def check_role(actor: Actor, role: str) -> Role:
    """The role, if this actor may give it."""
    try:
        wanted = Role(role)
    except ValueError:
        raise Invalid("bad_role", f"role must be one of {', '.join(r.value for r in Role)}") from None
    if wanted not in _roles_for(actor):
        raise Forbidden("role_not_allowed", f"you may not give the role {wanted}")
    return wanted


def update_user(
    session: Session,
    hall: Hall,
    actor: Actor,
    name: str,
    *,
    role: str | None = None,
    active: bool | None = None,
    display_name: str | None = None,
    staff_no: str | None = None,
) -> User:
    """Change an account of this hall: role, active, display name, staff number."""
    user = session.exec(select(User).where(User.name == name, User.hall_id == hall.id)).first()
    if user is None:
        raise NotFound("unknown_user", f"no user {name} in hall {hall.slug}")
    require_rank(actor, user)
    if user.id == actor.user_id and (active is False or (role is not None and role != str(user.role))):
        raise Invalid("own_account", "you cannot deactivate yourself or change your own role")
    if role is not None:
        user.role = check_role(actor, role)
    if active is not None:
        user.active = bool(active)
    check_names({"display_name": display_name, "staff_no": staff_no}, USER_LIMITS)
    if display_name is not None:
        user.display_name = display_name.strip()
    if staff_no is not None:
        user.staff_no = staff_no.strip()
    session.add(user)
    return user
