"""The command line: `hallq device add`, `hallq serve` with a taken MQTT port,
and `hallq demo` choosing a free one."""

from __future__ import annotations

import json
import socket

import pytest

from hallq.config import load_settings
from hallq.core.devices.credentials import verify_password
from hallq.mqtt import demo_devices
from support.project import EXAMPLE_HALL


@pytest.fixture
def db(cli, tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    cli("--database-url", url, "hall", "load", str(EXAMPLE_HALL))
    return url


@pytest.fixture
def busy_port():
    """A port something already listens on (as Mosquitto holds 1883 here)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


def test_device_add_prints_credentials_once_as_json(cli, db):
    result = cli("--database-url", db, "device", "add", "--hall", "district", "--role", "caller", "--id", "caller-5", "--window", "5", "--json", check=False)

    assert result.exit_code == 0, result.output
    creds = json.loads(result.output)
    assert creds["device"] == "caller-5" and creds["username"] == "district.caller-5"
    assert len(creds["password"]) >= 24
    listed = cli("--database-url", db, "device", "list", "--hall", "district", check=False).output
    assert "caller-5" in listed and creds["password"] not in listed


def test_device_add_refuses_what_makes_no_sense(cli, db):
    no_window = cli("--database-url", db, "device", "add", "--hall", "district", "--role", "review", "--id", "r1", check=False)
    twice = [cli("--database-url", db, "device", "add", "--hall", "district", "--role", "dispenser", "--id", "d1", check=False) for _ in range(2)]
    bad_id = cli("--database-url", db, "device", "add", "--hall", "district", "--role", "dispenser", "--id", "A/B", check=False)

    assert no_window.exit_code == 1 and "window_required" in no_window.output
    assert twice[0].exit_code == 0 and twice[1].exit_code == 1 and "device_exists" in twice[1].output
    assert bad_id.exit_code == 1 and "bad_device_id" in bad_id.output


def test_device_add_and_revoke_are_audited_with_the_console_account(cli, db):
    import getpass

    from sqlmodel import select

    from hallq.core.models import AuditEntry
    from hallq.db import Database

    cli("--database-url", db, "device", "add", "--hall", "district", "--role", "dispenser", "--id", "d1", check=False)
    cli("--database-url", db, "device", "revoke", "--hall", "district", "--id", "d1", check=False)

    database = Database.from_url(db)
    with database.read() as session:
        rows = session.exec(select(AuditEntry).where(AuditEntry.action.like("device.%")).order_by(AuditEntry.id)).all()
        seen = [(r.action, r.target, r.actor, r.detail.get("role")) for r in rows]
    database.dispose()
    who = f"cli:{getpass.getuser()}"
    assert seen == [("device.add", "d1", who, "dispenser"), ("device.revoke", "d1", who, "dispenser")]


def test_revoked_device_is_left_out_of_broker_config(cli, db, tmp_path):
    cli("--database-url", db, "device", "add", "--hall", "district", "--role", "dispenser", "--id", "d1", check=False)
    cli("--database-url", db, "device", "add", "--hall", "district", "--role", "dispenser", "--id", "d2", check=False)
    cli("--database-url", db, "device", "revoke", "--hall", "district", "--id", "d1", check=False)

    result = cli("--database-url", db, "broker-config", "--mosquitto", str(tmp_path / "m"), check=False)

    assert result.exit_code == 0, result.output
    passwords = (tmp_path / "m" / "passwords").read_text()
    assert "district.d2:" in passwords and "district.d1:" not in passwords
    server_password = result.output.split("hallq-server:")[1].split("@")[0]
    server_hash = (tmp_path / "m" / "server-passwords").read_text().split("hallq-server:")[1].split("\n")[0]
    assert verify_password(server_password, server_hash)
    assert "@127.0.0.1:1884" in result.output  # the server's own listener
    assert "autosave_interval 60" in (tmp_path / "m" / "mosquitto.conf").read_text()  # not only saved at a clean exit


def test_serve_says_plainly_that_the_mqtt_port_is_taken(cli, db, busy_port):
    result = cli("--database-url", db, "serve", "--port", "0", "--mqtt-port", str(busy_port), check=False)

    assert result.exit_code == 1
    assert f"MQTT port {busy_port} on 127.0.0.1 is already in use" in result.output
    assert "--mqtt-port" in result.output and "MQTT_URL" in result.output


def test_demo_takes_a_free_mqtt_port_when_the_configured_one_is_taken(busy_port, tmp_path):
    settings = load_settings(instance_path=tmp_path, mqtt_port=busy_port)

    chosen = demo_devices.choose_port(settings, None)

    assert chosen.mqtt_port != busy_port
    assert f":{chosen.mqtt_port}" in demo_devices.describe(chosen)
    assert demo_devices.choose_port(settings, 2883).mqtt_port == 2883


def test_serve_refuses_a_malformed_mqtt_url_without_showing_its_password(cli, db, monkeypatch):
    monkeypatch.setenv("MQTT_URL", "http://hallq-server:s3cret-pw@broker:1883")

    result = cli("--database-url", db, "serve", "--port", "0", check=False)

    assert result.exit_code == 1
    assert "MQTT_URL must look like mqtt://" in result.output
    assert "s3cret-pw" not in result.output
