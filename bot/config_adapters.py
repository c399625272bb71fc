"""The ``adapters`` section of the config: one model per source, told apart by ``type``.

Secrets never go in the file: each adapter names the environment variables that hold them
(``*_env`` keys, with defaults), and :func:`secret` reads them from the settings' snapshot of
the environment when the adapters are built.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import Field, field_validator

from bot.config_base import ConfigError, Model


def _http_url(value: str) -> str:
    if not re.match(r"^https?://", value):
        raise ValueError("must start with http:// or https://")
    return value


class AdapterBase(Model):
    name: str = Field(min_length=1, max_length=128)
    every: int = Field(default=300, ge=30, description="seconds between polls")


class RssAdapterConfig(AdapterBase):
    type: Literal["rss"]
    url: str

    _url = field_validator("url")(_http_url)


class Open311AdapterConfig(AdapterBase):
    type: Literal["open311"]
    base_url: str  # the GeoReport v2 endpoint, e.g. https://311.city.gov/open311/v2
    api_key_env: str | None = None  # most read APIs need none
    jurisdiction_id: str | None = None
    service_codes: tuple[str, ...] = ()
    url_template: str | None = None  # public page of a request, with {id}
    first_run_days: float = Field(default=2.0, gt=0, le=90)
    page_limit: int = Field(default=50, ge=1)

    _url = field_validator("base_url")(_http_url)


class BlueskyAdapterConfig(AdapterBase):
    type: Literal["bluesky"]
    handle: str  # the city's account, e.g. city.bsky.social
    app_password_env: str = "BLUESKY_APP_PASSWORD"
    base_url: str = "https://bsky.social"
    search_terms: tuple[str, ...] = ()
    search_language: str | None = None
    notifications: bool = True  # mentions, replies and quotes of the city's account
    every: int = Field(default=60, ge=30)

    _url = field_validator("base_url")(_http_url)


class MastodonAdapterConfig(AdapterBase):
    type: Literal["mastodon"]
    base_url: str  # the city's instance, e.g. https://mastodon.social
    access_token_env: str = "MASTODON_ACCESS_TOKEN"
    mentions: bool = True  # notifications that mention the city's account
    hashtags: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()  # needs full-text search on the instance
    stream: bool = False  # also listen live; polling still fills any gap
    max_visibility: Literal["direct", "private", "unlisted", "public"] = "unlisted"
    every: int = Field(default=60, ge=30)

    _url = field_validator("base_url")(_http_url)


Security = Literal["ssl", "starttls", "none"]


class SmtpConfig(Model):
    """Where replies to email go out from; without it, email mentions cannot be answered."""

    host: str
    port: int | None = None  # 465 (ssl), 587 (starttls) or 25 (none)
    security: Security = "starttls"
    username: str = ""
    password_env: str | None = "EMAIL_SMTP_PASSWORD"
    from_address: str
    from_name: str = ""


class EmailAdapterConfig(AdapterBase):
    type: Literal["email"]
    host: str
    port: int | None = None  # 993 (ssl) or 143 (starttls, none)
    security: Security = "ssl"
    username: str
    password_env: str = "EMAIL_IMAP_PASSWORD"
    folder: str = "INBOX"
    smtp: SmtpConfig | None = None
    every: int = Field(default=60, ge=30)


AdapterConfig = Annotated[
    RssAdapterConfig
    | Open311AdapterConfig
    | BlueskyAdapterConfig
    | EmailAdapterConfig
    | MastodonAdapterConfig,
    Field(discriminator="type"),
]
ADAPTER_TYPES = {"rss", "open311", "bluesky", "email", "mastodon"}


def secret(env: Mapping[str, str], variable: str | None, *, adapter: str) -> str | None:
    """The value of ``variable``; an adapter that names a variable needs it set."""
    if variable is None:
        return None
    value = env.get(variable, "").strip()
    if not value:
        raise ConfigError(f"adapter {adapter!r}: environment variable {variable} is not set")
    return value


def secret_variables(entry: Model) -> list[str]:
    """The environment variables an adapter's settings name (``*_env`` keys, nested too)."""
    names: list[str] = []
    for key, value in entry:
        if key.endswith("_env") and isinstance(value, str):
            names.append(value)
        elif isinstance(value, Model):
            names.extend(secret_variables(value))
    return names
