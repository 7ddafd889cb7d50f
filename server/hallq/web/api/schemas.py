"""Request bodies, validated with pydantic; their JSON schemas feed the OpenAPI document."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ...core.enums import Priority


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TicketCreate(Body):
    service: str = Field(min_length=1, max_length=32, description="Service code, e.g. SI")
    priority: Priority = Field(Priority.NORMAL, description="normal, appointment or green (绿色通道)")
    channel: str = Field("api", pattern=r"^(api|kiosk|dispenser|phone|appointment)$")


class WindowAction(Body):
    ticket: str | None = Field(None, max_length=32, description="call: the ticket's number (A012) or id")
    service: str | None = Field(None, max_length=32, description="transfer: the service to send the ticket to")
    reason: str | None = Field(None, max_length=100, description="pause: why the window pauses")


class WindowServices(Body):
    services: dict[str, float] = Field(description="Service code → weight (> 0, ≤ 100); replaces the window's services")


class TicketMove(Body):
    service: str = Field(min_length=1, max_length=32, description="The service to move the ticket to")
    number: str | None = Field(
        None, max_length=32, description="The ticket's number as the caller saw it (A012); refused when it is not that ticket's"
    )


class Login(Body):
    name: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
