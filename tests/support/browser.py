"""Chromium for the browser tests (Playwright): how it is launched, and what a test
does in it. The `browser` fixture is the plugin browser_plugin.py; the server the
pages come from is pageserver.py."""

from __future__ import annotations

import os

from .pageserver import PASSWORD

CHROMIUM = os.environ.get("HALLQ_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required"]
WAIT_MS = 10_000  # generous: a slow machine waits longer, a fast one does not


def browser_env(**extra: str) -> dict:
    """The environment Chromium is launched with: libfaketime's variables dropped (the shifted test runs fake
    the clock of the project's processes only; Chromium under libfaketime is not what a hall runs)."""
    from hallq.web.screenshots import FAKED_CLOCK

    return {**{k: v for k, v in os.environ.items() if k not in FAKED_CLOCK}, **extra}


def browser_sign_in(browser, server, name: str, lang: str = "zh", **options):
    """A new browser context (new_context `options`) signed in as `name` through the login form of a pageserver."""
    context = browser.new_context(base_url=server.url, **options)
    page = context.new_page()
    page.goto(f"/login?lang={lang}")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return context, page


def kiosk_issue(page, service: str) -> dict:
    """Issue a ticket from a signed-in kiosk page (through its own CSRF-checked route)."""
    return page.evaluate(
        """async (code) => {
            const r = await fetch(location.origin + '/kiosk/district/tickets', {method: 'POST',
              headers: {'Content-Type': 'application/json', 'X-CSRFToken': document.querySelector('meta[name=csrf-token]').content},
              body: JSON.stringify({service: code})});
            return await r.json();
        }""",
        service,
    )
