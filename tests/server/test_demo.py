"""`hallq demo`: the simulated hall carries on after a restart, and the printed
staff sign-in is for a window the simulation leaves alone."""

from __future__ import annotations

import json
import re
import time
import urllib.request

from hallq.core.events import RecordingPublisher
from hallq.core.service import HallService
from hallq.db import Database
from hallq.demo import DemoHall, demo_spec, prepare, simulated_windows
from hallq.ports import free_port
from support.cli import start_demo
from support.waiting import wait_for

FAST = 600.0  # hall seconds per real second: a ten-minute service takes one second


def _service(url: str, clock, publisher=None) -> HallService:
    return HallService(Database.from_url(url), publisher=publisher, clock_=clock)


def test_a_restarted_demo_finishes_the_tickets_at_its_windows_and_calls_new_ones(sqlite_url, clock):
    spec, mix = demo_spec(), demo_spec()
    for service in spec.services:  # the test's clock never moves on to another day: the day's quotas would run dry
        service.daily_quota = None  # (and then, on a slow machine, the queues), so none; `mix` keeps them as the visitors' mix
    first = _service(sqlite_url, clock)
    first.db.create_all()
    prepare(first, spec)
    numbers = simulated_windows(spec)
    demo = DemoHall(first, mix, seed=1, speed=FAST, rate=3)
    demo.start()
    try:
        def busy():  # half of them at once: more is luck (breaks, visitors walking up), and a loaded machine is slow
            windows = {w["number"]: w for w in first.windows("district")}
            return sum(1 for n in numbers if windows[n]["ticket"]) >= len(numbers) // 2

        def states():
            return {w["number"]: (w["state"], (w["ticket"] or {}).get("status")) for w in first.windows("district")}

        wait_for(busy, 60, "half the simulated windows to have tickets at once", seen=states)
    finally:
        demo.close()
    # Stopped with tickets at the simulated windows, as when Ctrl+C stops the demo. Some may have
    # finished their ticket between the look above and the stop (on a loaded machine, many): those
    # must call anew after the restart. So that at least half carry a ticket over whatever the
    # machine's speed, their staff call one now, as staff would before the stop.
    def left_now() -> dict[int, str | None]:
        return {w["number"]: (w["ticket"] or {}).get("id") for w in first.windows("district") if w["number"] in numbers}

    left = left_now()
    idle = [w for w in first.windows("district") if w["number"] in numbers and w["state"] == "idle" and not w["ticket"]]
    for window in idle[: max(0, len(numbers) // 2 - sum(map(bool, left.values())))]:
        # A visitor for it first: on a loaded machine the simulated windows may have emptied its queues.
        actor = demo._staff_actor(window["number"])
        first.issue_ticket("district", service=window["services"][0]["code"], actor=actor)
        first.window_action("district", window["number"], "call-next", actor=actor)
    left = left_now()
    assert len(left) == len(numbers) and sum(1 for t in left.values() if t) >= len(numbers) // 2
    first.db.dispose()

    events = RecordingPublisher()
    second = _service(sqlite_url, clock, events)
    prepare(second, spec)
    again = DemoHall(second, mix, seed=2, speed=FAST, rate=3)
    again.start()
    try:
        def moved_on(number: int) -> bool:
            mine = [e for e in list(events.events) if e.window == number]
            if left[number] is None:
                return any(e.kind == "ticket.called" for e in mine)
            finished = [i for i, e in enumerate(mine) if e.data.get("ticket") == left[number]
                        and e.kind in ("ticket.completed", "ticket.requeued", "ticket.no_show")]
            return bool(finished) and any(e.kind == "ticket.called" for e in mine[finished[0]:])

        wait_for(lambda: all(moved_on(n) for n in numbers), 60,
              "every simulated window to finish its ticket from before the restart and call another")
    finally:
        again.close()
        second.db.dispose()


def _windows(base: str) -> dict[int, dict]:
    with urllib.request.urlopen(f"{base}/api/v1/halls/district/windows", timeout=10) as r:
        return {w["number"]: w for w in json.loads(r.read())["windows"]}


def test_the_printed_staff_sign_in_gets_a_window_the_simulation_leaves_alone(browser, env):
    proc, text = start_demo(env, "--port", str(free_port()), "--mqtt-port", str(free_port()), "--rate", "5")
    try:
        terminal_url = re.search(r"staff terminal\s+(\S+)", text).group(1)
        name, password, window = re.search(r"staff login\s+(\S+) / (\S+)\s+\(window (\d+)", text).groups()
        window = int(window)
        base = terminal_url.split("/staff/")[0]

        # Signed in exactly as printed, the person opens the printed window.
        context = browser.new_context()
        page = context.new_page()
        page.goto(terminal_url)
        page.fill("#name", name)
        page.fill("#password", password)
        page.click("button[type=submit]")
        page.click(f"#open-{window}")
        page.wait_for_url(f"**/staff/district/windows/{window}")
        opened = _windows(base)[window]
        assert opened["state"] == "idle" and opened["ticket"] is None

        # The simulation works the other windows and leaves this one exactly as the person left it.
        wait_for(lambda: sum(w["ticket"] is not None for w in _windows(base).values()) >= 3, 60, "the simulated staff to call")
        time.sleep(10)  # 200 hall seconds: every simulated window has made a move by now
        later = _windows(base)[window]
        assert (later["state"], later["ticket"], later["version"]) == ("idle", None, opened["version"])
        context.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
