"""Answering the citizen on the source platform from the Answered modal.

The platform is a small HTTP service on loopback and the replier a minimal adapter that posts
to it: what is under test is the bot's side (modal option, outbox, events, thread notes, retry).
The last test uses the real Facebook adapter, whose retry after a lost answer looks first.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.app.compose import Engage
from bot.config.file import parse_config
from bot.core.adapter import IncomingMention, ReplyError, ReplyResult, ReplyTarget
from bot.core.slack_ids import ActionId, BlockId, InputId
from bot.intake.adapters.facebook.adapter import FacebookAdapter
from bot.sandbox.fake_slack import FakeSlack, wait_until
from storage.db import session_scope
from storage.models import Event, Outbox, OutboxKind
from tests.conftest import CONFIG, settings_for
from tests.factories import events_of, post_webhook
from tests.loopback import LoopbackServer, Reply, Request, json_reply

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


class FacebookPage(LoopbackServer):
    """Graph for one comment thread: a comment posted to it is there from then on, but the
    answer to the first post comes after the adapter has given up waiting."""

    def __init__(self) -> None:
        self.comments: list[dict[str, Any]] = []
        super().__init__()

    def respond(self, request: Request) -> Reply:
        if request.method == "GET":
            return json_reply({"data": self.comments})
        comment_id = f"902_10{len(self.comments) + 1}"
        self.comments.insert(
            0,
            {
                "id": comment_id,
                "message": request.form["message"],
                "from": {"name": "City of Maplewood", "id": "108824017345866"},
                "created_time": "2024-10-14T14:02:31+0000",
            },
        )
        return json_reply({"id": comment_id}, delay=0.5 if len(self.comments) == 1 else 0)


def test_a_reply_whose_answer_was_lost_is_published_once(
    make_bot: Callable[..., Engage], slack: FakeSlack
) -> None:
    """The first attempt times out after Facebook took the comment; the retry finds it."""
    with (
        FacebookPage() as page,
        closing(
            FacebookAdapter(
                name="city-fb",
                page_id="108824017345866",
                access_token="page-token",
                base_url=page.url,
                timeout=0.25,
            )
        ) as replier,
    ):
        bot = make_bot(repliers={"city-fb": replier})
        bot.delivery.first_backoff = 0.05  # retry at once: the wait is not what is tested
        item = IncomingMention(
            source="facebook", external_id="902_5", text="A pothole on Jaeger St", author="Ruth"
        )
        with session_scope(bot.engine) as s:
            bot.ingestor.ingest(session=s, items=[item], adapter="city-fb")
        bot.delivery.wake()
        ts = wait_until(lambda: slack.messages(PW))[0]["ts"]
        _answer(slack, bot, ts, reply=True)
        wait_until(lambda: "replied" in _kinds(bot))
        posts = [r for r in page.requests if r.method == "POST"]
        assert len(posts) == 1 and len(page.comments) == 1
        assert [r.method for r in page.requests] == ["POST", "GET"]  # it looked, then adopted
        (replied,) = events_of(bot, "replied")
        assert replied.data["external_id"] == "902_101"


def test_a_crash_during_a_reply_is_resolved_by_looking_first(
    slack: FakeSlack, engine: Engine
) -> None:
    """The worker took the reply's row, Facebook took the comment, and the process died."""
    with (
        FacebookPage() as page,
        closing(
            FacebookAdapter(
                name="city-fb", page_id="108824017345866", access_token="t", base_url=page.url
            )
        ) as replier,
    ):
        config = parse_config(CONFIG)
        bot = Engage(
            settings_for(slack), config, engine=engine, migrate=False, repliers={"city-fb": replier}
        )
        item = IncomingMention(source="facebook", external_id="902_5", text="Pothole", author="R")
        with session_scope(engine) as s:
            (stored,) = bot.ingestor.ingest(session=s, items=[item], adapter="city-fb")
        mention_id = stored.mention_id
        assert mention_id is not None
        bot.delivery.drain(timeout=5)  # the card
        assert bot.claims.answer(
            mention_id=mention_id,
            user_id="U0ALICE01",
            text="A crew is on the way.",
            request_key="answer-1",
            send_reply=True,
        ).ok
        while (job := bot.delivery._take()) and not isinstance(job, float):
            if job.kind == OutboxKind.PLATFORM_REPLY:
                break
            bot.delivery._done(job, bot.delivery._send(job))  # the card's update and notes
        assert not isinstance(job, float) and job.kind == OutboxKind.PLATFORM_REPLY
        page.comments.append(
            {"id": "902_7", "message": "A crew is on the way.", "from": {"id": "108824017345866"}}
        )
        with session_scope(engine) as s:  # the dead worker's lease runs out
            row = s.get(Outbox, job.id)
            assert row is not None and row.needs_check  # marked before the call was made
            row.leased_until = row.created_at - timedelta(seconds=1)
            s.add(row)
        bot.delivery.drain(timeout=5)
        assert [r.method for r in page.requests] == ["GET"]  # looked, found, did not post
        (replied,) = events_of(bot, "replied")
        assert replied.data["external_id"] == "902_7"
