"""What is said for a call, in one place for the edge devices and the server:
"请 A032 号到 5 号窗口办理", the ticket number read letter by letter and digit by
digit (A 零 三 二), the window number read whole (十二 号窗口).

A sentence is a list of words. Each word is a clip of a recorded set
(please.wav, A.wav, 0.wav, ten.wav, …), its Chinese text, and its tone-numbered
pinyin for espeak-ng's `cmn-latn-pinyin` voice. The pinyin is spelled out here
rather than looked up in a dictionary: the calls use nineteen characters, and
espeak-ng 1.51 (Debian 12, Raspberry Pi OS Bookworm) reads Chinese characters
given to its `cmn` voice as English ("请" → "king three"). Pure code: no I/O.
"""

from __future__ import annotations

import re
from typing import NamedTuple

ZH = "请 {number} 号到 {window} 号窗口办理"
TICKET_NUMBER = re.compile(r"[A-Z]{0,4}[0-9]{1,6}")  # what a call can name: a prefix of letters, then digits
EN = "Number {number}, please go to window {window}"


class Word(NamedTuple):
    clip: str  # the recorded clip's name (CLIP.wav)
    zh: str  # Chinese text
    pinyin: str  # tone-numbered pinyin, syllables separated by spaces


_DIGIT_ZH = "零一二三四五六七八九"
_DIGIT_PINYIN = ("ling2", "yi1", "er4", "san1", "si4", "wu3", "liu4", "qi1", "ba1", "jiu3")
DIGITS = [Word(str(d), _DIGIT_ZH[d], _DIGIT_PINYIN[d]) for d in range(10)]
PLEASE = Word("please", "请", "qing3")
GO_TO = Word("go_to", "号到", "hao4 dao4")
WINDOW = Word("window", "号窗口办理", "hao4 chuang1 kou3 ban4 li3")
TEN = Word("ten", "十", "shi2")
HUNDRED = Word("hundred", "百", "bai3")
LETTERS = [Word(c, c, c) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"]  # espeak-ng says the letter's Chinese name

# Every clip a recorded set needs, in the order `hallq voice make` renders them.
CLIP_SET: dict[str, Word] = {w.clip: w for w in [PLEASE, GO_TO, WINDOW, *DIGITS, TEN, HUNDRED, *LETTERS]}


def call_text(number: str, window: int, lang: str = "zh") -> str:
    """The call as written on a screen or in a log: 请 A032 号到 5 号窗口办理."""
    return (EN if lang == "en" else ZH).format(number=number, window=window)


def ticket_words(number: str) -> list[Word]:
    """A032 → A 零 三 二: halls read ticket numbers one character at a time."""
    words = []
    for c in number.upper():
        if c.isascii() and c.isdigit():
            words.append(DIGITS[int(c)])
        elif c.isascii() and c.isalpha():
            words.append(CLIP_SET[c])
    return words


def window_words(window: int) -> list[Word]:
    """5 → 五, 12 → 十二, 20 → 二十, 105 → 一百零五: a window's number read whole (beyond 999, digit by digit)."""
    if not 0 < window < 1000:
        return ticket_words(str(window))
    hundreds, tens, ones = window // 100, window // 10 % 10, window % 10
    words: list[Word] = []
    if hundreds:
        words += [DIGITS[1]._replace(pinyin="yi4") if hundreds == 1 else DIGITS[hundreds], HUNDRED]  # 一百: yì bǎi
        if tens == 0 and ones:
            words.append(DIGITS[0])
    if tens:
        if tens > 1 or hundreds:
            words.append(DIGITS[tens])
        words.append(TEN)
    if ones:
        words.append(DIGITS[ones])
    return words


def call_words(number: str, window: int) -> list[Word]:
    """请 A 零 三 二 号到 五 号窗口办理, as words."""
    return [PLEASE, *ticket_words(number), GO_TO, *window_words(window), WINDOW]


def pinyin(words: list[Word]) -> str:
    """The words as espeak-ng's cmn-latn-pinyin voice reads them: qing3 A ling2 san1 er4 hao4 dao4 wu3 …"""
    return " ".join(w.pinyin for w in words)


def hanzi(words: list[Word]) -> str:
    """The words in Chinese characters, spaced: for a voice that reads characters itself."""
    return " ".join(w.zh for w in words)


def english(number: str, window: int) -> str:
    """The English call, the ticket number spaced so that it is read one character at a time."""
    spaced = " ".join(c for c in number.upper() if c.isascii() and c.isalnum())
    return EN.format(number=spaced, window=window)
