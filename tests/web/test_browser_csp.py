"""The pages under their own Content-Security-Policy (the other browser tests bypass it, for
Playwright's wait_for_function): nothing is refused, and their scripts run."""

from __future__ import annotations

import re

from support.browser import browser_sign_in

WATCH = "window.__refused = []; document.addEventListener('securitypolicyviolation', e => window.__refused.push(e.violatedDirective + ' ' + e.blockedURI));"


def strict_context(browser, server, name: str | None = None):
    """A context under the pages' policy (signed in as `name`), reporting what the policy refused."""
    if name:
        context, page = browser_sign_in(browser, server, name, bypass_csp=False)
    else:
        context = browser.new_context(base_url=server.url, bypass_csp=False)
        page = context.new_page()
    context.add_init_script(WATCH)  # every page loaded from here on
    return context, page


def refused(page) -> list:
    page.wait_for_load_state("networkidle")
    return page.evaluate("window.__refused")


def test_the_public_pages_run_under_their_policy(browser, server):
    context, page = strict_context(browser, server)
    page.goto("/displays/hall.html?hall=district&chime=off&voice=off")
    page.wait_for_selector("#queue tr[data-service=SI]")  # drawn by its scripts, from Socket.IO
    assert refused(page) == []
    for path in ("/login", "/displays/", "/displays/window.html?hall=district&window=1&chime=off&voice=off"):
        page.goto(path)
        assert refused(page) == [], path
    context.close()


def test_the_staff_and_manager_pages_run_under_their_policy(browser, server):
    context, page = strict_context(browser, server, "staff01")
    page.click("#open-1")
    page.wait_for_url(re.compile(r"/staff/district/windows/1$"))
    page.wait_for_selector("#call-next:not([disabled])")  # enabled by its script once the window's state came
    assert refused(page) == []
    context.close()
    context, page = strict_context(browser, server, "mgr")
    for path in ("/manager/district", "/manager/district/stats", "/admin/district"):
        page.goto(path)
        assert refused(page) == [], path
    context.close()
    context, page = strict_context(browser, server, "kiosk")
    page.goto("/kiosk/district")
    assert refused(page) == []
    context.close()
