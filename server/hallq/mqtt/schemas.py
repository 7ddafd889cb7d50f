"""Every MQTT payload, validated here: what devices send (requests, command
results) and what the server answers and publishes (responses, calls,
completed tickets, config, commands).

Payloads are UTF-8 JSON objects of at most MAX_PAYLOAD bytes. Nothing here
carries personal data: tickets are known by number and public id only.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Annotated, Any, Literal, Union

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    TypeAdapter,
    ValidationError,
)

from hallq_protocol import shapes

MAX_PAYLOAD = 4096
WINDOW_ACTIONS = ("call_next", "recall", "skip", "start", "complete", "pause", "resume")
# Each role's allowed actions; "status" lets any device report on itself.
ROLE_ACTIONS = {
    "dispenser": {"issue_ticket", "reserve_block", "offline_ticket", "status"},
    "caller": set(WINDOW_ACTIONS) | {"status"},
    "review": {"review", "status"},
    "screen": {"status"},
}

RequestId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")]
Code = Annotated[str, Field(min_length=1, max_length=32)]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: RequestId
    at: AwareDatetime  # when the device sent it: ISO 8601 with offset, or Unix seconds
    window: StrictInt | None = None  # if given, must be the device's own window (numbers are numbers: "5" and true are refused)


class IssueTicket(_Request):
    action: Literal["issue_ticket"]
    service: Code
    priority: Literal["normal", "appointment", "green"] | None = None


class WindowAction(_Request):
    action: Literal["call_next", "recall", "skip", "start", "complete", "pause", "resume"]
    reason: Annotated[str, Field(max_length=100)] | None = None  # pause


class ReviewRequest(_Request):
    action: Literal["review"]
    ticket: Annotated[str, Field(min_length=1, max_length=24)]
    score: Annotated[StrictInt, Field(ge=1, le=5)]


class ReserveBlock(_Request):
    action: Literal["reserve_block"]
    service: Code
    count: Annotated[StrictInt, Field(ge=1, le=200)]


class OfflineTicket(_Request):
    action: Literal["offline_ticket"]
    service: Code
    number: Annotated[str, Field(min_length=2, max_length=8)]
    issued_at: AwareDatetime
    priority: Literal["normal", "appointment", "green"] | None = None


class StatusReport(_Request):
    action: Literal["status"]
    paper: Literal["ok", "low", "out"] | None = None
    detail: dict[Annotated[str, Field(max_length=32)], str | int | float | bool | None] | None = Field(default=None, max_length=16)


Request = Annotated[
    Union[IssueTicket, WindowAction, ReviewRequest, ReserveBlock, OfflineTicket, StatusReport],
    Field(discriminator="action"),
]
_request = TypeAdapter(Request)


class BadRequest(Exception):
    """A payload that is not a valid request; `request_id` is echoed when it could be read."""

    def __init__(self, code: str, message: str, request_id: str | None = None):
        super().__init__(message)
        self.code, self.message, self.request_id = code, message, request_id


def decode(payload: bytes) -> dict:
    """A JSON object from an MQTT payload, within the size limit."""
    if len(payload) > MAX_PAYLOAD:
        raise BadRequest("too_large", f"payloads are at most {MAX_PAYLOAD} bytes")
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("bad_json", "the payload is not UTF-8 JSON") from None
    except RecursionError:
        raise BadRequest("bad_json", "the payload is nested too deeply") from None
    if not isinstance(data, dict):
        raise BadRequest("bad_json", "the payload must be a JSON object")
    return data


def request_id(payload: bytes | dict) -> str | None:
    """The id a request carries, if it can be read (to echo in an answer refusing it)."""
    if not isinstance(payload, dict):
        try:
            payload = decode(payload)
        except BadRequest:
            return None
    rid = payload.get("id")
    return rid if isinstance(rid, str) and len(rid) <= 64 else None


def parse_request(payload: bytes):
    """A validated request, or BadRequest saying what is wrong."""
    data = decode(payload)
    rid = request_id(data)
    try:
        return _request.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "request"
        raise BadRequest("bad_request", f"{where}: {first['msg']}", rid) from None


def digest(request) -> str:
    """What identifies a request's content (SHA-256 of it as validated): a repeat has the same."""
    return hashlib.sha256(encode(request.model_dump(mode="json"))).hexdigest()


def encode(body: dict) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def ok(request_id: str | None, data: dict) -> dict:
    return {"id": request_id, "status": "ok", "data": data}


def error(request_id: str | None, code: str, message: str, **details: Any) -> dict:
    body = {"code": code, "message": message}
    if details:
        body["details"] = details
    return {"id": request_id, "status": "error", "error": body}


# -- what the server publishes --------------------------------------------

# Their shapes are defined once, in hallq_protocol.shapes (the devices read the same
# definitions); these check what the server builds before it goes out.
CALL = TypeAdapter(shapes.CallMessage)
COMPLETED = TypeAdapter(shapes.CompletedMessage)
CONFIG = TypeAdapter(shapes.DeviceConfig)


def checked(adapter: TypeAdapter, message: dict) -> dict:
    """`message` as its shape says it must be (ValidationError if the server built it wrong)."""
    return adapter.validate_python(message, strict=False)


# -- commands: server → device, answered on the device's result topic ------

class PrintTicketCommand(BaseModel):
    """Print a ticket issued at a kiosk bound to this dispenser; `id` is unique, `at` dates it."""

    id: RequestId
    action: Literal["print_ticket"] = "print_ticket"
    at: datetime
    ticket: shapes.PrintedTicket


class CommandResult(BaseModel):
    """What came of a command: printed, paper_out, stale (older than request_max_age) or error."""

    model_config = ConfigDict(extra="forbid")
    id: RequestId
    at: AwareDatetime
    status: Literal["printed", "paper_out", "stale", "error"]
    message: Annotated[str, Field(max_length=200)] | None = None


def parse_result(payload: bytes) -> CommandResult:
    """A validated command result, or BadRequest saying what is wrong."""
    data = decode(payload)
    try:
        return CommandResult.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise BadRequest("bad_result", f"{'.'.join(str(p) for p in first['loc']) or 'result'}: {first['msg']}") from None
