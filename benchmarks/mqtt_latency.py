"""Staff press → call screen latency over MQTT, with 20 call screens subscribed.

A window caller sends `call_next`; the server's bridge runs it (SQLite, the
example hall), the publisher sends the call, and each of 20 screens records
when it arrives. One latency per screen per press. The screens run in
processes of their own (one per screen by default, as each screen is a device
of its own; --screen-processes 1 puts all 20 in one), the caller in another,
apart from the server (and the embedded broker), as on a real hall network.
Prints p50/p99/max for the embedded broker (amqtt, inside the server
process), for the Mosquitto already running at 127.0.0.1:--system-mosquitto-port
(1883; 0 skips it) with whatever configuration it has, and for a Mosquitto
started here with the settings of firmware_config/mosquitto.conf
(set_tcp_nodelay true). The brokers this script starts listen on --mqtt-port,
one after the other (default: a port found free, printed). The hall runs on a
FixedClock (a Monday morning), so the run does not depend on the date or hour.

Usage:  python benchmarks/mqtt_latency.py [--presses 200] [--screens 20] [--screen-processes N]
        [--only embedded|mosquitto] [--mqtt-port PORT] [--system-mosquitto-port 1883] [--smoke]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

from hallq.core.office import OfficeService

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "server"), str(ROOT / "edge")]


def now_ns() -> int:
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)  # one clock for every process


# A latency here is one process's monotonic clock minus another's. libfaketime (run
# to try the benchmarks at odd dates) starts each process's monotonic clock anew
# unless told not to: the device processes started below keep the real one (their
# wall clock, which request ages are judged by, stays as faked as the server's).
os.environ["FAKETIME_DONT_FAKE_MONOTONIC"] = "1"


# -- the devices' side (child processes) --------------------------------------

def screens_process(port: int, screens: list[dict], arrivals, stop) -> None:
    """Call screens (one per device, as in a hall: usually one per process) recording when each call arrives."""
    import paho.mqtt.client as paho
    from paho.mqtt.enums import CallbackAPIVersion

    from hallq_protocol.client import no_delay  # as the devices' own links do
    from hallq_protocol import client as mqtt_client
    from hallq_protocol import topics

    def screen(creds: dict) -> paho.Client:
        c = paho.Client(CallbackAPIVersion.VERSION2, client_id=creds["username"])
        c.username_pw_set(creds["username"], creds["password"])

        def on_connect(client, u, f, rc, p):
            no_delay(client)
            client.subscribe(topics.calls("district"), qos=1)

        def on_subscribe(client, u, mid, rcs, p):
            arrivals.put(("ready", creds["username"]))

        def on_message(client, u, m):
            t = now_ns()
            arrivals.put((json.loads(m.payload)["number"], t))

        c.on_connect, c.on_subscribe, c.on_message = on_connect, on_subscribe, on_message
        c.connect("127.0.0.1", port)
        c.loop_start()
        return c

    clients = [screen(s) for s in screens]
    stop.wait()
    for c in clients:
        mqtt_client.stop(c)


def devices(port: int, caller: dict, screens: list[dict], presses: int, processes: int, out) -> None:
    """The devices' process: its latencies, or what went wrong, go to `out`."""
    try:
        out.put(run_devices(port, caller, screens, presses, processes))
    except BaseException as exc:
        out.put(f"{type(exc).__name__}: {exc}")
        raise


def run_devices(port: int, caller: dict, screens: list[dict], presses: int, processes: int) -> list[list[float]]:
    context = mp.get_context("spawn")
    incoming, stop = context.Queue(), context.Event()
    groups = [screens[i::processes] for i in range(processes)]
    children = [context.Process(target=screens_process, args=(port, g, incoming, stop)) for g in groups if g]
    for child in children:
        child.start()
    try:
        return press(port, caller, screens, presses, incoming)
    finally:
        stop.set()
        for child in children:
            child.join(30)
            if child.is_alive():
                child.terminate()


def press(port: int, caller: dict, screens: list[dict], presses: int, incoming) -> list[list[float]]:
    """Press call-next `presses` times; per press, each screen's latency in ms."""
    import paho.mqtt.client as paho
    from paho.mqtt.enums import CallbackAPIVersion

    from hallq_protocol.client import no_delay
    from hallq_protocol import client as mqtt_client
    from hallq_protocol import topics

    for _ in screens:
        kind, _name = incoming.get(timeout=120)
        assert kind == "ready"

    arrivals: dict[str, list[int]] = {}
    lock = threading.Lock()
    all_in = threading.Event()

    def collect() -> None:
        while (item := incoming.get()) is not None:
            number, t = item
            with lock:
                arrivals.setdefault(number, []).append(t)
                if len(arrivals[number]) == len(screens):
                    all_in.set()

    collector = threading.Thread(target=collect, daemon=True)
    collector.start()
    answers: dict[str, dict] = {}
    answered = threading.Condition()
    caller_client = paho.Client(CallbackAPIVersion.VERSION2, client_id=caller["username"])
    caller_client.username_pw_set(caller["username"], caller["password"])

    def on_answer(client, u, m):
        body = json.loads(m.payload)
        with answered:
            answers[body["id"]] = body
            answered.notify_all()

    listening = threading.Event()

    def on_connect(client, *a):
        no_delay(client)
        client.subscribe(topics.response("district", caller["device"]), qos=1)

    caller_client.on_message = on_answer
    caller_client.on_connect = on_connect
    caller_client.on_subscribe = lambda *a: listening.set()
    caller_client.connect("127.0.0.1", port)
    caller_client.loop_start()
    if not listening.wait(30):
        raise SystemExit("the caller could not subscribe to its answers")

    def ask(action: str, rid: str) -> dict:
        body = {"id": rid, "action": action, "at": time.time()}
        caller_client.publish(topics.request("district", caller["device"]), json.dumps(body), qos=1)
        with answered:
            answered.wait_for(lambda: rid in answers, timeout=30)
        return answers.get(rid, {})

    latencies = []
    for i in range(presses):
        t0 = now_ns()
        answer = ask("call_next", f"call-{i}")
        if answer.get("status") != "ok":
            raise SystemExit(f"call_next failed: {answer}")
        number = answer["data"]["ticket"]["number"]
        all_in.wait(30)
        with lock:
            got = arrivals.get(number, [])
        latencies.append([(t - t0) / 1e6 for t in got])
        all_in.clear()
        ask("complete", f"done-{i}")
    mqtt_client.stop(caller_client)
    return latencies


# -- the server's side ------------------------------------------------------

def prepare(tmp: Path, screens: int, presses: int):
    from hallq.core.clock import FixedClock
    from hallq.core.devices.service import DeviceService
    from hallq.core.service import HallService
    from hallq.db import Database
    from hallq.demo import demo_spec

    db = Database.from_url(f"sqlite:///{tmp / 'bench.db'}")
    db.create_all()
    # 10:00 on a Monday in Shanghai: the hall's day never ends during a run, whenever it runs.
    halls = HallService(db, clock_=FixedClock(datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)))
    halls.load_hall(demo_spec())  # open around the clock
    OfficeService(halls).add_user(name="staff1", role="staff", password="staff-password", hall="district", display_name="王芳", staff_no="1001")
    staff = OfficeService(halls).actor_for_login("staff1", "staff-password")
    halls.window_action("district", 1, "open", actor=staff)
    for _ in range(presses + 10):
        halls.issue_ticket("district", service="SI", actor=staff)
    registry = DeviceService(halls)
    caller = registry.add(hall="district", name="caller-1", role="caller", window=1)
    screen_creds = [registry.add(hall="district", name=f"screen-{i}", role="screen") for i in range(screens)]
    return halls, caller, screen_creds


def measure(label: str, url: str, port: int, args) -> list[float] | None:
    from hallq import heap
    from hallq.mqtt.runtime import MqttRuntime

    with tempfile.TemporaryDirectory() as d:
        halls, caller, screens = prepare(Path(d), args.screens, args.presses)
        if not url:
            port = broker_port(args, "embedded broker (amqtt)")
        runtime = MqttRuntime(halls, url=url, port=port).start()
        runtime.link.connected.wait(10)
        heap.settle()  # as `hallq serve` does once a worker has started
        time.sleep(1)  # let the retained state go out before timing anything
        out = mp.get_context("spawn").Queue()
        child = mp.get_context("spawn").Process(target=devices, args=(runtime.port, caller, screens, args.presses, args.screen_processes, out))
        child.start()
        latencies = out.get(timeout=600)
        child.join(30)
        if isinstance(latencies, str):
            runtime.stop()
            raise SystemExit(f"{label}: the devices failed: {latencies}")
        runtime.stop()
        halls.db.dispose()
    report(label, latencies, args)
    return latencies


def report(label: str, per_press: list[list[float]], args) -> None:
    latencies = sorted(x for press in per_press for x in press)
    firsts = sorted(min(p) for p in per_press if p)
    fq = statistics.quantiles(firsts, n=100)
    expected = args.presses * args.screens
    q = statistics.quantiles(latencies, n=100)
    print(f"{label:<28} screens={args.screens} presses={args.presses} messages={len(latencies)}/{expected}  "
          f"p50={q[49]:.1f} ms  p99={q[98]:.1f} ms  max={latencies[-1]:.1f} ms  (first screen p50={fq[49]:.1f} p99={fq[98]:.1f} ms)")


def listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presses", type=int, default=200)
    parser.add_argument("--screens", type=int, default=20)
    parser.add_argument("--screen-processes", type=int, default=0,
                        help="processes the screens run in (default: one each, as each screen is a device of its own)")
    parser.add_argument("--only", choices=["embedded", "mosquitto"])
    parser.add_argument("--mqtt-port", type=int, default=0,
                        help="port for the brokers this script starts, one after the other (default: one found free)")
    parser.add_argument("--system-mosquitto-port", type=int, default=1883,
                        help="the Mosquitto already running on 127.0.0.1 to measure as configured (0: skip it)")
    parser.add_argument("--smoke", action="store_true", help="a tiny run (5 presses, 3 screens): does it still work?")
    args = parser.parse_args()
    if args.smoke:
        args.presses, args.screens = 5, 3
    args.screen_processes = max(1, min(args.screen_processes or args.screens, args.screens))
    import logging

    logging.basicConfig(level=logging.WARNING)
    print(f"press → call screen latency, {os.cpu_count()} cores")
    if args.only in (None, "embedded"):
        measure("embedded broker (amqtt)", "", 0, args)
    if args.only in (None, "mosquitto"):
        system = args.system_mosquitto_port
        if system and listening(system):
            measure(f"mosquitto :{system} (its config)", f"mqtt://127.0.0.1:{system}", system, args)
        elif system:
            print(f"mosquitto :{system}: nothing listens there, skipped")
        own = start_mosquitto(args)
        if own is None:
            print("mosquitto (reference config): not installed, skipped")
            return
        proc, port = own
        try:
            measure("mosquitto (reference conf)", f"mqtt://127.0.0.1:{port}", port, args)
        finally:
            proc.terminate()
            proc.wait(10)


def broker_port(args, what: str) -> int:
    """--mqtt-port if it is free (else a plain error), or a port found free; printed either way."""
    from hallq.ports import PortTaken, check_port, free_port

    if args.mqtt_port:
        try:
            check_port("127.0.0.1", args.mqtt_port, what=f"{what} port", hint="choose another with --mqtt-port")
        except PortTaken as exc:
            raise SystemExit(str(exc)) from None
    port = args.mqtt_port or free_port()
    print(f"{what} listens on 127.0.0.1:{port}", flush=True)
    return port


def start_mosquitto(args):
    """Our own Mosquitto on --mqtt-port (or a free port) with firmware_config/mosquitto.conf's settings (no TLS, anonymous)."""
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not os.path.exists(binary):
        return None
    port = broker_port(args, "mosquitto (reference conf)")
    conf = Path(tempfile.mkdtemp()) / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\nset_tcp_nodelay true\n"
                    "max_inflight_messages 20\nmax_queued_messages 1000\nmessage_size_limit 8192\n")
    proc = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not listening(port):
        if proc.poll() is not None:
            raise SystemExit(f"mosquitto did not start on port {port} (exit {proc.returncode})")
        time.sleep(0.05)
    return proc, port


if __name__ == "__main__":
    main()
