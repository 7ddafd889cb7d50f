"""Security headers on every answer.

- A Content-Security-Policy that lets a page run only the scripts and styles this server
  serves (the pages have no inline code: their data rides in `<script type="application/json">`
  blocks, which are never run), talk only to this server (its API and Socket.IO), and be
  framed by nobody: staff, manager and admin pages never; the displays (call screens) only by
  the origins `display_frame_ancestors` names (a kiosk shell that frames them).
- X-Frame-Options DENY wherever framing is denied (browsers that predate frame-ancestors).
- X-Content-Type-Options nosniff; Referrer-Policy same-origin (the tracker's address carries a
  ticket's id: it leaves for no other site).
- Strict-Transport-Security when the request came over HTTPS (directly or, with
  trusted_proxies, through the proxy).
"""

from __future__ import annotations

from flask import Flask, request

POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
          "connect-src 'self'; media-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
          "frame-ancestors {ancestors}")


def init_headers(app: Flask, display_frame_ancestors: str = "") -> None:
    ancestors = " ".join(display_frame_ancestors.split())

    @app.after_request
    def _security_headers(response):
        headers = response.headers
        framed = bool(ancestors) and request.blueprint == "displays"
        headers.setdefault("Content-Security-Policy", POLICY.format(ancestors=ancestors if framed else "'none'"))
        if not framed:
            headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response
