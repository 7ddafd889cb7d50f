"""Browser tests (Debian's Chromium) of what surprised a new hall in its first
hour (issue 10, section 5): the manager's move dropdown, and the kiosk's
language and button texts."""

from __future__ import annotations

import pytest

from support.browser import WAIT_MS, browser_sign_in, kiosk_issue


def waiting_state(page) -> dict:
    """The manager's view of the waiting list: ticket number → service code."""
    state = page.evaluate("async () => (await fetch('/manager/district/state')).json()")
    return {t["number"]: t["service"] for t in state["waiting"]}


def test_a_live_redraw_keeps_the_managers_choice_and_the_ticket_goes_where_chosen(browser, server):
    kiosk_ctx, kiosk = browser_sign_in(browser, server, "kiosk")
    ticket = kiosk_issue(kiosk, "BL")
    mgr_ctx, manager = browser_sign_in(browser, server, "mgr")
    select = manager.locator(f"#waiting-rows tr[data-ticket={ticket['number']}] select")
    select.wait_for(timeout=WAIT_MS)
    # 社会保险 (SI) is the first choice in the list; the manager chooses 跨省通办 (CX).
    assert select.evaluate("s => s.options[0].value") == "SI"
    select.select_option("CX")
    select.focus()
    manager.evaluate("window.__chosen = document.activeElement")

    # A visitor takes a ticket: the page redraws the list from the live update.
    other = kiosk_issue(kiosk, "SI")
    manager.wait_for_selector(f"#waiting-rows tr[data-ticket={other['number']}]", timeout=WAIT_MS)
    assert select.input_value() == "CX"
    assert manager.evaluate("document.activeElement === window.__chosen && document.contains(window.__chosen)")

    manager.click(f"#waiting-rows tr[data-ticket={ticket['number']}] button")
    manager.wait_for_function("document.querySelector('#message').classList.contains('ok')", timeout=WAIT_MS)
    assert waiting_state(manager)[ticket["number"]] == "CX"
    for ctx in (kiosk_ctx, mgr_ctx):
        ctx.close()


def kiosk_language(page) -> str:
    return page.evaluate("document.documentElement.lang")


def test_an_english_visit_ends_with_its_ticket_and_is_not_remembered(browser, server):
    ctx, kiosk = browser_sign_in(browser, server, "kiosk")
    kiosk.goto("/kiosk/district?lang=en")
    assert kiosk_language(kiosk) == "en" and "Social insurance" in kiosk.text_content("button.service[data-service=SI]")
    assert not [c for c in ctx.cookies() if c["name"] == "hallq_lang" and c["value"] == "en"]
    kiosk.click("button.service[data-service=SI]")
    kiosk.wait_for_selector("#ticket:not([hidden])", timeout=WAIT_MS)
    kiosk.click("#ticket-done")
    kiosk.wait_for_function("document.documentElement.lang === 'zh-CN'", timeout=WAIT_MS)
    assert "社会保险" in kiosk.text_content("button.service[data-service=SI]")
    # A manager's own English (remembered for them in the cookie) does not reach the kiosk either.
    ctx.add_cookies([{"name": "hallq_lang", "value": "en", "url": server.url}])
    kiosk.goto("/kiosk/district")
    assert kiosk_language(kiosk) == "zh-CN"
    ctx.close()


def test_a_kiosk_left_alone_goes_back_to_chinese(browser, server):
    ctx, kiosk = browser_sign_in(browser, server, "kiosk")
    kiosk.clock.install()
    kiosk.goto("/kiosk/district?lang=en")
    kiosk.wait_for_selector("button.service")
    kiosk.clock.fast_forward(50_000)
    kiosk.mouse.click(5, 300)  # a touch: the minute starts again
    kiosk.clock.fast_forward(50_000)
    assert kiosk_language(kiosk) == "en"
    kiosk.clock.fast_forward(11_000)
    kiosk.wait_for_function("document.documentElement.lang === 'zh-CN'", timeout=WAIT_MS)
    ctx.close()


def add_service(page, code: str, prefix: str, name: str, name_en: str) -> None:
    """Add a service through the admin page's own form."""
    page.goto("/admin/district")
    form = page.locator("#services form.add")
    form.locator("[name=code]").fill(code)
    form.locator("[name=prefix]").fill(prefix)
    form.locator("[name=name]").fill(name)
    form.locator("[name=name_en]").fill(name_en)
    form.locator("button").click()
    page.wait_for_selector(".flash.ok")


@pytest.mark.parametrize("width,height", [(1080, 1920), (1920, 1080)], ids=["portrait", "landscape"])
def test_english_service_names_fit_their_kiosk_buttons(browser, server, width, height):
    mgr_ctx, admin = browser_sign_in(browser, server, "mgr")
    if "LN" not in admin.evaluate("async () => (await (await fetch('/api/v1/halls/district/queue')).json()).services.map(s => s.service)"):
        add_service(admin, "LN", "L", "长名称事项", "Certification of inter-provincial telecommunications registrations")
    mgr_ctx.close()
    ctx, kiosk = browser_sign_in(browser, server, "kiosk")
    kiosk.set_viewport_size({"width": width, "height": height})
    kiosk.goto("/kiosk/district?lang=en")
    kiosk.wait_for_selector("button.service[data-service=LN]")
    # Nothing wider than its box, and the button tall enough for all its lines.
    overflowing = kiosk.evaluate("""() => [...document.querySelectorAll('button.service')].flatMap(b => [
        ...[b, ...b.querySelectorAll('span')].filter(e => e.scrollWidth > e.clientWidth)
          .map(e => `${b.dataset.service} ${e.className || 'button'} width ${e.scrollWidth} > ${e.clientWidth}`),
        ...(b.scrollHeight > b.clientHeight ? [`${b.dataset.service} height ${b.scrollHeight} > ${b.clientHeight}`] : [])])""")
    assert overflowing == []
    ctx.close()
