"""The documentation says what the code does: every setting is documented, and
the README's "Using it" commands work as written on a fresh directory."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from hallq.config import Settings
from hallq.ports import free_port
from hallq.web.screenshots import FAKED_CLOCK
from support.project import IN_CI, ROOT

DOC = ROOT / "docs" / "configuration.md"
README = ROOT / "README.md"
# 10:00 on a Monday in Beijing: the example hall is open (the README says when it is not).
MONDAY_10AM_UTC = "2026-11-23 02:00:00"


def test_every_setting_is_in_docs_configuration():
    text = DOC.read_text(encoding="utf-8")
    missing = [name for name in Settings.model_fields if f"`{name}`" not in text]
    assert not missing, f"settings missing from docs/configuration.md: {missing}"


def using_it_commands() -> list[str]:
    """The shell commands of the README's "Using it" section, in order, continuation lines joined."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Using it", 1)[1].split("\n## ", 1)[0]
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", section, re.S):
        for command in block.replace("\\\n", " ").splitlines():
            if command.strip() and not command.lstrip().startswith("#"):
                commands.append(command.strip())
    return commands


def _json_values(text: str) -> list:
    """Every JSON object printed one after another (curl adds no newline)."""
    decoder, values, i = json.JSONDecoder(), [], 0
    while (i := text.find("{", i)) != -1:
        value, i = decoder.raw_decode(text, i)
        values.append(value)
    return values


def test_the_readme_using_it_commands_work_as_written(tmp_path):
    if shutil.which("faketime") is None:
        if IN_CI:
            pytest.fail("faketime is not installed (Debian package faketime; CI=true: this test must run)")
        pytest.skip("faketime is not installed (Debian package faketime)")
    commands = using_it_commands()
    assert any(c.startswith("hallq serve") for c in commands)
    assert any("/windows/5/open" in c for c in commands), "the window is opened before it calls"
    port = free_port()
    script = ["set -e"]
    for command in commands:
        script.append(command.replace("5000", str(port)))
        if command.startswith("hallq serve"):
            # A person waits for the server before the next command; the script does too.
            script.append(f"until curl -s -o /dev/null http://127.0.0.1:{port}/api/v1/halls; do sleep 0.2; done")
    script.append("kill %1; wait")
    (tmp_path / "server").symlink_to(ROOT / "server")  # a fresh directory with the repository's files
    # A fresh fake clock, not one inside a shifted run's: libfaketime does not nest (an offset plus this
    # moment lands months away, outside the hall's hours).
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("HALLQ_") and k not in ("DATABASE_URL", "REDIS_URL", *FAKED_CLOCK)}
    env.update(PATH=f"{Path(sys.executable).parent}:{env['PATH']}", TZ="UTC",
               HALLQ_MQTT_PORT=str(free_port()))  # port 1883 may be taken by a broker on this machine
    proc = subprocess.Popen(["faketime", MONDAY_10AM_UTC, "bash", "-c", "\n".join(script)], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0, err
    assert "hall district loaded" in out and "user wang (staff) in hall district created" in out
    assert (tmp_path / "instance" / "hallq.db").is_file(), "the README says where the database is"
    ticket, opened, called = _json_values(out)
    assert ticket["number"] == "A001" and ticket["status"] == "waiting", ticket
    assert opened["number"] == 5 and opened["state"] == "idle" and opened["staff"]["name"] == "wang", opened
    assert called["state"] == "serving" and called["ticket"]["number"] == "A001", called
