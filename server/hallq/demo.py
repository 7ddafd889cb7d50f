"""`hallq demo`: the example hall, alive. Simulated visitors take tickets and
simulated staff open windows, call, serve and complete, through the same
HallService the API uses, so every page and device sees a working hall."""

from __future__ import annotations

import logging
import random
import secrets
import threading
from pathlib import Path

import click

from hallq.core.accounts.users import set_password

from .config import Settings
from .core.enums import Role
from .core.errors import HallError
from .core.hallfile import parse_hall_file
from .core.office import OfficeService
from .core.txn import Actor

log = logging.getLogger("hallq.demo")
EXAMPLE = Path(__file__).parent / "examples" / "district-hall.toml"
STAFF_NAMES = ["王芳", "李娜", "张伟", "刘洋", "陈静", "杨帆", "赵敏", "黄磊", "周婷", "吴昊",
               "徐丽", "孙强", "胡军", "朱琳", "高翔", "林霞", "何刚", "郭敏", "马超", "罗佳"]
SPEED = 20.0  # one demo second is this many hall seconds


def demo_spec():
    """The example hall, open around the clock so the demo works at any hour."""
    spec = parse_hall_file(EXAMPLE)
    spec.hall.hours = ["00:00-24:00"]
    spec.hall.calendar = "every_day"  # a demo hall is open whatever day it is shown on
    spec.hall.stop_issuing_minutes_before_close = 0
    for s in spec.services:
        s.hours = []
    return spec


def prepare(service, spec) -> dict:
    """Load the hall and (re)create the demo accounts with fresh passwords."""
    service.load_hall(spec)
    slug = spec.hall.slug
    creds = {"manager": ("demo-manager", secrets.token_urlsafe(9))}
    staff = []
    for i, w in enumerate(spec.windows):
        staff.append((f"staff{w.number:02d}", STAFF_NAMES[i % len(STAFF_NAMES)], f"{1000 + w.number}"))

    def accounts_for(tx) -> None:
        from sqlmodel import select

        from hallq.core.accounts import users as accounts

        from .core.models import User

        session, hall, now = tx.session, tx.hall, tx.now
        wanted = [(creds["manager"][0], Role.MANAGER, "演示管理员", "")] + [(n, Role.STAFF, d, no) for n, d, no in staff]
        wanted.append(("demo-kiosk", Role.DEVICE, "演示取号机", ""))
        for name, role, display, no in wanted:
            if session.exec(select(User).where(User.name == name)).first() is None:
                accounts.create_user(session, name=name, role=role, password=secrets.token_urlsafe(12), now=now,
                                     hall=hall, display_name=display, staff_no=no)
        set_password(session, name=creds["manager"][0], password=creds["manager"][1])
        # The printed staff sign-in is for the window no simulated staff member works,
        # so the person who uses it does not fight the simulation for their window.
        person = f"staff{person_window(spec):02d}"
        staff_pw = secrets.token_urlsafe(9)
        set_password(session, name=person, password=staff_pw)
        creds["staff"] = (person, staff_pw)

    service.work.write(slug, accounts_for)
    creds["kiosk_token"] = OfficeService(service).create_token("demo-kiosk", "demo kiosk")
    return creds


def simulated_windows(spec) -> list[int]:
    """The windows the simulated staff work: the first 80% of the hall's, never the devices' window."""
    from .mqtt.demo_devices import WINDOW

    numbers = [w.number for w in spec.windows if w.number != WINDOW]
    return numbers[: max(1, int(len(spec.windows) * 0.8))]


def person_window(spec) -> int:
    """The window left for a person to sign in at: worked by neither the simulated staff nor the devices."""
    from .mqtt.demo_devices import WINDOW

    taken = set(simulated_windows(spec)) | {WINDOW}
    return next(w.number for w in spec.windows if w.number not in taken)


class DemoHall:
    """Visitors and staff, simulated in threads against a live HallService.

    Each simulated staff member looks at their window before every move and
    does what its state calls for, so the simulation carries on from whatever
    the database holds: a restarted demo finishes the tickets that were at the
    windows, and a window the day's sweep closed at midnight is opened again.
    """

    def __init__(self, service, spec, *, rate: float = 1.0, seed: int | None = None, speed: float = SPEED):
        self.service = service
        self.spec = spec
        self.slug = spec.hall.slug
        self.rate = rate
        self.speed = speed
        self.rng = random.Random(seed)
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []
        self.kiosk = Actor(name="demo-kiosk", role=Role.DEVICE, hall_id=None)
        self.handling = {s.code: s.handling_minutes for s in spec.services}
        self.mix = [(s.code, s.daily_quota or 100) for s in spec.services]
        self.windows = simulated_windows(spec)

    def start(self) -> None:
        """Start the visitors and one simulated staff member per simulated window."""
        self.threads = [threading.Thread(target=self._visitors, name="demo-visitors", daemon=True)]
        for number in self.windows:
            self.threads.append(threading.Thread(target=self._window, args=(number,), name=f"demo-window-{number}", daemon=True))
        for thread in self.threads:
            thread.start()

    def close(self, timeout: float = 10.0) -> None:
        """Stop the simulation, leaving every window and ticket as it is (as Ctrl+C does)."""
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout)

    def _sleep(self, hall_seconds: float) -> bool:
        return self.stop.wait(hall_seconds / self.speed)

    def _visitors(self) -> None:
        codes, weights = zip(*self.mix)
        per_hour = 476 / 7.0 * 1.6 * self.rate  # a busy day
        while not self.stop.is_set():
            service = self.rng.choices(codes, weights)[0]
            priority = self.rng.choices(["normal", "appointment", "green"], [85, 10, 5])[0]
            try:
                self.service.issue_ticket(self.slug, service=service, priority=priority, actor=self.kiosk, channel="kiosk")
            except HallError as exc:
                log.info("demo visitor refused: %s", exc.message)
            if self._sleep(self.rng.expovariate(per_hour / 3600.0)):
                return

    def _staff_actor(self, number: int) -> Actor:
        from sqlmodel import select

        from hallq.core.accounts.users import actor_for

        from .core.models import User

        with self.service.db.read() as session:
            return actor_for(session.exec(select(User).where(User.name == f"staff{number:02d}")).one())

    def _act(self, number: int, actor: Actor, action: str, **params):
        try:
            return self.service.window_action(self.slug, number, action, actor=actor, **params)
        except HallError:
            return None

    def _window(self, number: int) -> None:
        actor = self._staff_actor(number)
        if self._sleep(self.rng.uniform(0, 120)):
            return
        while not self.stop.is_set():
            try:
                wait = self._step(number, actor)
            except Exception:  # a database hiccup must not freeze the window for the rest of the demo
                log.exception("demo window %d", number)
                wait = 30
            if self._sleep(wait):
                return

    def _step(self, number: int, actor: Actor) -> float:
        """One move at the window, chosen by its state now; the hall seconds until the next move."""
        window = self.service.window(self.slug, number)
        state, ticket = window["state"], window["ticket"]
        if state == "closed":
            return 0 if self._act(number, actor, "open") else 30
        if state == "paused":
            return 0 if self._act(number, actor, "resume") else 30
        if ticket is None:  # idle: call the next visitor, who takes a while to walk up
            return 30 if self._act(number, actor, "call-next") is None else self.rng.uniform(20, 60)
        if ticket["status"] == "called":
            if self.rng.random() < 0.05:
                self._act(number, actor, "skip")
                return 0
            self._act(number, actor, "start")
            return self.rng.lognormvariate(0, 0.4) * self.handling.get(ticket["service"], 10) * 60
        # Being served (and, after a restart, perhaps for a while already): done now.
        if self._act(number, actor, "complete") is None:
            return 30
        if self.rng.random() < 0.02 and self._act(number, actor, "pause", reason="休息"):
            return 600
        return 0


def run_demo(settings: Settings, *, host: str, port: int | None, rate: float, mqtt_port: int | None = None,
             voice: bool = False) -> None:
    """Set up the demo hall and serve it, printing where to look."""
    from .assembly import build, hall_service
    from .web import create_app
    from .web.server import PortTaken, check_port, free_port, serve

    if not settings.database_url:
        settings = settings.model_copy(update={"database_url": f"sqlite:///{settings.instance_path / 'demo.db'}"})
    url = settings.effective_database_url
    spec = demo_spec()
    service = hall_service(settings, migrate=True)
    creds = prepare(service, spec)
    service.db.dispose()

    if port is None:
        port = settings.port
        try:
            check_port(host, port)
        except PortTaken:
            port = free_port(host)
    base = f"http://{host}:{port}"
    slug = spec.hall.slug
    from .mqtt import demo_devices

    settings = demo_devices.choose_port(settings, mqtt_port)
    if not settings.public_base_url:
        settings = settings.model_copy(update={"public_base_url": base})
    screen_port = free_port(host)
    click.echo(
        "\n".join(
            [
                "",
                f"HallQ demo hall “{spec.hall.name}” is running at {base}/",
                f"  manager          {base}/manager/{slug}   (live hall; sign in as the manager below)",
                f"  staff terminal   {base}/staff/{slug}/   (sign in as the staff member below and open window {person_window(spec)})",
                f"  hall screen      {base}/displays/hall.html?hall={slug}",
                f"  window screen    {base}/displays/window.html?hall={slug}&window=1",
                f"  kiosk            {base}/kiosk/{slug}?printer=demo-dispenser   (sign in as the manager; prints on the demo dispenser)",
                f"  administration   {base}/admin/{slug}",
                f"  API              {base}/api/v1/halls/{slug}/queue",
                f"  windows          {base}/api/v1/halls/{slug}/windows",
                f"  OpenAPI          {base}/api/openapi.json",
                f"  manager login    {creds['manager'][0]} / {creds['manager'][1]}",
                f"  staff login      {creds['staff'][0]} / {creds['staff'][1]}  (window {person_window(spec)}, which the simulation leaves to you)",
                f"  kiosk API token  {creds['kiosk_token']}",
                f"  database         {url}",
                f"  MQTT broker      {demo_devices.describe(settings)}",
                f"  edge call screen http://127.0.0.1:{screen_port}/hall.html?hall={slug}  (simulated devices at window {demo_devices.WINDOW})",
                "  voice            " + ("the simulated call screen says every call on this computer's speaker" if voice
                                         else "hall screens play each call (add --voice to hear them here)"),
                "Press Ctrl+C to stop.",
                "",
            ]
        )
    )

    def start_demo(app) -> None:
        # The simulated call screen announces every call; in the terminal that would
        # bury the addresses above, so only its warnings are shown.
        logging.getLogger("hallq_edge").setLevel(logging.WARNING)
        hallq = app.extensions["hallq"]
        DemoHall(hallq.halls, spec, rate=rate).start()
        demo_devices.start_for_demo(hallq, slug, screen_port=screen_port, voice=voice)

    try:
        serve(lambda: create_app(hallq=build(settings)), host=host, port=port, threads=settings.threads,
              live_connections=settings.live_connections, mqtt_devices=settings.mqtt_max_connections, on_worker_start=start_demo)
    except PortTaken as exc:
        raise click.ClickException(str(exc)) from None
