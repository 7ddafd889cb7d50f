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
from support.mqtt import SERVED_OR_REFUSED, flood_while_another_asks, make_link
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
    port, server_port = free_port(), free_port()
    conf_dir = tmp_path / "mosquitto"
    result = CliRunner().invoke(
        cli, ["--database-url", sqlite_url, "broker-config", "--mosquitto", str(conf_dir), "--port", str(port),
              "--server-port", str(server_port), "--bind", "127.0.0.1", "--no-tls", "--no-persistence", "--server-password-stdin"],
        input=SERVER_PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    conf = conf_dir / "mosquitto.conf"
    if os.geteuid() == 0:  # Mosquitto started as root drops to its own user, who could not read our 0600 files
        conf.write_text(conf.read_text() + "user root\n")
    procs = [_start(binary, conf, port, server_port)]
    runtime = MqttRuntime(hall, url=f"mqtt://hallq-server:{SERVER_PASSWORD}@127.0.0.1:{server_port}").start()
    runtime.mosquitto_port, runtime.server_port = port, server_port
    runtime.creds = creds
    runtime.conf_dir = conf_dir

    def restart() -> None:
        procs[-1].terminate()
        procs[-1].wait(10)
        procs.append(_start(binary, conf, port, server_port))

    runtime.restart_broker = restart
    wait_for(runtime.link.connected.is_set, what="the server to connect to mosquitto")
    yield runtime
    runtime.stop()
    procs[-1].terminate()
    procs[-1].wait(10)


def _start(binary: str, conf, *ports: int) -> subprocess.Popen:
    proc = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    wait_for(lambda: all(_listening(port) for port in ports) or proc.poll() is not None, what="mosquitto to listen")
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
    assert "hallq-server" not in passwords and "hallq-server:$7$" in (mosquitto.conf_dir / "server-passwords").read_text()
    for name in ("passwords", "server-passwords"):
        assert oct((mosquitto.conf_dir / name).stat().st_mode & 0o777) == "0o600"
    assert "user district.disp-1\ntopic write hallq/district/device/disp-1/request\n" in acl
    assert "topic read hallq/district/window/+/state" in acl.split("user district.screen-1")[1]
    assert "hallq-server" not in acl and "user hallq-server\ntopic read hallq/#" in (mosquitto.conf_dir / "server-acl").read_text()
    conf = (mosquitto.conf_dir / "mosquitto.conf").read_text()
    assert conf.count("allow_anonymous false") == 2 and conf.count("use_username_as_clientid true") == 1


def test_mosquitto_refuses_anonymous_and_wrong_passwords(mosquitto):
    port, good = mosquitto.mosquitto_port, mosquitto.creds["disp-1"]

    assert try_connect(port, None, None) == "Not authorized"
    assert try_connect(port, good["username"], "wrong") == "Not authorized"
    assert try_connect(port, good["username"], good["password"]) == "Success"


def test_devices_work_through_mosquitto_and_stay_on_their_own_topics(mosquitto, hall):
    links = []
    for name in ("disp-1", "screen-1"):
        link = make_link(mosquitto, name, mosquitto.creds[name]["password"], port=mosquitto.mosquitto_port)
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

    link = make_link(mosquitto, "screen-1", mosquitto.creds["screen-1"]["password"], port=mosquitto.mosquitto_port)
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
    link = make_link(mosquitto, "disp-2", gone["password"], port=mosquitto.mosquitto_port)
    link.start()
    try:
        wait_for(lambda: link.connected, what="disp-2 to connect")
        DeviceService(hall).revoke(hall="district", name="disp-2")
        result = CliRunner().invoke(
            cli, ["--database-url", sqlite_url, "broker-config", "--mosquitto", str(mosquitto.conf_dir),
                  "--port", str(mosquitto.mosquitto_port), "--server-port", str(mosquitto.server_port), "--bind", "127.0.0.1",
                  "--no-tls", "--no-persistence", "--reload"],
        )

        assert result.exit_code == 0, result.output
        assert "re-reading its files" in result.output and "MQTT_URL" not in result.output  # the server's password is kept
        wait_for(lambda: not link.connected, what="Mosquitto to close the revoked device's connection")
        assert try_connect(mosquitto.mosquitto_port, gone["username"], gone["password"]) == "Not authorized"
        assert try_connect(mosquitto.mosquitto_port, kept["username"], kept["password"]) == "Success"
        assert mosquitto.link.connected.is_set()
        assert try_connect(mosquitto.server_port, "hallq-server", SERVER_PASSWORD) == "Success"
    finally:
        link.stop()


def test_mosquitto_gives_no_device_the_servers_or_another_devices_session(mosquitto, caplog):
    """On the devices' listener a client id is its user name, whatever the client asked for; the
    server's listener knows only the server's account. Nobody is thrown off."""
    disp = make_link(mosquitto, "disp-1", mosquitto.creds["disp-1"]["password"], port=mosquitto.mosquitto_port)
    drops: list[bool] = []
    disp.on_link(drops.append)
    disp.start()
    try:
        wait_for(lambda: disp.connected, what="disp-1 to connect")
        other = mosquitto.creds["disp-2"]
        server_id = mosquitto.link.client._client_id.decode()

        for client_id in (server_id, "district.disp-1"):
            for clean in (True, False):  # admitted, but as district.disp-2
                assert try_connect(mosquitto.mosquitto_port, other["username"], other["password"], client_id=client_id,
                                   clean_session=clean) == "Success"
        assert try_connect(mosquitto.server_port, other["username"], other["password"], client_id=server_id) == "Not authorized"
        assert try_connect(mosquitto.mosquitto_port, "hallq-server", SERVER_PASSWORD) == "Not authorized"

        answer = disp.call("issue_ticket", service="SI", timeout=10)
        assert answer is not None and answer["status"] == "ok"
        assert drops == [True] and disp.connected  # up once, never down
        assert mosquitto.link.connected.is_set() and "lost the MQTT broker" not in caplog.text
    finally:
        disp.stop()


def test_a_flooding_device_does_not_silence_another_through_mosquitto(mosquitto, hall):
    """Issue 12, item 2, on Mosquitto with the generated config: 1,500 requests at once from one
    dispenser; the other is answered, and every flooding request reaches the server (none dropped
    on the way): it is served, or refused with rate_limited, or, past the refusals' own rate,
    dropped unanswered by the server and counted."""
    loud, quiet = (make_link(mosquitto, name, mosquitto.creds[name]["password"], port=mosquitto.mosquitto_port)
                   for name in ("disp-1", "disp-2"))
    for link in (loud, quiet):
        link.start()
    try:
        wait_for(lambda: loud.connected and quiet.connected, what="the dispensers to connect")
        answer, flood = flood_while_another_asks(loud, quiet, 1500)
        assert answer is not None and answer["status"] == "ok", answer
        assert set(flood) <= SERVED_OR_REFUSED and flood.get("rate_limited", 0) > 0, flood
        dropped = mosquitto.bridge.dropped
        assert sum(flood.values()) + dropped == 1500 and dropped > 0, (flood, dropped)
    finally:
        for link in (loud, quiet):
            link.stop()


def test_two_server_processes_on_mosquitto_handle_each_request_once(mosquitto, hall):
    """Issue 15: with several server processes on one broker, each device request is acted on and
    answered by one of them (a shared subscription), and both take a share of the work."""
    from support.mqtt import answers_to_requests

    second = MqttRuntime(hall, url=f"mqtt://hallq-server:{SERVER_PASSWORD}@127.0.0.1:{mosquitto.server_port}",
                         client_id="hallq-server-second").start()
    try:
        wait_for(second.link.connected.is_set, what="the second server process to connect")
        time.sleep(0.5)  # its subscriptions are in place
        answers = answers_to_requests(mosquitto.mosquitto_port, mosquitto.creds["disp-1"], 20)

        assert answers == {f"once-{i}": 1 for i in range(20)}
        assert mosquitto.bridge.answered + second.bridge.answered == 20
        assert mosquitto.bridge.answered > 0 and second.bridge.answered > 0
        with hall.db.read() as session:
            assert len(session.exec(select(Ticket)).all()) == 20
    finally:
        second.stop()
