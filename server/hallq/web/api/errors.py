"""Every API error is JSON {"error": {"code", "message"}} with the right status."""

from __future__ import annotations

import logging

from flask import jsonify, request
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from ...core.errors import HallError
from .blueprint import bp

log = logging.getLogger("hallq.api")

STATUS = {"not_found": 404, "conflict": 409, "invalid": 422, "forbidden": 403, "unauthorized": 401, "bad_request": 400}


def error_response(status: int, code: str, message: str, details=None):
    body = {"code": code, "message": message}
    if details:
        body["details"] = details
    return jsonify({"error": body}), status


@bp.app_errorhandler(HallError)
def _hall_error(exc: HallError):
    return error_response(STATUS.get(exc.kind, 409), exc.code, exc.message, exc.details or None)


@bp.app_errorhandler(ValidationError)
def _validation_error(exc: ValidationError):
    details = [
        {"field": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]} for e in exc.errors(include_url=False, include_input=False)
    ]
    first = details[0] if details else {"field": "", "problem": "invalid"}
    return error_response(422, "validation_failed", f"{first['field'] or 'body'}: {first['problem']}", details)


@bp.app_errorhandler(HTTPException)
def http_error(exc: HTTPException):
    if not request.path.startswith("/api/"):
        return exc
    code = (exc.name or "error").lower().replace(" ", "_")
    body, status = error_response(exc.code or 500, code, exc.description or exc.name)
    # The exception's own headers (405's Allow, 401's WWW-Authenticate), not its HTML content type.
    headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
    return body, status, headers


@bp.app_errorhandler(Exception)
def _unexpected(exc: Exception):
    if isinstance(exc, HTTPException):
        return http_error(exc)
    log.exception("unexpected error on %s %s", request.method, request.path)
    return error_response(500, "internal_error", "the server could not complete this request; it has been logged")
