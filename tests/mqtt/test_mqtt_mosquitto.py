"""HallQ with Mosquitto instead of the embedded broker: `hallq broker-config`
writes the password file, ACL and configuration from the device registry, and
a Mosquitto of our own (a free port, our files) enforces them. Skips without
the mosquitto binary; fails in CI."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time

import pytest
from click.testing import CliRunner
from sqlmodel import select

from hallq.cli import cli
from hallq.core.models import Ticket
from hallq.mqtt.runtime import MqttRuntime
from hallq.ports import free_port
from hallq_protocol import topics
from support.brokers import mosquitto_binary, try_connect
from support.mqtt import make_link
from support.waiting import wait_for

SERVER_PASSWORD = "server-secret-for-tests"


@pytest.fixture
def mosquitto(hall, sqlite_url, tmp_path):
    """Devices registered, broker-config run, and our own Mosquitto started on its output."""
    binary = mosquitto_binary()
    from hallq.core.devices.service import DeviceService

    devices = DeviceService(hall)
    creds = {name: devices.add(hall="district", name=name, role=role, window=window)
             for name, role, window in [("disp-1", "dispenser", None), ("disp-2", "dispenser", None), ("screen-1", "screen", None)]}
    port = free_port()
    conf_dir = tmp_path / "mosquitto"
    result = CliRunner().invoke(
        cli, ["--database-url", sqlite_url, "broker-config", "--mosquitto", str(conf_dir), "--port", str(port),
              "--bind", "127.0.0.1", "--no-tls", "--no-persistence", "--server-password-stdin"],
        input=SERVER_PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    conf = conf_dir / "mosquitto.conf"
    if os.geteuid() == 0:  # Mosquitto started as root drops to its own user, who could not read our 0600 files
        conf.write_text(conf.read_text() + "user root\n")
    procs = [_start(binary, conf, port)]
    runtime = MqttRuntime(hall, url=f"mqtt://hallq-server:{SERVER_PASSWORD}@127.0.0.1:{port}").start()
    runtime.mosquitto_port = port
    runtime.creds = creds
    runtime.conf_dir = conf_dir

    def restart() -> None:
        procs[-1].terminate()
        procs[-1].wait(10)
        procs.append(_start(binary, conf, port))

    runtime.restart_broker = restart
    wait_for(runtime.link.connected.is_set, what="the server to connect to mosquitto")
    yield runtime
    runtime.stop()
    procs[-1].terminate()
    procs[-1].wait(10)


def _start(binary: str, conf, port: int) -> subprocess.Popen:
    proc = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    wait_for(lambda: _listening(port) or proc.poll() is not None, what="mosquitto to listen")
    if proc.poll() is not None:
        pytest.fail(f"mosquitto did not start: {proc.stdout.read().decode()}")
    return proc


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_broker_config_writes_hashes_and_per_device_rules(mosquitto):
    passwords = (mosquitto.conf_dir / "passwords").read_text()
    acl = (mosquitto.conf_dir / "acl").read_text()

    assert "district.disp-1:$7$" in passwords and mosquitto.creds["disp-1"]["password"] not in passwords
    assert oct((mosquitto.conf_dir / "passwords").stat().st_mode & 0o777) == "0o600"
    assert "user district.disp-1\ntopic write hallq/district/device/disp-1/request\n" in acl
    assert "topic read hallq/district/window/+/state" in acl.split("user district.screen-1")[1]
    assert "allow_anonymous false" in (mosquitto.conf_dir / "mosquitto.conf").read_text()


def test_mosquitto_refuses_anonymous_and_wrong_passwords(mosquitto):
    port, good = mosquitto.mosquitto_port, mosquitto.creds["disp-1"]

    assert try_connect(port, None, None) == "Not authorized"
    assert try_connect(port, good["username"], "wrong") == "Not authorized"
    assert try_connect(port, good["username"], good["password"]) == "Success"


def test_devices_work_through_mosquitto_and_stay_on_their_own_topics(mosquitto, hall):
    links = []
    for name in ("disp-1", "screen-1"):
        link = make_link(mosquitto, name, mosquitto.creds[name]["password"])
        link.start()
        links.append(link)
    disp, screen = links
    wait_for(lambda: disp.connected and screen.connected, what="devices to connect")
    states: dict = {}
    screen.subscribe(topics.all_window_states("district"), lambda s: states.__setitem__(s["number"], s))
    wait_for(lambda: len(states) == 20, what="the retained window states")
    try:
        disp.publish_raw(topics.request("district", "disp-2"), json.dumps(
            {"id": "forged", "action": "issue_ticket", "service": "SI", "at": time.time()}).encode())
        answer = disp.call("issue_ticket", service="MI", timeout=20)

        assert answer["status"] == "ok" and answer["data"]["number"] == "B001"
        with hall.db.read() as session:
            assert [t.number for t in session.exec(select(Ticket)).all()] == ["B001"]
    finally:
        for link in links:
            link.stop()


def test_after_a_mosquitto_restart_the_server_republishes_everything(mosquitto, hall):
    from hallq_edge.screen import ScreenAgent

    link = make_link(mosquitto, "screen-1", mosquitto.creds["screen-1"]["password"])
    screen = ScreenAgent(link, hall="district")
    link.start()
    try:
        wait_for(lambda: len(screen.windows) == 20, what="the retained window states")
        screen.windows.clear()  # nothing is being published now
        mosquitto.restart_broker()  # no persistence: the new broker holds nothing retained

        wait_for(lambda: not screen.offline and len(screen.windows) == 20 and screen.services, what="the resync")
        assert screen.hall_info["name"] == "示范区政务服务中心"
    finally:
        link.stop()


def test_revoking_then_broker_config_reload_cuts_the_device_off_and_keeps_the_server_on(mosquitto, hall, sqlite_url):
    from hallq.core.devices.service import DeviceService

    gone, kept = mosquitto.creds["disp-2"], mosquitto.creds["disp-1"]
    link = make_link(mosquitto, "disp-2", gone["password"])
    link.start()
    try:
        wait_for(lambda: link.connected, what="disp-2 to connect")
        DeviceService(hall).revoke(hall="district", name="disp-2")
        result = CliRunner().invoke(
            cli, ["--database-url", sqlite_url, "broker-config", "--mosquitto", str(mosquitto.conf_dir),
                  "--port", str(mosquitto.mosquitto_port), "--bind", "127.0.0.1", "--no-tls", "--no-persistence", "--reload"],
        )

        assert result.exit_code == 0, result.output
        assert "re-reading its files" in result.output and "MQTT_URL" not in result.output  # the server's password is kept
        wait_for(lambda: not link.connected, what="Mosquitto to close the revoked device's connection")
        assert try_connect(mosquitto.mosquitto_port, gone["username"], gone["password"]) == "Not authorized"
        assert try_connect(mosquitto.mosquitto_port, kept["username"], kept["password"]) == "Success"
        assert mosquitto.link.connected.is_set()
        assert try_connect(mosquitto.mosquitto_port, "hallq-server", SERVER_PASSWORD) == "Success"
    finally:
        link.stop()
