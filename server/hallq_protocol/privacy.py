"""Personal data in free text, masked: the one function every surface uses (pause reasons, device
status details, and anything else a person or device types that screens, the API, MQTT, logs
or the audit show). Standard library only: the edge devices import it too.

What it finds and how it masks (as 政务 systems show them):
- 18-digit resident ID numbers (the last may be X):   110101199003078515 → 110101********8515
- Chinese mobile numbers (1[3-9] and nine more digits, also +86 / 86 in front):
                                                      13800138000 → 138****8000
- a name after a label (姓名 / 名字 / 联系人 / name, then : or ：):
                                                      姓名：张三丰 → 姓名：张**
A name standing alone cannot be told from other words, so free text that reaches a public
surface is also kept short; a name is recognised only where it is labelled.
"""

from __future__ import annotations

import logging
import re

_ID = re.compile(r"(?<!\d)(\d{6})(\d{8})(\d{3}[\dXx])(?![\dXx])")
_MOBILE = re.compile(r"(?<!\d)((?:\+?86[- ]?)?1[3-9]\d)(\d{4})(\d{4})(?!\d)")
_NAME = re.compile(r"((?:姓名|名字|联系人|[Nn]ame)\s*[:：]\s*)([\u4e00-\u9fff]{1,4}|[A-Za-z][A-Za-z .'-]{0,40}[A-Za-z])")


def _name(match: re.Match) -> str:
    name = match.group(2)
    return match.group(1) + name[0] + "*" * (len(name) - 1)


def mask(text: str) -> str:
    """`text` with ID numbers, mobile numbers and labelled names masked; the rest as it was."""
    if not text:
        return text
    text = _ID.sub(lambda m: m.group(1) + "********" + m.group(3), text)
    text = _MOBILE.sub(lambda m: m.group(1) + "****" + m.group(3), text)
    return _NAME.sub(_name, text)


def mask_values(data: dict) -> dict:
    """A flat dict with every string value masked (a device's status details)."""
    return {key: mask(value) if isinstance(value, str) else value for key, value in data.items()}


class MaskingFilter(logging.Filter):
    """Masks every log line (its message with its arguments) before a handler writes it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


def mask_logs(logger: logging.Logger | None = None) -> None:
    """Put a MaskingFilter on every handler of `logger` (the root logger by default) that has none."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, MaskingFilter) for f in handler.filters):
            handler.addFilter(MaskingFilter())
