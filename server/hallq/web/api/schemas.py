"""Request bodies, validated with pydantic; their JSON schemas feed the OpenAPI document."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictFloat

from ...core.enums import Priority

WINDOW_ACTIONS = ("open", "close", "pause", "resume", "call-next", "call", "recall", "skip", "start", "complete", "transfer")


def _json_int(value: Any) -> Any:
    """A JSON integer: 5, or 5.0 (JSON Schema counts it as one); never "5", true or 5.5."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("must be a whole number")
    return value


JsonInt = Annotated[int, BeforeValidator(_json_int)]


def _unset(schema: dict) -> None:
    schema.pop("default", None)  # left out means unchanged; null is not a value


def optional(**options) -> Any:
    """A field a body may leave out (it is then None), but may not send as null."""
    return Field(None, json_schema_extra=_unset, **options)


class Body(BaseModel):
    """A request body: no unknown fields, and numbers must be JSON numbers ("5" and true are refused)."""

    model_config = ConfigDict(extra="forbid")


class TicketCreate(Body):
    service: str = Field(min_length=1, max_length=32, description="Service code, e.g. SI")
    priority: Priority = Field(Priority.NORMAL, description="normal, appointment or green (绿色通道)")
    channel: str = Field("api", pattern=r"^(api|kiosk|dispenser|phone|appointment)$")


class WindowAction(Body):
    reason: str | None = Field(None, max_length=100, description="pause: why the window pauses")


class WindowCall(Body):
    ticket: str = Field(min_length=1, max_length=32, description="The ticket to call out of turn: its number (A012) or id")


class WindowTransfer(Body):
    service: str = Field(min_length=1, max_length=32, description="The service to send the window's ticket to")


# The actions whose body says what to act on; every other action takes WindowAction (or nothing).
ACTION_BODIES = {"call": WindowCall, "transfer": WindowTransfer}


class WindowServices(Body):
    services: dict[str, StrictFloat] = Field(description="Service code → weight (> 0, ≤ 100); replaces the window's services")


class TicketMove(Body):
    service: str = Field(min_length=1, max_length=32, description="The service to move the ticket to")
    number: str | None = Field(
        None, max_length=32, description="The ticket's number as the caller saw it (A012); refused when it is not that ticket's"
    )


class Login(Body):
    name: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class BalancerLimits(Body):
    """The limits to change (at least one); those left out stay as they are."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})
    max_changes_per_hour: JsonInt = optional(ge=0, le=1000, description="Auto mode: window changes in any hour")
    min_hold_minutes: StrictFloat = optional(ge=0, le=480, description="Auto mode: a window it changed is left alone this long")
    max_helpers_per_service: JsonInt = optional(ge=0, le=1000, description="Windows helping one service at once")
    max_services_per_window: JsonInt = optional(ge=1, le=50, description="Never more services at one window")


class BalancerChange(Body):
    """A mode, limits, or both: a change with nothing in it is refused (nothing_to_change)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})
    mode: Literal["off", "suggest", "auto"] = optional(description="off, suggest (a manager applies) or auto (applied within the limits)")
    limits: BalancerLimits = optional()


class RatingCreate(Body):
    """A visitor's rating of a served leg of their ticket (好差评), from its tracker page."""

    score: JsonInt = Field(ge=1, le=5, description="5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意")
    leg: JsonInt = optional(ge=1, le=50, description="The leg rated (default: the last leg served)")
    indicators: dict[Literal["efficiency", "attitude", "professionalism", "guidance"], JsonInt] = optional(
        description="Optional indicator scores 1–5: efficiency (办事效率), attitude (服务态度), professionalism (业务水平), guidance (告知指引)")
    reasons: list[str] = optional(max_length=10, description="A bad rating's reasons, from the hall's list (GET the rating form)")
    comment: str = optional(max_length=200, description="A short text; never shown on public screens")
    phone: str = optional(max_length=20, description="A bad rating only: a mobile number for the callback (回访), kept encrypted")
    consent: bool = optional(description="The visitor agrees that the hall keeps the number for the callback: needed with phone")


class CaseStepBody(Body):
    """A step of a rectification case: what was done or found, in the note."""

    note: str = Field("", max_length=500, description="What was done, found or said (needed for verify, rectify, explain and note)")


class CaseCallback(CaseStepBody):
    reached: bool = Field(description="Whether the visitor was reached (回访); a call that did not reach them leaves the case as it was")


class CaseFollowUp(CaseStepBody):
    score: JsonInt = optional(ge=1, le=5, description="The visitor's rating after the rectification")
    declined: bool = Field(False, description="The visitor declined to rate again (then no score)")


class CaseAppeal(CaseStepBody):
    kind: Literal["malicious", "mistaken"] = Field(description="The rating was malicious (恶意评价) or mistaken (误评)")
    evidence: str = Field("", max_length=1000, description="Evidence notes: what shows it (recordings, records, witnesses)")


# The actions of a case and their bodies (core/reviews/cases.py: ACTIONS, APPEAL_ACTIONS).
CASE_BODIES = {"callback": CaseCallback, "verify": CaseStepBody, "rectify": CaseStepBody, "explain": CaseStepBody,
               "follow_up": CaseFollowUp, "close": CaseStepBody, "note": CaseStepBody, "appeal": CaseAppeal,
               "approve_appeal": CaseStepBody, "reject_appeal": CaseStepBody}
