"""Answering the citizen on the source platform from the Answered modal.

The platform is a small HTTP service on loopback and the replier a minimal adapter that posts
to it: what is under test is the bot's side (modal option, outbox, events, thread notes, retry).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from sqlmodel import select

from bot.app.compose import Engage
from bot.core.adapter import IncomingMention, ReplyError, ReplyResult, ReplyTarget
from bot.core.slack_ids import ActionId, BlockId, InputId
from bot.sandbox.fake_slack import FakeSlack, wait_until
from storage.db import session_scope
from storage.models import Event
from tests.factories import post_webhook

PW = "C0PUBWORKS"


class Platform:
    """A social platform's reply endpoint: records what it was sent, can be told to refuse."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.refuse: int | None = None
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                status, answer = 200, {"id": f"r{len(platform.received) + 1}"}
                if platform.refuse:
                    status, answer = platform.refuse, {"error": "account suspended"}
                else:
                    platform.received.append(body)
                    answer["url"] = f"https://social.example/@city/{answer['id']}"
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/reply"


class PlatformReplier:
    source = "mastodon"

    def __init__(self, url: str) -> None:
        self.url = url

    def reply(self, target: ReplyTarget, text: str) -> ReplyResult:
        response = httpx.post(
            self.url,
            json={"in_reply_to": target.extra["status_id"], "status": f"@{target.author} {text}"},
        )
        if response.status_code != 200:
            raise ReplyError(response.json()["error"], retryable=False)
        return ReplyResult(external_id=response.json()["id"], url=response.json()["url"])


@pytest.fixture
def platform() -> Iterator[Platform]:
    served = Platform()
    yield served
    served.server.shutdown()


def _mastodon_mention(bot: Engage) -> None:
    item = IncomingMention(
        source="mastodon",
        external_id="https://social.example/s/1",
        text="There is a pothole on Elm St",
        author="ana@social.example",
        extra={"status_id": "1"},
    )
    with session_scope(bot.engine) as s:
        bot.ingestor.ingest(session=s, items=[item], adapter="town-mastodon")
    bot.delivery.wake()


def _kinds(bot: Engage) -> list[str]:
    with session_scope(bot.engine) as s:
        return [e.kind for e in s.exec(select(Event))]


def _answer(slack: FakeSlack, bot: Engage, ts: str, *, reply: bool) -> dict[str, Any]:
    url = f"{bot.url}/slack/events"
    slack.click(url, user_id="U0ALICE01", channel=PW, ts=ts, action_id=ActionId.ANSWERED)
    view_id = wait_until(lambda: next(iter(slack.views), ""))
    view = slack.views[view_id]
    slack.submit_view(
        url,
        user_id="U0ALICE01",
        view_id=view_id,
        values={
            BlockId.ANSWER_TEXT: {InputId.ANSWER_TEXT: "A crew is on the way."},
            **(
                {BlockId.REPLY_ON: {InputId.REPLY_ON: ["yes"] if reply else []}}
                if any(b.get("block_id") == BlockId.REPLY_ON for b in view["blocks"])
                else {}
            ),
        },
    )
    return view


def test_answer_is_sent_to_the_citizen_and_linked_in_the_thread(
    make_bot: Callable[..., Engage], slack: FakeSlack, platform: Platform
) -> None:
    bot = make_bot(repliers={"town-mastodon": PlatformReplier(platform.url)})
    _mastodon_mention(bot)
    ts = wait_until(lambda: slack.messages(PW))[0]["ts"]
    view = _answer(slack, bot, ts, reply=True)
    assert "Also send it to the citizen on Mastodon" in json.dumps(view)
    wait_until(lambda: platform.received)
    assert platform.received == [
        {"in_reply_to": "1", "status": "@ana@social.example A crew is on the way."}
    ]
    wait_until(lambda: "replied" in _kinds(bot))
    notes = wait_until(lambda: [r["text"] for r in slack.replies(PW, ts) if "sent" in r["text"]])
    assert "<https://social.example/@city/r1|on Mastodon>" in notes[0]


def test_failed_reply_keeps_the_text_and_can_be_retried(
    make_bot: Callable[..., Engage], slack: FakeSlack, platform: Platform
) -> None:
    platform.refuse = 403
    bot = make_bot(repliers={"town-mastodon": PlatformReplier(platform.url)})
    _mastodon_mention(bot)
    ts = wait_until(lambda: slack.messages(PW))[0]["ts"]
    _answer(slack, bot, ts, reply=True)
    wait_until(lambda: "reply_failed" in _kinds(bot))
    note = wait_until(
        lambda: [r for r in slack.replies(PW, ts) if "could not be sent" in r["text"]]
    )
    assert "account suspended" in note[0]["text"]
    assert platform.received == []

    platform.refuse = None
    slack.click(
        f"{bot.url}/slack/events",
        user_id="U0ALICE01",
        channel=PW,
        ts=note[0]["ts"],
        action_id=ActionId.RETRY_REPLY,
    )
    wait_until(lambda: platform.received)
    assert platform.received[0]["status"].endswith("A crew is on the way.")
    wait_until(lambda: "replied" in _kinds(bot))


def test_no_reply_option_where_the_source_cannot_reply(
    make_bot: Callable[..., Engage], slack: FakeSlack
) -> None:
    bot = make_bot()
    post_webhook(bot.url, {"text": "pothole"})
    ts = wait_until(lambda: slack.messages(PW))[0]["ts"]
    view = _answer(slack, bot, ts, reply=False)
    assert not any(b.get("block_id") == BlockId.REPLY_ON for b in view["blocks"])
    wait_until(lambda: "answered" in _kinds(bot))
