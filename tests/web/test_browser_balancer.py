"""Browser test of the balancer on the manager's live hall: the manager switches it
to suggest, sees a suggestion with its reason arrive without a reload, applies it
in one click, and the window's services change on the page and in the hall."""

from __future__ import annotations

import re

import pytest
from support.browser import WAIT_MS, browser_sign_in, kiosk_issue
from support.pageserver import ServerProcess

from hallq.core.balancer import store as balancer_store
from hallq.core.office import OfficeService
from hallq.core.service import HallService
from hallq.db import Database


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("balancer-pages")
    proc = ServerProcess(f"sqlite:///{tmp / 'hallq.db'}", tmp / "instance").start(prepare=True)
    db = Database.from_url(proc.db_url)
    proc.hall = HallService(db)  # the same database, from this process
    yield proc
    db.dispose()
    proc.stop()


def open_window(page, number: int) -> None:
    """Open a window as the signed-in staff member (through the API, with the page's CSRF token)."""
    status = page.evaluate(
        """async (n) => (await fetch(`/api/v1/halls/district/windows/${n}/open`, {method: 'POST',
              headers: {'Content-Type': 'application/json', 'X-CSRFToken': document.querySelector('meta[name=csrf-token]').content},
              body: '{}'})).status""",
        number,
    )
    assert status == 200


def test_manager_switches_to_suggest_and_applies_a_suggestion_in_one_click(browser, server):
    mgr = OfficeService(server.hall).actor_for_login("mgr", "pages-password")
    balancer_store.change_settings(server.hall, "district", {"mode": "off"}, actor=mgr)
    # Window 7 (household registration; qualified for medical insurance too) stands idle
    # while a medical-insurance visitor waits, and no open window serves MI.
    kiosk_ctx, kiosk = browser_sign_in(browser, server, "kiosk")
    kiosk_issue(kiosk, "MI")
    staff_ctx, staff = browser_sign_in(browser, server, "staff01")
    open_window(staff, 7)

    mgr_ctx, manager = browser_sign_in(browser, server, "mgr")
    assert "/manager/district" in manager.url
    manager.wait_for_selector("#balancer-modes:not([disabled]) input[value=off]:checked", timeout=WAIT_MS)
    assert manager.locator("#suggestions li.suggestion").count() == 0
    manager.evaluate("window.__same_page = true")

    manager.check("#balancer-modes input[value=suggest]")
    item = manager.locator("#suggestions li.suggestion")
    item.wait_for(timeout=WAIT_MS)
    reason = item.text_content()
    assert re.search(r"医疗保障（MI）有 1 人等候，最久 \d+ 分钟；7 号窗口空闲且具备资格", reason), reason
    assert "均衡调度" in manager.text_content("#balancer-panel")
    assert "mgr" in manager.text_content("#balancer-status")

    item.locator("button").click()
    manager.wait_for_function(
        "document.querySelector(\"input[data-window='7'][data-service='MI']\")?.checked === true", timeout=WAIT_MS
    )
    assert manager.evaluate("window.__same_page") is True  # no reload happened
    served = {s["code"] for s in server.hall.window("district", 7)["services"]}
    assert served == {"HR", "CX", "MI"}
    for ctx in (kiosk_ctx, staff_ctx, mgr_ctx):
        ctx.close()
