"""HallQ's one settings model, in layers: defaults, then the instance config
file (instance/hallq.toml), then environment variables (HALLQ_*), then the
overrides a caller passes (tests). Every field is documented in docs/configuration.md."""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from hallq_protocol.shapes import BLOCK_SIZE, REQUEST_MAX_AGE

DEFAULT_INSTANCE = Path(os.environ.get("HALLQ_INSTANCE_PATH", "instance")).resolve()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HALLQ_", extra="forbid", validate_default=True)

    instance_path: Path = Field(DEFAULT_INSTANCE, description="Folder for the SQLite file, the secret key and hallq.toml.")
    database_url: str = Field(
        "",
        validation_alias=AliasChoices("HALLQ_DATABASE_URL", "DATABASE_URL", "database_url"),
        description="SQLAlchemy URL; empty means SQLite at INSTANCE/hallq.db. postgresql://… selects PostgreSQL.",
    )
    sqlite_synchronous: str = Field("NORMAL", description="SQLite PRAGMA synchronous (NORMAL or FULL); see hallq/db.py for why NORMAL.")
    secret_key: str = Field("", description="Signs sessions and CSRF tokens; empty means generated once and kept in INSTANCE/secret_key.")
    contact_key: str = Field("", description="Encrypts visitors' contacts (好差评 callbacks) at rest: a Fernet key; empty means generated "
                             "once and kept in INSTANCE/contact_key. Every server of a hall needs the same key, and a lost key "
                             "loses the contacts kept with it.")
    redis_url: str = Field(
        "",
        validation_alias=AliasChoices("HALLQ_REDIS_URL", "REDIS_URL", "redis_url"),
        description="When set, Socket.IO uses Redis as its message queue so several server processes can share rooms.",
    )
    host: str = Field("127.0.0.1", description="Address `hallq serve` listens on.")
    port: int = Field(5000, ge=1, le=65535, description="HTTP port of `hallq serve`.")
    threads: int = Field(32, ge=4, le=1024, description="Threads of each server process for HTTP requests (pages, API); each live connection has one more of its own (live_connections).")
    live_connections: int = Field(
        2000, ge=1, le=20000,
        description="Live (Socket.IO) connections each server process holds: screens, terminals, phones following their tickets. "
                    "Each has a thread (about 0.3 MB); past this, a new one is refused at once (HTTP 503, server_full) and retries. "
                    "See docs/deployment.md, \"How many browsers\".",
    )
    workers: int = Field(
        1, ge=1, le=64,
        description="HTTP server processes. More than 1 needs redis_url (Socket.IO rooms and the sign-in limiter are shared through Redis); the embedded MQTT broker then runs in a process of its own.",
    )
    calling_policy: str = Field("aging", description="Which policy chooses the next ticket (see docs/calling-policy.md).")
    trusted_proxies: int = Field(
        0, ge=0, le=5,
        description="Reverse proxies in front of HallQ whose X-Forwarded-For/-Proto/-Host headers are trusted (0: none; the client's address is the connection's).",
    )
    session_cookie_secure: bool = Field(False, description="Send the session cookie over HTTPS only; turn on when the hall serves HTTPS.")
    display_frame_ancestors: str = Field(
        "", description="Origins (space-separated) that may show the display pages in a frame, e.g. a kiosk shell; no other page may ever be framed.")
    max_request_bytes: int = Field(64 * 1024, ge=1024, description="Largest accepted request body.")
    log_level: str = Field("INFO", description="Python logging level.")
    balancer_interval_seconds: float = Field(
        30.0, ge=0, le=3600,
        description="How often the live balancer looks at each hall (it also looks about a second after each change); 0 turns the background balancer off.",
    )
    wait_prediction: bool = Field(
        True, description="Tell visitors (tickets, tracker, screens) the wait predictor's waits; off: the simple estimate (people ahead × handling ÷ windows). See docs/balancing.md.")
    wait_prediction_seconds: float = Field(
        2.0, ge=0, le=600,
        description="A hall is played forward again after a change at most this often (each play reads every waiting ticket and window of the hall).")
    kiosk_idle_seconds: float = Field(
        60.0, ge=10, le=3600,
        description="A touch kiosk left this long without a touch goes back to its start: Chinese, no ticket shown, green channel off.",
    )
    public_base_url: str = Field(
        "",
        description="Base URL printed on tickets' QR codes; empty means the address the request came to (kiosks), and http://HOST:PORT of the server for dispensers (a HOST of 0.0.0.0 is the server's LAN address).",
    )
    audit_retention_days: int = Field(
        180, ge=180, le=36500,
        description="Days audit lines stay in the database (等保2.0 asks for at least 180); older ones are moved to audit_archive_dir, never deleted.",
    )
    audit_archive_dir: str = Field("", description="Where old audit lines are archived (gzip'd JSON lines, one file per batch); empty means INSTANCE/audit-archive.")
    # The hall's voice: calls rendered to audio on the server for the browser screens (docs/deployment.md).
    voice_engine: str = Field("espeak", description="How calls are spoken: espeak (espeak-ng), clips (a recorded set in voice_clips_dir) or none (screens use the browser's own voice).")
    voice_name: str = Field("cmn-latn-pinyin", description="espeak-ng voice for Mandarin; cmn-latn-pinyin is given tone-numbered pinyin, which espeak-ng 1.51 reads correctly.")
    voice_speed: int = Field(140, ge=80, le=450, description="espeak-ng speed in words per minute.")
    voice_clips_dir: str = Field("", description="Folder of the recorded clip set (please.wav, A.wav, 0.wav, ...) for voice_engine = clips; `hallq voice make` starts one.")
    voice_cache_dir: str = Field("", description="Where rendered calls are kept, one WAV per sentence; empty means INSTANCE/voice.")
    voice_cache_files: int = Field(2000, ge=10, description="Rendered calls kept; beyond this the least recently used are deleted.")
    # MQTT (devices): see docs/mqtt.md.
    mqtt_enabled: bool = Field(True, description="Start the MQTT side (embedded broker or MQTT_URL, request bridge, publisher) with the server.")
    mqtt_url: str = Field(
        "",
        validation_alias=AliasChoices("HALLQ_MQTT_URL", "MQTT_URL", "mqtt_url"),
        description="External broker, mqtt[s]://user:password@host:port; empty means the embedded broker.",
    )
    mqtt_host: str = Field("127.0.0.1", description="Address the embedded MQTT broker listens on (0.0.0.0 to reach devices on the LAN).")
    mqtt_port: int = Field(1883, ge=1, le=65535, description="Port of the embedded MQTT broker.")
    mqtt_certfile: str = Field("", description="PEM certificate: the embedded broker then speaks TLS (mqtts) on mqtt_port.")
    mqtt_keyfile: str = Field("", description="PEM private key of mqtt_certfile.")
    mqtt_request_max_age: float = Field(REQUEST_MAX_AGE, gt=0, description="Device requests older than this many seconds are refused, not replayed.")
    mqtt_block_size: int = Field(BLOCK_SIZE, ge=1, le=200, description="Numbers a dispenser reserves per service for issuing while offline.")
    mqtt_max_message_bytes: int = Field(
        16384, ge=1024, le=1024 * 1024,
        description="Largest MQTT message the embedded broker accepts (larger ones are dropped unread); broker-config writes it as Mosquitto's message_size_limit.",
    )
    mqtt_device_rate: float = Field(
        10.0, gt=0, le=10000,
        description="Requests a second each device may make on average; past it (and its burst) a request is answered at once with rate_limited and retry_after. The embedded broker drops whatever a device publishes past twice this rate (at least 100 a second).",
    )
    mqtt_device_burst: int = Field(50, ge=1, le=100000, description="Requests a device may make at once before mqtt_device_rate applies (the embedded broker allows twice this, at least 200).")
    mqtt_device_queue: int = Field(100, ge=1, le=100000, description="Requests of one device waiting to be handled at most; devices are served in turn, so one device's backlog never delays another's.")
    mqtt_recheck_seconds: float = Field(
        2.0, ge=0, le=3600,
        description="How often the embedded broker checks its connected devices against the registry: a revoked device is cut off within this time (0: only when it reconnects).",
    )
    mqtt_max_connections: int = Field(
        1000, ge=0, le=100000,
        description="Connections the embedded broker holds at most; past it a device is refused with a log line that says to switch to Mosquitto (0: no limit). See docs/deployment.md, \"How many devices\".",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ):
        instance = Path(os.environ.get("HALLQ_INSTANCE_PATH", DEFAULT_INSTANCE))
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=instance / "hallq.toml"))

    @field_validator("sqlite_synchronous")
    @classmethod
    def _sync(cls, v: str) -> str:
        v = v.upper()
        if v not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise ValueError("must be OFF, NORMAL, FULL or EXTRA")
        return v

    @field_validator("voice_engine")
    @classmethod
    def _voice_engine(cls, v: str) -> str:
        if v not in ("espeak", "clips", "none"):
            raise ValueError("must be espeak, clips or none")
        return v

    @model_validator(mode="after")
    def _clips_need_a_folder(self) -> "Settings":
        if self.voice_engine == "clips" and not self.voice_clips_dir:
            raise ValueError("voice_engine = clips needs voice_clips_dir (the folder of the recorded set)")
        return self

    @property
    def effective_voice_cache_dir(self) -> Path:
        return Path(self.voice_cache_dir) if self.voice_cache_dir else self.instance_path / "voice"

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.instance_path / 'hallq.db'}"

    @property
    def tracker_base_url(self) -> str:
        """Base of the tracker links in dispensers' QR codes: public_base_url, or this server's own address and port."""
        if self.public_base_url:
            return self.public_base_url.rstrip("/")
        from .ports import lan_address

        host = lan_address() if self.host in ("", "0.0.0.0", "::") else self.host
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    def effective_secret_key(self) -> str:
        """The configured key, or one generated on first use and kept in the instance folder."""
        return self.secret_key or self._instance_secret("secret_key", lambda: secrets.token_hex(32))

    def effective_contact_key(self) -> str:
        """The key of visitors' contacts: configured, or generated on first use and kept in the instance folder."""
        from .core.reviews.contacts import new_key

        return self.contact_key or self._instance_secret("contact_key", new_key)

    def _instance_secret(self, name: str, make) -> str:
        """INSTANCE/name, written once (mode 0600) by the first process that needs it."""
        path = self.instance_path / name
        if not path.exists():
            self.instance_path.mkdir(parents=True, exist_ok=True)
            # Written whole under another name, then linked into place: a worker starting at the same
            # moment finds it complete or not at all, and the first link wins.
            fd, tmp = tempfile.mkstemp(dir=self.instance_path, prefix=f".{name}.")  # mode 0600
            try:
                with os.fdopen(fd, "w") as f:
                    f.write(make())
                try:
                    os.link(tmp, path)
                except FileExistsError:
                    pass
            finally:
                os.unlink(tmp)
        return path.read_text().strip()


def load_settings(**overrides: Any) -> Settings:
    """Settings from every layer; keyword overrides win."""
    return Settings(**overrides)
