"""The OpenAPI 3.1 document of the REST API, served at /api/openapi.json."""

from __future__ import annotations

from functools import lru_cache

from pydantic import TypeAdapter

from hallq_protocol import shapes

from ... import __version__
from .schemas import (
    ACTION_BODIES,
    WINDOW_ACTIONS,
    CASE_BODIES,
    BalancerChange,
    CaseAppeal,
    CaseCallback,
    CaseFollowUp,
    CaseStepBody,
    Login,
    RatingCreate,
    TicketCreate,
    TicketMove,
    WindowAction,
    WindowCall,
    WindowServices,
    WindowTransfer,
)

OTHER_ACTIONS = [a for a in WINDOW_ACTIONS if a not in ACTION_BODIES]

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "details": {}},
        }
    },
}
def _errors(*statuses: int) -> dict:
    text = {400: "Malformed request", 401: "Not signed in", 403: "Not allowed", 404: "Not found", 409: "Not possible in the current state", 422: "Invalid content",
            429: "Too many failed attempts: wait for Retry-After seconds"}
    return {str(s): {"description": text[s], "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}} for s in statuses}


def _body(model) -> dict:
    return {"required": True, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}}}


def _ok(schema: str, status: str = "200", description: str = "OK") -> dict:
    return {status: {"description": description, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}}


HALL = {"name": "hall", "in": "path", "required": True, "schema": {"type": "string"}, "description": "The hall's slug"}
WINDOW_NO = {"name": "window", "in": "path", "required": True, "schema": {"type": "integer"}}
SECURED = [{"bearer": []}, {"session": []}]


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"  # an Excel workbook
STATS_QUERY = [
    {"name": name, "in": "query", "required": False, "description": text, "schema": schema}
    for name, text, schema in (
        ("day", "One day", {"type": "string", "format": "date"}),
        ("month", "One month, YYYY-MM", {"type": "string", "pattern": r"^[0-9]{4}-(0[1-9]|1[0-2])$"}),
        ("since", "First day (with until; at most 366 days to until)", {"type": "string", "format": "date"}),
        ("until", "Last day (with since)", {"type": "string", "format": "date"}),
    )
]


def _stats_operation(summary: str, ok: dict) -> dict:
    """GET .../stats and .../stats.xlsx: the same query, answered as JSON or as a workbook."""
    return {
        "summary": summary,
        "parameters": [HALL, *STATS_QUERY],
        "description": "Give day alone, month alone, or since and until; none: the hall's today. "
                       "400 for a query that mixes them; 422 for a range that runs backwards or is longer than 366 days.",
        "security": SECURED,
        "responses": {**ok, **_errors(400, 401, 403, 404, 422)},
    }


@lru_cache(maxsize=1)
def openapi_document() -> dict:
    paths = {
        "/api/v1/halls": {"get": {"summary": "List halls", "responses": {"200": {"description": "OK"}}}},
        "/api/v1/halls/{hall}": {"get": {"summary": "A hall's settings", "parameters": [HALL], "responses": {"200": {"description": "OK"}, **_errors(404)}}},
        "/api/v1/halls/{hall}/tickets": {
            "post": {
                "summary": "Issue a ticket (取号)",
                "parameters": [HALL],
                "security": SECURED,
                "requestBody": _body(TicketCreate),
                "responses": {**_ok("Ticket", "201", "The new ticket, with people ahead and the estimated wait"), **_errors(400, 401, 403, 404, 409, 422)},
            }
        },
        "/api/v1/halls/{hall}/tickets/{ticket_id}": {
            "get": {
                "summary": "A ticket's status and position (public: the tracker page uses it)",
                "parameters": [HALL, {"name": "ticket_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {**_ok("Ticket"), **_errors(404)},
            }
        },
        "/api/v1/halls/{hall}/tickets/{ticket_id}/journey": {
            "get": {
                "summary": "Staff and managers: a ticket's journey, every step, and its wait and handling",
                "parameters": [HALL, {"name": "ticket_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "security": SECURED,
                "responses": {**_ok("Journey"), **_errors(401, 403, 404)},
            }
        },
        "/api/v1/halls/{hall}/stats": {"get": _stats_operation(
            "Managers: the hall's figures for a day, a month or a range (default: today), in total and per zone, service, window, staff member and hour",
            _ok("StatsReport"))},
        "/api/v1/halls/{hall}/stats.xlsx": {"get": _stats_operation(
            "Managers: the same figures as an Excel workbook (Chinese headers, a sheet per level, native charts)",
            {"200": {"description": "The workbook", "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}}})},
        "/api/v1/halls/{hall}/ratings": {"get": _stats_operation(
            "Managers: the ratings (好差评) of the tickets of a day, month or range (default: today); staff: their own",
            {"200": {"description": "{hall, since, until, ratings: [one object per rating, the fields of docs/reviews.md]}"}})},
        "/api/v1/halls/{hall}/ratings.csv": {"get": _stats_operation(
            "Managers: the ratings (好差评) of the tickets of a day, month or range, one row each, for the provincial platform (CSV)",
            {"200": {"description": "UTF-8 CSV with a byte-order mark; fields in docs/reviews.md",
                     "content": {"text/csv": {"schema": {"type": "string"}}}}})},
        "/api/v1/halls/{hall}/ratings.xlsx": {"get": _stats_operation(
            "Managers: the same ratings as an Excel workbook",
            {"200": {"description": "The workbook", "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}}})},
        "/api/v1/halls/{hall}/tickets/{ticket_id}/move": {
            "post": {
                "summary": "Manager: move a waiting ticket to another service",
                "parameters": [HALL, {"name": "ticket_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "security": SECURED,
                "requestBody": _body(TicketMove),
                "responses": {**_ok("Ticket"), **_errors(400, 401, 403, 404, 409, 422)},
            }
        },
        "/api/v1/halls/{hall}/queue": {"get": {"summary": "Waiting count, oldest wait and estimate per service", "parameters": [HALL], "responses": {**_ok("Queue"), **_errors(404)}}},
        "/api/v1/halls/{hall}/windows": {"get": {"summary": "Every window's state", "parameters": [HALL], "responses": {"200": {"description": "OK"}, **_errors(404)}}},
        "/api/v1/halls/{hall}/windows/{window}": {"get": {"summary": "One window's state", "parameters": [HALL, WINDOW_NO], "responses": {**_ok("Window"), **_errors(404)}}},
        "/api/v1/halls/{hall}/windows/{window}/{action}": {
            "post": {
                "summary": "A window action: " + ", ".join(OTHER_ACTIONS),
                "description": "pause takes {reason}; call and transfer have paths of their own. Staff act only at the window they opened; managers at any window of their hall.",
                "parameters": [HALL, WINDOW_NO, {"name": "action", "in": "path", "required": True, "schema": {"type": "string", "enum": list(OTHER_ACTIONS)}}],
                "security": SECURED,
                "requestBody": {**_body(WindowAction), "required": False},
                "responses": {**_ok("Window", description="The window's new state (and last_ticket)"), **_errors(400, 401, 403, 404, 409, 422)},
            }
        },
        **{
            f"/api/v1/halls/{{hall}}/windows/{{window}}/{action}": {
                "post": {
                    "summary": summary,
                    "parameters": [HALL, WINDOW_NO],
                    "security": SECURED,
                    "requestBody": _body(model),
                    "responses": {**_ok("Window", description="The window's new state (and last_ticket)"), **_errors(400, 401, 403, 404, 409, 422)},
                }
            }
            for action, model, summary in (("call", WindowCall, "Call one ticket out of turn"),
                                           ("transfer", WindowTransfer, "Send the window's ticket to another service's queue"))
        },
        "/api/v1/halls/{hall}/windows/{window}/services": {
            "put": {
                "summary": "Manager: set which services a window serves, with weights",
                "parameters": [HALL, WINDOW_NO],
                "security": SECURED,
                "requestBody": _body(WindowServices),
                "responses": {**_ok("Window"), **_errors(400, 401, 403, 404, 422)},
            }
        },
        "/api/v1/session": {
            "post": {"summary": "Sign in (browser session)", "requestBody": _body(Login), "responses": {"200": {"description": "Signed in; includes csrf_token"}, **_errors(400, 401, 422, 429)}},
            "get": {"summary": "Who is signed in", "responses": {"200": {"description": "OK"}, **_errors(401)}},
            "delete": {"summary": "Sign out", "responses": {"204": {"description": "Signed out"}, **_errors(401)}},
        },
    }
    paths.update(_balancer_paths(HALL, SECURED, _errors, _body, _ok))
    paths.update(_review_paths())
    schemas = {"Error": ERROR, "BalancerSettings": BALANCER_SETTINGS}
    # The public shapes are defined once, in hallq_protocol.shapes.
    for name, shape in (("Ticket", shapes.Ticket), ("Window", shapes.Window), ("Queue", shapes.Queue), ("Journey", shapes.Journey),
                        ("StatsReport", shapes.StatsReport)):
        schema = TypeAdapter(shape).json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[name] = schema
    for model in (TicketCreate, WindowAction, WindowCall, WindowTransfer, WindowServices, TicketMove, Login, BalancerChange,
                  RatingCreate, CaseStepBody, CaseCallback, CaseFollowUp, CaseAppeal):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    return {
        "openapi": "3.1.0",
        "info": {"title": "HallQ API", "version": __version__, "description": "Queue and window management for government service halls. See docs/api.md."},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "Token from `hallq token create NAME`"},
                "session": {"type": "apiKey", "in": "cookie", "name": "session", "description": "Browser session; changes need the X-CSRFToken header"},
            },
        },
    }


def _balancer_paths(hall_param: dict, secured: list, errors, body, ok) -> dict:
    """The balancer's part of the document (routes in balancer.py)."""
    sid = {"name": "suggestion_id", "in": "path", "required": True, "schema": {"type": "string"}}
    return {
        "/api/v1/halls/{hall}/balancer": {
            "get": {
                "summary": "Manager: the balancer's mode and auto-mode limits",
                "parameters": [hall_param],
                "security": secured,
                "responses": {**ok("BalancerSettings"), **errors(401, 403, 404)},
            },
            "patch": {
                "summary": "Manager: switch the balancer off, to suggest or to auto, or change its auto-mode limits (audited)",
                "parameters": [hall_param],
                "security": secured,
                "requestBody": body(BalancerChange),
                "responses": {**ok("BalancerSettings"), **errors(400, 401, 403, 404, 422)},
            },
        },
        "/api/v1/halls/{hall}/balancer/suggestions": {
            "get": {
                "summary": "Manager: the balancer's current suggestions, each with its reason",
                "parameters": [hall_param],
                "security": secured,
                "responses": {"200": {"description": "{available, mode, suggestions: [{id, kind, service, windows, changes, reason, reason_en}]}"}, **errors(401, 403, 404)},
            }
        },
        "/api/v1/halls/{hall}/balancer/suggestions/{suggestion_id}/apply": {
            "post": {
                "summary": "Manager: apply one suggestion (each window change audited); 409 stale_suggestion when the hall has changed",
                "parameters": [hall_param, sid],
                "security": secured,
                "responses": {"200": {"description": "{windows: [the windows' new states]}"}, **errors(401, 403, 404, 409)},
            }
        },
    }


def _review_paths() -> dict:
    """好差评: the tracker's rating, the managers' rectification cases (routes in reviews.py)."""
    ticket = {"name": "ticket_id", "in": "path", "required": True, "schema": {"type": "string"}, "description": "The ticket's tracking id (not its number)"}
    case = {"name": "case_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    case_doc = ("{id, state, opened_at, callback_due, due, called_back_on, settled_on, outcome, follow_up_score, closed_at, "
                "flags: {callback_late, overdue, due_soon, on_time}, review: {number, leg, service, window, staff, score, level, "
                "channel, reasons, indicators, comment}, actions, timeline: [{at, step, actor, role, note, detail}]}")
    return {
        "/api/v1/halls/{hall}/tickets/{ticket_id}/rating": {
            "get": {
                "summary": "Public (the ticket's tracker): the legs the visitor may rate, those rated, the levels and the hall's reasons",
                "parameters": [HALL, ticket],
                "responses": {"200": {"description": "{legs: [{leg, window, service, rated, may_rate}], open_until, levels, indicators, bad_reasons, max_comment}"},
                              **_errors(404)},
            },
            "post": {
                "summary": "Public (the ticket's tracker): rate a served leg (好差评); one rating per leg from any channel; a bad one opens a case",
                "parameters": [HALL, ticket],
                "requestBody": _body(RatingCreate),
                "responses": {"201": {"description": "{ticket, number, leg, score, level, form}"}, **_errors(400, 404, 409, 422)},
            },
        },
        "/api/v1/halls/{hall}/cases": {
            "get": {
                "summary": "Managers: the hall's rectification cases (差评整改), newest first; staff: their own",
                "parameters": [HALL, {"name": "filter", "in": "query", "required": False,
                                      "schema": {"type": "string", "enum": ["open", "due_soon", "overdue", "callback_late", "appealed", "closed", "all"]}}],
                "security": SECURED,
                "responses": {"200": {"description": "{hall, filter, today, counts, cases: [case without actions and timeline]}"},
                              **_errors(401, 403, 404, 422)},
            }
        },
        "/api/v1/halls/{hall}/cases/{case_id}/contact": {
            "post": {"summary": "Manager handling the case: the visitor's phone number in full (audited each time; the first manager "
                                "to act on a case handles it)", "parameters": [HALL, case], "security": SECURED,
                     "responses": {"200": {"description": "{case, phone, masked}"}, **_errors(401, 403, 404, 409)}},
        },
        "/api/v1/halls/{hall}/cases/{case_id}": {
            "get": {"summary": "Managers (staff: their own): one case with its timeline", "parameters": [HALL, case],
                    "security": SECURED, "responses": {"200": {"description": case_doc}, **_errors(401, 403, 404)}},
        },
        **{
            f"/api/v1/halls/{{hall}}/cases/{{case_id}}/{action}": {
                "post": {
                    "summary": f"Manager: {summary} (audited; 409 case_state from a state it does not follow)",
                    "parameters": [HALL, case],
                    "security": SECURED,
                    "requestBody": _body(CASE_BODIES[action]),
                    "responses": {"200": {"description": case_doc}, **_errors(400, 401, 403, 404, 409, 422)},
                }
            }
            for action, summary in (("callback", "record a callback (回访), reached or not"), ("verify", "record the verification (核实)"),
                                    ("rectify", "record what was rectified (整改)"), ("explain", "record the explanation given (解释说明)"),
                                    ("follow_up", "record the visitor's follow-up rating, or that they declined"),
                                    ("close", "close the case"), ("note", "add a note to the timeline"),
                                    ("appeal", "appeal the rating as malicious or mistaken (申诉), once per case"),
                                    ("approve_appeal", "administrator: approve the appeal; the rating leaves the rates, the case closes"),
                                    ("reject_appeal", "administrator: reject the appeal; the case goes on"))
        },
    }


BALANCER_SETTINGS = {
    "type": "object",
    "properties": {
        "mode": {"type": "string", "enum": ["off", "suggest", "auto"]},
        "modes": {"type": "array", "items": {"type": "string"}},
        "limits": {"type": "object", "description": "max_changes_per_hour, min_hold_minutes, max_helpers_per_service, max_services_per_window"},
        "qualified": {"type": "object", "description": "How many staff accounts and windows have qualifications"},
        "version": {"type": "integer"},
        "updated_at": {"type": ["string", "null"], "format": "date-time"},
        "updated_by": {"type": "string", "description": "Account of the last change, or 'hall file'"},
    },
}
