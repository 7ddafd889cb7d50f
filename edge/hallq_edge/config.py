"""A device's config file (TOML): who it is, where the broker is, and its
hardware. See firmware_config/*.toml for one example per role."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROLES = ("dispenser", "screen", "review", "caller")


class ConfigError(ValueError):
    pass


def load(path: str | Path) -> dict:
    """The config as a dict, checked for what every role needs."""
    try:
        conf = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    return complete(conf, str(path))


def complete(conf: dict, path: str = "config") -> dict:
    """Check what every role needs and fill in defaults (broker port, user name, password from its file)."""
    for key in ("hall", "device"):
        if not isinstance(conf.get(key), str) or not conf[key]:
            raise ConfigError(f"{path}: '{key}' is required")
    broker = conf.setdefault("broker", {})
    broker.setdefault("host", "127.0.0.1")
    broker.setdefault("port", 1883)
    broker.setdefault("username", f"{conf['hall']}.{conf['device']}")
    if "password" not in broker:
        secret = broker.get("password_file")
        if not secret:
            raise ConfigError(f"{path}: [broker] needs password or password_file")
        try:
            broker["password"] = Path(secret).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read password_file: {exc}") from None
    return conf


def section(conf: dict, name: str) -> dict:
    value = conf.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"[{name}] must be a table")
    return value


def require(table: dict, key: str, where: str):
    if key not in table:
        raise ConfigError(f"[{where}] needs '{key}'")
    return table[key]
