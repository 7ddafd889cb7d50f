"""In real Chromium (headless, autoplay allowed as on a hall's screen PC): a hall
screen plays the server's rendering of each call, and a screen that cannot get
it still shows the call and falls back to the browser's own voice."""

from __future__ import annotations

import pytest
import requests
from support.browser import WAIT_MS
from support.pageserver import ServerProcess
from support.voice import require_espeak

from hallq.core.office import OfficeService
from hallq.core.service import HallService
from hallq.db import Database

H = "/api/v1/halls/district"
# The browser's own voice, recorded instead of spoken: Chromium here has none.
RECORD_SPEECH = """
window.__spoken = [];
window.speechSynthesis.speak = (u) => { window.__spoken.push(u.text); setTimeout(() => u.onend && u.onend(), 10); };
"""
VOICE = """() => { const a = document.querySelector('#hallq-voice');
  return a && {src: a.currentSrc, duration: a.duration, state: a.dataset.state, spoken: window.__spoken}; }"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    require_espeak()
    tmp = tmp_path_factory.mktemp("voice-pages")
    proc = ServerProcess(f"sqlite:///{tmp / 'hallq.db'}", tmp / "instance").start(prepare=True)
    proc.voice_dir = tmp / "instance" / "voice"
    db = Database.from_url(proc.db_url)
    service = HallService(db)
    proc.tokens = {name: {"Authorization": "Bearer " + OfficeService(service).create_token(name)} for name in ("kiosk", "staff01", "staff02")}
    yield proc
    db.dispose()
    proc.stop()


def call(server, window: int, staff: str) -> str:
    """Issue a ticket and call it at `window`; its number."""
    ticket = requests.post(server.url + f"{H}/tickets", json={"service": "SI"}, headers=server.tokens["kiosk"], timeout=10)
    ticket.raise_for_status()
    for action in ("open", "call-next"):
        requests.post(server.url + f"{H}/windows/{window}/{action}", headers=server.tokens[staff], timeout=10).raise_for_status()
    return ticket.json()["number"]


def open_screen(browser, server):
    context = browser.new_context(base_url=server.url)
    page = context.new_page()
    page.add_init_script(RECORD_SPEECH)
    page.goto("/displays/hall.html?hall=district&chime=off")
    page.wait_for_selector("#queue tr[data-service=SI]")
    return context, page


def test_a_hall_screen_plays_the_servers_audio_of_a_call(browser, server):
    context, page = open_screen(browser, server)

    number = call(server, 1, "staff01")

    page.wait_for_function(f"document.querySelector('#calls li.newest')?.dataset.number === '{number}'", timeout=WAIT_MS)
    page.wait_for_function("['playing', 'ended'].includes(document.querySelector('#hallq-voice')?.dataset.state)",
                           timeout=WAIT_MS)
    voice = page.evaluate(VOICE)
    assert f"number={number}" in voice["src"] and "window=1" in voice["src"] and "/displays/voice/call.wav" in voice["src"]
    assert voice["duration"] > 1.0  # the source loaded: a sentence of several seconds
    page.wait_for_function("document.querySelector('#hallq-voice').dataset.state === 'ended'", timeout=WAIT_MS)
    assert page.evaluate("window.__spoken") == []  # the hall's voice, not the browser's
    assert len(list(server.voice_dir.glob("*.wav"))) == 1
    context.close()


def test_a_screen_without_the_servers_audio_shows_the_call_and_uses_its_own_voice(browser, server):
    context, page = open_screen(browser, server)
    page.route("**/voice/call.wav*", lambda route: route.fulfill(status=503, body="busy"))

    number = call(server, 2, "staff02")

    page.wait_for_function(f"document.querySelector('#calls li.newest')?.dataset.number === '{number}'", timeout=WAIT_MS)
    page.wait_for_function("window.__spoken.length > 0", timeout=WAIT_MS)
    assert page.evaluate(VOICE)["state"] == "failed"
    assert page.evaluate("window.__spoken") == [f"请 {' '.join(number)} 号到 2 号窗口办理"]
    context.close()
