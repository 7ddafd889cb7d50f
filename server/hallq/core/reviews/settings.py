"""A hall's 好差评 settings: the hall file's [reviews] table, kept on the hall's row."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

# The reasons a visitor picks for a bad rating, unless the hall file names its own.
DEFAULT_BAD_REASONS = ["态度不好", "效率低", "材料要求不清楚", "多次跑腿", "系统故障", "其他"]
# Deadlines seen in the regions (working days to rectify): a hall picks one, or its own number.
REGION_PRESETS = {"dezhou": 5, "seven_days": 7, "zhejiang": 15, "sichuan": 15}


class ReviewSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Rectified or explained within this many working days after the rating's day (regions: 5, 7, 15).
    rectify_working_days: int = Field(default=5, ge=1, le=60)
    # The visitor called back (回访) within this many working days (commonly 1).
    callback_working_days: int = Field(default=1, ge=0, le=30)
    # A case this many working days or fewer from its deadline is "due soon" on the manager's page.
    due_soon_working_days: int = Field(default=1, ge=0, le=30)
    # A visitor may rate on the phone until the end of this many working days after the service's day.
    rate_within_working_days: int = Field(default=5, ge=0, le=60)
    # What a service left unrated becomes once its rating window (rate_within_working_days) has
    # passed: None leaves it unrated (the default); some provinces count it as 满意 (4); never a
    # bad level (a bad rating is the visitor's own). Such
    # ratings count in the rates but never as active ratings (the active rating rate).
    unrated_becomes: int | None = Field(default=None, ge=3, le=5)
    # A visitor's contact is erased this many days after their case closes.
    contact_retention_days: int = Field(default=30, ge=0, le=365)
    bad_reasons: list[str] = Field(default_factory=lambda: list(DEFAULT_BAD_REASONS), min_length=1, max_length=20)

    @field_validator("bad_reasons")
    @classmethod
    def _reasons(cls, v: list[str]) -> list[str]:
        cleaned = [r.strip() for r in v]
        if any(not r or len(r) > 32 for r in cleaned):
            raise ValueError("each bad-review reason is 1 to 32 characters")
        if len(set(cleaned)) != len(cleaned):
            raise ValueError("bad-review reasons repeat")
        return cleaned


def of_hall(hall) -> ReviewSettings:
    """A hall's settings, from its row (defaults for a hall loaded before they existed)."""
    return ReviewSettings.model_validate(getattr(hall, "review_settings", None) or {})
