"""Mosquitto's password files, ACL files and configuration, written from the
device registry (`hallq broker-config --mosquitto DIR`).

The registry stores each device's password as a Mosquitto `$7$` hash, so the
files are written without knowing any password. The ACL comes from acl.py,
the same rules the embedded broker applies.

Two listeners, each with its own accounts (`per_listener_settings true`): the
devices' listener replaces every client id with the user name
(`use_username_as_clientid`), so no device can take the session, and with it the
subscriptions, of another device or of the server; the server's processes, each
with a client id of its own, sign in on a listener that knows only the server's
account (by default on the loopback interface).
"""

from __future__ import annotations

import os
from pathlib import Path

from hallq.core.devices.credentials import hash_password
from hallq.core.devices.registry import DeviceInfo

from . import acl
from .broker import SERVER_USER

HEADER = "# Written by `hallq broker-config` from the device registry; do not edit, run it again.\n"
PID_FILE = "mosquitto.pid"
SERVER_PORT = 1884
LOOPBACK = ("127.0.0.1", "::1", "localhost")


def password_file(devices: list[DeviceInfo]) -> str:
    return HEADER + "".join(f"{d.username}:{d.password_hash}\n" for d in devices)


def server_password_file(server_hash: str) -> str:
    return HEADER + f"{SERVER_USER}:{server_hash}\n"


def _rules(rules: list[acl.Rule]) -> list[str]:
    return [f"topic {r.access} {r.topic}" for r in rules]


def server_acl_file() -> str:
    return "\n".join([HEADER, f"user {SERVER_USER}", *_rules(acl.SERVER_RULES), ""])


def acl_file(devices: list[DeviceInfo]) -> str:
    parts = [HEADER]
    for d in devices:
        parts += [f"user {d.username}", *_rules(acl.device_rules(d.hall, d.name, d.role, d.window)), ""]
    return "\n".join(parts)


def server_tls(tls: bool, server_bind: str) -> bool:
    """The server's listener speaks TLS when the devices' does, unless it is on the loopback interface."""
    return tls and server_bind not in LOOPBACK


def config_file(directory: Path, *, port: int = 8883, bind: str = "", tls: bool = True, server_port: int = SERVER_PORT,
                server_bind: str = "127.0.0.1", persistence_dir: str = "/var/lib/mosquitto/", message_size_limit: int = 16384) -> str:
    """A Mosquitto configuration using the files in `directory` (see firmware_config/mosquitto.conf)."""
    certificates = ["certfile /etc/mosquitto/certs/hallq.crt", "keyfile /etc/mosquitto/certs/hallq.key",
                    "cafile /etc/mosquitto/certs/ca.crt", "tls_version tlsv1.2"]
    lines = [
        HEADER.rstrip(),
        f"pid_file {directory / PID_FILE}",
        "per_listener_settings true",
        f"message_size_limit {message_size_limit}",
        "max_inflight_messages 20",
        # The server's one session hears every device's requests: when a device floods, they wait
        # here for the server (which answers past a device's limit at once, rate_limited) rather
        # than being dropped. A device's own queue stays small: it has a clean session.
        "max_queued_messages 20000",
        "max_queued_bytes 33554432",
        "set_tcp_nodelay true",  # else Nagle + delayed ACKs add ~40 ms per hop to a call
        "persistence true" if persistence_dir else "persistence false",
    ]
    if persistence_dir:
        # Saved every minute, not only at a clean exit; what a crash replays may still be old, so
        # every retained message carries a version and devices ignore one older than they have.
        lines += [f"persistence_location {persistence_dir}", "autosave_interval 60"]
    lines += ["", "# The devices: each one's client id is its user name, so none can take another's session.",
              f"listener {port}{' ' + bind if bind else ''}", "protocol mqtt", *(certificates if tls else []),
              "use_username_as_clientid true", "allow_anonymous false",
              f"password_file {directory / 'passwords'}", f"acl_file {directory / 'acl'}"]
    lines += ["", "# The HallQ server's processes (client ids hallq-server-<host>-<pid>), and no one else.",
              f"listener {server_port}{' ' + server_bind if server_bind else ''}", "protocol mqtt",
              *(certificates if server_tls(tls, server_bind) else []), "allow_anonymous false",
              f"password_file {directory / 'server-passwords'}", f"acl_file {directory / 'server-acl'}"]
    return "\n".join(lines) + "\n"


def server_hash(directory: str | Path) -> str | None:
    """The server's password hash in an earlier run's password file, if there is one (before the
    server had a listener of its own it was in `passwords`, with the devices)."""
    for name in ("server-passwords", "passwords"):
        path = Path(directory) / name
        if not path.is_file():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            user, _, digest = line.partition(":")
            if user == SERVER_USER and digest:
                return digest
    return None


def write(directory: str | Path, devices: list[DeviceInfo], server_password: str | None, **conf) -> dict[str, Path]:
    """Write the password and ACL files and mosquitto.conf into `directory` (secrets readable by the owner only).

    With no server_password the server's hash from the earlier run is kept, so
    re-running after adding or revoking a device leaves MQTT_URL as it was.
    """
    directory = Path(directory).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    digest = hash_password(server_password) if server_password is not None else server_hash(directory)
    if digest is None:
        raise ValueError("no server password given and none in an earlier password file")
    files = {
        "passwords": password_file(devices),
        "server-passwords": server_password_file(digest),
        "acl": acl_file(devices),
        "server-acl": server_acl_file(),
        "mosquitto.conf": config_file(directory, **conf),
    }
    paths = {}
    for name, text in files.items():
        path = directory / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if name.endswith("passwords") else 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        paths[name] = path
    return paths


def reload(pid_file: str | Path) -> int:
    """Ask the Mosquitto whose pid is in pid_file to re-read its files (SIGHUP); return its pid.

    On a reload Mosquitto checks every connected client again and closes the
    connections of those whose credentials are gone, so a revoked device is
    cut off at once.
    """
    import signal

    path = Path(pid_file)
    try:
        pid = int(path.read_text().strip())
    except (OSError, ValueError):
        raise ProcessLookupError(f"no Mosquitto pid in {path}: is Mosquitto running with this configuration?") from None
    os.kill(pid, signal.SIGHUP)
    return pid
