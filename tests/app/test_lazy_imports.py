"""A source's client library is imported only when that source is configured (issue 15): a city
with RSS alone loads neither praw nor tweepy nor atproto nor Mastodon.py, and no numpy (the
language detector no longer needs it; charts load it when they draw). Memory is what this
saves, so it is checked in a fresh interpreter that builds the bot as ``engage run`` does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

CLIENTS = ("praw", "tweepy", "atproto", "mastodon", "imap_tools", "numpy", "matplotlib")
BUILD = """
import json, sys
from bot.app.compose import Engage
from bot.config.file import Settings, load_config
engage = Engage(Settings.from_env(dotenv=False), load_config(sys.argv[1]))
engage.ingest_one  # built, adapters included; nothing started
from bot.intake.language import detect
detect("The language detector has run once, as on the first mention")
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""
CONFIG = """
triage: {channel: C0TRIAGE01}
departments:
  - {slug: public-works, name: Public Works, channel: C0PUBWORKS}
adapters:
"""


def _loaded(tmp_path: Path, adapters: str, **env: str) -> set[str]:
    config = tmp_path / "engage.yml"
    config.write_text(CONFIG + adapters)
    done = subprocess.run(
        [sys.executable, "-c", BUILD, str(config)],
        env={
            **os.environ,
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": "test-secret",
            "SLACK_API_URL": "http://127.0.0.1:9/api/",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'engage.db'}",
            **env,
        },
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_a_city_with_rss_alone_loads_no_other_sources_client(tmp_path: Path) -> None:
    loaded = _loaded(
        tmp_path, '  - {type: rss, name: news, url: "https://city.example/news.xml"}\n'
    )
    assert "feedparser" in loaded  # its own client: the adapter was built
    assert [c for c in CLIENTS if c in loaded] == []


def test_a_configured_source_loads_its_client(tmp_path: Path) -> None:
    # The check above can fail: with Mastodon configured, its client is there.
    entry = "  - {type: mastodon, name: masto, base_url: 'https://mastodon.example'}\n"
    loaded = _loaded(tmp_path, entry, MASTODON_ACCESS_TOKEN="token")
    assert "mastodon" in loaded
    assert [c for c in CLIENTS if c in loaded and c != "mastodon"] == []
