"""The server's voice: a call is rendered after its commit, off the request,
and served to the screens at /displays/voice/call.wav; `hallq voice` makes,
lists and tests a clip set."""

from __future__ import annotations

import time
import wave

import pytest

from hallq_edge import speech
from hallq_edge.voice import VoiceCache
from support.halls import make_app
from support.voice import SlowVoice, require_espeak, write_wav

H = "/api/v1/halls/district"
URL = "/displays/voice/call.wav"


@pytest.fixture
def voiced(hall, tmp_path):
    """An app whose voice is a SlowVoice (no espeak-ng needed), and its cache."""
    app = make_app(hall, instance_path=tmp_path / "instance", secret_key="test-secret")
    app.config["TESTING"] = True
    cache = app.extensions["hallq"].voice
    cache.voice = SlowVoice()
    return app, cache


def test_a_call_is_rendered_after_it_is_made_without_waiting_for_it(voiced, users):
    app, cache = voiced
    kiosk, staff = users.token("kiosk1", "device"), users.token("staff1", "staff")
    client = app.test_client()
    client.post(f"{H}/tickets", json={"service": "SI"}, headers=kiosk)
    client.post(f"{H}/windows/3/open", headers=staff)
    cache.voice.go.clear()  # the voice is stuck: the call must not be

    started = time.monotonic()
    answer = client.post(f"{H}/windows/3/call-next", headers=staff)
    assert answer.status_code == 200 and time.monotonic() - started < 2

    cache.voice.go.set()
    deadline = time.monotonic() + 5
    while not cache.path("A001", 3).is_file() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert cache.voice.rendered == ["请 A001 号到 3 号窗口办理"]  # made before any screen asked

    got = client.get(f"{URL}?number=A001&window=3&lang=zh")
    assert got.status_code == 200 and got.mimetype == "audio/wav" and got.data[:4] == b"RIFF"
    assert cache.voice.rendered == ["请 A001 号到 3 号窗口办理"]  # served from the cache


def test_the_route_renders_what_was_not_prepared_and_refuses_nonsense(voiced):
    app, cache = voiced
    client = app.test_client()

    assert client.get(f"{URL}?number=b007&window=12&lang=en").status_code == 200
    assert cache.voice.rendered == ["Number B007, please go to window 12"]
    for query in ("number=A001", "number=A001&window=0", "number=A;rm&window=1", "number=A001&window=1&lang=fr",
                  "number=ABCDE1&window=1", "number=A001&window=x"):
        assert client.get(f"{URL}?{query}").status_code == 400, query


def test_without_a_voice_the_screens_are_told_to_use_their_own(hall, tmp_path):
    quiet = make_app(hall, instance_path=tmp_path / "q", secret_key="s", voice_engine="none")
    failing = make_app(hall, instance_path=tmp_path / "f", secret_key="s")
    failing.extensions["hallq"].voice.voice = SlowVoice(fail="espeak-ng is not installed")

    assert quiet.extensions["hallq"].voice is None
    assert quiet.test_client().get(f"{URL}?number=A001&window=1").status_code == 404
    assert failing.test_client().get(f"{URL}?number=A001&window=1").status_code == 503


def test_the_server_renders_real_speech_to_its_instance_folder(hall, tmp_path):
    require_espeak()
    app = make_app(hall, instance_path=tmp_path / "instance", secret_key="test-secret")

    got = app.test_client().get(f"{URL}?number=A032&window=5")

    assert got.status_code == 200
    files = list((tmp_path / "instance" / "voice").glob("*.wav"))
    assert len(files) == 1
    with wave.open(str(files[0])) as w:
        assert w.getnframes() / w.getframerate() > 2.0


def test_clips_configured_on_the_server_are_used(hall, tmp_path):
    clips = tmp_path / "clips"
    clips.mkdir()
    for name in speech.CLIP_SET:
        write_wav(clips / f"{name}.wav", 0.1)
    app = make_app(hall, instance_path=tmp_path / "instance", secret_key="s", voice_engine="clips",
                     voice_clips_dir=str(clips))

    got = app.test_client().get(f"{URL}?number=A032&window=5")

    assert got.status_code == 200
    assert isinstance(app.extensions["hallq"].voice, VoiceCache)


# -- hallq voice -----------------------------------------------------------------


def test_voice_make_list_and_test(cli, tmp_path):
    require_espeak()
    clips = tmp_path / "clips"

    made = cli("voice", "make", str(clips))
    assert "41 clips rendered" in made.stdout
    listed = cli("voice", "list", str(clips))
    assert "41 of 41 clips usable" in listed.stdout and "voice: espeak (espeak-ng voice cmn-latn-pinyin" in listed.stdout

    (clips / "ten.wav").unlink()
    (clips / "A.wav").write_bytes(b"not a wav")
    broken = cli("voice", "list", str(clips), check=False)
    assert broken.returncode == 1
    assert "MISSING" in broken.stdout and "not a PCM WAV file" in broken.stdout and "39 of 41" in broken.stdout
    again = cli("voice", "make", str(clips))
    assert "1 clips rendered, 40 kept" in again.stdout  # a recorded (here: broken) clip is never overwritten

    out = tmp_path / "call.wav"
    tested = cli("voice", "test", "a032", "5", "--out", str(out))
    assert "请 A032 号到 5 号窗口办理" in tested.stdout
    assert "qing3 A ling2 san1 er4 hao4 dao4 wu3 hao4 chuang1 kou3 ban4 li3" in tested.stdout
    with wave.open(str(out)) as w:
        assert w.getnframes() / w.getframerate() > 2.0

    (clips / "A.wav").unlink()
    cli("voice", "make", str(clips))
    from_clips = cli("voice", "test", "A032", "12", "--clips", str(clips), "--out", str(out))
    assert "clips: please.wav A.wav 0.wav 3.wav 2.wav go_to.wav ten.wav 2.wav window.wav" in from_clips.stdout
    assert cli("voice", "test", "A-1", "5", check=False).returncode == 2


def test_demo_voice_speaks_with_the_servers_voice(voiced, tmp_path):
    from types import SimpleNamespace

    from hallq.config import load_settings
    from hallq.mqtt.demo_devices import speaker
    from hallq_edge.voice import EspeakVoice

    app, cache = voiced
    settings = load_settings(instance_path=tmp_path / "demo", voice_engine="none")

    assert speaker(app.extensions["hallq"]).cache is cache  # one cache: a call rendered for the screens is played as is
    alone = speaker(SimpleNamespace(voice=None, settings=settings)).cache
    assert isinstance(alone.voice, EspeakVoice) and alone.folder == tmp_path / "demo" / "voice"  # asked to speak: it does
