"""Settings come in layers: defaults < instance hallq.toml < HALLQ_* environment < overrides."""

import ipaddress

import pytest

from hallq.config import load_settings


@pytest.fixture
def instance(tmp_path, monkeypatch):
    monkeypatch.setenv("HALLQ_INSTANCE_PATH", str(tmp_path))
    for var in ("HALLQ_PORT", "HALLQ_DATABASE_URL", "DATABASE_URL", "REDIS_URL", "HALLQ_REDIS_URL", "HALLQ_SECRET_KEY"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


def test_defaults(instance):
    s = load_settings(instance_path=instance)
    assert s.port == 5000 and s.host == "127.0.0.1"
    assert s.effective_database_url == f"sqlite:///{instance / 'hallq.db'}"
    assert s.sqlite_synchronous == "NORMAL"


def test_file_then_environment_then_override(instance, monkeypatch):
    (instance / "hallq.toml").write_text('port = 6001\nhost = "0.0.0.0"\nlog_level = "DEBUG"\n')
    assert load_settings().port == 6001
    monkeypatch.setenv("HALLQ_PORT", "6002")
    s = load_settings()
    assert s.port == 6002 and s.host == "0.0.0.0" and s.log_level == "DEBUG"
    assert load_settings(port=6003).port == 6003


def test_plain_database_and_redis_urls_are_honoured(instance, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://db.example/hallq")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    s = load_settings()
    assert s.effective_database_url == "postgresql://db.example/hallq"
    assert s.redis_url == "redis://127.0.0.1:6379/0"


def test_bad_values_are_refused_with_the_field_named(instance, monkeypatch):
    monkeypatch.setenv("HALLQ_PORT", "not-a-port")
    with pytest.raises(Exception, match="port"):
        load_settings()
    monkeypatch.delenv("HALLQ_PORT")
    with pytest.raises(Exception, match="sqlite_synchronous"):
        load_settings(sqlite_synchronous="SOMETIMES")
    (instance / "hallq.toml").write_text("no_such_setting = 1\n")
    with pytest.raises(Exception, match="no_such_setting"):
        load_settings()


def test_secret_key_is_generated_once_and_kept_private(instance):
    s = load_settings()
    key = s.effective_secret_key()
    assert len(key) >= 32 and load_settings().effective_secret_key() == key
    assert (instance / "secret_key").stat().st_mode & 0o077 == 0
    assert load_settings(secret_key="given").effective_secret_key() == "given"


def test_dispensers_qr_codes_point_at_this_server_unless_public_base_url_says_otherwise(instance):
    assert load_settings(host="192.168.5.20", port=8000).tracker_base_url == "http://192.168.5.20:8000"
    assert load_settings(host="0.0.0.0", port=8000, public_base_url="https://hall.example/").tracker_base_url == "https://hall.example"
    # Listening on every address: the one devices on the LAN reach this machine at.
    anywhere = load_settings(host="0.0.0.0", port=8000).tracker_base_url
    host = anywhere.removeprefix("http://").removesuffix(":8000")
    assert ipaddress.ip_address(host) and host != "0.0.0.0"
