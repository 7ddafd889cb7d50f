"""Fixtures of the web tests (REST API, pages, Socket.IO live, browser tests). The app
and its test client are shared (tests/conftest.py); `browser` is the plugin
support/browser_plugin.py."""

from __future__ import annotations

import pytest

from hallq.core.office import OfficeService
from support.pageserver import ServerProcess


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A real server for the browser tests (support/pageserver.py): the example hall and its
    test accounts on a SQLite file, one per test module. Modules that need more define their own."""
    tmp = tmp_path_factory.mktemp("pages")
    proc = ServerProcess(f"sqlite:///{tmp / 'hallq.db'}", tmp / "instance").start(prepare=True)
    yield proc
    proc.stop()


@pytest.fixture
def client(app):
    return app.test_client()


class ApiUsers:
    """Creates accounts and tokens, and builds Authorization headers."""

    def __init__(self, office: OfficeService):
        self.office = office

    def token(self, name: str, role: str, hall: str | None = "district", **kw) -> dict:
        self.office.add_user(name=name, role=role, password="password-" + name, hall=hall, **kw)
        return {"Authorization": "Bearer " + self.office.create_token(name)}


@pytest.fixture
def users(office):
    return ApiUsers(office)


@pytest.fixture
def users_tokens(users):
    """Authorization headers of a manager of the example hall."""
    return users.token("fuzz-manager", "manager")
