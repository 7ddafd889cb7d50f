"""The touch kiosk (取号机 on a screen): a refusal says why, and for a service closed now, when it
issues tickets today."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from support.browser import WAIT_MS, browser_sign_in


def test_a_service_closed_now_says_its_hours_today_on_the_kiosk(browser, server):
    # The manager gives RE half an hour twelve hours from now (Shanghai): closed now, whatever the time.
    at = (datetime.now(timezone.utc) + timedelta(hours=8 + 12)).hour
    hours = f"{at:02d}:00-{at:02d}:30"
    context, manager = browser_sign_in(browser, server, "mgr")
    manager.goto("/admin/district")
    row = manager.locator("form.row-form:has(input[name=code][value=RE])")
    row.locator("input[name=hours]").fill(hours)
    row.locator("button").click()
    manager.wait_for_selector(".flash", timeout=WAIT_MS)
    context.close()

    context, kiosk = browser_sign_in(browser, server, "kiosk")
    kiosk.goto("/kiosk/district")
    kiosk.click("button.service[data-service=RE]")
    kiosk.wait_for_function("document.querySelector('#message').textContent !== ''", timeout=WAIT_MS)
    assert kiosk.inner_text("#message") == f"该事项当前不在取号时间内。 今日取号时间：{hours}。"
    context.close()
