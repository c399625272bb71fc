"""The service-level parts of the config: office hours, SLAs, the reminder ladder, digests,
delivery's pace and time budget, brigading, cross-platform linking and author lists.
``bot.config.file`` re-exports them; they live here to keep each module small."""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from bot.config.base import Model as _Model
from bot.core.office_time import OfficeHours


def _duration(value: str | int) -> int:
    """Minutes from ``90``, ``"90m"``, ``"4h"`` or ``"1h30m"``."""
    if isinstance(value, int):
        return value
    match = re.fullmatch(r"\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m?)?\s*", str(value))
    if not match or not any(match.groups()):
        raise ValueError(f"{value!r} is not a duration (like 45m, 4h or 1h30m)")
    return int(match.group(1) or 0) * 60 + int(match.group(2) or 0)


class OfficeHoursConfig(_Model):
    hours: dict[str, str] = Field(default_factory=lambda: {"mon-fri": "09:00-17:00"})
    holidays: str | None = None  # country, or country-subdivision: US, US-MA, FR, DE-BY
    closures: tuple[date | str, ...] = ()  # dates the office is closed (YAML reads them as dates)


class SlaConfig(_Model):
    """Service levels, counted in office time."""

    claim: int = 240  # minutes until an unclaimed mention is overdue
    answer: int = 480  # minutes from the claim until the answer is overdue
    warn_at: float = Field(default=0.75, gt=0, lt=1)  # heads-up at this share of the SLA

    _minutes = field_validator("claim", "answer", mode="before")(_duration)


class EscalationConfig(_Model):
    """Which rungs of the ladder a department uses (all by default)."""

    warn: bool = True  # a heads-up in the thread before the SLA runs out
    thread: bool = True  # unclaimed: the thread, naming one person picked by rotation
    channel: bool = True  # still unclaimed: the whole channel
    claimer: bool = True  # claimed, unanswered: a direct message to the claimer
    hand_back: bool = True  # no reply from the claimer: the claim returns to the channel
    lead: bool = True  # last: the department's leads, with the list of what is overdue
    care_limit: int = Field(default=2, ge=0)  # "handle with care" mentions a day per person


class DigestConfig(_Model):
    """The weekly summary: on ``day`` at ``hour`` (local time), about the week before."""

    enabled: bool = True
    day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    hour: int = Field(default=9, ge=0, le=23)
    to: Literal["leads", "channel"] = "leads"


class DeliveryConfig(_Model):
    channel_interval: float = Field(default=1.0, ge=0, description="seconds between posts")
    # Slack calls in flight at once, each to a channel of its own: N cards over C channels
    # leave in about N/C seconds (Slack allows one post a second per channel).
    concurrency: int = Field(default=128, ge=1, le=256)
    # Minutes ("6h", "90m") a row may keep failing (5xx, timeouts) before it fails for good;
    # rate limits never count.
    give_up_after: int = Field(default=360, ge=1)
    # No longer used (rate limits used up the attempts): accepted so older configs still load.
    max_attempts: int | None = Field(default=None, ge=1)

    _minutes = field_validator("give_up_after", mode="before")(_duration)


class NudgeConfig(_Model):
    sweep_every: int = Field(default=60, ge=5, description="seconds between nudge sweeps")
    # Triage has no department: its SLAs and hours (the comms team's) come from here.
    timezone: str = "UTC"
    office_hours: OfficeHoursConfig = OfficeHoursConfig()
    sla: SlaConfig = SlaConfig()


class BrigadingConfig(_Model):
    """Keep trolls and campaigns from flooding departments: fold, rate-limit, label."""

    window: int = Field(default=120, ge=1)  # minutes: how far back a post finds its twins
    distance: int = Field(default=12, ge=0, le=32)  # SimHash bits apart that still fold
    flood_limit: int = Field(default=5, ge=1)  # posts by one author, then one card
    flood_window: int = Field(default=60, ge=1)  # minutes
    care_words: tuple[str, ...] = ()  # more words for the "handle with care" label


class LinkingConfig(_Model):
    """One issue, one card: the same issue reported on several platforms is linked to one card.

    A mention naming an open 311 request's id joins that request's card. Otherwise a mention
    from another platform joins an open card of the last ``window_hours`` when both name the
    same place (a street, or one of ``places``; or coordinates within ``radius_m`` when both
    have them) and share enough words. Missing a link costs a second card; a wrong link hides
    a report, so the defaults are strict.
    """

    enabled: bool = True
    window_hours: float = Field(default=72, gt=0)
    radius_m: float = Field(default=100, gt=0, le=5000)
    min_shared_words: int = Field(default=2, ge=1)  # besides the place's own words
    min_overlap: float = Field(default=0.5, gt=0, le=1)  # of the shorter text's words
    places: tuple[str, ...] = ()  # squares, parks, landmarks: names that are not "X Street"
    max_candidates: int = Field(default=500, ge=1)  # open cards compared, most recent first


class AuthorListConfig(_Model):
    """A named list of authors (``list:press`` in rules); ``priority`` badges their cards.

    Written either as a plain list of handles or as ``{members: [...], priority: true,
    label: "Press"}``.
    """

    members: tuple[str, ...] = ()
    priority: bool = False
    label: str | None = Field(default=None, min_length=1, max_length=60)  # defaults to the name

    @model_validator(mode="before")
    @classmethod
    def _plain_list(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return {"members": value}
        if not isinstance(value, dict):
            raise ValueError(
                "expected a list of authors, or {members: [...], priority: true, label: ...}"
            )
        return value


def office_hours(timezone: str, config: OfficeHoursConfig) -> OfficeHours:
    return OfficeHours.parse(
        timezone=timezone, hours=config.hours, holidays=config.holidays, closures=config.closures
    )
