"""Adapters built from the config, their secrets, and updates of items already stored."""

from __future__ import annotations

import subprocess
import sys
import typing
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.config.adapters import AdapterConfig
from bot.config.file import ConfigError, parse_config
from bot.core.adapter import IncomingMention
from bot.core.clock import SystemClock
from bot.intake.adapters.bluesky.adapter import BlueskyAdapter
from bot.intake.adapters.email.adapter import EmailAdapter, EmailReplier
from bot.intake.adapters.facebook.adapter import FacebookAdapter
from bot.intake.adapters.mastodon.adapter import MastodonAdapter
from bot.intake.adapters.open311.adapter import Open311Adapter
from bot.intake.adapters.reddit.adapter import RedditAdapter
from bot.intake.adapters.rss.adapter import RssAdapter
from bot.intake.adapters.x.adapter import XAdapter
from bot.intake.ingest import Ingestor
from bot.intake.registry import BUILDERS, build
from bot.rules.rulebook import Rulebook
from storage.db import session_scope
from storage.models import Event, Outbox
from tests.conftest import CONFIG, store_config

ADAPTERS = """
adapters:
  - {type: rss, name: news, url: "https://city.example/news.xml"}
  - {type: open311, name: boston-311, base_url: "https://311.city.example/open311/v2",
     url_template: "https://311.city.example/r/{id}"}
  - {type: bluesky, name: city-bsky, handle: city.bsky.social, search_terms: [pothole]}
  - type: email
    name: inbox
    host: imap.city.example
    username: engage@city.example
    smtp: {host: smtp.city.example, from_address: engage@city.example}
  - {type: mastodon, name: city-masto, base_url: "https://mastodon.example", hashtags: [potholes]}
  - {type: x, name: city-x, user_id: "1234", queries: ["pothole lang:en"]}
  - {type: facebook, name: city-fb, page_id: "5678"}
  - {type: reddit, name: city-reddit, subreddits: [columbus], terms: [pothole],
     username: cityofcolumbus}
"""
ENV = {
    "BLUESKY_APP_PASSWORD": "app-pass",
    "EMAIL_IMAP_PASSWORD": "imap-pass",
    "EMAIL_SMTP_PASSWORD": "smtp-pass",
    "MASTODON_ACCESS_TOKEN": "masto",
    "X_BEARER_TOKEN": "bearer",
    "FACEBOOK_PAGE_ACCESS_TOKEN": "page-token",
    "REDDIT_CLIENT_ID": "client",
    "REDDIT_CLIENT_SECRET": "secret",
    "REDDIT_PASSWORD": "password",
}


def test_every_configured_adapter_is_built_with_its_secrets() -> None:
    sources = build(parse_config(CONFIG + ADAPTERS), ENV)
    kinds = [(s.adapter.name, type(s.adapter)) for s in sources.scheduled]
    assert kinds == [
        ("news", RssAdapter),
        ("boston-311", Open311Adapter),
        ("city-bsky", BlueskyAdapter),
        ("inbox", EmailAdapter),
        ("city-masto", MastodonAdapter),
        ("city-x", XAdapter),
        ("city-fb", FacebookAdapter),
        ("city-reddit", RedditAdapter),
    ]
    assert [s.every for s in sources.scheduled] == [300, 300, 60, 60, 60, 300, 300, 120]
    assert set(sources.repliers) == {
        "city-bsky",
        "inbox",
        "city-masto",
        "city-x",
        "city-fb",
        "city-reddit",
    }
    assert isinstance(sources.repliers["inbox"], EmailReplier)


@pytest.mark.parametrize("missing", sorted(ENV))
def test_a_missing_secret_names_its_variable(missing: str) -> None:
    env = {k: v for k, v in ENV.items() if k != missing}
    with pytest.raises(ConfigError, match=f"environment variable {missing} is not set"):
        build(parse_config(CONFIG + ADAPTERS), env)


def test_every_adapter_type_has_a_builder() -> None:
    (union, _) = typing.get_args(AdapterConfig)
    assert set(typing.get_args(union)) == set(BUILDERS)


def test_a_city_with_only_rss_never_loads_the_other_clients() -> None:
    """Builders import their adapter when called: the clients of unused sources stay out."""
    clients = ("praw", "tweepy", "atproto", "mastodon", "imap_tools")
    script = f"""
import sys
from bot.config.file import parse_config
from bot.intake.registry import build
config = parse_config({CONFIG + ADAPTERS.split("  - {type: open311")[0]!r})
assert [s.adapter.name for s in build(config, {{}}).scheduled] == ["news"]
print(sorted(m for m in {clients!r} if m in sys.modules))
"""
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def test_a_status_update_becomes_a_note_on_the_original_card(engine: Engine) -> None:
    config = parse_config(CONFIG)
    store_config(engine, config)
    ingestor = Ingestor(rulebook=Rulebook(triage_channel="C0TRIAGE01"), clock=SystemClock())
    original = IncomingMention(
        source="open311",
        external_id="101003172420",
        text="Pothole at 5 Elm St",
        extra={"status": "open"},
    )
    update = IncomingMention(
        source="open311",
        external_id="101003172420#status:closed@2020-01-20T10:00:00Z",
        text="Status changed from open to closed. Case resolved <!channel>",
        extra={"status_update_of": "101003172420", "previous_status": "open", "status": "closed"},
    )
    orphan = IncomingMention(
        source="open311", external_id="9#status:closed@x", text="x", extra={"status_update_of": "9"}
    )
    with session_scope(engine) as s:
        first = ingestor.ingest(session=s, items=[original, update, orphan])
        again = ingestor.ingest(session=s, items=[update])
    assert first[1].mention_id == first[0].mention_id and not first[1].duplicate
    assert first[2].duplicate and again[0].duplicate
    with session_scope(engine) as s:
        kinds = [e.kind for e in s.exec(select(Event))]
        notes = [o.payload["text"] for o in s.exec(select(Outbox)) if o.kind == "thread_reply"]
    assert kinds.count("source_updated") == 1 and kinds.count("received") == 1
    assert notes == [
        ":arrows_counterclockwise: Status changed from open to closed. "
        "Case resolved &lt;!channel&gt;"
    ]
