"""Spoken announcements of calls, with no internet: espeak-ng, or recorded
clips played by aplay. "请 A032 号到 5 号窗口办理" (English optional).

The Announcer decides what to say; a player says it. Players take a `run`
function (subprocess.run by default), so tests see the exact command.
"""

from __future__ import annotations

import logging
import queue
import subprocess
import threading
from pathlib import Path

log = logging.getLogger("hallq_edge.announce")
ZH = "请 {number} 号到 {window} 号窗口办理"
EN = "Number {number}, please go to window {window}"
_DIGITS_ZH = dict(zip("0123456789", "零一二三四五六七八九"))


def spoken_zh(text: str) -> str:
    """Digits read one by one (A032 → A 零三二), as halls announce numbers; window numbers stay whole."""
    out = []
    words = text.split(" ")
    for i, word in enumerate(words):
        if i == 1 and any(c.isdigit() for c in word):  # the ticket number
            word = " ".join(_DIGITS_ZH.get(c, c) for c in word)
        out.append(word)
    return " ".join(out)


class EspeakPlayer:
    def __init__(self, *, voice: str = "cmn", speed: int = 140, run=subprocess.run):
        self.voice, self.speed, self.run = voice, speed, run

    def command(self, text: str, language: str = "zh") -> list[str]:
        voice = self.voice if language == "zh" else "en"
        return ["espeak-ng", "-v", voice, "-s", str(self.speed), spoken_zh(text) if language == "zh" else text]

    def say(self, text: str, language: str = "zh") -> None:
        self.run(self.command(text, language), check=False, timeout=30)


class ClipPlayer:
    """Recorded clips: please.wav, A.wav…, 0.wav…9.wav, go_to.wav, window.wav (see firmware_config)."""

    def __init__(self, clips_dir: str | Path, *, run=subprocess.run):
        self.dir, self.run = Path(clips_dir), run

    def clips(self, number: str, window: int) -> list[str]:
        names = ["please"] + [c for c in number.upper()] + ["go_to"] + [c for c in str(window)] + ["window"]
        return [str(self.dir / f"{n}.wav") for n in names]

    def say_call(self, number: str, window: int) -> None:
        self.run(["aplay", "-q", *self.clips(number, window)], check=False, timeout=30)


class Announcer:
    """Announces calls one after another on its own thread, so a long sentence never delays the screen."""

    def __init__(self, player, *, english: bool = False, repeat: int = 1):
        self.player = player
        self.english = english
        self.repeat = repeat
        self.requested: list[str] = []  # every sentence asked for, newest last
        self._queue: queue.Queue = queue.Queue()
        threading.Thread(target=self._work, name="announcer", daemon=True).start()

    def announce(self, number: str, window: int) -> str:
        text = ZH.format(number=number, window=window)
        self.requested.append(text)
        self._queue.put((number, window, text))
        return text

    def _work(self) -> None:
        while True:
            number, window, text = self._queue.get()
            try:
                for _ in range(self.repeat):
                    if hasattr(self.player, "say_call"):
                        self.player.say_call(number, window)
                    else:
                        self.player.say(text, "zh")
                        if self.english:
                            self.player.say(EN.format(number=number, window=window), "en")
            except Exception:
                log.exception("could not announce %s", text)


class SilentPlayer:
    """No speaker: announcements are only logged (and shown on the screen)."""

    def say(self, text: str, language: str = "zh") -> None:
        log.info("announce: %s", text)


def make_player(conf: dict):
    """A player from the [announce] section: engine = espeak, clips or none."""
    engine = conf.get("engine", "espeak")
    if engine == "espeak":
        return EspeakPlayer(voice=conf.get("voice", "cmn"), speed=int(conf.get("speed", 140)))
    if engine == "clips":
        return ClipPlayer(conf["clips_dir"])
    if engine == "none":
        return SilentPlayer()
    raise ValueError(f"announce engine is espeak, clips or none, not {engine!r}")
