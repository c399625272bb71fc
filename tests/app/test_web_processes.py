"""``ENGAGE_WEB_PROCESSES``: extra processes answer HTTP beside the bot, keep clicks in the
same database for the bot's click worker to decide, with the same guarantees, and stop with
the bot (``bot.app.web_processes``)."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from bot.app.compose import Engage
from bot.config.file import ConfigError, Settings, parse_config
from bot.core import metrics
from bot.core.adapter import IncomingMention
from bot.core.slack_ids import ActionId
from bot.sandbox.fake_slack import FakeSlack, wait_until
from tests.app.test_slack_gate import signed_headers as signed
from tests.conftest import CONFIG, settings_for
from tests.factories import events_of
from tests.handlers.dispatch import click as click_payload

PW = "C0PUBWORKS"
CLAIM = ActionId.CLAIM
CARDS = 12


def _workers() -> list[int]:
    mine = str(os.getpid())
    found = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text().split()
            command = (entry / "cmdline").read_bytes()
        except (OSError, ValueError):
            continue
        if stat[3] == mine and b"bot.app.web_worker" in command:
            found.append(int(entry.name))
    return found


def _claims_decided_here() -> float:
    [family] = metrics.CLAIM_LATENCY.collect()
    return next(s.value for s in family.samples if s.name.endswith("_count"))


def test_extra_processes_decide_clicks_once_and_stop_with_the_bot(
    slack: FakeSlack, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'engage.db'}"
    bot = Engage(
        settings_for(slack, database_url=url, web_processes=3), parse_config(CONFIG), migrate=True
    )
    bot.click_queue.poll = 60  # clicks kept elsewhere are decided when the pipe says so
    bot.start(host="127.0.0.1", port=0)
    try:
        assert len(_workers()) == 2
        # Each worker asks Slack who it is once it is built: then it serves.
        wait_until(lambda: len(slack.calls_to("auth.test")) >= 3, timeout=60)
        for n in range(CARDS):
            text = f"pothole on Elm number {n}"
            bot.ingest_one(IncomingMention(source="webhook", external_id=f"f{n}", text=text))
        wait_until(lambda: len(slack.messages(PW)) >= CARDS)
        cards = slack.messages(PW)
        before = _claims_decided_here()
        statuses: list[int] = []

        def click(n: int) -> None:
            user = "U0RACER01" if n % 2 else f"U0USER{n:03d}"
            payload = click_payload(user, channel=PW, message=cards[n // 2], action_id=CLAIM)
            body = urlencode({"payload": json.dumps(payload)}).encode()
            # A connection of its own each: any of the three processes may accept it.
            answer = httpx.post(f"{bot.url}/slack/events", content=body, headers=signed(body))
            statuses.append(answer.status_code)

        threads = [threading.Thread(target=click, args=(n,)) for n in range(CARDS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert statuses == [200] * CARDS
        # Two clicks raced on each of six cards: one claim each, wherever they landed, all
        # decided by the bot's own click worker.
        wait_until(lambda: len(events_of(bot, "claimed")) >= CARDS // 2, timeout=10)
        claimed = events_of(bot, "claimed")
        assert sorted(e.mention_id or 0 for e in claimed) == sorted(
            {e.mention_id or 0 for e in claimed}
        )
        assert len(claimed) == CARDS // 2
        assert _claims_decided_here() - before == CARDS // 2
    finally:
        bot.stop()
    assert _workers() == []


@pytest.mark.parametrize("value", ["0", "33", "two", "-1"])
def test_a_bad_process_count_is_refused_in_one_line(value: str) -> None:
    env = {"ENGAGE_WEB_PROCESSES": value, "PORT": "3000"}
    with pytest.raises(ConfigError, match="ENGAGE_WEB_PROCESSES"):
        Settings.from_env(env, dotenv=False)
