"""The urgent lane's config: danger words, how long a page waits for an acknowledgement, and
each department's on-call people.

``urgent:`` (top level)::

    urgent:
      ack_minutes: 10          # minutes a page waits for "Acknowledge" before the next stage
      sweep_every: 15          # seconds between looks at what is due (paging is "at once")
      danger_words:            # per language; a language named here replaces its built-in list
        en: [gas leak, fire, flood, downed power line, collapsed]
        it: [fuga di gas, incendio]

``oncall:`` (per department)::

    oncall:
      rotation: [U0ANNA, U0BEN, U0CARL]   # one person a week, in this order
      usergroup: S0PWONCALL               # or: the members of a Slack user group, in its order
      starts: 2026-01-05                  # the Monday the first person's week began
      overrides:                          # holidays and other dates: someone else
        - {from: 2026-12-24, until: 2026-12-26, user: U0CARL}

The built-in danger words are :data:`DEFAULT_DANGER_WORDS`; matching ignores case and accents.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date

from pydantic import Field, field_validator, model_validator

from bot.config.base import Model as _Model

USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
USERGROUP_ID = re.compile(r"^S[A-Z0-9]{2,}$")
LANGUAGE = re.compile(r"^[a-z]{2,3}$")
WORD_LIMIT = 100

# Words and phrases that make a mention urgent, in the supported languages: gas, fire, water,
# electricity, collapse. Edit them per language with ``urgent.danger_words``.
DEFAULT_DANGER_WORDS: Mapping[str, tuple[str, ...]] = {
    "en": (
        "gas leak",
        "smell of gas",
        "smells of gas",
        "smell gas",
        "fire",
        "on fire",
        "flood",
        "flooding",
        "flooded",
        "downed power line",
        "power line down",
        "power lines down",
        "live wire",
        "collapsed",
        "collapse",
        "explosion",
        "sinkhole",
        "carbon monoxide",
        "water main break",
        "burst water main",
    ),
    "es": (
        "fuga de gas",
        "olor a gas",
        "huele a gas",
        "incendio",
        "fuego",
        "inundación",
        "inundado",
        "inundada",
        "cable caído",
        "cables caídos",
        "cable de luz caído",
        "derrumbe",
        "derrumbado",
        "se derrumbó",
        "colapsado",
        "explosión",
        "socavón",
    ),
    "fr": (
        "fuite de gaz",
        "odeur de gaz",
        "ça sent le gaz",
        "incendie",
        "au feu",
        "feu",
        "inondation",
        "inondé",
        "inondée",
        "câble électrique tombé",
        "ligne électrique tombée",
        "fils électriques tombés",
        "effondré",
        "effondrée",
        "effondrement",
        "explosion",
    ),
    "de": (
        "gasleck",
        "gasgeruch",
        "riecht nach gas",
        "feuer",
        "brand",
        "hochwasser",
        "überschwemmung",
        "überflutet",
        "stromleitung abgerissen",
        "stromleitung am boden",
        "eingestürzt",
        "einsturz",
        "explosion",
    ),
    "pt": (
        "vazamento de gás",
        "fuga de gás",
        "cheiro de gás",
        "incêndio",
        "fogo",
        "inundação",
        "alagamento",
        "alagado",
        "alagada",
        "fio caído",
        "fios caídos",
        "poste caído",
        "desabou",
        "desabamento",
        "explosão",
    ),
}


class UrgentConfig(_Model):
    ack_minutes: int = Field(default=10, ge=1, le=24 * 60)
    sweep_every: int = Field(default=15, ge=1, le=3600)
    danger_words: dict[str, tuple[str, ...]] = Field(default_factory=dict)

    @field_validator("danger_words")
    @classmethod
    def _words(cls, v: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for language, words in v.items():
            if not LANGUAGE.match(language):
                raise ValueError(f"{language!r} is not a language code (like en, es, fr)")
            for word in words:
                if not word.strip():
                    raise ValueError(f"{language}: an empty danger word")
                if len(word) > WORD_LIMIT:
                    raise ValueError(f"{language}: keep danger words under {WORD_LIMIT} characters")
        return v

    def words(self) -> dict[str, tuple[str, ...]]:
        """The danger words in force: the built-in lists, each replaced where the config names
        its language (an empty list turns a language off)."""
        return {**DEFAULT_DANGER_WORDS, **self.danger_words}


class OverrideConfig(_Model):
    """Someone else on call from ``from`` to ``until`` (both days included)."""

    user: str
    from_: date = Field(alias="from")
    until: date | None = None  # None: the ``from`` day only

    @field_validator("user")
    @classmethod
    def _user(cls, v: str) -> str:
        return _user_id(v)

    @model_validator(mode="after")
    def _order(self) -> OverrideConfig:
        if self.until is not None and self.until < self.from_:
            raise ValueError("until is before from")
        return self

    def covers(self, day: date) -> bool:
        return self.from_ <= day <= (self.until or self.from_)


class OnCallConfig(_Model):
    rotation: tuple[str, ...] = ()
    usergroup: str | None = None
    starts: date = date(2024, 1, 1)  # a Monday: week 0 of the rotation
    overrides: tuple[OverrideConfig, ...] = ()

    @field_validator("rotation")
    @classmethod
    def _people(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for user in v:
            _user_id(user)
        if len(set(v)) != len(v):
            raise ValueError("a person is listed twice")
        return v

    @field_validator("usergroup")
    @classmethod
    def _group(cls, v: str | None) -> str | None:
        if v is not None and not USERGROUP_ID.match(v):
            raise ValueError(f"{v!r} is not a Slack user group id (like S012AB3CD)")
        return v

    @field_validator("starts")
    @classmethod
    def _monday(cls, v: date) -> date:
        if v.weekday() != 0:
            raise ValueError(f"{v.isoformat()} is not a Monday (weeks start on Mondays)")
        return v

    @property
    def configured(self) -> bool:
        return bool(self.rotation or self.usergroup or self.overrides)


def _user_id(v: str) -> str:
    if not USER_ID.match(v):
        raise ValueError(f"{v!r} is not a Slack user id (like U012AB3CD)")
    return v
