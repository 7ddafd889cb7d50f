"""Browser tests (Debian's Chromium) of what surprised a new hall in its first
hour (issue 10, section 5): the manager's move dropdown, and the kiosk's
language and button texts."""

from __future__ import annotations

import pytest

from test_pages_flow import WAIT_MS, browser, issue, server, sign_in  # noqa: F401 (fixtures)


def waiting_state(page) -> dict:
    """The manager's view of the waiting list: ticket number → service code."""
    state = page.evaluate("async () => (await fetch('/manager/district/state')).json()")
    return {t["number"]: t["service"] for t in state["waiting"]}


def test_a_live_redraw_keeps_the_managers_choice_and_the_ticket_goes_where_chosen(browser, server):
    kiosk_ctx, kiosk = sign_in(browser, server, "kiosk")
    ticket = issue(kiosk, "BL")
    mgr_ctx, manager = sign_in(browser, server, "mgr")
    select = manager.locator(f"#waiting-rows tr[data-ticket={ticket['number']}] select")
    select.wait_for(timeout=WAIT_MS)
    # 社会保险 (SI) is the first choice in the list; the manager chooses 跨省通办 (CX).
    assert select.evaluate("s => s.options[0].value") == "SI"
    select.select_option("CX")
    select.focus()
    manager.evaluate("window.__chosen = document.activeElement")

    # A visitor takes a ticket: the page redraws the list from the live update.
    other = issue(kiosk, "SI")
    manager.wait_for_selector(f"#waiting-rows tr[data-ticket={other['number']}]", timeout=WAIT_MS)
    assert select.input_value() == "CX"
    assert manager.evaluate("document.activeElement === window.__chosen && document.contains(window.__chosen)")

    manager.click(f"#waiting-rows tr[data-ticket={ticket['number']}] button")
    manager.wait_for_function("document.querySelector('#message').classList.contains('ok')", timeout=WAIT_MS)
    assert waiting_state(manager)[ticket["number"]] == "CX"
    for ctx in (kiosk_ctx, mgr_ctx):
        ctx.close()
