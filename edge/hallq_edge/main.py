"""`hallq-edge ROLE --config FILE`: build a role's hardware and link from its
config file and run until stopped (systemd restarts it if it dies)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from . import config as cfg
from . import hardware
from .link import DeviceLink
from hallq_protocol import privacy


def build_link(conf: dict) -> DeviceLink:
    b = conf["broker"]
    return DeviceLink(
        hall=conf["hall"], device=conf["device"], username=b["username"], password=b["password"],
        host=b["host"], port=int(b["port"]), tls=bool(b.get("tls", False)), ca_file=b.get("ca_file"),
    )


def build(role: str, conf: dict, link: DeviceLink, factory=None, *, now=None, player=None):
    """The role object for `role`, its hardware made from conf on `factory`. `now` is the role's clock
    (default: the real one) and `player` the call screen's speaker instead of the one [announce] names."""
    gpio = cfg.section(conf, "gpio")
    factory = factory if factory is not None else hardware.pin_factory(gpio.get("pin_factory"))
    bounce = float(gpio.get("bounce_seconds", 0.05)) or None  # 0: no debouncing (mock pins pressed by a program)
    clock = {"now": now} if now is not None else {}
    hall = conf["hall"]
    if role == "dispenser":
        from .blocks import BlockStore
        from .dispenser import Dispenser
        from .printing import TicketPrinter, make_printer

        d = cfg.section(conf, "dispenser")
        buttons = {code: hardware.button(int(pin), factory, bounce) for code, pin in cfg.require(d, "buttons", "dispenser").items()}
        sensor = hardware.sensor(int(d["paper_sensor"]), factory) if "paper_sensor" in d else None
        printer = TicketPrinter(make_printer(cfg.section(conf, "printer")), paper_sensor=sensor,
                                query_status=bool(cfg.section(conf, "printer").get("query_status", False)))
        return Dispenser(link, buttons=buttons, led=hardware.led(int(cfg.require(d, "led", "dispenser")), factory),
                         printer=printer, blocks=BlockStore(d.get("blocks_file", "/var/lib/hallq-edge/blocks.db")),
                         hall=hall, timezone_name=conf.get("timezone", "Asia/Shanghai"), **clock)
    if role == "screen":
        from .announce import Announcer, make_player
        from .screen import ScreenAgent

        s = cfg.section(conf, "screen")
        a = cfg.section(conf, "announce")
        announcer = Announcer(player or make_player(a), english=bool(a.get("english", False)), repeat=int(a.get("repeat", 1)))
        return ScreenAgent(link, hall=hall, announcer=announcer, window=s.get("window"), **clock)
    if role == "review":
        from .review import ReviewBox

        r = cfg.section(conf, "review")
        return ReviewBox(link, hall=hall, window=int(cfg.require(r, "window", "review")),
                         buttons=[hardware.button(int(p), factory, bounce) for p in cfg.require(r, "buttons", "review")],
                         leds=[hardware.led(int(p), factory) for p in cfg.require(r, "leds", "review")],
                         prompt_seconds=float(r.get("prompt_seconds", 120)), **clock)
    if role == "caller":
        from .caller import WindowCaller

        c = cfg.section(conf, "caller")
        return WindowCaller(link, hall=hall, window=int(cfg.require(c, "window", "caller")),
                            keys={a: hardware.button(int(p), factory, bounce) for a, p in cfg.require(c, "keys", "caller").items()},
                            led=hardware.led(int(cfg.require(c, "led", "caller")), factory))
    raise cfg.ConfigError(f"role is one of {', '.join(cfg.ROLES)}, not {role!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hallq-edge", description="Run a HallQ edge device.")
    parser.add_argument("role", choices=cfg.ROLES)
    parser.add_argument("--config", required=True, help="the device's TOML config file")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    privacy.mask_logs()  # no ID or mobile number in any log line
    try:
        conf = cfg.load(args.config)
        link = build_link(conf)
        device = build(args.role, conf, link)
    except (cfg.ConfigError, ValueError, OSError) as exc:
        print(f"hallq-edge: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    link.start()
    if args.role == "screen":
        from .screen_server import PageHub, installed_displays

        s = cfg.section(conf, "screen")
        hub = PageHub(s.get("displays_dir") or installed_displays(), page=s.get("page", "hall.html")).attach(device)
        host, _, port = str(s.get("listen", "127.0.0.1:8080")).rpartition(":")
        threading.Thread(target=hub.run, args=(host or "127.0.0.1", int(port)), daemon=True).start()
    stop.wait()
    if hasattr(device, "close"):
        device.close()  # a review box's pending timers
    link.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
