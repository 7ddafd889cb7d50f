"""Mosquitto's password file, ACL file and configuration, written from the
device registry (`hallq broker-config --mosquitto DIR`).

The registry stores each device's password as a Mosquitto `$7$` hash, so the
files are written without knowing any password. The ACL comes from acl.py,
the same rules the embedded broker applies.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..core.devices import DeviceInfo, hash_password
from . import acl
from .broker import SERVER_USER

HEADER = "# Written by `hallq broker-config` from the device registry; do not edit, run it again.\n"


def password_file(devices: list[DeviceInfo], server_hash: str) -> str:
    lines = [f"{SERVER_USER}:{server_hash}"] + [f"{d.username}:{d.password_hash}" for d in devices]
    return HEADER + "\n".join(lines) + "\n"


def _rules(rules: list[acl.Rule]) -> list[str]:
    return [f"topic {r.access} {r.topic}" for r in rules]


def acl_file(devices: list[DeviceInfo]) -> str:
    parts = [HEADER, f"user {SERVER_USER}", *_rules(acl.SERVER_RULES), ""]
    for d in devices:
        parts += [f"user {d.username}", *_rules(acl.device_rules(d.hall, d.name, d.role, d.window)), ""]
    return "\n".join(parts)


def config_file(directory: Path, *, port: int = 8883, bind: str = "", tls: bool = True, persistence_dir: str = "/var/lib/mosquitto/") -> str:
    """A Mosquitto configuration using the files in `directory` (see firmware_config/mosquitto.conf)."""
    lines = [HEADER.rstrip(), "per_listener_settings false", f"listener {port}{' ' + bind if bind else ''}", "protocol mqtt"]
    if tls:
        lines += ["certfile /etc/mosquitto/certs/hallq.crt", "keyfile /etc/mosquitto/certs/hallq.key",
                  "cafile /etc/mosquitto/certs/ca.crt", "tls_version tlsv1.2"]
    lines += [
        "allow_anonymous false",
        f"password_file {directory / 'passwords'}",
        f"acl_file {directory / 'acl'}",
        "message_size_limit 8192",
        "max_inflight_messages 20",
        "max_queued_messages 1000",
        "set_tcp_nodelay true",  # else Nagle + delayed ACKs add ~40 ms per hop to a call
        "persistence true" if persistence_dir else "persistence false",
    ]
    if persistence_dir:
        lines.append(f"persistence_location {persistence_dir}")
    return "\n".join(lines) + "\n"


def write(directory: str | Path, devices: list[DeviceInfo], server_password: str, **conf) -> dict[str, Path]:
    """Write passwords, acl and mosquitto.conf into `directory` (secrets readable by the owner only)."""
    directory = Path(directory).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    files = {
        "passwords": password_file(devices, hash_password(server_password)),
        "acl": acl_file(devices),
        "mosquitto.conf": config_file(directory, **conf),
    }
    paths = {}
    for name, text in files.items():
        path = directory / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if name == "passwords" else 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        paths[name] = path
    return paths
