"""A city's load on one `hallq serve`: halls of devices and browsers, ramped level by level.

Registers --halls copies of the example hall (hall-01, hall-02, …; open around the clock), each
with --devices-per-hall devices: a caller at window 1 (a staff member signed in there), --screens
call screens, and dispensers for the rest. Then, level by level (--levels DEVICES:BROWSERS,…),
it connects that many devices (asyncio MQTT clients in one process) and browsers (Socket.IO over
WebSocket, joined to their hall's room, in another), every device sending a `status` request
every --report-every seconds (spread evenly), and presses call_next --calls times, on the halls'
callers in turn. For each level it prints:

- call → screen and call → browser p50/p99 (ms): from the caller's press to each of the hall's
  screens' MQTT message and each of its browsers' Socket.IO event;
- devices and browsers connected, and those refused or never answered (with the stage at which a
  browser gave up); a browser that fails other than by a refusal (HTTP 503) tries once more a
  second later, as the pages' Socket.IO client does, and is counted as "retried after …";
- device requests sent, and those left unanswered;
- CPU (% of one core) and RSS (MB) of the server's processes (and of Mosquitto, with it).

Configurations: --broker embedded|mosquitto, --workers 1|2 (two need Redis at --redis-url), and
--database sqlite|URL (a PostgreSQL URL gets a fresh database). Lists run every combination.
--before REF runs each configuration on the code of git commit REF first (taken with `git
archive`), then on this checkout: the before and after of one run on the same machine.

Usage:  python benchmarks/city_load.py [--halls 40] [--devices-per-hall 50] [--screens 5]
        [--levels 500:500,1000:1000,2000:2000] [--report-every 30] [--calls 100]
        [--broker embedded,mosquitto] [--workers 1,2] [--database sqlite,postgresql://…]
        [--before REF] [--redis-url redis://127.0.0.1:6379/14] [--smoke]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "server"), str(ROOT / "edge"), str(Path(__file__).resolve().parent)]
HALLQ = [sys.executable, "-m", "hallq"]
SERVER_PASSWORD = "city-load-server-password"
# Latencies are one process's monotonic clock minus another's: libfaketime must leave it alone.
os.environ["FAKETIME_DONT_FAKE_MONOTONIC"] = "1"


def now_ns() -> int:
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


# -- a small asyncio MQTT 3.1.1 client: thousands of devices in one process -----------------------

_TASKS: set[asyncio.Task] = set()  # the loop holds its tasks weakly: these run as long as their connection


def _keep(task: asyncio.Task) -> None:
    _TASKS.add(task)
    task.add_done_callback(_TASKS.discard)


def _packet(kind: int, body: bytes) -> bytes:
    size, length = len(body), bytearray()
    while True:
        byte, size = size % 128, size // 128
        length.append(byte | (0x80 if size else 0))
        if not size:
            return bytes((kind,)) + bytes(length) + body


def _text(value: str) -> bytes:
    data = value.encode()
    return len(data).to_bytes(2, "big") + data


class Device:
    """One device's connection: publishes, subscribes, hands every message to on_message(topic, payload)."""

    def __init__(self, creds: dict, on_message):
        self.creds, self.on_message = creds, on_message
        self.writer: asyncio.StreamWriter | None = None
        self._ids = 0

    async def connect(self, port: int, topics_: list[str]) -> str:
        """'ok', or why not: the broker's CONNACK code, or what the socket said."""
        try:
            reader, self.writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 10)
            self.writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            body = (_text("MQTT") + bytes((4, 0xC2)) + (60).to_bytes(2, "big") + _text(self.creds["username"])
                    + _text(self.creds["username"]) + _text(self.creds["password"]))
            self.writer.write(_packet(0x10, body))
            first = await asyncio.wait_for(reader.readexactly(4), 10)
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError) as exc:
            return type(exc).__name__
        if first[0] >> 4 != 2 or first[3] != 0:
            return f"connack {first[3]}"
        for topic in topics_:
            self._ids += 1
            self.writer.write(_packet(0x82, self._ids.to_bytes(2, "big") + _text(topic) + b"\x01"))
        _keep(asyncio.get_running_loop().create_task(self._read(reader)))
        _keep(asyncio.get_running_loop().create_task(self._ping()))
        return "ok"

    def publish(self, topic: str, payload: bytes) -> None:
        self._ids = self._ids % 65535 + 1
        self.writer.write(_packet(0x32, _text(topic) + self._ids.to_bytes(2, "big") + payload))

    async def _ping(self) -> None:
        while not self.writer.is_closing():
            await asyncio.sleep(30)
            self.writer.write(b"\xc0\x00")

    async def _read(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                first = (await reader.readexactly(1))[0]
                size, shift = 0, 0
                while True:
                    byte = (await reader.readexactly(1))[0]
                    size |= (byte & 0x7F) << shift
                    shift += 7
                    if not byte & 0x80:
                        break
                body = await reader.readexactly(size) if size else b""
                if first >> 4 == 3:  # PUBLISH
                    end = 2 + int.from_bytes(body[:2], "big")
                    qos = (first >> 1) & 3
                    if qos:
                        self.writer.write(b"\x40\x02" + body[end:end + 2])
                    self.on_message(body[2:end].decode(), body[end + (2 if qos else 0):])
        except (asyncio.IncompleteReadError, OSError):
            pass


def devices_process(port: int, plan: list[dict], report_every: float, commands, results) -> None:
    asyncio.run(_devices(port, plan, report_every, commands, results))


async def _devices(port: int, plan: list[dict], report_every: float, commands, results) -> None:
    from hallq_protocol import topics

    loop = asyncio.get_running_loop()
    connected: list[tuple[dict, Device]] = []
    refused: dict[str, int] = {}
    sent, answered = {}, set()
    waiting: dict[str, asyncio.Future] = {}
    screen_arrivals: dict[tuple[str, str], list[int]] = {}

    def on_message(spec: dict, topic: str, payload: bytes) -> None:
        t = now_ns()
        body = json.loads(payload)
        if topic.endswith("/response"):
            answered.add(body.get("id"))
            future = waiting.pop(body.get("id"), None)
            if future is not None and not future.done():
                future.set_result(body)
        elif "number" in body:
            screen_arrivals.setdefault((spec["hall"], body["number"]), []).append(t)

    async def report(spec: dict, device: Device, offset: float) -> None:
        await asyncio.sleep(offset)
        n = 0
        while not device.writer.is_closing():
            n += 1
            rid = f"st-{spec['hall']}-{spec['device']}-{n}"
            sent[rid] = time.monotonic()
            device.publish(topics.request(spec["hall"], spec["device"]),
                           json.dumps({"id": rid, "action": "status", "paper": "ok", "at": time.time()}).encode())
            await asyncio.sleep(report_every)

    async def ask(spec: dict, device: Device, action: str, rid: str) -> dict:
        future = loop.create_future()
        waiting[rid] = future
        device.publish(topics.request(spec["hall"], spec["device"]), json.dumps({"id": rid, "action": action, "at": time.time()}).encode())
        return await asyncio.wait_for(future, 10)

    async def connect(spec: dict) -> None:
        device = Device(spec, lambda topic, payload: on_message(spec, topic, payload))
        subs = [topics.response(spec["hall"], spec["device"])] + ([topics.calls(spec["hall"])] if spec["role"] == "screen" else [])
        outcome = await device.connect(port, subs)
        if outcome != "ok":
            refused[outcome] = refused.get(outcome, 0) + 1
            return
        connected.append((spec, device))
        _keep(loop.create_task(report(spec, device, report_every * (len(connected) % 97) / 97)))

    while (command := await loop.run_in_executor(None, commands.get)) is not None:
        if command[0] == "level":
            todo = plan[len(connected) + sum(refused.values()):command[1]]
            for i in range(0, len(todo), 50):
                await asyncio.gather(*(connect(spec) for spec in todo[i:i + 50]))
            await asyncio.sleep(2)  # subscriptions in place
            results.put(("ready", len(connected), dict(refused)))
        elif command[0] == "calls":
            _, count, settle = command
            callers = [(s, d) for s, d in connected if s["role"] == "caller"]
            screen_arrivals.clear()
            started = time.monotonic()
            presses, failed, in_a_row = [], 0, 0
            for i in range(count):
                if in_a_row >= 5:  # the server has stalled: the level's figures say so, the run goes on
                    failed += count - i
                    break
                spec, device = callers[i % len(callers)]
                t0 = now_ns()
                try:
                    answer = await ask(spec, device, "call_next", f"call-{time.monotonic_ns()}")
                except asyncio.TimeoutError:
                    answer = {}
                if answer.get("status") != "ok":
                    failed, in_a_row = failed + 1, in_a_row + 1
                    continue
                in_a_row = 0
                presses.append((spec["hall"], answer["data"]["ticket"]["number"], t0))
                await asyncio.sleep(settle)
                try:
                    await ask(spec, device, "complete", f"done-{time.monotonic_ns()}")
                except asyncio.TimeoutError:
                    failed += 1
            window = [rid for rid, at in sent.items() if at >= started]
            await asyncio.sleep(5)  # late answers still count as answered
            unanswered = sum(1 for rid in window if rid not in answered)
            results.put(("calls", presses, failed, {k: v for k, v in screen_arrivals.items()}, len(window), unanswered))
    for _, device in connected:
        device.writer.close()


# -- browsers: Socket.IO over WebSocket, as the pages' client speaks it ---------------------------

def browsers_process(base: str, halls: list[str], commands, results) -> None:
    asyncio.run(_browsers(base, halls, commands, results))


async def _browsers(base: str, halls: list[str], commands, results) -> None:
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidStatus

    loop = asyncio.get_running_loop()
    open_: list = []
    outcomes: dict[str, int] = {}  # why browsers did not connect, counted
    outcomes_retried: dict[str, int] = {}  # why browsers that connected in the end had to try twice
    arrivals: dict[tuple[str, str], list[int]] = {}
    uri = base.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"

    async def browse(hall: str, attempt: int = 1) -> None:
        stage = "opening"
        try:
            ws = await connect(uri, origin=base, open_timeout=10, ping_interval=None, close_timeout=1, max_size=2 ** 22)
            stage = "waiting for the handshake"
            assert (await asyncio.wait_for(ws.recv(), 15)).startswith("0")
            await ws.send("40")
            stage = "connecting the namespace"
            assert (await asyncio.wait_for(ws.recv(), 15)).startswith("40")
            await ws.send('421["join",{"hall":"%s"}]' % hall)
            stage = "joining the hall"
            while not (await asyncio.wait_for(ws.recv(), 15)).startswith("431"):
                pass
        except InvalidStatus as exc:
            key = f"HTTP {exc.response.status_code}"
            outcomes[key] = outcomes.get(key, 0) + 1
            return
        except (OSError, asyncio.TimeoutError, AssertionError, Exception) as exc:  # noqa: B014 - any failure is counted
            key = f"{type(exc).__name__} {stage}"
            if attempt == 1:  # a browser's Socket.IO client tries again, a second later
                key = f"retried after {key}"
                outcomes_retried[key] = outcomes_retried.get(key, 0) + 1
                await asyncio.sleep(1)
                return await browse(hall, attempt + 1)
            outcomes[key] = outcomes.get(key, 0) + 1
            return
        open_.append(ws)
        try:
            async for message in ws:
                if message == "2":
                    await ws.send("3")
                elif message.startswith('42["event"') and "ticket.called" in message:
                    t = now_ns()
                    event = json.loads(message[2:])[1]
                    if event.get("kind") == "ticket.called":
                        arrivals.setdefault((hall, event["data"]["number"]), []).append(t)
        except Exception:  # the connection ended
            pass

    while (command := await loop.run_in_executor(None, commands.get)) is not None:
        if command[0] == "level":
            tried = len(open_) + sum(outcomes.values())
            for i in range(tried, command[1], 100):
                for j in range(i, min(i + 100, command[1])):
                    _keep(loop.create_task(browse(halls[j % len(halls)])))
                while len(open_) + sum(outcomes.values()) < min(i + 100, command[1]):
                    await asyncio.sleep(0.05)
            results.put(("ready", len(open_), {**outcomes, **outcomes_retried}))
        elif command[0] == "mark":
            arrivals.clear()
            results.put(("marked",))
        elif command[0] == "collect":
            await asyncio.sleep(2)  # the last call's events
            results.put(("arrivals", dict(arrivals)))
    for ws in open_:
        await ws.close()


# -- the server's side ----------------------------------------------------------------------------

@dataclass
class Config:
    broker: str  # embedded | mosquitto
    workers: int
    database: str  # sqlite | a PostgreSQL URL
    code: str  # "this checkout" or a git ref

    def label(self) -> str:
        db = "sqlite" if self.database == "sqlite" else "postgresql"
        return f"{self.code:<13} {self.broker:<9} {self.workers}w {db:<10}"


def prepare(env: dict, args, tmp: Path) -> list[dict]:
    """Load the halls, register their devices and staff, issue the tickets the calls will take.
    Returns the devices' plan: one dict per device, halls interleaved so any prefix spans every hall."""
    from hallq.core.clock import SystemClock
    from hallq.core.devices.service import DeviceService
    from hallq.core.hallfile import parse_hall_file
    from hallq.core.office import OfficeService
    from hallq.core.service import HallService
    from hallq.db import Database

    text = (ROOT / "server/hallq/examples/district-hall.toml").read_text(encoding="utf-8")
    text = text.replace('hours = ["08:30-12:00", "13:30-17:30"]', 'hours = ["00:00-24:00"]\ncalendar = "every_day"')
    text = text.replace('hours = ["09:00-12:00", "13:30-17:00"]', "hours = []").replace("daily_quota = ", "# daily_quota = ")
    text = text.replace("stop_issuing_minutes_before_close = 15", "stop_issuing_minutes_before_close = 0")
    first = tmp / "hall-01.toml"
    first.write_text(text.replace('slug = "district"', 'slug = "hall-01"').replace('id = "cn-gd-demo-district"', 'id = "city-hall-01"'), encoding="utf-8")
    subprocess.run([*HALLQ, "hall", "load", str(first)], env=env, check=True, capture_output=True)  # creates and migrates the database
    db = Database.from_url(env["HALLQ_DATABASE_URL"])
    halls = HallService(db, clock_=SystemClock())
    office, registry = OfficeService(halls), DeviceService(halls)
    per_hall = max(1, args.calls // args.halls + 2) * len(args.levels)
    roster: list[list[dict]] = []
    for h in range(1, args.halls + 1):
        slug = f"hall-{h:02d}"
        if h > 1:
            path = tmp / f"{slug}.toml"
            path.write_text(text.replace('slug = "district"', f'slug = "{slug}"').replace('id = "cn-gd-demo-district"', f'id = "city-{slug}"'), encoding="utf-8")
            halls.load_hall(parse_hall_file(path))
        office.add_user(name=f"staff-{slug}", role="staff", password="staff-password", hall=slug, display_name="王芳", staff_no=f"9{h:03d}")
        staff = office.actor_for_login(f"staff-{slug}", "staff-password")
        halls.window_action(slug, 1, "open", actor=staff)
        for _ in range(per_hall):
            halls.issue_ticket(slug, service="SI", actor=staff)
        devices = []
        for d in range(args.devices_per_hall):
            role = "caller" if d == 0 else "screen" if d <= args.screens else "dispenser"
            creds = registry.add(hall=slug, name=f"{role}-{d}", role=role, window=1 if role == "caller" else None)
            devices.append({"hall": slug, "role": role, **creds})
        roster.append(devices)
    db.dispose()
    return [hall[d] for d in range(args.devices_per_hall) for hall in roster]


@contextmanager
def database(config: Config, tmp: Path):
    if config.database == "sqlite":
        yield f"sqlite:///{tmp / 'city.db'}"
        return
    from _server import fresh_postgres

    with fresh_postgres(config.database) as url:
        yield url


@contextmanager
def mosquitto(env: dict, tmp: Path):
    """Our own Mosquitto, configured by `hallq broker-config` from the registry; yields (devices' port, server's URL)."""
    from hallq.ports import free_port

    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not os.path.exists(binary):
        raise SystemExit("mosquitto is not installed (apt-get install mosquitto), or leave it out of --broker")
    port, server_port = free_port(), free_port()
    conf_dir = tmp / "mosquitto"
    subprocess.run([*HALLQ, "broker-config", "--mosquitto", str(conf_dir), "--port", str(port), "--server-port", str(server_port),
                    "--bind", "127.0.0.1", "--no-tls", "--no-persistence", "--server-password-stdin"],
                   env=env, input=SERVER_PASSWORD + "\n", text=True, check=True, capture_output=True)
    conf = conf_dir / "mosquitto.conf"
    if os.geteuid() == 0:  # Mosquitto started as root drops to its own user, who could not read our 0600 files
        conf.write_text(conf.read_text() + "user root\n")
    proc = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_listening(port, proc)
        yield proc, port, f"mqtt://hallq-server:{SERVER_PASSWORD}@127.0.0.1:{server_port}"
    finally:
        proc.terminate()
        proc.wait(10)


def wait_listening(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"a process the benchmark started has exited (code {proc.returncode})")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"nothing listens on port {port} after {timeout:.0f} s")


def run(config: Config, args) -> list[dict]:
    import psutil

    from hallq.ports import free_port

    rows = []
    with tempfile.TemporaryDirectory(prefix="hallq-city-") as d, ExitStack() as stack:
        tmp = Path(d)
        env = dict(os.environ, HALLQ_INSTANCE_PATH=str(tmp), HALLQ_LOG_LEVEL="WARNING", HALLQ_WORKERS=str(config.workers))
        for var in ("HALLQ_DATABASE_URL", "DATABASE_URL", "MQTT_URL", "HALLQ_MQTT_URL", "REDIS_URL", "HALLQ_REDIS_URL"):
            env.pop(var, None)
        if config.code != "this checkout":
            from _server import code_of

            env["PYTHONPATH"] = code_of(config.code, tmp)
        env["HALLQ_DATABASE_URL"] = stack.enter_context(database(config, tmp))
        if config.workers > 1:
            env["HALLQ_REDIS_URL"] = args.redis_url
        print(f"{config.label()}  preparing {args.halls} halls × {args.devices_per_hall} devices …", flush=True)
        plan = prepare(env, args, tmp)
        watched = []
        if config.broker == "mosquitto":
            broker_proc, device_port, url = stack.enter_context(mosquitto(env, tmp))
            env["HALLQ_MQTT_URL"] = url
            watched.append(psutil.Process(broker_proc.pid))
        else:
            device_port = free_port()
            env["HALLQ_MQTT_PORT"] = str(device_port)
        http_port = free_port()
        server_log = tmp / "server.log"
        log_file = stack.enter_context(server_log.open("wb"))
        server = subprocess.Popen([*HALLQ, "serve", "--port", str(http_port)], env=env, stdout=subprocess.DEVNULL, stderr=log_file)
        stack.callback(lambda: print_log(server_log))
        stack.callback(lambda: (server.terminate(), server.wait(30)))
        base = f"http://127.0.0.1:{http_port}"
        wait_listening(http_port, server)
        wait_listening(device_port, server)
        urlopen(base + "/api/v1/halls", timeout=30).read()
        time.sleep(2)  # the workers' MQTT links are up
        context = mp.get_context("spawn")
        dev_cmd, dev_out, br_cmd, br_out = context.Queue(), context.Queue(), context.Queue(), context.Queue()
        halls = sorted({spec["hall"] for spec in plan})
        children = [context.Process(target=devices_process, args=(device_port, plan, args.report_every, dev_cmd, dev_out), daemon=True),
                    context.Process(target=browsers_process, args=(base, halls, br_cmd, br_out), daemon=True)]
        for child in children:
            child.start()
        try:
            for devices, browsers in args.levels:
                dev_cmd.put(("level", devices))
                br_cmd.put(("level", browsers))
                _, dev_ok, dev_refused = dev_out.get(timeout=900)
                _, br_ok, br_refused = br_out.get(timeout=900)
                time.sleep(min(args.report_every, 10))  # the devices' reports are under way
                processes = [psutil.Process(server.pid), *psutil.Process(server.pid).children(recursive=True), *watched]
                cpu0 = sum(sum(p.cpu_times()[:2]) for p in processes)
                wall0 = time.monotonic()
                br_cmd.put(("mark",))
                br_out.get(timeout=60)
                dev_cmd.put(("calls", args.calls, args.settle))
                _, presses, failed, screens, requests, unanswered = dev_out.get(timeout=1800)
                br_cmd.put(("collect",))
                _, browser_arrivals = br_out.get(timeout=60)
                cpu = 100 * (sum(sum(p.cpu_times()[:2]) for p in processes) - cpu0) / (time.monotonic() - wall0)
                rss = sum(p.memory_info().rss for p in processes) / 2 ** 20
                row = {"config": config.label(), "devices": dev_ok, "devices_refused": dev_refused, "browsers": br_ok,
                       "browsers_refused": br_refused, "calls": len(presses), "calls_failed": failed,
                       "screen": latencies(presses, screens), "browser": latencies(presses, browser_arrivals),
                       "requests": requests, "unanswered": unanswered, "cpu": cpu, "rss": rss}
                print_row(row, devices, browsers)
                rows.append(row)
        finally:
            dev_cmd.put(None)
            br_cmd.put(None)
            for child in children:
                child.join(30)
                if child.is_alive():
                    child.terminate()
    return rows


def print_log(path: Path) -> None:
    """The server's warnings and errors, counted by kind (its log's first words after the logger's name)."""
    kinds: dict[str, int] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if " WARNING " in line or " ERROR " in line or line.startswith("Traceback"):
            key = line.split(": ", 1)[-1][:90]
            kinds[key] = kinds.get(key, 0) + 1
    for key, n in sorted(kinds.items(), key=lambda kv: -kv[1])[:12]:
        print(f"    server log ×{n}: {key}")


def latencies(presses: list, arrivals: dict) -> dict:
    values = sorted((t - t0) / 1e6 for hall, number, t0 in presses for t in arrivals.get((hall, number), ()))
    if len(values) < 2:
        return {"n": len(values), "p50": None, "p99": None}
    q = statistics.quantiles(values, n=100, method="inclusive")
    return {"n": len(values), "p50": q[49], "p99": q[98]}


def print_row(row: dict, devices: int, browsers: int) -> None:
    def ms(figure: dict) -> str:
        return "—" if figure["p50"] is None else f"{figure['p50']:6.1f} / {figure['p99']:6.1f}"

    def refused(counts: dict) -> str:
        return "" if not counts else " (" + ", ".join(f"{n} {why}" for why, n in counts.items()) + ")"

    print(f"{row['config']}  devices {row['devices']:>5}/{devices:<5}{refused(row['devices_refused'])}  "
          f"browsers {row['browsers']:>5}/{browsers:<5}{refused(row['browsers_refused'])}  "
          f"call→screen {ms(row['screen'])} ms  call→browser {ms(row['browser'])} ms  "
          f"calls {row['calls']} (failed {row['calls_failed']})  requests {row['requests']} unanswered {row['unanswered']}  "
          f"CPU {row['cpu']:.0f}%  RSS {row['rss']:.0f} MB", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--halls", type=int, default=40)
    parser.add_argument("--devices-per-hall", type=int, default=50)
    parser.add_argument("--screens", type=int, default=5, help="call screens per hall (the first device is its caller)")
    parser.add_argument("--levels", default="500:500,1000:1000,2000:2000", help="DEVICES:BROWSERS for each level, comma-separated")
    parser.add_argument("--report-every", type=float, default=30.0, help="seconds between one device's status requests")
    parser.add_argument("--calls", type=int, default=100, help="call_next presses per level")
    parser.add_argument("--settle", type=float, default=0.2, help="seconds between a call and its completion")
    parser.add_argument("--broker", help="embedded, mosquitto or both, comma-separated (default: both; --smoke: embedded)")
    parser.add_argument("--workers", help="server processes, comma-separated (default: 1)")
    parser.add_argument("--database", help="sqlite and/or PostgreSQL URLs, comma-separated (default: sqlite)")
    parser.add_argument("--before", default="", help="a git commit to measure first, with the same load")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14", help="for two workers")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--smoke", action="store_true",
                        help="a tiny run (2 halls, 8 devices, 4 browsers, 4 calls; the embedded broker unless --broker says): does it still work?")
    args = parser.parse_args()
    if args.smoke:
        args.halls, args.devices_per_hall, args.screens, args.calls, args.report_every, args.levels = 2, 4, 1, 4, 2.0, "8:4"
    args.broker = args.broker or ("embedded" if args.smoke else "embedded,mosquitto")
    args.workers, args.database = args.workers or "1", args.database or "sqlite"
    args.levels = [tuple(int(n) for n in level.split(":")) for level in args.levels.split(",")]
    most = max(devices for devices, _ in args.levels)
    if most > args.halls * args.devices_per_hall:
        raise SystemExit(f"a level asks for {most} devices; --halls × --devices-per-hall registers {args.halls * args.devices_per_hall}")
    print(f"city load: {args.halls} halls × {args.devices_per_hall} devices, status every {args.report_every:g} s, "
          f"{args.calls} calls a level, {os.cpu_count()} cores; latencies are p50 / p99", flush=True)
    codes = ([args.before] if args.before else []) + ["this checkout"]
    rows = []
    for broker in args.broker.split(","):
        for workers in (int(w) for w in args.workers.split(",")):
            for db in args.database.split(","):
                for code in codes:
                    rows += run(Config(broker, workers, db, code), args)
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    if any(row["calls"] == 0 for row in rows if row["config"].startswith("this checkout")):
        raise SystemExit("a level made no call on this checkout: see above")


if __name__ == "__main__":
    main()
