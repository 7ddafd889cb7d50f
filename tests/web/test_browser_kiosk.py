"""The touch kiosk (取号机 on a screen): a refusal says why, and for a service closed now, when it
issues tickets today."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from support.browser import WAIT_MS, browser_sign_in


def set_service_hours(manager, code: str, hours: str) -> None:
    row = manager.locator(f"form.row-form:has(input[name=code][value={code}])")
    row.locator("input[name=hours]").fill(hours)
    row.locator("button").click()
    manager.wait_for_selector(".flash", timeout=WAIT_MS)


def kiosk_refusal(browser, server, code: str) -> str:
    """What the kiosk says when the service is pressed and no ticket comes."""
    context, kiosk = browser_sign_in(browser, server, "kiosk")
    kiosk.goto("/kiosk/district")
    kiosk.click(f"button.service[data-service={code}]")
    kiosk.wait_for_function("document.querySelector('#message').textContent !== ''", timeout=WAIT_MS)
    said = kiosk.inner_text("#message")
    context.close()
    return said


def test_a_service_closed_now_says_its_hours_today_on_the_kiosk(browser, server):
    # The manager gives RE half an hour twelve hours from now (Shanghai): closed now, whatever the time.
    at = (datetime.now(timezone.utc) + timedelta(hours=8 + 12)).hour
    hours = f"{at:02d}:00-{at:02d}:30"
    context, manager = browser_sign_in(browser, server, "mgr")
    manager.goto("/admin/district")
    set_service_hours(manager, "RE", hours)
    context.close()
    assert kiosk_refusal(browser, server, "RE") == f"该事项当前不在取号时间内。 今日取号时间：{hours}。"


def test_a_service_that_issues_nothing_today_says_so_on_the_kiosk(browser, server):
    """Today's hours (a weekday's own) and the service's never meet: the kiosk says it issues no
    tickets today, as the dispenser's slip does (今日不办理本业务). It leaves today's hours
    changed: the tests after it in this module must not need them."""
    now = datetime.now(timezone.utc) + timedelta(hours=8)  # Shanghai
    at = (now + timedelta(hours=12)).hour  # the service's ten minutes, twelve hours from now
    weekday = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[now.weekday()]
    context, manager = browser_sign_in(browser, server, "mgr")
    manager.goto("/admin/district")
    hall = manager.locator("#hall form")
    hall.locator("textarea[name=weekday_hours]").fill(f"{weekday}: 00:00-{at:02d}:05, {at:02d}:25-24:00")  # open now
    hall.locator("input[name=stop_issuing_minutes_before_close]").fill("0")
    hall.locator("button.primary").click()
    manager.wait_for_selector(".flash", timeout=WAIT_MS)
    set_service_hours(manager, "RE", f"{at:02d}:10-{at:02d}:20")
    context.close()
    assert kiosk_refusal(browser, server, "RE") == "该事项当前不在取号时间内。 今日不办理本业务。"


def test_a_closed_day_is_named_on_the_kiosk(browser, server):
    """The manager closes today (a local closure, 闭厅): the kiosk says the hall issues no tickets
    today and names the day, as the dispenser's slip does. The days are opened again after. The day
    before and after are closed too: Shanghai's date may turn while the test runs (a clock-shifted
    run starts at 23:59:30)."""
    now = datetime.now(timezone.utc) + timedelta(hours=8)  # Shanghai
    days = [(now + timedelta(days=n)).date().isoformat() for n in (-1, 0, 1)]

    def closed_days(text: str) -> None:
        context, manager = browser_sign_in(browser, server, "mgr")
        manager.goto("/admin/district")
        hall = manager.locator("#hall form")
        hall.locator("textarea[name=closed_days]").fill(text)
        hall.locator("button.primary").click()
        manager.wait_for_selector(".flash", timeout=WAIT_MS)
        context.close()

    closed_days("\n".join(days))
    try:
        said = kiosk_refusal(browser, server, "SI")
        assert said in [f"本厅今日不办公，暂停取号。 今日（{day}）：闭厅。" for day in days[1:]], said
    finally:
        closed_days("")
