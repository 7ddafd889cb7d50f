"""The hall's voice: what is said for a call (hallq_edge.speech), how espeak-ng
says it (its own phoneme output, on the machine's espeak-ng), the cache that
renders each sentence once and off the call's path, the server's audio route,
the device's speaker, and `hallq voice`."""

from __future__ import annotations

import logging
import re
import subprocess
import threading
import time
from pathlib import Path

import pytest

from hallq_edge import speech
from hallq_edge.announce import Announcer, SpeakerPlayer, make_player
from hallq_edge.voice import ClipVoice, EspeakVoice, VoiceCache, VoiceError, join_wavs, wav_seconds
from support.voice import SlowVoice, require_espeak, write_wav


# -- what is said ----------------------------------------------------------------


def test_a_call_is_said_ticket_digit_by_digit_and_window_whole():
    words = speech.call_words("A032", 5)

    assert speech.hanzi(words) == "请 A 零 三 二 号到 五 号窗口办理"
    assert speech.pinyin(words) == "qing3 A ling2 san1 er4 hao4 dao4 wu3 hao4 chuang1 kou3 ban4 li3"
    assert [w.clip for w in words] == ["please", "A", "0", "3", "2", "go_to", "5", "window"]
    assert speech.call_text("A032", 5) == "请 A032 号到 5 号窗口办理"
    assert speech.english("a032", 5) == "Number A 0 3 2, please go to window 5"


@pytest.mark.parametrize("window, zh, pinyin", [
    (1, "一", "yi1"), (10, "十", "shi2"), (12, "十 二", "shi2 er4"), (20, "二 十", "er4 shi2"),
    (35, "三 十 五", "san1 shi2 wu3"), (100, "一 百", "yi4 bai3"), (105, "一 百 零 五", "yi4 bai3 ling2 wu3"),
    (110, "一 百 一 十", "yi4 bai3 yi1 shi2"), (999, "九 百 九 十 九", "jiu3 bai3 jiu3 shi2 jiu3"),
    (1203, "一 二 零 三", "yi1 er4 ling2 san1"),
])
def test_window_numbers_are_read_as_numbers(window, zh, pinyin):
    words = speech.window_words(window)

    assert speech.hanzi(words) == zh
    assert speech.pinyin(words) == pinyin


def test_every_word_of_every_call_has_a_clip_in_the_set():
    for window in range(1, 1000):
        assert {w.clip for w in speech.call_words("AZ0123456789", window)} <= set(speech.CLIP_SET)
    assert len(speech.CLIP_SET) == 3 + 10 + 2 + 26


# -- how espeak-ng says it (the machine's own espeak-ng) -------------------------

TONES = {"1": {"55"}, "2": {"35"}, "3": {"21", "214"}, "4": {"51"}}  # tone 3 dips fully only at the end
# Each syllable in espeak-ng 1.51's Mandarin phonemes, stress marks dropped (q = tS;h, h = X, d = t, b = p, sh = s., …);
# a letter of the ticket's prefix by its Chinese name, in the fourth tone.
SYLLABLES = {
    "qing": "tS;hiN", "hao": "XAu", "dao": "tAu", "chuang": "ts.hwAN", "kou": "khou", "ban": "pan", "li": "li",
    "ling": "liN", "yi": "ji", "er": "@r", "san": "san", "si": "si[", "wu": "wu", "liu": "liou", "qi": "tS;hi",
    "ba": "pA", "jiu": "tS;iou", "shi": "s.i.", "bai": "pai", "A": "ei", "B": "pi",
}


def phonemes(text: str, voice: str) -> str:
    done = subprocess.run(["espeak-ng", "-v", voice, "-x", "-q", text], capture_output=True, text=True, timeout=30, check=True)
    return done.stdout


def spoken_syllables(output: str) -> list[tuple[str, str]]:
    """espeak-ng's -x output as (phonemes, tone) per syllable: "tS;h'i21N_|" → ("tS;hiN", "21")."""
    out = []
    for chunk in re.split(r"_\|\s*|\s+", output):
        chunk = chunk.replace("'", "").replace(",", "")
        if chunk:
            out.append((re.sub(r"\d", "", chunk), "".join(re.findall(r"\d", chunk))))
    return out


def assert_said(output: str, pinyin: str) -> None:
    """Syllable by syllable, what Mandarin says: `pinyin` is written by hand, not taken from the code under test."""
    assert "(" not in output, f"espeak-ng switched language: {output}"
    said = spoken_syllables(output)
    want = [(SYLLABLES[s[:-1]], s[-1]) if s[-1].isdigit() else (SYLLABLES[s], "4") for s in pinyin.split()]
    assert [p for p, _ in said] == [p for p, _ in want], output
    for (phon, tone), (_, digit) in zip(said, want):
        assert tone in TONES[digit], f"{phon} said with tone {tone}, not tone {digit}: {output}"


def test_espeak_says_a_whole_call_in_mandarin_with_the_right_tones():
    require_espeak()
    voice = EspeakVoice()

    output = phonemes(voice.script("A032", 5), voice.voice)

    assert "(en)" not in output
    #          请    A  零    三    二  号    到    五  号    窗      口   办   理
    assert_said(output, "qing3 A ling2 san1 er4 hao4 dao4 wu3 hao4 chuang1 kou3 ban4 li3")


def test_espeak_says_every_digit_and_window_numbers_in_mandarin():
    require_espeak()
    voice = EspeakVoice()

    output = phonemes(voice.script("B0123456789", 105), voice.voice)

    assert_said(output, "qing3 B ling2 yi1 er4 san1 si4 wu3 liu4 qi1 ba1 jiu3 hao4 dao4 yi4 bai3 ling2 wu3 "
                        "hao4 chuang1 kou3 ban4 li3")
    assert_said(phonemes(voice.script("A1", 12), voice.voice), "qing3 A yi1 hao4 dao4 shi2 er4 hao4 chuang1 kou3 ban4 li3")


def test_the_plain_cmn_voice_is_what_the_pinyin_voice_fixes():
    """Why the default is cmn-latn-pinyin: espeak-ng 1.51's cmn voice reads 请 through English ("king three")."""
    require_espeak()
    version = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True, check=True).stdout
    if " 1.51" not in version:
        pytest.skip(f"this is about espeak-ng 1.51 (Debian 12); here: {version.strip()}")

    assert "(en)" in phonemes("请", "cmn")
    assert "(en)" not in phonemes(EspeakVoice().script("A032", 5), "cmn-latn-pinyin")


def test_espeak_commands_are_exact():
    voice = EspeakVoice(speed=150)

    assert voice.command(voice.script("A032", 12), out="/tmp/x.wav") == [
        "espeak-ng", "-v", "cmn-latn-pinyin", "-s", "150", "-w", "/tmp/x.wav",
        "qing3 A ling2 san1 er4 hao4 dao4 shi2 er4 hao4 chuang1 kou3 ban4 li3"]
    assert voice.command(voice.script("A032", 12, "en"), "en")[-1] == "Number A 0 3 2, please go to window 12"
    assert voice.command(voice.script("A032", 12, "en"), "en")[2] == "en"


def test_a_voice_that_reads_characters_gets_characters(caplog):
    with caplog.at_level(logging.WARNING, logger="hallq_edge.voice"):
        voice = EspeakVoice(voice="cmn")

    assert voice.script("A032", 5) == "请 A 零 三 二 号到 五 号窗口办理"
    assert "cmn-latn-pinyin" in caplog.text  # told what to use instead


# -- clips -----------------------------------------------------------------------


def test_clips_are_joined_into_one_call(tmp_path):
    for name in speech.CLIP_SET:
        write_wav(tmp_path / f"{name}.wav", 0.1)
    clips = ClipVoice(tmp_path)

    clips.render("A032", 15, "zh", tmp_path / "call.wav")

    assert [p.name for p in clips.files("A032", 15)] == [
        "please.wav", "A.wav", "0.wav", "3.wav", "2.wav", "go_to.wav", "ten.wav", "5.wav", "window.wav"]
    assert wav_seconds(tmp_path / "call.wav") == pytest.approx(0.9, abs=0.01)
    assert clips.missing() == []


def test_a_missing_or_mismatched_clip_is_named(tmp_path):
    write_wav(tmp_path / "a.wav")
    write_wav(tmp_path / "b.wav", rate=44100)

    with pytest.raises(VoiceError, match="b.wav is 1 channel.*44100 Hz.*22050 Hz"):
        join_wavs([tmp_path / "a.wav", tmp_path / "b.wav"], tmp_path / "out.wav")
    with pytest.raises(VoiceError, match="nope.wav is missing"):
        join_wavs([tmp_path / "a.wav", tmp_path / "nope.wav"], tmp_path / "out.wav")
    assert "please" in ClipVoice(tmp_path).missing()


# -- the cache -------------------------------------------------------------------


def test_each_sentence_is_rendered_once(tmp_path):
    voice = SlowVoice()
    cache = VoiceCache(voice, tmp_path / "voice")

    first = cache.get("A032", 5)
    again = cache.get("A032", 5)
    other = cache.get("A032", 5, "en")

    assert first == again and first.is_file() and other != first
    assert voice.rendered == ["请 A032 号到 5 号窗口办理", "Number A032, please go to window 5"]
    assert VoiceCache(voice, tmp_path / "voice").get("A032", 5) == first  # another process finds it on disk
    assert len(voice.rendered) == 2


def test_preparing_a_call_never_waits_for_its_audio(tmp_path):
    voice = SlowVoice()
    voice.go.clear()  # the voice is stuck
    cache = VoiceCache(voice, tmp_path)

    started = time.monotonic()
    done = cache.prepare("B001", 3)
    assert time.monotonic() - started < 0.5
    assert cache.get("B001", 3, timeout=0.2) is None  # not there yet: a screen falls back
    assert cache.prepare("B001", 3) is done  # asked twice, made once

    voice.go.set()
    assert done.wait(5)
    assert cache.get("B001", 3).is_file() and voice.rendered == ["请 B001 号到 3 号窗口办理"]


def test_a_voice_that_fails_gives_no_file_and_says_why_once(tmp_path, caplog):
    cache = VoiceCache(SlowVoice(fail="espeak-ng is not installed"), tmp_path)

    with caplog.at_level(logging.WARNING, logger="hallq_edge.voice"):
        assert cache.get("A001", 1) is None
        assert cache.get("A002", 1) is None

    assert caplog.text.count("espeak-ng is not installed") == 1
    assert list(tmp_path.iterdir()) == []  # no half-written file left


def test_the_cache_keeps_the_most_recently_used(tmp_path):
    cache = VoiceCache(SlowVoice(), tmp_path, max_files=10)
    kept = cache.get("A000", 1)
    for n in range(1, 15):
        cache.get(f"A{n:03d}", 1)
        cache.get("A000", 1)  # used again and again: stays

    files = list(tmp_path.glob("*.wav"))
    assert 9 <= len(files) <= 10
    assert kept in files


# -- the device's speaker --------------------------------------------------------


def test_the_speaker_plays_the_rendered_call(tmp_path):
    ran = []
    player = SpeakerPlayer(VoiceCache(SlowVoice(), tmp_path), command=["aplay", "-q"],
                           run=lambda cmd, **kw: ran.append(cmd) or subprocess.CompletedProcess(cmd, 0, "", ""))

    player.say_call("A032", 5)

    assert ran[0][:2] == ["aplay", "-q"] and Path(ran[0][2]).parent == tmp_path


def test_no_sound_device_is_said_once_and_nothing_breaks(tmp_path, caplog):
    failed = subprocess.CompletedProcess([], 1, "", "ALSA lib …\naplay: main:831: audio open error: No such file or directory")
    player = SpeakerPlayer(VoiceCache(SlowVoice(), tmp_path), command=["aplay", "-q"], run=lambda cmd, **kw: failed)
    no_program = SpeakerPlayer(VoiceCache(SlowVoice(), tmp_path), command=[])

    with caplog.at_level(logging.WARNING, logger="hallq_edge.announce"):
        for n in range(3):
            player.say_call(f"A00{n}", 5)
            no_program.say_call(f"A00{n}", 5)

    assert caplog.text.count("audio open error") == 1
    assert caplog.text.count("neither aplay nor paplay") == 1


def test_a_call_said_too_late_is_dropped(tmp_path):
    said, gate = [], threading.Event()

    class Slow:
        def say_call(self, number, window, lang="zh"):
            gate.wait(5)
            said.append(number)

    announcer = Announcer(Slow(), too_late=0.3)
    announcer.announce("A001", 1)
    announcer.announce("A002", 2)  # waits behind A001 past too_late
    time.sleep(0.5)
    gate.set()
    announcer.announce("A003", 3)
    deadline = time.monotonic() + 5
    while "A003" not in said and time.monotonic() < deadline:
        time.sleep(0.02)

    assert said == ["A001", "A003"]


def test_edge_config_builds_the_voice(tmp_path):
    player = make_player({"engine": "espeak", "cache_dir": str(tmp_path), "speed": 150})
    clips = make_player({"engine": "clips", "clips_dir": str(tmp_path / "clips"), "cache_dir": str(tmp_path)})

    assert isinstance(player.cache.voice, EspeakVoice) and player.cache.voice.voice == "cmn-latn-pinyin"
    assert player.cache.voice.speed == 150 and player.cache.folder == tmp_path
    assert isinstance(clips.cache.voice, ClipVoice)
    with pytest.raises(ValueError, match="clips folder"):
        make_player({"engine": "clips"})


def test_the_edge_renders_real_speech(tmp_path):
    require_espeak()
    cache = VoiceCache(EspeakVoice(), tmp_path)

    wav = cache.get("A032", 5)

    assert wav is not None and 2.0 < wav_seconds(wav) < 10.0
