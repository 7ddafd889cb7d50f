"""Security headers on every answer (hallq_protocol.headers, shared with the edge call screen):
frame denial everywhere but the displays (call screens), which only the origins
`display_frame_ancestors` names may frame; HSTS when the request came over HTTPS (directly
or, with trusted_proxies, through the proxy)."""

from __future__ import annotations

from flask import Flask, request

from hallq_protocol.headers import security_headers


def init_headers(app: Flask, display_frame_ancestors: str = "") -> None:
    @app.after_request
    def _security_headers(response):
        framed_by = display_frame_ancestors if request.blueprint == "displays" else ""
        for name, value in security_headers(framed_by=framed_by, secure=request.is_secure).items():
            response.headers.setdefault(name, value)
        return response
