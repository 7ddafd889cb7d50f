"""The hall's voice in tests: whether espeak-ng is here, WAV files to order, and a voice
that renders on command (no espeak-ng needed)."""

from __future__ import annotations

import shutil
import threading
import wave
from pathlib import Path

import pytest

from hallq_edge import speech
from hallq_edge.voice import VoiceError

from .project import IN_CI


def require_espeak() -> str:
    path = shutil.which("espeak-ng")
    if path is None:
        message = "espeak-ng is not installed (tests/run installs Debian's espeak-ng when run as root)"
        if IN_CI:
            pytest.fail(message + " (CI=true: the voice tests must run)")
        pytest.skip(message)
    return path


def write_wav(path: Path, seconds: float = 0.2, *, rate: int = 22050, channels: int = 1, level: int = 8000) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        frame = level.to_bytes(2, "little", signed=True) * channels
        w.writeframes(frame * int(seconds * rate))
    return path


class SlowVoice:
    """Renders a short tone per sentence, when let; counts its renders."""

    def __init__(self, *, fail: str | None = None):
        self.go = threading.Event()
        self.go.set()
        self.rendered: list[str] = []
        self.fail = fail

    def key(self, number, window, lang="zh"):
        return f"test|{lang}|{number}|{window}"

    def render(self, number, window, lang, out):
        self.go.wait(10)
        if self.fail:
            raise VoiceError(self.fail)
        self.rendered.append(speech.call_text(number, window, lang))
        write_wav(Path(out), 0.05)
