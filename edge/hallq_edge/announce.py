"""Spoken announcements of calls on the device's own speaker, with no
internet: "请 A032 号到 5 号窗口办理" (English optional), rendered once per
sentence by voice.py (espeak-ng or recorded clips) and played by aplay or paplay.

The Announcer decides what to say and when; a player says it. Players take a
`run` function (subprocess.run by default), so tests see the exact command.
"""

from __future__ import annotations

import logging
import queue
import shutil
import subprocess
import threading
import time

from . import speech
from .voice import DEFAULT_VOICE, VoiceCache, make_voice

log = logging.getLogger("hallq_edge.announce")


def play_command() -> list[str] | None:
    """aplay (ALSA) or paplay (PulseAudio/PipeWire), whichever is installed; None if neither is."""
    if shutil.which("aplay"):
        return ["aplay", "-q"]
    if shutil.which("paplay"):
        return ["paplay"]
    return None


def play_wav(path, command: list[str] | None, run=subprocess.run) -> str | None:
    """Play a WAV file to the end; None when it played, else why not (no player program, no sound device...)."""
    if not command:
        return "neither aplay nor paplay is installed (Debian: alsa-utils)"
    try:
        done = run([*command, str(path)], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{command[0]}: {exc}"
    if done.returncode == 0:
        return None
    lines = (done.stderr or "").strip().splitlines()
    why = lines[-1] if lines else f"exit status {done.returncode}"
    return why if why.startswith(command[0]) else f"{command[0]}: {why}"


class SpeakerPlayer:
    """Says a call on this machine's speaker: the sentence's WAV from the cache, then the play command.
    Without a player program or a sound device it says so once in the log, and goes on silently."""

    def __init__(self, cache: VoiceCache, *, command: list[str] | None = None, run=subprocess.run):
        self.cache = cache
        self.command = command if command is not None else play_command()
        self.run = run
        self._warned = False

    def say_call(self, number: str, window: int, lang: str = "zh") -> None:
        wav = self.cache.get(number, window, lang, timeout=30)
        if wav is None:
            return  # the cache said why
        why = play_wav(wav, self.command, self.run)
        if why and not self._warned:
            self._warned = True
            log.warning("cannot play the calls aloud (%s): they are shown, not spoken", why)


class SilentPlayer:
    """No speaker: announcements are only logged (and shown on the screen)."""

    def say_call(self, number: str, window: int, lang: str = "zh") -> None:
        log.info("announce: %s", speech.call_text(number, window, lang))


class Announcer:
    """Announces calls one after another on its own thread, so a long sentence never delays the screen.
    A call that waited longer than `too_late` seconds behind others is shown but not said: in a burst
    of calls, a number said a minute late sends a visitor to a window that has moved on."""

    def __init__(self, player, *, english: bool = False, repeat: int = 1, too_late: float = 30.0):
        self.player = player
        self.english = english
        self.repeat = repeat
        self.too_late = too_late
        self.requested: list[str] = []  # every sentence asked for, newest last
        self._queue: queue.Queue = queue.Queue()
        threading.Thread(target=self._work, name="announcer", daemon=True).start()

    def announce(self, number: str, window: int) -> str:
        text = speech.call_text(number, window)
        self.requested.append(text)
        self._queue.put((number, window, text, time.monotonic()))
        return text

    def _work(self) -> None:
        while True:
            number, window, text, asked = self._queue.get()
            if time.monotonic() - asked > self.too_late:
                log.info("not announced, %.0f s late: %s", time.monotonic() - asked, text)
                continue
            try:
                for _ in range(self.repeat):
                    self.player.say_call(number, window, "zh")
                    if self.english:
                        self.player.say_call(number, window, "en")
            except Exception:
                log.exception("could not announce %s", text)


def make_player(conf: dict):
    """A player from the [announce] section: engine = espeak, clips or none; cache_dir keeps the rendered sentences."""
    engine = conf.get("engine", "espeak")
    voice = make_voice(engine, voice=conf.get("voice", DEFAULT_VOICE), speed=int(conf.get("speed", 140)),
                       clips_dir=conf.get("clips_dir", ""))
    if voice is None:
        return SilentPlayer()
    cache = VoiceCache(voice, conf.get("cache_dir", "/var/lib/hallq-edge/voice"), max_files=int(conf.get("cache_files", 500)))
    return SpeakerPlayer(cache)
