"""The ``retention:`` and ``report:`` parts of the config: how long citizens' data is kept, and
where the public report is written.

Durations are whole days, written ``180``, ``"180d"``, ``"26w"`` or ``"2y"`` (a year is 365
days). Without a ``retention:`` section nothing is ever removed: deleting data is a decision
the city takes in its config, not something an upgrade does.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal

from pydantic import Field, field_validator, model_validator

from bot.config.base import Model as _Model
from bot.core.sources import SOURCE_LABELS

_UNITS = {"d": 1, "w": 7, "y": 365}
_MAX_DAYS = 36500


def days(value: str | int) -> int:
    """Whole days from ``180``, ``"180d"``, ``"26w"`` or ``"2y"``."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number of days (like 180d, 26w or 2y)")
    if isinstance(value, int):
        count = value
    else:
        match = re.fullmatch(r"\s*(\d{1,5})\s*([dwy]?)\s*", str(value))
        if not match:
            raise ValueError(f"{value!r} is not a number of days (like 180d, 26w or 2y)")
        count = int(match[1]) * _UNITS[match[2] or "d"]
    if not 1 <= count <= _MAX_DAYS:
        raise ValueError(f"{value!r}: keep data between 1 day and 100 years")
    return count


class RetentionConfig(_Model):
    """How long each kind of data is kept, in days (None: kept for as long as the database)."""

    enabled: bool = True
    # Citizens' texts, handles, links and the answers to them, per source; ``default`` for
    # every source not named.
    citizen_data: int | None = None
    sources: dict[str, int] = Field(default_factory=dict)
    # The event records (who claimed, answered, was reminded): their actor and details.
    events: int | None = None
    hour: int = Field(default=3, ge=0, le=23)  # the daily purge, in UTC

    @field_validator("citizen_data", "events", mode="before")
    @classmethod
    def _days(cls, value: str | int | None) -> int | None:
        return None if value is None else days(value)

    @field_validator("sources", mode="before")
    @classmethod
    def _source_days(cls, value: object) -> object:
        if not isinstance(value, dict):
            raise ValueError("expected a mapping of source to days, like {email: 90d}")
        for source in value:
            if source not in SOURCE_LABELS:
                known = ", ".join(sorted(SOURCE_LABELS))
                raise ValueError(f"unknown source {source!r} (known: {known})")
        return {source: days(v) for source, v in value.items()}

    @property
    def active(self) -> bool:
        """Whether anything is ever removed."""
        return self.enabled and (
            self.citizen_data is not None or bool(self.sources) or self.events is not None
        )

    def citizen_window(self, source: str) -> timedelta | None:
        kept = self.sources.get(source, self.citizen_data)
        return None if kept is None else timedelta(days=kept)


class ReportConfig(_Model):
    """The public report: where it is written, how often, and where it is published."""

    out: str | None = None  # a folder; relative to the working directory
    schedule: Literal["monthly", "off"] = "off"
    url: str | None = None  # where the city publishes it: the weekly digest links to it
    months: int = Field(default=6, ge=1, le=36)  # the trend: this many months up to the period
    min_count: int = Field(default=5, ge=1, le=100)  # fewer than this is shown as "fewer than"
    title: str = Field(default="How the city answers its citizens", min_length=1, max_length=120)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and (
            not value.startswith(("https://", "http://")) or any(c in value for c in " <>|")
        ):
            raise ValueError(f"{value!r} is not a web address (https://...)")
        return value

    @model_validator(mode="after")
    def _where(self) -> ReportConfig:
        if self.schedule == "monthly" and not self.out:
            raise ValueError("schedule: monthly needs out: (the folder to write the report to)")
        return self
