"""One device floods the server with requests: how long does another device wait?

A quiet dispenser asks for tickets one after another (each request sent when the last was
answered, as HallQ's dispensers do, and at most --quiet-rate a second, well within a device's
rate limit, so that what is measured is the flood and not its own limit), first alone, then
while another dispenser floods: it publishes requests as fast as the broker takes them (at most
1,000 unacknowledged) for as long as the quiet one is asking. Both run in processes of their
own, apart from the server (the example hall on SQLite, its embedded broker in the same process,
as `hallq serve` runs them). Prints the quiet dispenser's p50/p99 alone and during the flood,
their ratio (the goal: p99 during the flood at most 2x the p99 alone), how many requests the
flood sent and how they were answered (rate_limited, ok, dropped unanswered by the server past
the rate of its refusals, or dropped unread by the broker), whether any of the quiet dispenser's
requests went unanswered and whether the server's link was renewed (must be neither).

With --mosquitto the devices and the server go through a Mosquitto started on the
configuration `hallq broker-config` writes (two listeners, no TLS, no persistence) instead.

Usage:  python benchmarks/device_flood.py [--quiet 300] [--quiet-rate 5] [--flood N] [--flood-nice 19]
                                         [--mqtt-port P] [--mosquitto] [--smoke]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import statistics
import sys
import tempfile
import threading
import time
from collections import deque
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "server"), str(ROOT / "edge")]


def quiet_device(port: int, creds: dict, count: int, rate: float, start, done, out) -> None:
    """Sequential issue_ticket requests, at most `rate` a second; the seconds each took to be
    answered (None: unanswered in 30 s, or refused)."""
    from hallq_edge.link import DeviceLink

    link = DeviceLink(hall="district", device=creds["device"], username=creds["username"], password=creds["password"],
                      port=port, reconnect_delay=(1, 1))
    link.start()
    link.wait_connected(30)
    start.wait()
    took = []
    next_at = time.perf_counter()
    parent = mp.parent_process()
    for _ in range(count):
        if parent is not None and not parent.is_alive():
            break  # the benchmark was stopped
        time.sleep(max(0.0, next_at - time.perf_counter()))
        t0 = time.perf_counter()
        next_at = t0 + 1 / rate
        answer = link.call("issue_ticket", service="SI", timeout=30)
        took.append(time.perf_counter() - t0 if answer and answer["status"] == "ok" else None)
    done.set()
    link.stop()
    out.put(took)


def flooder(port: int, creds: dict, count: int, nice: int, ready, start, done, out) -> None:
    """`count` requests (0: as many as it can until `done`) published as fast as the broker takes
    them (at most 1,000 unacknowledged), never waiting for answers; how many were sent and what
    came back, by status or error code. `nice`: its process's niceness (a hall's flooding device
    is another machine: here it would otherwise take its CPU from the server it floods)."""
    import os

    from hallq_edge.link import DeviceLink
    from hallq_protocol import topics

    os.nice(nice)
    link = DeviceLink(hall="district", device=creds["device"], username=creds["username"], password=creds["password"],
                      port=port, reconnect_delay=(1, 1))
    answers: dict[str, int] = {}
    lock = threading.Lock()

    last = [time.monotonic()]

    def on_answer(client, userdata, message) -> None:
        body = json.loads(message.payload)
        key = body["status"] if body["status"] == "ok" else body["error"]["code"]
        with lock:
            answers[key] = answers.get(key, 0) + 1
            last[0] = time.monotonic()

    link.client.message_callback_add(topics.response("district", creds["device"]), on_answer)
    link.start()
    link.wait_connected(30)
    ready.set()
    start.wait()
    at = datetime.now(timezone.utc).isoformat()
    unacknowledged: deque = deque()
    sent = 0
    parent = mp.parent_process()
    while not done.is_set() and (sent < count or not count):
        if sent % 1000 == 0 and parent is not None and not parent.is_alive():
            break  # the benchmark was stopped (a flood for as long as it runs must not outlive it)
        body = {"id": f"flood-{sent}", "action": "issue_ticket", "service": "MI", "at": at}
        unacknowledged.append(link.client.publish(topics.request("district", creds["device"]), json.dumps(body), qos=1))
        sent += 1
        while len(unacknowledged) > 1000 or (unacknowledged and unacknowledged[0].is_published()):
            oldest = unacknowledged.popleft()
            if not oldest.is_published() and not _acknowledged(oldest, 10):
                unacknowledged.clear()  # the link dropped: they go again when it is back
    # Until every request is answered or none has been for 3 s (the embedded broker drops what a
    # device publishes past its rate: those are never answered).
    last[0] = time.monotonic()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and sum(answers.values()) < sent and time.monotonic() - last[0] < 3:
        time.sleep(0.1)
    link.stop()
    with lock:
        out.put({"sent": sent, "answers": dict(answers)})


def _acknowledged(info, timeout: float) -> bool:
    try:
        info.wait_for_publish(timeout)
    except (RuntimeError, ValueError):  # paho: not queued, or the link is down
        return False
    return info.is_published()


def prepare(tmp: Path):
    from hallq.core.devices.service import DeviceService
    from hallq.core.service import HallService
    from hallq.db import Database
    from hallq.demo import demo_spec

    db = Database.from_url(f"sqlite:///{tmp / 'bench.db'}")
    db.create_all()
    halls = HallService(db)
    spec = demo_spec()  # open around the clock
    for service in spec.services:
        service.daily_quota = None  # the flood must not run into a quota
    halls.load_hall(spec)
    registry = DeviceService(halls)
    quiet = registry.add(hall="district", name="disp-quiet", role="dispenser")
    loud = registry.add(hall="district", name="disp-loud", role="dispenser")
    return halls, {**quiet, "device": "disp-quiet"}, {**loud, "device": "disp-loud"}


def start_mosquitto(halls, tmp: Path, port: int):
    """A Mosquitto of our own on the configuration broker-config writes; (process, the server's MQTT URL)."""
    import os
    import secrets
    import shutil
    import socket
    import subprocess

    from hallq.core.devices import registry
    from hallq.mqtt import mosquitto
    from hallq.ports import free_port

    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not Path(binary).exists():
        raise SystemExit("--mosquitto needs the mosquitto binary (apt-get install mosquitto)")
    server_port, password = free_port(), secrets.token_urlsafe(16)
    with halls.db.read() as session:
        devices = registry.all_active(session)
    paths = mosquitto.write(tmp / "mosquitto", devices, password, port=port, bind="127.0.0.1", tls=False,
                            server_port=server_port, server_bind="127.0.0.1", persistence_dir="")
    conf = paths["mosquitto.conf"]
    if os.geteuid() == 0:  # started as root, Mosquitto drops to its own user, who could not read our 0600 files
        conf.write_text(conf.read_text() + "user root\n")
    proc = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    def listening(p: int) -> bool:
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", p)) == 0

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not (listening(port) and listening(server_port)):
        time.sleep(0.1)
    return proc, f"mqtt://hallq-server:{password}@127.0.0.1:{server_port}"


def quantiles(took: list[float]) -> tuple[float, float]:
    q = statistics.quantiles(took, n=100)
    return q[49] * 1000, q[98] * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quiet", type=int, default=300, help="the quiet dispenser's requests in each phase")
    ap.add_argument("--flood", type=int, default=5000,
                    help="the flooding dispenser's requests (default 5,000, as in the campaign); 0: it floods for as long as the quiet one asks")
    ap.add_argument("--flood-nice", type=int, default=0,
                    help="the flooding device's niceness (default 0; 19: it takes only the CPU nobody else wants, as another machine would)")
    ap.add_argument("--quiet-rate", type=float, default=None,
                    help="the quiet dispenser's requests a second at most (default 5, half a device's default rate; "
                         "with --smoke 20: its 60 requests fit in its burst)")
    ap.add_argument("--mqtt-port", type=int, default=0, help="the embedded broker's port (default: one found free)")
    ap.add_argument("--device-rate", type=float, default=None, help="mqtt_device_rate (default: the setting's default)")
    ap.add_argument("--device-burst", type=int, default=None, help="mqtt_device_burst (default: the setting's default)")
    ap.add_argument("--mosquitto", action="store_true", help="through a Mosquitto on the generated configuration (needs the mosquitto binary)")
    ap.add_argument("--smoke", action="store_true", help="a tiny run (30 quiet requests in each phase, a flood of 500): does it still work?")
    args = ap.parse_args()
    if args.smoke:
        args.quiet, args.flood = 30, 500
    if args.quiet_rate is None:
        args.quiet_rate = 20.0 if args.smoke else 5.0

    from hallq import heap
    from hallq.mqtt.runtime import MqttRuntime
    from hallq.ports import free_port

    ctx = mp.get_context("spawn")
    with tempfile.TemporaryDirectory() as d:
        halls, quiet, loud = prepare(Path(d))
        port = args.mqtt_port or free_port()
        broker = None
        from hallq.config import Settings

        defaults = Settings.model_fields
        limits = {"device_rate": args.device_rate or defaults["mqtt_device_rate"].default,
                  "device_burst": args.device_burst or defaults["mqtt_device_burst"].default,
                  "device_queue": defaults["mqtt_device_queue"].default}
        if args.mosquitto:
            broker, url = start_mosquitto(halls, Path(d), port)
            runtime = MqttRuntime(halls, url=url, **limits).start()
            print(f"mosquitto (generated configuration) listens on 127.0.0.1:{port}", flush=True)
        else:
            runtime = MqttRuntime(halls, port=port, **limits).start()
            print(f"embedded broker (amqtt) listens on 127.0.0.1:{port}", flush=True)
        runtime.link.connected.wait(10)
        heap.settle()
        try:
            figures = []
            for flooding in (False, True):
                out, start, ready, done = ctx.Queue(), ctx.Event(), ctx.Event(), ctx.Event()
                procs = [ctx.Process(target=quiet_device, args=(port, quiet, args.quiet, args.quiet_rate, start, done, out))]
                if flooding:
                    procs.append(ctx.Process(target=flooder, args=(port, loud, args.flood, args.flood_nice, ready, start, done, out)))
                for p in procs:
                    p.start()
                if flooding:
                    ready.wait(60)
                time.sleep(1)
                start.set()
                results = [out.get(timeout=600) for _ in procs]
                for p in procs:
                    p.join(60)
                took = next(r for r in results if isinstance(r, list))
                flood = next((r for r in results if isinstance(r, dict)), None)
                figures.append((took, flood))
            by_server, renewed = getattr(runtime.bridge, "dropped", 0), runtime.link.restored
        finally:
            runtime.stop()
            if broker is not None:
                broker.terminate()
                broker.wait(10)
            halls.db.dispose()

    (alone, _), (during, flood) = figures
    lost = sum(1 for t in alone + during if t is None)
    a50, a99 = quantiles([t for t in alone if t is not None])
    d50, d99 = quantiles([t for t in during if t is not None])
    print(f"quiet device alone         requests={len(alone)}  p50={a50:.1f} ms  p99={a99:.1f} ms")
    print(f"quiet device during flood  requests={len(during)}  p50={d50:.1f} ms  p99={d99:.1f} ms")
    print(f"p99 during / alone         {d99 / a99:.2f}x  (goal: at most 2x)")
    sent, answers = flood["sent"], flood["answers"]
    by_broker = sent - sum(answers.values()) - by_server
    print(f"flood of {sent} answered   " + ", ".join(f"{k}={v}" for k, v in sorted(answers.items()))
          + (f"; {by_server} dropped unanswered by the server (past its refusals' rate)" if by_server else "")
          + (f"; {by_broker} dropped unread by the broker" if by_broker else ""))
    print(f"quiet requests unanswered  {lost}")
    print(f"server link renewed        {renewed} times (a probe lost behind the flood; must be 0)")
    if lost or renewed:
        raise SystemExit("the quiet device lost requests" if lost else "the server's link was renewed during the flood")


if __name__ == "__main__":
    main()
