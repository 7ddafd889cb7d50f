"""Start a real `hallq serve` in a subprocess for benchmarks: temp instance, example hall open all day."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.request import urlopen

from hallq.ports import PortTaken, check_port, free_port

ROOT = Path(__file__).resolve().parent.parent
HALLQ = [sys.executable, "-m", "hallq"]


def code_of(ref: str, tmp: Path) -> str:
    """The server and edge folders of git commit `ref`, unpacked under tmp: a PYTHONPATH (--before REF)."""
    import tarfile

    where = tmp / f"code-{ref}"
    where.mkdir()
    archive = tmp / f"code-{ref}.tar"
    archive.write_bytes(subprocess.run(["git", "-C", str(ROOT), "archive", ref, "server", "edge"], check=True, capture_output=True).stdout)
    with tarfile.open(archive) as tar:
        tar.extractall(where, filter="data")
    return os.pathsep.join([str(where / "server"), str(where / "edge")])


@contextmanager
def fresh_postgres(url: str):
    """A new, empty database on the server of `url` for one run; dropped afterwards."""
    import secrets

    import psycopg
    from sqlalchemy.engine import make_url

    server = make_url(url)  # postgresql://… or SQLAlchemy's postgresql+psycopg://…
    plain = server.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"hallq_bench_{secrets.token_hex(4)}"
    with psycopg.connect(plain, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(plain, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@dataclass
class Served:
    base: str  # http://127.0.0.1:PORT
    token: str  # an API token of a kiosk account (device role) of the hall
    env: dict  # the environment the server runs in: `hallq` commands with it reach the same database
    pid: int  # the serving process


@contextmanager
def running_server(database_url: str = "", threads: int = 64, workers: int = 1, redis_url: str = "", port: int = 0, mqtt_port: int = 0,
                   pythonpath: str | None = None):
    """Yield a Served for an example hall; stop it afterwards. `pythonpath` runs HallQ's code from elsewhere
    (another checkout's server and edge folders).

    A PostgreSQL URL names the server and a database to connect to first: each run
    gets a new database there, dropped afterwards. `port` and `mqtt_port` (HTTP and
    the embedded broker) are checked free; 0 takes a port found free. Both are printed."""
    port = _port(port, "HTTP", "--port")
    mqtt_port = _port(mqtt_port, "MQTT", "--mqtt-port")
    print(f"hallq serve on 127.0.0.1:{port}, its MQTT broker on 127.0.0.1:{mqtt_port}", flush=True)
    if database_url.startswith("postgres"):
        with fresh_postgres(database_url) as url, _serve(url, threads, workers, redis_url, port, mqtt_port, pythonpath) as served:
            yield served
        return
    with _serve(database_url, threads, workers, redis_url, port, mqtt_port, pythonpath) as served:
        yield served


def _port(port: int, what: str, option: str) -> int:
    if not port:
        return free_port()
    try:
        check_port("127.0.0.1", port, what=f"{what} port", hint=f"choose another with {option}")
    except PortTaken as exc:
        raise SystemExit(str(exc)) from None
    return port


@contextmanager
def _serve(database_url: str, threads: int, workers: int, redis_url: str, port: int, mqtt_port: int, pythonpath: str | None):
    with tempfile.TemporaryDirectory(prefix="hallq-bench-") as tmp:
        env = dict(os.environ, HALLQ_INSTANCE_PATH=tmp, HALLQ_THREADS=str(threads), HALLQ_LOG_LEVEL="WARNING",
                   HALLQ_WORKERS=str(workers))
        if pythonpath:
            env["PYTHONPATH"] = pythonpath + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        if database_url:
            env["HALLQ_DATABASE_URL"] = database_url
        if redis_url:
            env["HALLQ_REDIS_URL"] = redis_url
        hall_file = Path(tmp) / "hall.toml"
        text = (ROOT / "server/hallq/examples/district-hall.toml").read_text(encoding="utf-8")
        text = text.replace('hours = ["08:30-12:00", "13:30-17:30"]', 'hours = ["00:00-24:00"]\ncalendar = "every_day"')
        text = text.replace('hours = ["09:00-12:00", "13:30-17:00"]', "hours = []")
        text = text.replace("daily_quota = ", "# daily_quota = ")
        text = text.replace("stop_issuing_minutes_before_close = 15", "stop_issuing_minutes_before_close = 0")  # issue up to midnight too
        hall_file.write_text(text, encoding="utf-8")
        run = lambda *args, **kw: subprocess.run([*HALLQ, *args], env=env, check=True, capture_output=True, text=True, **kw)  # noqa: E731
        run("hall", "load", str(hall_file))
        run("user", "add", "bench-kiosk", "--role", "device", "--hall", "district", "--password-stdin", input="bench-password\n")
        token = run("token", "create", "bench-kiosk").stdout.strip()
        env["HALLQ_MQTT_PORT"] = str(mqtt_port)
        proc = subprocess.Popen([*HALLQ, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(200):
                try:
                    urlopen(base + "/api/v1/halls", timeout=1).read()
                    break
                except OSError:
                    time.sleep(0.1)
            else:
                raise RuntimeError("server did not start: " + proc.stderr.read().decode()[-2000:])
            yield Served(base, token, env, proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
