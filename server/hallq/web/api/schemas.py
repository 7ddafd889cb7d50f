"""Request bodies, validated with pydantic; their JSON schemas feed the OpenAPI document."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt

from ...core.enums import Priority

WINDOW_ACTIONS = ("open", "close", "pause", "resume", "call-next", "call", "recall", "skip", "start", "complete", "transfer")


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
    max_changes_per_hour: StrictInt | None = Field(None, ge=0, le=1000, description="Auto mode: window changes in any hour")
    min_hold_minutes: StrictFloat | None = Field(None, ge=0, le=480, description="Auto mode: a window it changed is left alone this long")
    max_helpers_per_service: StrictInt | None = Field(None, ge=0, le=1000, description="Windows helping one service at once")
    max_services_per_window: StrictInt | None = Field(None, ge=1, le=50, description="Never more services at one window")


class BalancerChange(Body):
    mode: Literal["off", "suggest", "auto"] | None = Field(None, description="off, suggest (a manager applies) or auto (applied within the limits)")
    limits: BalancerLimits | None = None
