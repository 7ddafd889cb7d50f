"""Refresh docs/screenshots/: `python -m hallq.web.screenshots [--out DIR] [--port PORT]`.

Builds the example hall in a temporary database, brings it to life (tickets,
open windows, a call, a pause), serves it on 127.0.0.1:--port (default: a port
found free, printed) and photographs every page in Chinese with headless
Chromium (Playwright, the browser at HALLQ_CHROMIUM or /usr/bin/chromium;
Debian's fonts-noto-cjk draws the Chinese). The hall runs on a clock fixed at
10:00 on a Monday and the pages' clock reads a few minutes later, so the
pictures are the same whatever the date or hour."""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import secrets
import socket
import tempfile
import threading
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import delete, update

from ..assembly import build
from ..core.devices.models import Device
from ..core.reviews.models import Review
from ..core.office import OfficeService
from ..ports import PortTaken, check_port, free_port

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
STAFF = [("staff01", "王芳", "1001"), ("staff02", "李娜", "1002"), ("staff03", "张伟", "1003"), ("staff04", "刘洋", "1004"),
         ("staff05", "陈静", "1005"), ("staff11", "黄磊", "1011"), ("staff12", "周婷", "1012"), ("staff13", "吴昊", "1013")]
WINDOWS = [1, 2, 3, 4, 5, 11, 12, 13]
HALL_TIME = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)  # 10:00 in Shanghai on a Monday: the hall is open
PAGE_TIME = HALL_TIME + timedelta(minutes=4)  # what the pages' own clocks read: the calls are 4 minutes old
# libfaketime's variables: a browser started under a faked clock misbehaves, so it gets the real one.
FAKED_CLOCK = ("LD_PRELOAD", "FAKETIME", "FAKETIME_DONT_FAKE_MONOTONIC", "DONT_FAKE_MONOTONIC", "FAKETIME_DONT_RESET")


def history(url: str, days: int = 5) -> None:
    """The example hall's last `days` working days before HALL_TIME (16-20 Nov 2026 for 5),
    simulated through the engine into the database at `url`, for the statistics page to show
    days of a month."""
    from ..sim.runner import simulate
    from ..sim.scenario import load_scenario

    scenario = load_scenario("district")
    spec = scenario.spec.model_copy(update={"first_day": date(2026, 11, 21) - timedelta(days=days), "rated": 0.9, "scores": {5: 92, 4: 5, 3: 2, 1: 1}})
    simulate(dataclasses.replace(scenario, spec=spec), ["hallq+balancer"], days=days, keep=url,
             progress=lambda r: print(f"  simulated {r.day + 1}/{days} days of history", flush=True))


def forget_simulated_devices(session) -> None:
    """The simulator's review boxes are not the example hall's devices (the admin page lists
    those): its reviews keep their ticket, window and staff."""
    session.execute(update(Review).values(device_id=None))
    session.execute(delete(Device))


def populate(service, password: str) -> str:
    """Accounts, 40 tickets, eight open windows at work; returns a waiting ticket's id for the tracker."""
    from ..demo import demo_spec

    service.load_hall(demo_spec())
    OfficeService(service).add_user(name="manager", role="manager", password=password, hall="district", display_name="周经理")
    OfficeService(service).add_user(name="kiosk", role="device", password=password, hall="district", display_name="取号机")
    for name, display, no in STAFF:
        OfficeService(service).add_user(name=name, role="staff", password=password, hall="district", display_name=display, staff_no=no)
    kiosk = OfficeService(service).actor_for_login("kiosk", password)
    rng = random.Random(7)
    mix = ["SI"] * 6 + ["MI"] * 5 + ["HR"] * 3 + ["HF"] * 3 + ["BL"] * 2 + ["TX"] * 3 + [s["code"] for s in OfficeService(service).layout("district")["services"]]
    tickets = [service.issue_ticket("district", service=rng.choice(mix), actor=kiosk, channel="kiosk",
                                    priority="green" if rng.random() < 0.08 else "normal") for _ in range(40)]
    for (name, _, _), number in zip(STAFF, WINDOWS):
        staff = OfficeService(service).actor_for_login(name, password)
        service.window_action("district", number, "open", actor=staff)
        if number == 5:
            service.window_action("district", number, "pause", actor=staff, reason="开会")
            continue
        try:
            service.window_action("district", number, "call-next", actor=staff)
            if number % 2:
                service.window_action("district", number, "start", actor=staff)
        except Exception:  # nothing waiting for this window's services
            pass
    # A visitor unhappy with window 3 rates it on the phone: the managers' cases list has today's case.
    from ..core.reviews.service import ReviewService

    served = service.window("district", 3, viewer=None)["ticket"]
    if served is not None:
        third = OfficeService(service).actor_for_login(STAFF[2][0], password)
        service.window_action("district", 3, "complete", actor=third)
        ticket_id = next(t["id"] for t in tickets if t["number"] == served["number"])
        ReviewService(service).rate("district", ticket_id, score=2, reasons=["效率低", "材料要求不清楚"],
                                    comment="材料清单和窗口说的不一样，跑了两趟")
    waiting = [t for t in tickets if service.ticket("district", t["id"])["status"] == "waiting"]
    return waiting[len(waiting) // 2]["id"]


def _serve(app, port: int) -> None:
    import logging

    from .extensions import socketio

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    socketio.run(app, host="127.0.0.1", port=port, allow_unsafe_werkzeug=True, log_output=False, use_reloader=False)


def _shoot(page, path: Path, **kw) -> None:
    time.sleep(0.6)  # let the live data and fonts settle: these are pictures, not tests
    page.screenshot(path=str(path), **kw)
    print(f"wrote {path}")


def take(base: str, out: Path, password: str, ticket_id: str) -> None:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    chromium = os.environ.get("HALLQ_CHROMIUM", "/usr/bin/chromium")
    with sync_playwright() as p:
        env = {k: v for k, v in os.environ.items() if k not in FAKED_CLOCK}
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS, env=env)

        def context(width, height, user=None, **kw):
            # bypass_csp: wait_for_function evaluates its predicate with eval, which the pages' policy forbids.
            ctx = browser.new_context(base_url=base, viewport={"width": width, "height": height}, locale="zh-CN",
                                      bypass_csp=True, **kw)
            ctx.clock.set_fixed_time(PAGE_TIME)
            page = ctx.new_page()
            if user:
                page.goto("/login")
                page.fill("#name", user)
                page.fill("#password", password)
                page.click("button[type=submit]")
                page.wait_for_load_state()
            return page

        page = context(1280, 720)
        page.goto("/login")
        _shoot(page, out / "login.png")

        page = context(1366, 820, "staff01")
        page.wait_for_selector("#my-queues tr")
        page.wait_for_function("document.querySelector('#fig-served').textContent !== '—'")
        _shoot(page, out / "staff-terminal.png")

        page = context(1440, 900, "manager")
        page.wait_for_selector(".window-card")
        page.wait_for_selector("#waiting-rows tr")
        _shoot(page, out / "manager-live-hall.png", full_page=True)

        page = context(1366, 900, "manager")
        page.goto("/admin/district")
        _shoot(page, out / "admin.png")

        page = context(1440, 900, "manager")
        page.goto("/manager/district/stats")
        page.wait_for_selector(".stats-head[data-loaded='2026-11']")
        page.wait_for_selector("#today[data-loaded]")
        time.sleep(1)  # the charts' entry animation
        _shoot(page, out / "manager-stats.png", full_page=True)

        page = context(1440, 900, "manager")
        page.goto("/manager/district/cases")
        page.wait_for_selector("#case-rows tr[data-case]")
        _shoot(page, out / "manager-cases.png", full_page=True)
        page.click("#case-rows tr[data-case] a")
        page.wait_for_selector("#timeline li")
        _shoot(page, out / "manager-case.png", full_page=True)

        page = context(1280, 900, "kiosk")
        page.wait_for_function("document.querySelector('[data-waiting=SI]').textContent !== ''")
        _shoot(page, out / "kiosk.png")
        page.click("button.service[data-service=MI]")
        page.wait_for_selector("#ticket:not([hidden])")
        page.wait_for_function("document.querySelector('#ticket-qr').complete")
        _shoot(page, out / "kiosk-ticket.png")

        for name, size, query in (("hall-screen-landscape", (1920, 1080), ""), ("hall-screen-portrait", (1080, 1920), "&layout=portrait")):
            page = context(*size, device_scale_factor=0.5)
            page.goto(f"/displays/hall.html?hall=district&chime=off&voice=off{query}")
            page.wait_for_selector("#calls li")
            _shoot(page, out / f"{name}.png")

        page = context(1024, 600)
        page.goto("/displays/window.html?hall=district&window=1&chime=off&voice=off")
        page.wait_for_function("document.querySelector('#number').textContent !== ''")
        _shoot(page, out / "window-screen.png")
        page.goto("/displays/window.html?hall=district&window=5")
        page.wait_for_selector("#paused:not([hidden])")
        _shoot(page, out / "window-screen-paused.png")

        page = context(390, 844, is_mobile=True, has_touch=True, device_scale_factor=2)
        page.goto(f"/t/district/{ticket_id}")
        page.wait_for_function("document.querySelector('#ahead').textContent !== '—'")
        _shoot(page, out / "phone-tracker.png")
        browser.close()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"), help="folder for the PNG files")
    parser.add_argument("--port", type=int, default=0, help="port to serve the pages on (default: one found free)")
    parser.add_argument("--history-days", type=int, choices=range(1, 6), default=5,
                        help="working days of simulated history before the pictures' Monday (1-5, default 5)")
    args = parser.parse_args(argv)
    if args.port:
        try:
            check_port("127.0.0.1", args.port, what="port", hint="choose another with --port")
        except PortTaken as exc:
            parser.exit(2, f"{exc}\n")

    from ..config import load_settings
    from ..core.clock import FixedClock
    from ..core.service import HallService
    from ..db import Database
    from . import create_app

    tmp = Path(tempfile.mkdtemp(prefix="hallq-screenshots-"))
    url = f"sqlite:///{tmp / 'hallq.db'}"
    db = Database.from_url(url)
    db.create_all()
    password = secrets.token_urlsafe(12)
    history(url, args.history_days)
    # Nothing the real clock does (a day ending mid-run, a weekend) changes the pictures.
    service = HallService(db, clock_=FixedClock(HALL_TIME))
    service.work.change(forget_simulated_devices)
    ticket_id = populate(service, password)

    settings = load_settings(database_url=url, instance_path=tmp / "instance", log_level="WARNING")
    app = create_app(hallq=build(settings, halls=service))
    port = args.port or free_port()
    print(f"serving the example hall on http://127.0.0.1:{port}", flush=True)
    threading.Thread(target=_serve, args=(app, port), daemon=True).start()
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    take(f"http://127.0.0.1:{port}", args.out, password, ticket_id)


if __name__ == "__main__":
    main()
