"""A feed entry becomes a card; a restart neither repeats nor misses an entry."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.app.compose import Engage
from bot.config.file import parse_config
from bot.intake.adapters.rss.adapter import feed_entries_from_bytes
from bot.sandbox.fake_slack import FakeSlack, wait_until
from storage.db import session_scope
from storage.models import AdapterState, Mention
from tests.conftest import CONFIG, settings_for

FEEDS = Path(__file__).resolve().parents[1] / "fixtures" / "feeds"
CHANNELS = ("C0PUBWORKS", "C0PARKS001", "C0TRIAGE01")


class Feed:
    """A feed on loopback whose body the test changes between polls."""

    def __init__(self) -> None:
        self.body = b""
        feed = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(feed.body)))
                self.end_headers()
                self.wfile.write(feed.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/news.xml"


@pytest.fixture
def feed() -> Iterator[Feed]:
    served = Feed()
    yield served
    served.server.shutdown()


def _cards(slack: FakeSlack) -> list[dict[str, Any]]:
    return [m for channel in CHANNELS for m in slack.messages(channel)]


def _ids(name: str) -> set[str]:
    mentions, _, _ = feed_entries_from_bytes((FEEDS / name).read_bytes(), name="news")
    return {m.external_id for m in mentions}


def test_feed_entries_become_cards_and_survive_a_restart(
    slack: FakeSlack, engine: Engine, feed: Feed
) -> None:
    config = parse_config(
        CONFIG + f"adapters:\n  - type: rss\n    name: news\n    url: {feed.url}\n    every: 60\n"
    )
    feed.body = (FEEDS / "city_news.xml").read_bytes()
    first = _ids("city_news.xml")

    bot = Engage(settings_for(slack), config, engine=engine, migrate=False)
    bot.start(host="127.0.0.1", port=0)
    try:
        wait_until(lambda: len(_cards(slack)) == len(first), timeout=10)
    finally:
        bot.stop()
    pothole = next(c for c in slack.messages("C0PUBWORKS") if "Pothole" in str(c["blocks"]))
    assert "Feed" in str(pothole["blocks"][1])
    assert "&lt;!channel&gt;" in str(_cards(slack))  # the feed's "<!channel>" stays literal

    # Restarted: the same feed brings nothing; an entry published meanwhile comes through.
    again = Engage(settings_for(slack), config, engine=engine, migrate=False)
    item = again.adapters[0]
    assert again.poller.run(item, force=True) == 0
    feed.body = (FEEDS / "city_news_updated.xml").read_bytes()
    added = _ids("city_news_updated.xml") - first
    assert added
    assert again.poller.run(item, force=True) == len(added)
    again.delivery.drain(timeout=5)
    assert len(_cards(slack)) == len(first) + len(added)
    with session_scope(engine) as s:
        stored = {m.external_id for m in s.exec(select(Mention))}
        state = s.get(AdapterState, "news")
    assert stored == first | added
    assert state is not None and state.items_seen == len(first) + len(added)
    assert state.last_success_at is not None and state.last_error is None


def test_a_failing_feed_is_recorded_and_backs_off(
    slack: FakeSlack, engine: Engine, feed: Feed
) -> None:
    config = parse_config(
        CONFIG + f"adapters:\n  - type: rss\n    name: news\n    url: {feed.url}x\n    every: 60\n"
    )
    bot = Engage(settings_for(slack), config, engine=engine, migrate=False)
    assert bot.poller.run(bot.adapters[0], force=True) == 0
    with session_scope(engine) as s:
        state = s.get(AdapterState, "news")
    assert state is not None and state.consecutive_failures == 1
    assert "not a feed" in (state.last_error or "")
    assert state.next_run_at is not None and state.last_error_at is not None
    assert (state.next_run_at - state.last_error_at).total_seconds() >= 60
    # Not due yet: the scheduler's tick does not hammer the broken feed.
    assert bot.poller.run(bot.adapters[0]) is None
    with session_scope(engine) as s:
        state = s.get(AdapterState, "news")
    assert state is not None and state.consecutive_failures == 1
