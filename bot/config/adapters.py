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

from bot.config.base import ConfigError, Model


def _http_url(value: str) -> str:
    if not re.match(r"^https?://", value):
        raise ValueError("must start with http:// or https://")
    return value


class AdapterBase(Model):
    name: str = Field(min_length=1, max_length=128)
    every: int = Field(default=300, ge=30, description="seconds between polls")
    # How long a replica that dies mid-poll keeps the others from polling this adapter. A
    # running poll renews it (every third of it), so it may be much shorter than a poll.
    lease: int = Field(default=20, ge=2, le=600, description="seconds; see bot/intake/polling")
    # Whether its mentions are people's posts from their own accounts, which a flood of folds
    # into one card (brigading's ``flood_limit``), or items that are not a person's: a feed, a
    # 311 system, a shared inbox. None: the source's default (bot/core/sources.PERSON_SOURCES).
    person_accounts: bool | None = None
    # The city's own accounts on this source (as cards name them): never folded by author.
    city_accounts: tuple[str, ...] = ()


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


class XAdapterConfig(AdapterBase):
    type: Literal["x"]
    user_id: str | None = None  # the city's numeric account id: its mentions are read
    account_username: str | None = None  # for links to the city's replies
    queries: tuple[str, ...] = ()  # recent-search queries
    base_url: str = "https://api.twitter.com"
    bearer_token_env: str | None = "X_BEARER_TOKEN"
    # Replying needs user context (OAuth 1.0a): name all four variables to enable it.
    consumer_key_env: str | None = None
    consumer_secret_env: str | None = None
    access_token_env: str | None = None
    access_token_secret_env: str | None = None

    _url = field_validator("base_url")(_http_url)


class FacebookAdapterConfig(AdapterBase):
    type: Literal["facebook"]
    page_id: str
    access_token_env: str = "FACEBOOK_PAGE_ACCESS_TOKEN"
    app_secret_env: str | None = None  # adds appsecret_proof to every call
    base_url: str = "https://graph.facebook.com/v19.0"
    post_edges: tuple[str, ...] = ("feed",)
    max_posts: int = Field(default=10, ge=1, le=100)  # recent posts whose comments are read

    _url = field_validator("base_url")(_http_url)


class RedditAdapterConfig(AdapterBase):
    type: Literal["reddit"]
    subreddits: tuple[str, ...] = ()
    terms: tuple[str, ...] = ()  # whole words or phrases; none: every post and comment
    submissions: bool = True
    comments: bool = True
    mentions: bool = False  # u/ mentions of the city's account (needs username)
    username: str | None = None  # the city's account: needed for mentions and replies
    client_id_env: str = "REDDIT_CLIENT_ID"
    client_secret_env: str = "REDDIT_CLIENT_SECRET"
    password_env: str | None = "REDDIT_PASSWORD"  # used only with a username
    oauth_url: str = "https://oauth.reddit.com"
    reddit_url: str = "https://www.reddit.com"
    # Reddit allows ~100 requests a minute per app; one poll costs one per stream.
    every: int = Field(default=120, ge=30)

    _oauth = field_validator("oauth_url")(_http_url)
    _reddit = field_validator("reddit_url")(_http_url)


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
    | MastodonAdapterConfig
    | XAdapterConfig
    | FacebookAdapterConfig
    | RedditAdapterConfig,
    Field(discriminator="type"),
]
ADAPTER_TYPES = {"rss", "open311", "bluesky", "email", "mastodon", "x", "facebook", "reddit"}


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


def own_accounts(entry: AdapterBase) -> tuple[str, ...]:
    """The city's accounts an adapter knows of: ``city_accounts`` and the account it reads as."""
    named = [getattr(entry, key, None) for key in ("handle", "account_username", "username")]
    return (*entry.city_accounts, *(name for name in named if isinstance(name, str) and name))
