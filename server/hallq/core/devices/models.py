"""The devices' tables: the registry, the requests they sent, the number blocks
dispensers hold for offline issuing. The ratings review boxes collect are reviews/models.py's."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel


class Device(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("hall_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id", index=True)
    name: str = Field(max_length=32)  # the device id in topics
    role: str = Field(max_length=16)
    window_number: int | None = None
    username: str = Field(unique=True, max_length=64)  # MQTT user name: "{hall}.{name}"
    password_hash: str = Field(max_length=200)
    created_at: datetime
    revoked_at: datetime | None = None
    online: bool = False
    last_seen: datetime | None = None
    paper: str | None = Field(default=None, max_length=8)  # dispensers: ok, low, out
    status: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class DeviceRequest(SQLModel, table=True):
    """One request a device sent, with the answer it got: a repeat gets the same answer."""

    __table_args__ = (UniqueConstraint("device_id", "request_id"),)
    id: int | None = Field(default=None, primary_key=True)
    device_id: int = Field(foreign_key="device.id", index=True)
    request_id: str = Field(max_length=64)
    action: str = Field(max_length=32)
    received_at: datetime = Field(index=True)
    answer: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))  # None: being handled
    # SHA-256 of the request as validated: a repeat (a QoS 1 redelivery) is the same request; the
    # same id on another request is refused (id_reused). None in a log written by an earlier HallQ.
    digest: str | None = Field(default=None, max_length=64)


class NumberBlock(SQLModel, table=True):
    """Numbers a dispenser took from the counter in advance, to issue while offline."""

    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id", index=True)
    device_id: int = Field(foreign_key="device.id", index=True)
    service_id: int = Field(foreign_key="service.id")
    prefix: str = Field(max_length=2)
    business_date: date
    first: int
    last: int
    reserved_at: datetime

