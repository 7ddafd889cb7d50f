"""Simulated edge devices for `hallq demo`: a dispenser, a call screen, a
window caller and a review box, running the real hallq_edge code on gpiozero
mock pins and an escpos file printer, against the embedded broker. Their
"visitors" and "staff" press the mock buttons."""

from __future__ import annotations

import logging
import random
import threading
from pathlib import Path

from hallq.core.accounts.users import actor_for
from hallq.core.devices.service import DeviceService

from ..core.errors import HallError

log = logging.getLogger("hallq.demo.devices")
DISPLAYS = Path(__file__).resolve().parents[3] / "displays"
WINDOW = 20  # the simulated staff of `hallq demo` leave this window to the devices


def _credentials(devices: DeviceService, hall: str, name: str, role: str, window: int | None) -> str:
    try:
        return devices.add(hall=hall, name=name, role=role, window=window)["password"]
    except HallError:
        return devices.renew(hall=hall, name=name)["password"]


class DemoDevices:
    def __init__(self, halls, *, hall: str, port: int, instance: Path, screen_port: int | None = None, seed: int | None = None,
                 player=None):
        self.halls = halls
        self.player = player  # the call screen's speaker (hallq_edge.announce); None: silent
        self.devices = DeviceService(halls)
        self.hall = hall
        self.port = port
        self.instance = Path(instance)
        self.screen_port = screen_port
        self.rng = random.Random(seed)
        self.stop = threading.Event()
        self.links = []

    def _device(self, role: str, name: str, window: int | None = None, **sections):
        """One device as a Raspberry Pi runs it: hallq_edge's own builder, from a config like its file,
        on the demo's mock pins (no debouncing: the simulated people press and release at once)."""
        from hallq_edge.link import DeviceLink
        from hallq_edge.main import build

        password = _credentials(self.devices, self.hall, name, role, window)
        link = DeviceLink(hall=self.hall, device=name, username=f"{self.hall}.{name}", password=password, port=self.port)
        self.links.append(link)
        conf = {"hall": self.hall, "device": name, "gpio": {"bounce_seconds": 0}, **sections}
        return build(role, conf, link, self.pins, now=self.halls.clock.now, player=self.player)

    def start(self) -> None:
        from gpiozero.pins.mock import MockFactory

        self.pins = MockFactory()
        codes = [s["service"] for s in self.halls.queue(self.hall)]
        self.service_pins = {code: 2 + i for i, code in enumerate(codes[:8])}  # BCM 2–9
        self.dispenser = self._device(
            "dispenser", "demo-dispenser", timezone=self.halls.hall_info(self.hall)["timezone"],
            dispenser={"buttons": self.service_pins, "led": 10, "blocks_file": str(self.instance / "demo-dispenser-blocks.db")},
            printer={"kind": "file", "path": str(self.instance / "demo-tickets.escpos")})
        self.screen = self._device("screen", "demo-screen", screen={}, announce={"engine": "none"})
        self.caller_keys = {"call_next": 11, "complete": 12, "pause": 13}
        self.caller = self._device("caller", f"demo-caller-{WINDOW}", WINDOW,
                                   caller={"window": WINDOW, "keys": self.caller_keys, "led": 14})
        self.review_pins = [15, 16, 17, 18, 19]
        self.review = self._device("review", f"demo-review-{WINDOW}", WINDOW,
                                   review={"window": WINDOW, "buttons": self.review_pins, "leds": [20, 21, 22, 23, 24]})
        for link in self.links:
            link.start()
        if self.screen_port and (DISPLAYS / "hall.html").is_file():
            from hallq_edge.screen_server import PageHub

            hub = PageHub(DISPLAYS).attach(self.screen)
            threading.Thread(target=hub.run, args=("127.0.0.1", self.screen_port), daemon=True, name="demo-screen").start()
        self._sign_in()
        threading.Thread(target=self._visitors, daemon=True, name="demo-dispenser-visitors").start()
        threading.Thread(target=self._staff, daemon=True, name="demo-caller-staff").start()

    def _sign_in(self) -> None:
        from sqlmodel import select

        from ..core.models import User

        with self.halls.db.read() as session:
            user = session.exec(select(User).where(User.name == f"staff{WINDOW:02d}")).first()
            actor = actor_for(user) if user else None
        if actor is None:
            return
        for action in ("resume", "open"):
            try:
                self.halls.window_action(self.hall, WINDOW, action, actor=actor)
            except HallError:
                pass

    def _press(self, pin: int) -> None:
        self.pins.pin(pin).drive_low()
        self.pins.pin(pin).drive_high()

    def _visitors(self) -> None:
        while not self.stop.wait(self.rng.uniform(15, 40)):
            self._press(self.rng.choice(list(self.service_pins.values())))

    def _staff(self) -> None:
        while not self.stop.wait(self.rng.uniform(20, 40)):
            self._press(self.caller_keys["call_next"])
            if self.stop.wait(self.rng.uniform(30, 90)):
                return
            self._press(self.caller_keys["complete"])
            if self.stop.wait(self.rng.uniform(2, 6)):
                return
            # Most visitors are very satisfied (the reports: 95% five-star); a few are not.
            score_index = self.rng.choices(range(5), [80, 12, 5, 2, 1])[0]
            self._press(self.review_pins[score_index])

    def close(self) -> None:
        self.stop.set()
        for link in self.links:
            try:
                link.stop()
            except Exception:
                log.exception("could not stop %s", link.device)


def choose_port(settings, mqtt_port: int | None):
    """The demo's MQTT settings: the given port, else the configured one, else a free one when that is taken."""
    from ..web.server import free_port
    from .broker import PortTaken, check_port

    if mqtt_port is not None:
        return settings.model_copy(update={"mqtt_port": mqtt_port})
    if settings.mqtt_url or not settings.mqtt_enabled:
        return settings
    try:
        check_port(settings.mqtt_host, settings.mqtt_port)
    except PortTaken:
        settings = settings.model_copy(update={"mqtt_port": free_port(settings.mqtt_host)})
    return settings


def describe(settings) -> str:
    if not settings.mqtt_enabled:
        return "off"
    if settings.mqtt_url:
        return "external (MQTT_URL)"
    return f"mqtt://{settings.mqtt_host}:{settings.mqtt_port}  (embedded; devices: `hallq device add`)"


def speaker(hallq):
    """The demo call screen's speaker for `hallq demo --voice`: the server's own voice and cache (espeak-ng if it
    has none), played by aplay or paplay."""
    from hallq_edge.announce import SpeakerPlayer
    from hallq_edge.voice import EspeakVoice, VoiceCache

    settings = hallq.settings
    cache = hallq.voice or VoiceCache(
        EspeakVoice(voice=settings.voice_name, speed=settings.voice_speed), settings.effective_voice_cache_dir)
    return SpeakerPlayer(cache)


def start_for_demo(hallq, hall: str, *, screen_port: int | None = None, voice: bool = False) -> DemoDevices | None:
    """Start HallQ's MQTT side and the simulated devices on it; with voice, the call screen speaks here."""
    from .runtime import start_for

    settings = hallq.settings
    runtime = start_for(hallq)
    if runtime is None or runtime.broker is None:
        if voice:
            log.warning("--voice: the calls are said by the simulated call screen, which needs the embedded MQTT broker")
        return None
    demo = DemoDevices(hallq.halls, hall=hall, port=runtime.port, instance=settings.instance_path, screen_port=screen_port,
                       player=speaker(hallq) if voice else None)
    try:
        demo.start()
    except Exception:  # the demo hall runs on without its devices
        log.exception("could not start the simulated devices")
        return None
    hallq.demo_devices = demo
    return demo
