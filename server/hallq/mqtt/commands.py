"""`hallq device add|list|revoke` and `hallq broker-config`, registered by hallq.cli."""

from __future__ import annotations

import json
import secrets
import sys
from pathlib import Path
from urllib.parse import quote

import click

from ..console import operator
from ..core.errors import HallError


def _devices(ctx: click.Context):
    from ..assembly import build

    return build(ctx.obj["settings"], migrate=True).devices


def _fail(exc: HallError) -> None:
    click.echo(f"error: {exc.message} ({exc.code})", err=True)
    sys.exit(1)


@click.group()
def device() -> None:
    """Edge devices: dispensers, call screens, review boxes, window callers."""


@device.command("add")
@click.option("--hall", "hall_slug", required=True, help="The hall's slug.")
@click.option("--role", required=True, type=click.Choice(["dispenser", "screen", "review", "caller"]))
@click.option("--id", "name", required=True, help="The device id used in topics (lower-case letters, digits, dashes).")
@click.option("--window", type=int, default=None, help="The window a review box or caller (or window screen) belongs to.")
@click.option("--json", "as_json", is_flag=True, help="Print {device, username, password} as JSON.")
@click.pass_context
def device_add(ctx, hall_slug, role, name, window, as_json) -> None:
    """Register a device and print its MQTT credentials (shown this once)."""
    try:
        made = _devices(ctx).add(hall=hall_slug, name=name, role=role, window=window, actor=operator())
    except HallError as exc:
        _fail(exc)
    if as_json:
        click.echo(json.dumps({k: made[k] for k in ("device", "username", "password")}))
        return
    where = f" at window {window}" if window is not None else ""
    click.echo(f"{role} {name}{where} registered in hall {hall_slug}")
    click.echo(f"  username  {made['username']}")
    click.echo(f"  password  {made['password']}")
    click.echo("The password is shown only now; put it in the device's password_file.")


@device.command("list")
@click.option("--hall", "hall_slug", required=True)
@click.pass_context
def device_list(ctx, hall_slug) -> None:
    """The hall's devices: role, window, online, last seen, paper."""
    try:
        rows = _devices(ctx).list(hall_slug)
    except HallError as exc:
        _fail(exc)
    for d in rows:
        state = "online" if d["online"] else "offline"
        click.echo(f"{d['device']:<16} {d['role']:<10} {d['window'] or '-':<4} {state:<8} {d['last_seen'] or '-':<21} {d['paper'] or ''}")


@device.command("revoke")
@click.option("--hall", "hall_slug", required=True)
@click.option("--id", "name", required=True)
@click.pass_context
def device_revoke(ctx, hall_slug, name) -> None:
    """Withdraw a device's credentials (for Mosquitto, then run broker-config --reload)."""
    try:
        _devices(ctx).revoke(hall=hall_slug, name=name, actor=operator())
    except HallError as exc:
        _fail(exc)
    click.echo(f"device {name} revoked")


@click.command("broker-config")
@click.option("--mosquitto", "directory", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for passwords, acl and mosquitto.conf.")
@click.option("--port", default=8883, type=int, help="Listener port written into mosquitto.conf.")
@click.option("--bind", default="", help="Listener address (default: all).")
@click.option("--server-port", default=1884, type=int, show_default=True, help="The server's own listener's port.")
@click.option("--server-bind", default="127.0.0.1", show_default=True,
              help="The server's own listener's address (with TLS when it is not the loopback interface and --no-tls is not given).")
@click.option("--no-tls", is_flag=True, help="A plain listener (tests, a broker on the server itself).")
@click.option("--no-persistence", is_flag=True)
@click.option("--server-password-stdin", is_flag=True,
              help="Read the server's MQTT password (default: keep the one of the last run, or generate one on the first).")
@click.option("--reload", "reload_broker", is_flag=True,
              help="Then make the running Mosquitto re-read the files (SIGHUP): revoked devices are cut off at once.")
@click.option("--pid-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Mosquitto's pid file for --reload (default: the one written into the folder's mosquitto.conf).")
@click.pass_context
def broker_config(ctx, directory, port, bind, server_port, server_bind, no_tls, no_persistence, server_password_stdin, reload_broker, pid_file) -> None:
    """Write Mosquitto's password file, ACL and configuration from the device registry."""
    from hallq.core.devices import registry

    from . import mosquitto

    service = _devices(ctx)
    with service.db.read() as session:
        everyone = registry.all_active(session)
    if server_password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif mosquitto.server_hash(directory) is not None:
        password = None  # kept: MQTT_URL stays as it is
    else:
        password = secrets.token_urlsafe(24)
    limit = _settings_of(ctx).mqtt_max_message_bytes
    paths = mosquitto.write(directory, everyone, password, port=port, bind=bind, tls=not no_tls, server_port=server_port, server_bind=server_bind,
                            persistence_dir="" if no_persistence else "/var/lib/mosquitto/", message_size_limit=limit)
    click.echo(f"wrote {', '.join(str(p) for p in paths.values())} ({len(everyone)} devices)")
    if password is not None and not server_password_stdin:
        scheme = "mqtts" if mosquitto.server_tls(not no_tls, server_bind) else "mqtt"
        host = server_bind if server_bind in mosquitto.LOOPBACK else "BROKER-HOST"
        click.echo(f"Start the server with: MQTT_URL={scheme}://hallq-server:{quote(password, safe='')}@{host}:{server_port}")
    if reload_broker:
        try:
            pid = mosquitto.reload(pid_file or Path(directory) / mosquitto.PID_FILE)
        except (ProcessLookupError, PermissionError) as exc:
            click.echo(f"error: could not reload Mosquitto: {exc}", err=True)
            sys.exit(1)
        click.echo(f"Mosquitto (pid {pid}) is re-reading its files")


def _settings_of(ctx: click.Context):
    return ctx.obj["settings"]
