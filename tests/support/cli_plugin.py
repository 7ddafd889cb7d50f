"""pytest plugin (registered in tests/conftest.py): the hallq command of one test.

`env` is the environment of a `hallq` subprocess (start_server, start_demo); `cli` runs
`hallq ARGS` in-process with click's CliRunner in the same setting: the test's own
instance folder, and none of the machine's database, Redis or port settings."""

from __future__ import annotations

import pytest

from .cli import NOT_INHERITED, command_env, hallq


@pytest.fixture
def env(tmp_path):
    return command_env(tmp_path)


@pytest.fixture
def cli(tmp_path):
    """cli(*args, input=None, check=True) → click's Result of `hallq ARGS` (`.returncode` too);
    check=True fails the test when the command does not exit 0."""
    # CliRunner sets these in os.environ for the call and puts them back after; None removes one.
    settings = {"HALLQ_INSTANCE_PATH": str(tmp_path / "instance"), "HALLQ_LOG_LEVEL": "WARNING",
                **{var: None for var in NOT_INHERITED}}

    def run(*args: str, input: str | None = None, check: bool = True):
        return hallq(settings, *args, input=input, check=check)

    return run
