"""The scenario file's sections, validated (see scenario.py for what they mean)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

_HHMM = r"^\d{1,2}:\d{2}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ScenarioSpec(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,31}$")
    description: str = ""
    hall_file: str | None = None
    visitors: float = Field(gt=0, le=100_000)  # expected visitors per working day
    day_cv: float = Field(default=0.0, ge=0, le=0.5)  # day-to-day variation of that volume
    handling: Literal["lognormal", "exponential", "fixed"] = "lognormal"
    handling_cv: float = Field(default=0.6, ge=0, le=3)
    secondary_proficiency: float = Field(default=0.85, gt=0, le=1)
    unqualified_proficiency: float = Field(default=0.7, gt=0, le=1)
    no_show: float = Field(default=0.03, ge=0, le=0.5)
    no_show_minutes: float = Field(default=1.5, ge=0, le=30)  # a window's time lost calling one
    green: float = Field(default=0.02, ge=0, le=0.5)
    appointment: float = Field(default=0.1, ge=0, le=0.9)
    # 好差评: the share of visitors served who rate it on the window's review box, and how they
    # rate (score 5 非常满意 … 1 非常不满意 → relative weight).
    rated: float = Field(default=0.0, ge=0, le=1)
    scores: dict[int, float] = {5: 1.0}
    # What windows serve when the day begins: the hall file's services, only
    # their main ones, or everything their staff is qualified for.
    start: Literal["hall", "main", "qualified"] = "hall"
    target_minutes: float = Field(default=20, gt=0, le=480)
    patience: float = Field(default=3.0, ge=0, le=100)  # HallQ policy: see core/calling/accumulating.py
    first_day: date = date(2026, 11, 23)

    @field_validator("scores")
    @classmethod
    def _scores(cls, v):
        if not set(v) <= {1, 2, 3, 4, 5}:
            raise ValueError("scores are 1 (非常不满意) to 5 (非常满意)")
        if any(w < 0 for w in v.values()) or sum(v.values()) <= 0:
            raise ValueError("scores are weights: none below 0, and some above")
        return v


class WindowGroup(_Strict):
    numbers: str
    name: str = "{n}号综合窗口"
    zone: str | None = None
    services: dict[str, float]
    main: list[str] | None = None
    qualified: dict[str, float] | None = None


class Staffing(_Strict):
    windows: str
    main: list[str] | None = None
    qualified: dict[str, float] | None = None


class BreakSpec(_Strict):
    start: str = Field(alias="from", pattern=_HHMM)
    end: str = Field(alias="to", pattern=_HHMM)
    minutes: float = Field(gt=0, le=240)
    share: float = Field(default=1.0, gt=0, le=1)


class SurgeSpec(_Strict):
    service: str
    start: str = Field(alias="from", pattern=_HHMM)
    end: str = Field(alias="to", pattern=_HHMM)
    factor: float = Field(gt=0, le=20)


class ScenarioFile(_Strict):
    scenario: ScenarioSpec
    profile: dict[str, float]
    mix: dict[str, float]
    targets: dict[str, float] = {}
    window_groups: list[WindowGroup] = []
    staffing: list[Staffing] = []
    breaks: list[BreakSpec] = []
    surges: list[SurgeSpec] = []
    balancer: dict = {}
    hall: dict | None = None
    zones: list[dict] = []
    services: list[dict] = []
    windows: list[dict] = []

    @field_validator("profile")
    @classmethod
    def _profile(cls, v):
        if not v:
            raise ValueError("the profile needs at least one HH:MM = rate entry")
        for key, rate in v.items():
            minute_of_day(key)
            if rate < 0:
                raise ValueError(f"profile rate at {key} must not be negative")
        return v


def minute_of_day(text: str) -> float:
    try:
        h, m = (int(x) for x in text.strip().split(":"))
    except ValueError:
        raise ValueError(f"not a time of day: {text!r}") from None
    if not (0 <= h <= 24 and 0 <= m < 60):
        raise ValueError(f"not a time of day: {text!r}")
    return h * 60.0 + m


def parse_numbers(text: str) -> list[int]:
    """'1-12,15' → [1, ..., 12, 15]."""
    out = []
    for part in str(text).split(","):
        part = part.strip()
        if "-" in part:
            a, b = (int(x) for x in part.split("-", 1))
            out.extend(range(a, b + 1))
        elif part:
            out.append(int(part))
    return out
