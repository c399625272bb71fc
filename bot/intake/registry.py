"""The one place that turns the config's ``adapters`` section into running adapters.

One small builder per source, found by the type of its config entry. Each builder imports its
adapter when it is called, not when this module is: a city that configures only RSS never
loads praw, tweepy, atproto or Mastodon.py (nor pays for them in memory).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.config.adapters import (
    AdapterBase,
    AdapterConfig,
    BlueskyAdapterConfig,
    EmailAdapterConfig,
    FacebookAdapterConfig,
    MastodonAdapterConfig,
    Open311AdapterConfig,
    RedditAdapterConfig,
    RssAdapterConfig,
    SmtpConfig,
    XAdapterConfig,
    secret,
)
from bot.config.file import EngageConfig
from bot.core.adapter import PollingAdapter, Replier
from bot.intake.polling import Scheduled

Env = Mapping[str, str]


@dataclass(frozen=True)
class Sources:
    scheduled: list[Scheduled]
    repliers: dict[str, Replier]  # by adapter name: who answers the mentions it brought


def build(config: EngageConfig, env: Env) -> Sources:
    """Every configured adapter; a missing secret raises ConfigError naming the variable."""
    scheduled = [
        Scheduled(
            _adapter(entry, env),
            entry.every,
            stream=isinstance(entry, MastodonAdapterConfig) and entry.stream,
            lease=entry.lease,
        )
        for entry in config.adapters
    ]
    repliers: dict[str, Replier] = {
        s.adapter.name: s.adapter for s in scheduled if isinstance(s.adapter, Replier)
    }
    for entry in config.adapters:
        if isinstance(entry, EmailAdapterConfig) and entry.smtp is not None:
            repliers[entry.name] = _smtp(entry.smtp, env, entry.name)
    return Sources(scheduled, repliers)


def _adapter(entry: AdapterConfig, env: Env) -> PollingAdapter:
    builder = BUILDERS.get(type(entry))
    if builder is None:
        raise AssertionError(f"no builder for adapter type {entry.type!r}")
    return builder(entry, env)


# One builder per source.
def _rss(entry: RssAdapterConfig, env: Env) -> PollingAdapter:
    from bot.intake.adapters.rss.adapter import RssAdapter

    return RssAdapter(name=entry.name, url=entry.url)


def _open311(entry: Open311AdapterConfig, env: Env) -> PollingAdapter:
    from bot.intake.adapters.open311.adapter import Open311Adapter

    return Open311Adapter(
        name=entry.name,
        base_url=entry.base_url,
        api_key=secret(env, entry.api_key_env, adapter=entry.name),
        jurisdiction_id=entry.jurisdiction_id,
        service_codes=entry.service_codes,
        url_template=entry.url_template,
        first_run_days=entry.first_run_days,
        page_limit=entry.page_limit,
    )


def _bluesky(entry: BlueskyAdapterConfig, env: Env) -> PollingAdapter:
    from bot.intake.adapters.bluesky.adapter import BlueskyAdapter

    return BlueskyAdapter(
        name=entry.name,
        handle=entry.handle,
        app_password=_required(env, entry.app_password_env, entry.name),
        base_url=entry.base_url,
        search_terms=entry.search_terms,
        search_language=entry.search_language,
        notifications=entry.notifications,
    )


def _email(entry: EmailAdapterConfig, env: Env) -> PollingAdapter:
    from bot.intake.adapters.email.adapter import EmailAdapter

    return EmailAdapter(
        name=entry.name,
        host=entry.host,
        port=entry.port,
        security=entry.security,
        username=entry.username,
        password=_required(env, entry.password_env, entry.name),
        folder=entry.folder,
    )


def _mastodon(entry: MastodonAdapterConfig, env: Env) -> PollingAdapter:
    from bot.intake.adapters.mastodon.adapter import MastodonAdapter

    return MastodonAdapter(
        name=entry.name,
        api_base_url=entry.base_url,
        access_token=_required(env, entry.access_token_env, entry.name),
        mentions=entry.mentions,
        hashtags=entry.hashtags,
        keywords=entry.keywords,
        max_visibility=entry.max_visibility,
    )


def _x(entry: XAdapterConfig, env: Env) -> PollingAdapter:
    from bot.intake.adapters.x.adapter import XAdapter

    return XAdapter(
        name=entry.name,
        user_id=entry.user_id,
        queries=entry.queries,
        account_username=entry.account_username,
        base_url=entry.base_url,
        bearer_token=secret(env, entry.bearer_token_env, adapter=entry.name),
        consumer_key=secret(env, entry.consumer_key_env, adapter=entry.name),
        consumer_secret=secret(env, entry.consumer_secret_env, adapter=entry.name),
        access_token=secret(env, entry.access_token_env, adapter=entry.name),
        access_token_secret=secret(env, entry.access_token_secret_env, adapter=entry.name),
    )


def _facebook(entry: FacebookAdapterConfig, env: Env) -> PollingAdapter:
    from bot.intake.adapters.facebook.adapter import FacebookAdapter

    return FacebookAdapter(
        name=entry.name,
        page_id=entry.page_id,
        access_token=_required(env, entry.access_token_env, entry.name),
        app_secret=secret(env, entry.app_secret_env, adapter=entry.name),
        base_url=entry.base_url,
        post_edges=entry.post_edges,
        max_posts=entry.max_posts,
    )


def _reddit(entry: RedditAdapterConfig, env: Env) -> PollingAdapter:
    from bot.intake.adapters.reddit.adapter import RedditAdapter

    return RedditAdapter(
        name=entry.name,
        client_id=_required(env, entry.client_id_env, entry.name),
        client_secret=_required(env, entry.client_secret_env, entry.name),
        username=entry.username,
        password=secret(env, entry.password_env, adapter=entry.name) if entry.username else None,
        subreddits=entry.subreddits,
        terms=entry.terms,
        submissions=entry.submissions,
        comments=entry.comments,
        mentions=entry.mentions,
        oauth_url=entry.oauth_url,
        reddit_url=entry.reddit_url,
    )


# Each builder takes its own config type; the lookup by ``type(entry)`` keeps them paired.
BUILDERS: dict[type[AdapterBase], Callable[[Any, Env], PollingAdapter]] = {
    RssAdapterConfig: _rss,
    Open311AdapterConfig: _open311,
    BlueskyAdapterConfig: _bluesky,
    EmailAdapterConfig: _email,
    MastodonAdapterConfig: _mastodon,
    XAdapterConfig: _x,
    FacebookAdapterConfig: _facebook,
    RedditAdapterConfig: _reddit,
}


def _smtp(smtp: SmtpConfig, env: Env, adapter: str) -> Replier:
    from bot.intake.adapters.email.reply import EmailReplier

    return EmailReplier(
        host=smtp.host,
        port=smtp.port,
        security=smtp.security,
        username=smtp.username,
        password=secret(env, smtp.password_env, adapter=adapter) or "",
        from_address=smtp.from_address,
        from_name=smtp.from_name,
    )


def _required(env: Env, variable: str, adapter: str) -> str:
    value = secret(env, variable, adapter=adapter)
    assert value is not None
    return value
