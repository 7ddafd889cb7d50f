"""Browser tests (Playwright driving Debian's Chromium) of the hall screen's
layout and legibility: its Chinese is drawn in a Chinese font, not as empty
boxes; its clock shows the hall's time zone whatever the PC's is; no call or
queue row is cut off in portrait; and the flashing newest call stays readable
(WCAG AA contrast) through its whole animation."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from support.browser import CHROMIUM, CHROMIUM_ARGS, WAIT_MS, browser_env
from support.pageserver import PASSWORD, ServerProcess, prepare
from support.browser_plugin import BypassingCsp

from hallq.core.office import OfficeService

CALLED_WINDOWS = range(1, 13)  # more calls than a portrait screen has rows for
PAGE = "/displays/hall.html?hall=district&chime=off&voice=off"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The example hall with twelve windows each serving a called ticket, and people waiting."""
    from hallq.core.service import HallService
    from hallq.db import Database
    from hallq.demo import demo_spec

    tmp = tmp_path_factory.mktemp("hall-screen")
    url = f"sqlite:///{tmp / 'hallq.db'}"
    prepare(url)
    db = Database.from_url(url)
    service = HallService(db)
    kiosk = OfficeService(service).actor_for_login("kiosk", PASSWORD)
    windows = {w.number: w for w in demo_spec().windows}
    for number in CALLED_WINDOWS:
        name = f"staff{number:02d}"
        if number > 2:
            OfficeService(service).add_user(name=name, role="staff", password=PASSWORD, hall="district", display_name=name, staff_no=f"{1000 + number}")
        staff = OfficeService(service).actor_for_login(name, PASSWORD)
        code = next(iter(windows[number].services))
        service.issue_ticket("district", service=code, actor=kiosk, channel="kiosk")
        service.window_action("district", number, "open", actor=staff)
        service.window_action("district", number, "call-next", actor=staff)
    for code in ("SI", "MI", "HR", "TX"):
        service.issue_ticket("district", service=code, actor=kiosk, channel="kiosk")
    db.dispose()
    proc = ServerProcess(url, tmp / "instance").start()
    yield proc
    proc.stop()


def open_screen(browser, server, width: int, height: int, query: str = "", clock_at: datetime | None = None, **context):
    ctx = browser.new_context(base_url=server.url, viewport={"width": width, "height": height}, **context)
    if clock_at is not None:
        ctx.clock.set_fixed_time(clock_at)  # the page's own clock: Chromium runs outside libfaketime
    page = ctx.new_page()
    page.goto(PAGE + query)
    page.wait_for_selector("#queue tr[data-service=SI]")
    page.wait_for_function("document.querySelectorAll('#calls li').length > 1", timeout=WAIT_MS)
    return ctx, page


# Draws the first characters of an element's text in the element's own font, each on a
# canvas: without a font that has them every one comes out as the same empty box.
DISTINCT_GLYPHS = """(selector) => {
  const el = document.querySelector(selector);
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = 64;
  const g = canvas.getContext('2d');
  g.font = `48px ${getComputedStyle(el).fontFamily}`;
  const drawn = [...el.textContent.trim()].slice(0, 3).map((ch) => {
    g.clearRect(0, 0, 64, 64);
    g.fillText(ch, 4, 52);
    return g.getImageData(0, 0, 64, 64).data.join(',');
  });
  return {text: el.textContent.trim(), distinct: new Set(drawn).size, of: drawn.length};
}"""


def distinct_glyphs(browser, server):
    """How many different pictures the hall screen's name (示范区…) and the sign-in heading (登录) get."""
    ctx = browser.new_context(base_url=server.url)
    page = ctx.new_page()
    page.goto(PAGE)
    page.wait_for_function("document.querySelector('#hall-name').textContent.startsWith('示范区')", timeout=WAIT_MS)
    found = [page.evaluate(DISTINCT_GLYPHS, "#hall-name")]
    page.goto("/login")
    found.append(page.evaluate(DISTINCT_GLYPHS, "h1"))
    ctx.close()
    return found


def test_pages_draw_chinese_not_empty_boxes(browser, server):
    for found in distinct_glyphs(browser, server):
        assert found["distinct"] == found["of"] > 1, (
            f"{found['text']!r} is drawn as {found['distinct']} different glyph(s): no Chinese font "
            "(install fonts-noto-cjk; tests/run does)")


def test_without_a_chinese_font_the_check_sees_the_boxes(browser, server, tmp_path):
    # The same pages in a Chromium whose fontconfig knows only DejaVu (Latin): what a bare machine shows.
    conf = tmp_path / "fonts.conf"
    conf.write_text(f"""<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig><dir>/usr/share/fonts/truetype/dejavu</dir><cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>""")
    bare = BypassingCsp(browser.browser_type.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
                                                    env=browser_env(FONTCONFIG_FILE=str(conf))))
    try:
        found = distinct_glyphs(bare, server)
    finally:
        bare.close()
    assert [f["distinct"] for f in found] == [1, 1], found


def test_the_clock_shows_the_halls_time_zone_not_the_pcs(browser, server):
    # A PC set to New York (13 hours behind the hall's Asia/Shanghai in November). The page's clock is
    # pinned: the browser's time is not this process's (under tests/run --shifted only this one is faked).
    moment = datetime(2026, 11, 23, 2, 5, tzinfo=timezone.utc)
    ctx, page = open_screen(browser, server, 1920, 1080, clock_at=moment, timezone_id="America/New_York")
    page.wait_for_function("document.querySelector('#hall-name').textContent.trim() !== ''")
    hall_time = moment.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%H:%M")
    page.wait_for_function(f"document.querySelector('#clock').textContent === '{hall_time}'", timeout=WAIT_MS)
    pc_time = page.evaluate("(() => { const d = new Date(); return [d.getHours(), d.getMinutes()]; })()")
    assert pc_time == [21, 5]  # the PC's own zone really is another
    ctx.close()


ROWS_INSIDE = """() => {
  const view = {top: 0, left: 0, bottom: innerHeight, right: innerWidth};
  const out = [];
  for (const row of document.querySelectorAll('#calls li, #queue tr')) {
    const r = row.getBoundingClientRect(), s = row.closest('section').getBoundingClientRect();
    for (const box of [view, s]) {
      if (r.top < box.top - 0.5 || r.left < box.left - 0.5 || r.bottom > box.bottom + 0.5 || r.right > box.right + 0.5) {
        out.push(`${row.dataset.number || row.dataset.service}: ${JSON.stringify(r)} outside ${JSON.stringify(box)}`);
        break;
      }
    }
  }
  return out;
}"""


@pytest.mark.parametrize("size, query", [((1080, 1920), "&layout=portrait"), ((768, 1366), "&layout=portrait"),
                                         ((768, 1366), ""), ((1920, 1080), "")])
def test_no_call_or_queue_row_is_cut_off(browser, server, size, query):
    ctx, page = open_screen(browser, server, *size, query)
    page.wait_for_function("document.querySelectorAll('#queue tr').length === 8")
    assert page.evaluate(ROWS_INSIDE) == []
    # Fitting does not mean dropping: every service stays, and the screen still shows several calls.
    assert page.locator("#queue tr").count() == 8
    assert page.locator("#calls li").count() >= 5
    ctx.close()


CONTRASTS = """() => {
  const rgb = (c) => c.match(/[\\d.]+/g).map(Number);
  const lum = (c) => {
    const [r, g, b] = rgb(c).slice(0, 3).map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const background = (el) => {
    for (; el; el = el.parentElement) {
      const c = getComputedStyle(el).backgroundColor, a = rgb(c)[3];
      if (a === undefined || a > 0) return c;
    }
    return 'rgb(255, 255, 255)';
  };
  const row = document.querySelector('#calls li.flash');
  const ratios = [];
  for (const el of [row.querySelector('.num'), row.querySelector('.to')]) {
    const [a, b] = [lum(getComputedStyle(el).color), lum(background(el))];
    ratios.push({part: el.className, ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05),
                 color: getComputedStyle(el).color, background: background(el)});
  }
  return ratios;
}"""


def test_the_flashing_call_keeps_readable_contrast(browser, server):
    ctx, page = open_screen(browser, server, 1920, 1080)
    api = ctx.request
    csrf = api.post("/api/v1/session", data={"name": "staff01", "password": PASSWORD}).json()["csrf_token"]
    answer = api.post("/api/v1/halls/district/windows/1/recall", data={}, headers={"X-CSRFToken": csrf})
    assert answer.ok, answer.text()
    page.wait_for_selector("#calls li.newest.flash", timeout=WAIT_MS)
    # Stop the flash and look at it at several moments of one blink, both phases included.
    page.evaluate("document.getAnimations().forEach((a) => a.pause())")
    seen = set()
    for ms in (0, 150, 299, 301, 450, 599, 2100, 2500):
        page.evaluate(f"document.getAnimations().forEach((a) => {{ if (a.animationName === 'flash') a.currentTime = {ms}; }})")
        for part in page.evaluate(CONTRASTS):
            seen.add(part["background"])
            assert part["ratio"] >= 4.5, f"at {ms} ms the {part['part']} text is {part['color']} on {part['background']}: {part['ratio']:.2f}:1"
    assert len(seen) == 2  # both the red and the yellow phase were looked at
    ctx.close()
