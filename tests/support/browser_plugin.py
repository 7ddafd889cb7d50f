"""pytest plugin (registered in tests/conftest.py): `browser`, one headless Chromium per
test module, for the browser tests of the pages and of `hallq demo`."""

from __future__ import annotations

import os

import pytest

from .browser import CHROMIUM, CHROMIUM_ARGS, browser_env
from .project import IN_CI


class BypassingCsp:
    """Chromium, its contexts made with bypass_csp unless a test says otherwise: Playwright evaluates
    wait_for_function's predicates with eval, which the pages' Content-Security-Policy forbids.
    (test_browser_csp.py loads the pages under their policy.)"""

    def __init__(self, browser):
        self._browser = browser

    def new_context(self, **options):
        options.setdefault("bypass_csp", True)
        return self._browser.new_context(**options)

    def new_page(self, **options):
        options.setdefault("bypass_csp", True)
        return self._browser.new_page(**options)

    def __getattr__(self, name):
        return getattr(self._browser, name)


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        if IN_CI:
            pytest.fail(f"Chromium not found at {CHROMIUM} (CI=true: browser tests must run)")
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, env=browser_env())
        yield BypassingCsp(browser)
        browser.close()
