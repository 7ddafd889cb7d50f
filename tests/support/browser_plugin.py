"""pytest plugin (registered in tests/conftest.py): `browser`, one headless Chromium per
test module, for the browser tests of the pages and of `hallq demo`."""

from __future__ import annotations

import os

import pytest

from .browser import CHROMIUM, CHROMIUM_ARGS, browser_env
from .project import IN_CI


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        if IN_CI:
            pytest.fail(f"Chromium not found at {CHROMIUM} (CI=true: browser tests must run)")
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, env=browser_env())
        yield browser
        browser.close()
