"""Browser tests (Playwright driving Debian's Chromium) of the live pages:
a call reaches the hall screen and the phone tracker; a manager's change of a
window's services reaches that window's terminal; the kiosk issues a ticket."""

from __future__ import annotations

import re

from support.browser import WAIT_MS, browser_sign_in, kiosk_issue


def test_call_next_reaches_hall_screen_and_phone_tracker(browser, server):
    kiosk_ctx, kiosk = browser_sign_in(browser, server, "kiosk")
    assert "/kiosk/district" in kiosk.url
    ticket = kiosk_issue(kiosk, "SI")
    assert ticket["number"].startswith("A")

    public = browser.new_context(base_url=server.url)
    display = public.new_page()
    display.goto("/displays/hall.html?hall=district&chime=off&voice=off")
    display.wait_for_selector("#queue tr[data-service=SI]")
    phone = public.new_page()
    phone.goto(f"/t/district/{ticket['id']}?lang=en")
    phone.wait_for_function("document.querySelector('#status').textContent.includes('Waiting')", timeout=WAIT_MS)

    staff_ctx, terminal = browser_sign_in(browser, server, "staff01")
    terminal.click("#open-1")
    terminal.wait_for_url(re.compile(r"/staff/district/windows/1$"))
    terminal.wait_for_selector("#call-next:not([disabled])", timeout=WAIT_MS)
    terminal.click("#call-next")

    terminal.wait_for_function(f"document.querySelector('#ticket-number').textContent === '{ticket['number']}'", timeout=WAIT_MS)
    display.wait_for_function(
        f"document.querySelector('#calls li.newest')?.dataset.number === '{ticket['number']}'", timeout=WAIT_MS
    )
    assert "1" in display.text_content("#calls li.newest .to")
    phone.wait_for_function("document.querySelector('#status').textContent.includes('window 1')", timeout=WAIT_MS)
    assert phone.text_content("#status").startswith("Called")

    # Nothing else waiting for window 1's services: the error is shown plainly.
    terminal.click("button[data-action=complete]")
    terminal.wait_for_selector("#call-next:not([disabled])", timeout=WAIT_MS)
    terminal.keyboard.press("n")
    terminal.wait_for_function("document.querySelector('#message').textContent.length > 0", timeout=WAIT_MS)
    assert "暂无等候" in terminal.text_content("#message")
    terminal.wait_for_function("document.querySelector('#fig-served').textContent === '1'", timeout=WAIT_MS)
    assert terminal.text_content("#month-cases") == "1"  # and the month so far, from the same answer
    for ctx in (kiosk_ctx, public, staff_ctx):
        ctx.close()


def test_manager_service_change_reaches_the_terminal_without_reload(browser, server):
    staff_ctx, terminal = browser_sign_in(browser, server, "staff02")
    terminal.click("#open-2")
    terminal.wait_for_url(re.compile(r"/staff/district/windows/2$"))
    terminal.wait_for_selector("#my-queues tr")
    before = terminal.eval_on_selector_all("#my-queues tr", "rows => rows.map(r => r.dataset.service)")
    assert "TX" not in before
    terminal.evaluate("window.__same_page = true")

    mgr_ctx, manager = browser_sign_in(browser, server, "mgr")
    assert "/manager/district" in manager.url
    box = manager.locator("input[data-window='2'][data-service='TX']")
    box.wait_for()
    box.check()
    terminal.wait_for_selector("#my-queues tr[data-service=TX]", timeout=WAIT_MS)
    assert terminal.evaluate("window.__same_page") is True  # no reload happened
    # The live map shows the staff member at window 2.
    manager.wait_for_function("document.querySelector('#window-2 .wstaff').textContent.includes('李娜')", timeout=WAIT_MS)
    staff_ctx.close()
    mgr_ctx.close()


def test_kiosk_issues_a_ticket_on_screen(browser, server):
    ctx, kiosk = browser_sign_in(browser, server, "kiosk")
    kiosk.click("#green")
    kiosk.click("button.service[data-service=MI]")
    kiosk.wait_for_selector("#ticket:not([hidden])", timeout=WAIT_MS)
    number = kiosk.text_content("#ticket-number")
    assert re.fullmatch(r"B\d{3}", number)
    assert kiosk.get_attribute("#ticket-qr", "src").endswith("/qr.svg")
    # The waiting count on the button follows the live queue.
    kiosk.wait_for_function("/\\d+ 人等候/.test(document.querySelector('[data-waiting=MI]').textContent)", timeout=WAIT_MS)
    ctx.close()


def test_login_and_roles_hold_in_the_browser(browser, server):
    anon = browser.new_context(base_url=server.url)
    page = anon.new_page()
    page.goto("/manager/district")
    assert "/login" in page.url  # anonymous: sent to sign in
    page.fill("#name", "mgr")
    page.fill("#password", "wrong-password")
    page.click("button[type=submit]")
    assert page.text_content("#login-error").strip() == "用户名或密码错误。"
    anon.close()

    staff_ctx, terminal = browser_sign_in(browser, server, "staff01")
    response = terminal.goto("/manager/district")
    assert response.status == 403
    response = terminal.goto("/admin/district")
    assert response.status == 403
    # Staff may not open another staff member's terminal.
    terminal.goto("/staff/district/windows/2")
    assert terminal.url.endswith("/staff/district/windows/1") or "/staff/district/" in terminal.url
    staff_ctx.close()


def test_display_recovers_after_the_server_restarts(browser, server):
    ctx = browser.new_context(base_url=server.url)
    display = ctx.new_page()
    display.goto("/displays/hall.html?hall=district&chime=off&voice=off")
    display.wait_for_selector("#queue tr[data-service=HR]")
    assert display.is_hidden("#offline")

    server.stop()
    display.wait_for_selector("#offline", state="visible", timeout=WAIT_MS)
    assert "连接中断" in display.text_content("#offline")

    server.start()
    display.wait_for_selector("#offline", state="hidden", timeout=WAIT_MS * 2)
    # Rejoined, not just reconnected: new tickets show up on the same page.
    kiosk_ctx, kiosk = browser_sign_in(browser, server, "kiosk")
    kiosk_issue(kiosk, "HR")
    display.wait_for_function(
        "document.querySelector('#queue tr[data-service=HR] td.n').textContent.startsWith('1')", timeout=WAIT_MS
    )
    kiosk_ctx.close()
    ctx.close()
