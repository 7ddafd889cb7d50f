"""The people's pages through Flask's test client: the CSRF token a page carries, and
signing in through the login form. (In a real browser: support/browser.py.)"""

from __future__ import annotations

import re

CSRF = re.compile(r'name="csrf[-_]token"[^>]*(?:content|value)="([^"]+)"')  # the page's meta tag or a form's field


def csrf_token(client, path: str = "/login") -> str:
    """The CSRF token of the page at `path` (the same for every page of one session)."""
    return CSRF.search(client.get(path).get_data(as_text=True)).group(1)


def client_sign_in(client, name: str, password: str, query: str = ""):
    """Sign `client` in through the login form (with its CSRF token); the form's response."""
    return client.post("/login" + query, data={"name": name, "password": password, "csrf_token": csrf_token(client)})
