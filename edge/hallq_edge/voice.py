"""The hall's voice as WAV files, with no internet: espeak-ng, or a set of
recorded clips joined together; and a cache that renders each sentence once,
on a thread of its own, so that no call ever waits for its audio.

Used alike by the edge call screen (which plays the file on its speaker) and
by the server (which hands it to the browser screens): the same words
(speech.py), the same voice, the same sound.
"""

from __future__ import annotations

import array
import hashlib
import logging
import os
import queue
import subprocess
import sys
import threading
import wave
from pathlib import Path

from . import speech

log = logging.getLogger("hallq_edge.voice")
DEFAULT_VOICE = "cmn-latn-pinyin"  # espeak-ng's Mandarin voice that reads tone-numbered pinyin
ENGINES = ("espeak", "clips", "none")


class VoiceError(Exception):
    """A sentence could not be rendered (no espeak-ng, a missing or mismatched clip)."""


class EspeakVoice:
    """espeak-ng: Mandarin through the pinyin voice, English through `en`."""

    def __init__(self, *, voice: str = DEFAULT_VOICE, speed: int = 140, english: str = "en", run=subprocess.run):
        self.voice, self.speed, self.english, self.run = voice, int(speed), english, run
        if not self.reads_pinyin:
            log.warning("espeak-ng voice %r is given Chinese characters, which espeak-ng 1.51 (Debian 12) reads "
                        "as English; %r says them in Mandarin", voice, DEFAULT_VOICE)

    @property
    def reads_pinyin(self) -> bool:
        return "pinyin" in self.voice.lower()

    def script(self, number: str, window: int, lang: str = "zh") -> str:
        """Exactly what espeak-ng is given for this call."""
        if lang == "en":
            return speech.english(number, window)
        return self.words_script(speech.call_words(number, window))

    def words_script(self, words: list[speech.Word]) -> str:
        return speech.pinyin(words) if self.reads_pinyin else speech.hanzi(words)

    def command(self, script: str, lang: str = "zh", out: str | Path | None = None) -> list[str]:
        cmd = ["espeak-ng", "-v", self.english if lang == "en" else self.voice, "-s", str(self.speed)]
        return cmd + (["-w", str(out)] if out is not None else []) + [script]

    def key(self, number: str, window: int, lang: str = "zh") -> str:
        """Names the sound: the same key, the same WAV."""
        return f"espeak|{self.english if lang == 'en' else self.voice}|{self.speed}|{self.script(number, window, lang)}"

    def render(self, number: str, window: int, lang: str, out: Path) -> None:
        self._render(self.script(number, window, lang), lang, out)

    def render_words(self, words: list[speech.Word], out: Path) -> None:
        """One clip of a recorded set (`hallq voice make`), its silent ends cut."""
        self._render(self.words_script(words), "zh", out)
        trim_silence(out)

    def _render(self, script: str, lang: str, out: Path) -> None:
        try:
            done = self.run(self.command(script, lang, out), capture_output=True, text=True, timeout=30, check=False)
        except FileNotFoundError:
            raise VoiceError("espeak-ng is not installed (Debian: apt-get install espeak-ng)") from None
        except subprocess.TimeoutExpired:
            raise VoiceError("espeak-ng took longer than 30 s") from None
        if done.returncode != 0:
            raise VoiceError(f"espeak-ng failed: {(done.stderr or '').strip() or done.returncode}")


class ClipVoice:
    """A recorded set: one WAV per word (speech.CLIP_SET), all of one format, joined into one file per call.
    The clips speak Mandarin; an English call is said in Mandarin too."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    def files(self, number: str, window: int) -> list[Path]:
        return [self.folder / f"{w.clip}.wav" for w in speech.call_words(number, window)]

    def missing(self) -> list[str]:
        """Clips of the full set that are not in the folder."""
        return [name for name in speech.CLIP_SET if not (self.folder / f"{name}.wav").is_file()]

    def key(self, number: str, window: int, lang: str = "zh") -> str:
        # A clip recorded again is a new sound: the files' sizes and times are part of the name.
        parts = []
        for path in self.files(number, window):
            try:
                st = path.stat()
                parts.append(f"{path.name}:{st.st_size}:{st.st_mtime_ns}")
            except OSError:
                parts.append(f"{path.name}:missing")
        return f"clips|{self.folder}|" + ",".join(parts)

    def render(self, number: str, window: int, lang: str, out: Path) -> None:
        join_wavs(self.files(number, window), out)


def join_wavs(paths: list[Path], out: Path) -> None:
    """One WAV of several, played one after another; they must share channels, sample width and rate."""
    if not paths:
        raise VoiceError("nothing to say")
    params = None
    with wave.open(str(out), "wb") as dst:
        for path in paths:
            try:
                src = wave.open(str(path), "rb")
            except FileNotFoundError:
                raise VoiceError(f"clip {path} is missing (see `hallq voice list`)") from None
            except (wave.Error, EOFError) as exc:
                raise VoiceError(f"clip {path} is not a PCM WAV file: {exc}") from None
            with src:
                fmt = (src.getnchannels(), src.getsampwidth(), src.getframerate())
                if params is None:
                    params = fmt
                    dst.setnchannels(fmt[0])
                    dst.setsampwidth(fmt[1])
                    dst.setframerate(fmt[2])
                elif fmt != params:
                    raise VoiceError(f"clip {path} is {fmt[0]} channel(s), {8 * fmt[1]} bit, {fmt[2]} Hz; "
                                     f"the others are {params[0]}, {8 * params[1]} bit, {params[2]} Hz")
                dst.writeframes(src.readframes(src.getnframes()))


def trim_silence(path: Path, *, keep: float = 0.05, threshold: int = 300) -> None:
    """Cut the quiet ends of a 16-bit WAV, keeping `keep` seconds: espeak-ng ends each clip with
    0.4 s of silence, which a sentence of nine joined clips would make slow."""
    with wave.open(str(path), "rb") as src:
        params = src.getparams()
        frames = src.readframes(src.getnframes())
    if params.sampwidth != 2 or sys.byteorder != "little":
        return
    samples = array.array("h", frames)
    loud = [i for i in range(len(samples)) if abs(samples[i]) > threshold]
    if not loud:
        return
    pad = int(keep * params.framerate) * params.nchannels
    start, end = max(0, loud[0] - pad), min(len(samples), loud[-1] + 1 + pad)
    start -= start % params.nchannels
    end -= end % params.nchannels
    with wave.open(str(path), "wb") as dst:
        dst.setparams(params)
        dst.writeframes(samples[start:end].tobytes())


def wav_seconds(path: str | Path) -> float:
    """How long a WAV file plays."""
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / float(w.getframerate() or 1)


def make_voice(engine: str, *, voice: str = DEFAULT_VOICE, speed: int = 140, clips_dir: str | Path = ""):
    """A voice by engine name (espeak, clips or none → None)."""
    if engine == "espeak":
        return EspeakVoice(voice=voice, speed=speed)
    if engine == "clips":
        if not clips_dir:
            raise ValueError("the clips engine needs a clips folder")
        return ClipVoice(clips_dir)
    if engine == "none":
        return None
    raise ValueError(f"voice engine is {', '.join(ENGINES)}, not {engine!r}")


class VoiceCache:
    """Each sentence rendered once, to FOLDER/<hash of its key>.wav, by one worker thread.

    `prepare` only queues (a call's transaction never waits for audio); `get`
    waits, up to a timeout, for a file that is there or being made. The folder
    keeps the `max_files` most recently used sentences (looked over once every
    max_files/10 renders, not at each: the folder may hold a tenth more
    meanwhile). Files appear by rename, so several processes can share one folder.
    """

    def __init__(self, voice, folder: str | Path, *, max_files: int = 2000, backlog: int = 64):
        self.voice = voice
        self.folder = Path(folder)
        self.max_files = max_files
        self._queue: queue.Queue = queue.Queue(maxsize=backlog)
        self._pending: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._warned: set[str] = set()
        self._renders = 0  # by the worker thread only

    def path(self, number: str, window: int, lang: str = "zh") -> Path:
        key = self.voice.key(number, window, lang)
        return self.folder / (hashlib.sha256(key.encode("utf-8")).hexdigest()[:32] + ".wav")

    def prepare(self, number: str, window: int, lang: str = "zh") -> threading.Event | None:
        """Queue the sentence for rendering unless it is there; None when it is there (or the queue is full)."""
        path = self.path(number, window, lang)
        if path.is_file():
            return None
        with self._lock:
            done = self._pending.get(path.name)
            if done is not None:
                return done
            done = self._pending[path.name] = threading.Event()
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="voice-cache", daemon=True)
                self._thread.start()
        try:
            self._queue.put_nowait((number, window, lang, path, done))
        except queue.Full:  # a flood of requests: shed it, the screens fall back to their own voice
            with self._lock:
                self._pending.pop(path.name, None)
            done.set()
            return None
        return done

    def get(self, number: str, window: int, lang: str = "zh", *, timeout: float = 10.0) -> Path | None:
        """The sentence's WAV, rendered first if need be; None if it could not be made in time."""
        path = self.path(number, window, lang)
        if not path.is_file():
            done = self.prepare(number, window, lang)
            if done is not None:
                done.wait(timeout)
        if not path.is_file():
            return None
        try:
            os.utime(path)  # recently used: kept by the pruning
        except OSError:
            pass
        return path

    def _work(self) -> None:
        while True:
            number, window, lang, path, done = self._queue.get()
            try:
                if not path.is_file():
                    self._render(number, window, lang, path)
            except VoiceError as exc:
                self._warn(str(exc))
            except Exception:
                log.exception("could not render %s", speech.call_text(number, window, lang))
            finally:
                with self._lock:
                    self._pending.pop(path.name, None)
                done.set()

    def _render(self, number: str, window: int, lang: str, path: Path) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.stem}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            self.voice.render(number, window, lang, tmp)
            if not tmp.is_file() or tmp.stat().st_size <= 44:  # a bare WAV header says nothing
                raise VoiceError(f"the voice made no sound for {speech.call_text(number, window, lang)!r}")
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        self._renders += 1
        if self._renders % max(1, self.max_files // 10) == 0:
            self._prune()

    def _prune(self) -> None:
        files = []
        for entry in os.scandir(self.folder):
            if entry.name.endswith(".wav"):
                try:
                    files.append((entry.stat().st_mtime, entry.path))
                except OSError:
                    pass
        if len(files) <= self.max_files:
            return
        files.sort()
        for _, name in files[: len(files) - self.max_files * 9 // 10]:
            try:
                os.unlink(name)
            except OSError:
                pass

    def _warn(self, message: str) -> None:
        """Each reason once: a hall without espeak-ng should not log it at every call."""
        if message not in self._warned:
            self._warned.add(message)
            log.warning("no voice for the calls: %s", message)
