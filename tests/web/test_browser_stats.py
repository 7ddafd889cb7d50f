"""The statistics page (统计, issue 13): a manager opens it, sees this month's figures as tiles,
charts and tables, switches month, and downloads the month's Excel workbook, which openpyxl
reads back; in Chinese by default, in English on request."""

from __future__ import annotations

from openpyxl import load_workbook

from support.browser import WAIT_MS, browser_sign_in, kiosk_issue


def tile(page, key: str, box: str = "tiles") -> str:
    return page.inner_text(f"#{box} .tile[data-key={key}] .tile-value")


def test_a_manager_reads_the_months_figures_switches_month_and_downloads_the_workbook(browser, server, tmp_path):
    kiosk_context, kiosk = browser_sign_in(browser, server, "kiosk")
    kiosk.goto("/kiosk/district")
    for _ in range(2):
        assert kiosk_issue(kiosk, "SI")["number"]
    kiosk_context.close()
    staff_context, staff = browser_sign_in(browser, server, "staff01")  # calls one of them: window 1 and staff01 have a row
    staff.click("#open-1")
    staff.click("#call-next:not([disabled])")
    staff.wait_for_selector("#ticket-number:has-text('A0')", timeout=WAIT_MS)
    staff_context.close()

    context, page = browser_sign_in(browser, server, "mgr", accept_downloads=True)
    page.goto("/manager/district")
    page.click("header nav >> text=统计")
    page.wait_for_url("**/manager/district/stats")
    this_month = page.get_attribute(".stats-head", "data-month")
    page.wait_for_selector(f".stats-head[data-loaded='{this_month}']", timeout=WAIT_MS)
    assert page.inner_text("h2 >> nth=0") == "统计"
    assert tile(page, "tickets") == "2" and tile(page, "cases") == "0"
    assert [page.get_attribute(f"#tiles .tile >> nth={i}", "data-key") for i in range(3)] == ["tickets", "cases", "cases_per_working_day"]
    page.wait_for_selector("#today[data-loaded]", timeout=WAIT_MS)  # today's tiles beside the month's
    assert (tile(page, "tickets", "today-tiles"), tile(page, "cases", "today-tiles")) == ("2", "0")
    assert page.is_hidden("#today-closed") and page.is_hidden("#today-error") and page.inner_text("#today-date").startswith(this_month)
    assert "转办率" in page.inner_text("#table-windows thead") and "未叫离开率" in page.inner_text("#table-services thead")
    for chart in ("hours", "months", "heat"):
        assert page.locator(f"#chart-{chart} canvas").count() == 1, chart
    assert page.inner_text("#table-services tbody tr th") and "个工作日" in page.inner_text("#stats-period")
    head, row = (page.locator(f"#table-services {part}").first.bounding_box() for part in ("thead th", "tbody tr th"))
    assert abs(head["x"] - row["x"]) < 1 and row["y"] > head["y"]  # each row under the header, not beside it
    for key in ("services", "windows", "staff"):  # as many cells a row as the header has columns (no tickets per window)
        columns = page.locator(f"#table-{key} thead th").count()
        assert page.locator(f"#table-{key} tbody tr").count() >= 1, key
        assert all(page.locator(f"#table-{key} tbody tr >> nth={i}").locator("th, td").count() == columns
                   for i in range(page.locator(f"#table-{key} tbody tr").count())), key

    year, month = map(int, this_month.split("-"))
    earlier = f"{year - 1}-12" if month == 1 else f"{year}-{month - 1:02d}"
    page.fill("#stats-month", earlier)
    page.dispatch_event("#stats-month", "change")
    page.wait_for_selector(f".stats-head[data-loaded='{earlier}']", timeout=WAIT_MS)
    assert tile(page, "tickets") == "0" and page.locator("#table-services tbody tr").count() == 0
    assert tile(page, "tickets", "today-tiles") == "2"  # today stays today

    page.fill("#stats-month", this_month)
    page.dispatch_event("#stats-month", "change")
    page.wait_for_selector(f".stats-head[data-loaded='{this_month}']", timeout=WAIT_MS)
    with page.expect_download(timeout=WAIT_MS) as download:
        page.click("#stats-download")
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.name.startswith(f"hallq-district-{this_month}-01_")
    book = load_workbook(path)
    summary = {row[0]: row[1] for row in book["总览"].iter_rows(min_row=3, values_only=True)}
    assert (summary["取号数"], summary["办件数"]) == (2, 0)
    assert [row[0] for row in book["事项"].iter_rows(min_row=2, values_only=True)] == ["SI"]

    page.goto("/manager/district/stats?lang=en")
    page.wait_for_selector(f".stats-head[data-loaded='{this_month}']", timeout=WAIT_MS)
    assert page.inner_text("h2 >> nth=0") == "Statistics" and "working days" in page.inner_text("#stats-period")
    context.close()
