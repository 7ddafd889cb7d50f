"""The security headers every HallQ page carries, on the server and on an edge call screen.

- A Content-Security-Policy that lets a page run only the scripts and styles its server serves
  (the pages have no inline code: their data rides in `<script type="application/json">`
  blocks, which are never run), talk only to that server (its API and Socket.IO), and be
  framed by nobody, or only by the origins `framed_by` names (a kiosk shell that frames the
  call screens).
- X-Frame-Options DENY wherever framing is denied (browsers that predate frame-ancestors).
- X-Content-Type-Options nosniff; Referrer-Policy same-origin (the tracker's address carries a
  ticket's id: it leaves for no other site).
- Strict-Transport-Security when the request came over HTTPS.
"""

from __future__ import annotations

POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
          "connect-src 'self'; media-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
          "frame-ancestors {ancestors}")


def security_headers(*, framed_by: str = "", secure: bool = False) -> dict[str, str]:
    """The headers for one answer; `framed_by`: the origins allowed to frame it (space-separated), none if empty."""
    ancestors = " ".join(framed_by.split())
    headers = {
        "Content-Security-Policy": POLICY.format(ancestors=ancestors or "'none'"),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }
    if not ancestors:
        headers["X-Frame-Options"] = "DENY"
    if secure:
        headers["Strict-Transport-Security"] = "max-age=31536000"
    return headers
