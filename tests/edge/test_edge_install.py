"""An edge node runs without the server's dependencies: every hallq_edge
module imports with them blocked, and `hallq-edge` starts from a config file."""

from __future__ import annotations

import json
import subprocess
import sys
from support.project import ROOT


SERVER_ONLY = ["sqlmodel", "sqlalchemy", "alembic", "pydantic", "pydantic_settings", "argon2", "gunicorn",
               "amqtt", "flask_login", "flask_wtf", "flask_babel", "psycopg", "redis"]
BLOCKER = f"""
import importlib.abc, sys
BLOCKED = {SERVER_ONLY!r}
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError("server-only dependency imported on an edge node: " + name)
        if name.startswith("hallq."):  # the server's package: an edge node shares only hallq_protocol
            raise ImportError("server module imported on an edge node: " + name)
sys.meta_path.insert(0, Block())
"""


def run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", BLOCKER + code], capture_output=True, text=True, cwd=ROOT)


def test_every_edge_module_imports_without_server_dependencies():
    modules = sorted(p.stem for p in (ROOT / "edge" / "hallq_edge").glob("*.py") if p.stem != "__init__")
    code = "import importlib, json\n" + f"for m in {modules!r}: importlib.import_module('hallq_edge.' + m)\n" + "print(json.dumps(sorted(k for k in __import__('sys').modules if k.startswith('hallq'))))"

    done = run(code)

    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout)
    assert {"hallq_edge.dispenser", "hallq_edge.screen", "hallq_edge.review", "hallq_edge.caller"} <= set(loaded)
    assert not [m for m in loaded if m.startswith("hallq.")]


def test_the_blocker_does_block():
    """The test above can fail: importing a server module under the blocker is an error."""
    done = run("import hallq.mqtt.bridge")

    assert done.returncode != 0 and "server module imported on an edge node" in done.stderr


def test_hallq_edge_refuses_a_config_without_credentials(tmp_path):
    conf = tmp_path / "disp.toml"
    conf.write_text('hall = "district"\ndevice = "disp-1"\n[broker]\nhost = "127.0.0.1"\n', encoding="utf-8")

    done = run(f"import sys; from hallq_edge.main import main; sys.exit(main(['dispenser', '--config', {str(conf)!r}]))")

    assert done.returncode == 2
    assert "password" in done.stderr


def test_example_configs_build_every_role_on_mock_pins(tmp_path):
    """Each firmware_config example builds its role (mock pins, a dummy or file printer)."""
    code = f"""
import tomllib, pathlib
from gpiozero.pins.mock import MockFactory
from hallq_edge import config, main
for role in ("dispenser", "screen", "review", "caller"):
    conf = tomllib.loads(pathlib.Path("firmware_config/{{}}.toml".format(role)).read_text("utf-8"))
    conf["broker"].update(password="x", tls=False)  # no CA file here
    config.complete(conf)
    conf.setdefault("printer", {{}}).update(kind="dummy")
    conf.setdefault("dispenser", {{}})["blocks_file"] = {str(tmp_path / 'blocks.db')!r}
    conf.setdefault("announce", {{}})["engine"] = "none"
    device = main.build(role, conf, main.build_link(conf), factory=MockFactory())
    print(role, type(device).__name__)
"""
    done = run(code)

    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["dispenser", "Dispenser", "screen", "ScreenAgent", "review", "ReviewBox", "caller", "WindowCaller"]


def test_the_screen_finds_the_display_pages_installed_with_hallq():
    done = run("from hallq_edge.screen_server import installed_displays\n"
               "p = installed_displays()\nprint(all((p / n).is_file() for n in ('hall.html', 'window.html', 'display.js', 'vendor/socket.io.min.js')))")

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"


def test_the_wheel_carries_every_display_page():
    """What pip installs (package data of hallq, through the server/hallq/displays link) covers displays/."""
    import fnmatch
    import tomllib

    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["hallq"]
    assert (ROOT / "server" / "hallq" / "displays").resolve() == (ROOT / "displays").resolve()
    pages = [p.relative_to(ROOT).as_posix() for p in (ROOT / "displays").rglob("*")
             if p.is_file() and p.suffix in (".html", ".js", ".css") and p.name != "vendor.js"]
    assert pages
    unpacked = [p for p in pages if not any(fnmatch.fnmatch(p, pattern.replace("**/", "*")) for pattern in data)]
    assert unpacked == []
