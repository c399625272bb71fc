"""The base of every config model: unknown keys are errors, so a typo never becomes a default."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ConfigError(Exception):
    """A config or settings mistake, phrased for the person who made it (one line)."""
