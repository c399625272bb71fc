"""RedditAdapter over a real loopback connection: praw talks to a fake Reddit serving recorded
answers (praw's and prawcore's betamax cassettes, in tests/fixtures/reddit).

Listings are served two ways: recorded pages byte for byte, and "timelines" of recorded things
paged the way Reddit pages (``limit``, ``after``), so polls over time can be replayed.
"""

from __future__ import annotations

import base64
import copy
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.core.adapter import (
    AdapterError,
    IncomingMention,
    PollingAdapter,
    Replier,
    ReplyError,
    ReplyTarget,
)
from bot.intake.adapters.reddit.adapter import RedditAdapter
from bot.intake.adapters.reddit.parse import TermMatcher, next_state, subreddit_name, to_mention
from bot.outbox.replies import Replies
from tests.factories import closing_factory
from tests.loopback import Reply, Request, Script, ScriptedServer, json_reply, refused_url

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "reddit"
TOKEN_PATH = "/api/v1/access_token"
HOP_BY_HOP = {"content-length", "transfer-encoding", "connection"}


@dataclass
class Interaction:
    method: str
    path: str
    request_body: str
    answer: Reply

    def json(self) -> Any:
        return json.loads(self.answer.body)


def cassette(name: str) -> list[Interaction]:
    """A betamax cassette's interactions: request line and body, and the answer to replay."""
    recorded = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    interactions = []
    for item in recorded["interactions"]:
        request, response = item["request"], item["response"]
        body = response["body"]
        raw = (
            base64.b64decode(body["base64_string"])
            if body.get("base64_string")
            else body.get("string", "").encode()
        )
        headers = {
            key: values[0] if isinstance(values, list) else values
            for key, values in response["headers"].items()
            if key.lower() not in HOP_BY_HOP
        }
        answer = Reply(raw, response["status"]["code"], headers)
        uri = urlsplit(request["uri"])
        interactions.append(Interaction(request["method"], uri.path, request["body"] or "", answer))
    return interactions


def children(name: str, index: int = 1) -> list[dict[str, Any]]:
    things: list[dict[str, Any]] = cassette(name)[index].json()["data"]["children"]
    return things


class FakeReddit(ScriptedServer):
    """Answers the token endpoint and the API on one loopback port; records every request.

    ``script`` answers per (method, path), the last one repeating; ``timelines`` are things,
    newest first, served as Listings paged by ``limit`` and ``after``.
    """

    def __init__(self) -> None:
        self.timelines: dict[str, list[dict[str, Any]]] = {}
        self.listing_headers: dict[str, str] = {}
        super().__init__()
        self.script("POST", TOKEN_PATH, cassette("subreddit_new.json")[0].answer)

    def unscripted(self, request: Request) -> Reply:
        timeline = self.timelines.get(request.path)
        if request.method == "GET" and timeline is not None:
            return self.listing(timeline, request.query)
        return json_reply({"message": "Not Found", "error": 404}, 404)

    def listing(self, timeline: list[dict[str, Any]], query: dict[str, str]) -> Reply:
        names = [thing["data"].get("name") for thing in timeline]
        after = query.get("after")
        start = (names.index(after) + 1 if after in names else len(names)) if after else 0
        limit = int(query.get("limit", 25))
        page = timeline[start : start + limit]
        more = bool(page) and start + limit < len(timeline)
        data = {
            "after": page[-1]["data"].get("name") if more else None,
            "dist": len(page),
            "modhash": None,
            "geo_filter": "",
            "children": page,
            "before": None,
        }
        return json_reply({"kind": "Listing", "data": data}, headers=self.listing_headers)

    def api(self, path: str | None = None) -> list[Request]:
        """The requests made to the API (not to the token endpoint), optionally for one path."""
        return [
            r for r in self.requests if r.path != TOKEN_PATH and (path is None or r.path == path)
        ]


@pytest.fixture
def reddit() -> Iterator[FakeReddit]:
    with FakeReddit() as fake:
        yield fake


@pytest.fixture
def make_adapter(reddit: FakeReddit) -> Iterator[Callable[..., RedditAdapter]]:
    yield from closing_factory(
        RedditAdapter,
        name="reddit-city",
        client_id="engage-client-id",
        client_secret="engage-client-secret",
        username="CityOfExample",
        password="hunter2",
        subreddits=["r/Columbus"],
        comments=False,
        oauth_url=reddit.url,
        reddit_url=reddit.url,
        timeout=2.0,
    )


def ids(mentions: list[IncomingMention]) -> list[str]:
    return [m.external_id for m in mentions]


def roundtrip(cursor: dict[str, Any]) -> dict[str, Any]:
    stored: dict[str, Any] = json.loads(json.dumps(cursor))  # what the runner keeps
    return stored


# -- polling ---------------------------------------------------------------------------------


def test_first_run_reads_a_recorded_page(
    reddit: FakeReddit, make_adapter: Callable[..., RedditAdapter]
) -> None:
    recorded = cassette("subreddit_new.json")[1]
    reddit.script("GET", "/r/columbus/new", recorded.answer)
    adapter = make_adapter(terms=["serious"])
    assert isinstance(adapter, PollingAdapter) and isinstance(adapter, Replier)
    result = adapter.fetch(None)
    assert ids(result.mentions) == ["t3_48fb46", "t3_48fb7v", "t3_48fb9o", "t3_48fbm9"]
    assert result.errors == []
    newest = result.mentions[-1]
    assert newest.source == "reddit"
    assert (
        newest.title
        == newest.text
        == (
            "[Serious] Parents of Reddit, what's the biggest lie about yourself"
            " you've told your kids?"
        )
    )
    assert newest.author == "u/RedHeadQc"
    assert newest.url == (
        "https://www.reddit.com/r/AskReddit/comments/48fbm9/"
        "serious_parents_of_reddit_whats_the_biggest_lie/"
    )
    assert newest.created_at == datetime(2016, 3, 1, 8, 37, 38, tzinfo=UTC)
    assert newest.language is None
    assert newest.extra == {
        "fullname": "t3_48fbm9",
        "subreddit": "AskReddit",
        "kind": "submission",
        "link_id": "t3_48fbm9",
        "parent_id": None,
        "matched_term": "serious",
        "stream": "r/columbus/submissions",
    }
    state = result.cursor["streams"]["r/columbus/submissions"]
    assert result.cursor["version"] == 1 and list(result.cursor["streams"]) == [
        "r/columbus/submissions"
    ]
    assert state["newest"] == "t3_48fbm9" and state["newest_created"] == 1456821458.0
    assert len(state["seen"]) == 13 and state["seen"][0] == "t3_48fbm9"  # matching or not
    assert state["floor"] == 1456821048.0  # the oldest thing on the page, t3_48fazt

    token, listing = reddit.requests
    assert token.method == "POST" and token.path == TOKEN_PATH
    assert token.form == {
        "grant_type": "password",
        "username": "CityOfExample",
        "password": "hunter2",
    }
    expected = base64.b64encode(b"engage-client-id:engage-client-secret").decode()
    assert token.headers["authorization"] == f"Basic {expected}"
    assert listing.query == {"limit": "100", "raw_json": "1"}
    assert listing.headers["authorization"] == "bearer <ACCESS_TOKEN>"
    assert listing.headers["user-agent"].startswith(
        "python:engage-civic-bot:0.1 (by u/CityOfExample) PRAW/"
    )


def test_empty_listing(reddit: FakeReddit, make_adapter: Callable[..., RedditAdapter]) -> None:
    reddit.timelines["/r/columbus/new"] = []
    adapter = make_adapter()
    first = adapter.fetch(None)
    assert first.mentions == [] and first.errors == []
    state = first.cursor["streams"]["r/columbus/submissions"]
    assert state == {"newest": None, "newest_created": None, "floor": None, "seen": []}
    # still nothing seen: the next poll is a first poll again (one page, no backfill)
    reddit.timelines["/r/columbus/new"] = children("submissions_stream.json")
    later = adapter.fetch(roundtrip(first.cursor))
    assert len(later.mentions) == 8  # no terms: everything on the page
    assert len(reddit.api()) == 2


def test_comments_whole_word_terms(
    reddit: FakeReddit, make_adapter: Callable[..., RedditAdapter]
) -> None:
    reddit.timelines["/r/columbus/comments/"] = children("comments_stream.json")
    adapter = make_adapter(submissions=False, comments=True, terms=["bot", "Harry Potter"])
    result = adapter.fetch(None)
    # "u/VettedBot" and "goodreads-rebot" do not contain the word "bot", "The Bot is Back" does
    assert ids(result.mentions) == [
        "t1_k3v6t51",
        "t1_k3v6t52",
        "t1_k3v6t58",
        "t1_k3wo7i3",
        "t1_k3woe15",
    ]
    assert "goodreads-rebot" in result.mentions[-1].text
    bot, _, _, potter, _ = result.mentions
    assert bot.text == "<TEST_SUBREDDIT> reply from bot"  # kept literally
    assert bot.author == "u/Decent_Work_4713" and bot.title is None
    assert bot.extra["kind"] == "comment" and bot.extra["matched_term"] == "bot"
    assert bot.extra["link_id"] == "t3_171z72e" and bot.extra["parent_id"] == "t1_k3v6no4"
    assert bot.extra["link_title"] is not None
    assert bot.url is not None and bot.url.startswith("https://www.reddit.com/r/")
    assert bot.url.endswith("/k3v6t51/")
    assert potter.extra["matched_term"] == "Harry Potter"
    assert potter.text.startswith("\\#1/3: **[Harry Potter and the Sorcerer's Stone")  # Markdown
    assert reddit.api()[0].path == "/r/columbus/comments/"


def test_pagination_and_restart(
    reddit: FakeReddit, make_adapter: Callable[..., RedditAdapter]
) -> None:
    older = children("submissions_stream.json", 1)  # r/all/new at one moment, 8 things
    newer = children("submissions_stream.json", 2)  # 4 things newer than those, moments later
    reddit.timelines["/r/columbus/new"] = older
    first = make_adapter(page_size=3).fetch(None)
    assert ids(first.mentions) == ["t3_5jo13w", "t3_5jo13x", "t3_5jo13y"]  # first page only

    reddit.timelines["/r/columbus/new"] = newer + older
    restarted = make_adapter(page_size=3)  # a new process with the stored cursor
    second = restarted.fetch(roundtrip(first.cursor))
    assert ids(second.mentions) == ["t3_5jo140", "t3_5jo141", "t3_5jo143", "t3_5jo144"]
    assert second.errors == []
    pages = reddit.api()[1:]
    assert [p.query.get("after") for p in pages] == [None, "t3_5jo141"]  # stopped at t3_5jo13y
    farewell = next(m for m in first.mentions if m.external_id == "t3_5jo13y")
    assert farewell.extra["link_url"].startswith("https://")  # a link post

    third = make_adapter(page_size=3).fetch(roundtrip(second.cursor))
    assert third.mentions == [] and third.errors == []
    assert len(reddit.api()) == 4  # one page: its first things were seen


def test_deleted_things_do_not_bring_back_old_ones(
    reddit: FakeReddit, make_adapter: Callable[..., RedditAdapter]
) -> None:
    older = children("submissions_stream.json", 1)
    reddit.timelines["/r/columbus/new"] = older
    adapter = make_adapter(page_size=3, max_seen=0)
    first = adapter.fetch(None)
    # two of the three are deleted: older things never taken move up into the first page
    reddit.timelines["/r/columbus/new"] = older[2:]
    second = adapter.fetch(roundtrip(first.cursor))
    assert second.mentions == [] and second.errors == []
    assert second.cursor["streams"]["r/columbus/submissions"]["seen"] == [
        "t3_5jo13w",
        "t3_5jo13v",
        "t3_5jo13u",
    ]


def test_app_only_reading_and_a_thing_listed_twice(
    reddit: FakeReddit, make_adapter: Callable[..., RedditAdapter]
) -> None:
    things = children("submissions_stream.json")
    # a post arriving between two page requests shifts the listing: a thing shows up twice
    reddit.timelines["/r/columbus/new"] = [*things[:3], things[2], *things[3:]]
    result = make_adapter(username=None, password=None).fetch(None)
    assert len(result.mentions) == len(set(ids(result.mentions))) == 8
    assert len(result.cursor["streams"]["r/columbus/submissions"]["seen"]) == 8
    assert reddit.requests[0].form == {"grant_type": "client_credentials"}


def test_forgetting_raises_the_floor() -> None:
    older = {c["data"]["name"]: c for c in children("subreddit_new.json")}
    names = list(older)
    state = {"newest": names[2], "newest_created": 1456821354.0, "floor": 1.0, "seen": names[2:5]}
    fetched = {name: older[name] for name in names[:2]}
    after = next_state(state, fetched, first=False, max_seen=3)
    assert after["seen"] == [*names[:2], names[2]]  # the two oldest are forgotten...
    assert after["floor"] == older[names[1]]["data"]["created_utc"]  # ...and stay old
    assert after["newest"] == names[0]
    kept = next_state(state, fetched, first=False, max_seen=10)
    assert kept["floor"] == 1.0 and len(kept["seen"]) == 5


def test_too_many_new_things_is_reported(
    reddit: FakeReddit, make_adapter: Callable[..., RedditAdapter]
) -> None:
    older, newer = children("submissions_stream.json", 1), children("submissions_stream.json", 2)
    reddit.timelines["/r/columbus/new"] = older[6:]
    adapter = make_adapter(page_size=2, max_pages=2)
    first = adapter.fetch(None)
    reddit.timelines["/r/columbus/new"] = newer + older
    second = adapter.fetch(first.cursor)
    assert ids(second.mentions) == ["t3_5jo140", "t3_5jo141", "t3_5jo143", "t3_5jo144"]
    (gap,) = second.errors
    assert gap.item_id == "r/columbus/submissions:gap"
    assert "over 4 new since the last poll, older skipped" in gap.reason


def test_malformed_things_are_item_errors(
    reddit: FakeReddit, make_adapter: Callable[..., RedditAdapter]
) -> None:
    things = copy.deepcopy(children("subreddit_new.json"))[:6]
    things[1]["data"]["created_utc"] = "2016-03-01"  # edits on recorded things
    things[2]["data"]["author"] = "[deleted]"
    things[3]["data"]["title"] = None
    things[4] = {"kind": "t3", "data": {"title": "no name, no id"}}
    things[5]["data"]["selftext"] = "Asking <!channel> & r/Columbus: is 5 > 3?"
    reddit.timelines["/r/columbus/new"] = things
    adapter = make_adapter()
    result = adapter.fetch(None)
    assert ids(result.mentions) == ["t3_48fb7v", "t3_48fbe1", "t3_48fbm9"]
    channel, deleted, _ = result.mentions
    assert channel.text.endswith("\nAsking <!channel> & r/Columbus: is 5 > 3?")
    assert deleted.author == "[deleted]"
    errors = {e.item_id: e.reason for e in result.errors}
    assert errors["t3_48fbg9"] == (
        "reddit-city: r/columbus/submissions: created_utc is not a time: '2016-03-01'"
    )
    assert errors["t3_48fbao"].endswith("title is missing")
    (hashed,) = [key for key in errors if key.startswith("sha256:")]
    assert errors[hashed].endswith("no fullname (name or id)")
    again = adapter.fetch(roundtrip(result.cursor))  # reported once, not on every poll
    assert again.mentions == [] and again.errors == []


def test_deleted_comments_are_skipped() -> None:
    comment = copy.deepcopy(children("comments_stream.json")[0])
    comment["data"].update(body="[deleted]", author="[deleted]")
    assert to_mention(comment, stream="s", matched_term=None) is None
    comment["data"]["body"] = "still here"
    mention = to_mention(comment, stream="s", matched_term=None)
    assert mention is not None and mention.author == "[deleted]"


def test_inbox_mentions(reddit: FakeReddit, make_adapter: Callable[..., RedditAdapter]) -> None:
    recorded = cassette("inbox_mentions.json")[1]
    reddit.script("GET", "/message/mentions", recorded.answer)
    adapter = make_adapter(subreddits=[], mentions=True, terms=["pothole"])
    result = adapter.fetch(None)
    assert len(result.mentions) == 5  # mentions are not filtered by terms
    newest = result.mentions[-1]
    assert newest.external_id == "t1_ekftbox"
    assert newest.text.startswith("Hello /u/<USERNAME>,\n\nYour [submission](https://redd.it/")
    assert newest.author == "u/2Botter2Loop"
    assert newest.url == (
        "https://www.reddit.com/r/RemovedByBotter/comments/bb24k7/"
        "just_a_normal_girl_going_for_her_10th_class_exam/ekftbox/"
    )
    assert newest.extra["link_id"] == "t3_bb24k7"  # from the context link
    assert newest.extra["parent_id"] == "t3_bb24k7"
    assert newest.extra["stream"] == "inbox/mentions" and newest.extra["matched_term"] is None
    assert reddit.api()[0].query == {"limit": "100", "raw_json": "1"}


def test_unreadable_subreddit_does_not_block_the_others(
    reddit: FakeReddit, make_adapter: Callable[..., RedditAdapter]
) -> None:
    reddit.script("GET", "/r/private/new", cassette("forbidden.json")[1].answer)
    reddit.timelines["/r/columbus/new"] = children("submissions_stream.json")
    adapter = make_adapter(subreddits=["private", "Columbus"])
    result = adapter.fetch(None)
    assert len(result.mentions) == 8
    (error,) = result.errors
    assert error.item_id == "r/private/submissions"
    assert "HTTP 403" in error.reason and "private" in error.reason
    assert list(result.cursor["streams"]) == ["r/columbus/submissions"]


# -- failures --------------------------------------------------------------------------------


def test_rate_limited(reddit: FakeReddit, make_adapter: Callable[..., RedditAdapter]) -> None:
    reddit.script("GET", "/r/columbus/new", cassette("too_many_requests.json")[1].answer)
    started = time.monotonic()
    with pytest.raises(AdapterError, match="rate limited, HTTP 429") as raised:
        make_adapter().fetch(None)
    assert raised.value.retry_after == 4.0
    assert len(reddit.api()) == 1 and time.monotonic() - started < 1.5  # no retry, no sleep


def test_rate_limited_without_retry_after_uses_the_reset_header(
    reddit: FakeReddit, make_adapter: Callable[..., RedditAdapter]
) -> None:
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "42", "x-ratelimit-used": "600"}
    reddit.script("GET", "/r/columbus/new", json_reply({"error": 429}, 429, headers))
    with pytest.raises(AdapterError) as raised:
        make_adapter().fetch(None)
    assert raised.value.retry_after == 42.0


def test_used_up_budget_stops_before_asking(
    reddit: FakeReddit, make_adapter: Callable[..., RedditAdapter]
) -> None:
    reddit.timelines["/r/columbus/new"] = children("submissions_stream.json")
    reddit.listing_headers = {"x-ratelimit-remaining": "0.0", "x-ratelimit-reset": "120"}
    adapter = make_adapter(comments=True)
    started = time.monotonic()
    with pytest.raises(AdapterError, match="request budget used up") as raised:
        adapter.fetch(None)
    assert raised.value.retry_after is not None and 115 < raised.value.retry_after <= 120
    assert [r.path for r in reddit.api()] == ["/r/columbus/new"]  # comments not asked
    assert time.monotonic() - started < 1.5  # prawcore did not sleep until the reset


def test_server_error(reddit: FakeReddit, make_adapter: Callable[..., RedditAdapter]) -> None:
    reddit.script("GET", "/r/columbus/new", cassette("service_unavailable.json")[1].answer)
    with pytest.raises(AdapterError, match="server error, HTTP 503") as raised:
        make_adapter().fetch(None)
    assert raised.value.retry_after is None
    assert "reddit-city" in str(raised.value)
    assert len(reddit.api()) == 1  # prawcore would have tried three times, sleeping between


@pytest.mark.parametrize("status", [500, 502, 504])
def test_other_server_errors(
    reddit: FakeReddit, make_adapter: Callable[..., RedditAdapter], status: int
) -> None:
    reddit.script("GET", "/r/columbus/new", Reply(b"<html>oops</html>", status))
    with pytest.raises(AdapterError, match=f"HTTP {status}"):
        make_adapter().fetch(None)


def test_odd_answer(reddit: FakeReddit, make_adapter: Callable[..., RedditAdapter]) -> None:
    reddit.script("GET", "/r/columbus/new", json_reply({"kind": "t3", "data": {}}))
    with pytest.raises(AdapterError, match="odd answer: not a Listing"):
        make_adapter().fetch(None)


def test_wrong_client_secret(
    reddit: FakeReddit, make_adapter: Callable[..., RedditAdapter]
) -> None:
    reddit.script("POST", TOKEN_PATH, json_reply({"message": "Unauthorized", "error": 401}, 401))
    with pytest.raises(AdapterError, match="HTTP 401 signing in; check the client id"):
        make_adapter().fetch(None)
    assert reddit.api() == []


def test_wrong_password(reddit: FakeReddit, make_adapter: Callable[..., RedditAdapter]) -> None:
    reddit.script("POST", TOKEN_PATH, cassette("invalid_password.json")[0].answer)
    with pytest.raises(AdapterError) as raised:
        make_adapter(password="invalidpassword").fetch(None)
    assert str(raised.value).startswith(
        "reddit-city: reddit: sign-in refused (unauthorized_client: Only script apps may use"
        " password auth); check the client id and secret"
    )


def test_token_refused_twice(
    reddit: FakeReddit, make_adapter: Callable[..., RedditAdapter]
) -> None:
    headers = {"www-authenticate": 'Bearer realm="reddit", error="invalid_token"'}
    reddit.script("GET", "/r/columbus/new", json_reply({"error": 401}, 401, headers))
    started = time.monotonic()
    with pytest.raises(AdapterError, match="HTTP 401"):
        make_adapter().fetch(None)
    assert len(reddit.api()) == 2  # once more with a new token, no third try
    assert time.monotonic() - started < 3.5  # prawcore pauses 0-2 s before its retry


def test_timeout(reddit: FakeReddit, make_adapter: Callable[..., RedditAdapter]) -> None:
    reddit.script("GET", "/r/columbus/new", Reply(b"{}", delay=0.6))
    with pytest.raises(AdapterError, match=r"timed out after 0.2s \(GET /r/columbus/new\)"):
        make_adapter(timeout=0.2).fetch(None)
    assert len(reddit.api()) == 1


def test_connection_refused(make_adapter: Callable[..., RedditAdapter]) -> None:
    url = refused_url()
    with pytest.raises(AdapterError, match=r"cannot reach 127\.0\.0\.1"):
        make_adapter(oauth_url=url, reddit_url=url).fetch(None)


# -- replies ---------------------------------------------------------------------------------


def target(fullname: str) -> ReplyTarget:
    return ReplyTarget("reddit", fullname, "u/someone", None, None, {"fullname": fullname})


def test_reply_to_a_comment(reddit: FakeReddit, make_adapter: Callable[..., RedditAdapter]) -> None:
    recorded = cassette("comment_reply.json")
    reddit.script("POST", TOKEN_PATH, recorded[0].answer)
    reddit.script("POST", "/api/comment/", recorded[1].answer)
    result = make_adapter().reply(target("t1_d1616q2"), "Comment reply")
    assert result.external_id == "t1_d1680wu"
    assert result.url == "https://www.reddit.com/comments/4b1tfm/_/d1680wu/"
    (sent,) = reddit.api()
    assert sent.method == "POST" and sent.query == {"raw_json": "1"}
    assert sent.form == {"api_type": "json", "text": "Comment reply", "thing_id": "t1_d1616q2"}
    recorded_form = {k: v[-1] for k, v in parse_qs(recorded[1].request_body).items()}
    assert sent.form == recorded_form  # what praw sent to Reddit when this was recorded
    assert sent.headers["authorization"] == "bearer 7302867-g_3IVmstgSerlmL2GpMIlnveCeQ"


def test_reply_to_a_submission_with_a_permalink(
    reddit: FakeReddit, make_adapter: Callable[..., RedditAdapter]
) -> None:
    answer = cassette("comment_reply.json")[1].json()
    thing = answer["json"]["data"]["things"][0]["data"]
    thing.update(parent_id="t3_4b1tfm", permalink="/r/Columbus/comments/4b1tfm/x/d1680wu/")
    reddit.script("POST", "/api/comment/", json_reply(answer))
    text = "Thanks! Crews are on it <!channel> & more"
    result = make_adapter().reply(target("t3_4b1tfm"), text)
    assert result.url == "https://www.reddit.com/r/Columbus/comments/4b1tfm/x/d1680wu/"
    assert reddit.api()[0].form["thing_id"] == "t3_4b1tfm"
    assert reddit.api()[0].form["text"] == text


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (["RATELIMIT", "you are doing that too much. try again in 9 minutes.", "ratelimit"], True),
        (["THREAD_LOCKED", "that comment is locked", "parent"], False),
    ],
)
def test_reply_refused(
    reddit: FakeReddit,
    make_adapter: Callable[..., RedditAdapter],
    error: list[str],
    retryable: bool,
) -> None:
    reddit.script("POST", "/api/comment/", json_reply({"json": {"errors": [error]}}))
    with pytest.raises(ReplyError, match=error[0]) as raised:
        make_adapter().reply(target("t1_d1616q2"), "hello")
    assert raised.value.retryable is retryable
    assert len(reddit.api()) == 1  # praw did not sleep and try again


def test_reply_failures(reddit: FakeReddit, make_adapter: Callable[..., RedditAdapter]) -> None:
    reddit.script("POST", "/api/comment/", cassette("too_many_requests.json")[1].answer)
    with pytest.raises(ReplyError, match="HTTP 429") as raised:
        make_adapter().reply(target("t1_d1616q2"), "hello")
    assert raised.value.retryable
    reddit.script("POST", "/api/comment/", cassette("forbidden.json")[1].answer)
    with pytest.raises(ReplyError, match="HTTP 403") as raised:
        make_adapter().reply(target("t1_d1616q2"), "hello")
    assert not raised.value.retryable
    reddit.script("POST", "/api/comment/", cassette("service_unavailable.json")[1].answer)
    with pytest.raises(ReplyError, match=r"HTTP 503.*it may be posted") as raised:
        make_adapter().reply(target("t1_d1616q2"), "hello")
    assert raised.value.retryable and raised.value.ambiguous  # looked for before a retry
    with pytest.raises(ReplyError, match="username and password"):
        make_adapter(username=None, password=None).reply(target("t1_d1616q2"), "hello")
    with pytest.raises(ReplyError, match="only submissions"):
        make_adapter().reply(target("t5_2qh1i"), "hello")


USER_COMMENTS = "/user/CityOfExample/comments"


class Posted(Script[Reply]):
    """``POST /api/comment/`` that creates the comment (the account's comments list it from
    then on) but whose answer is ``answer``: a 503, as if the answer had been lost."""

    def __init__(self, thing: dict[str, Any], comments: list[dict[str, Any]], answer: Reply):
        super().__init__(answer)
        self.thing, self.comments = thing, comments

    def next(self) -> Reply:
        self.comments.insert(0, self.thing)
        return super().next()


def test_a_reply_whose_answer_was_lost_is_found_not_posted_again(
    reddit: FakeReddit, make_adapter: Callable[..., RedditAdapter]
) -> None:
    recorded = cassette("comment_reply.json")
    created = recorded[1].json()["json"]["data"]["things"][0]  # "Comment reply" to t1_d1616q2
    comments = reddit.timelines[USER_COMMENTS] = children("comments_stream.json")[:5]
    lost = Posted(created, comments, cassette("service_unavailable.json")[1].answer)
    reddit.scripts[("POST", "/api/comment/")] = lost
    adapter = make_adapter()
    with pytest.raises(ReplyError, match=r"HTTP 503.*it may be posted") as raised:
        adapter.reply(target("t1_d1616q2"), "Comment reply")
    assert raised.value.retryable and raised.value.ambiguous
    result = Replies.send(adapter, target("t1_d1616q2"), "Comment reply", look_first=True)
    assert result.external_id == "t1_d1680wu" and len(reddit.api("/api/comment/")) == 1
    assert result.url == "https://www.reddit.com/comments/4b1tfm/_/d1680wu/"
    (look,) = reddit.api(USER_COMMENTS)
    assert look.method == "GET" and look.query == {"sort": "new", "limit": "25", "raw_json": "1"}
    # The same text under another comment, or another text under this one, is not ours.
    assert adapter.find_reply(target("t1_d1616zz"), "Comment reply") is None
    assert adapter.find_reply(target("t1_d1616q2"), "Another reply") is None


def test_nothing_found_is_posted(
    reddit: FakeReddit, make_adapter: Callable[..., RedditAdapter]
) -> None:
    reddit.timelines[USER_COMMENTS] = children("comments_stream.json")[:5]
    reddit.script("POST", "/api/comment/", cassette("comment_reply.json")[1].answer)
    result = Replies.send(make_adapter(), target("t1_d1616q2"), "Comment reply", look_first=True)
    assert result.external_id == "t1_d1680wu"
    assert [r.path for r in reddit.api()] == [USER_COMMENTS, "/api/comment/"]


# -- configuration and matching --------------------------------------------------------------


def test_configuration_is_checked(make_adapter: Callable[..., RedditAdapter]) -> None:
    with pytest.raises(ValueError, match="mentions need"):
        make_adapter(password=None, mentions=True)
    with pytest.raises(ValueError, match="not a subreddit name"):
        make_adapter(subreddits=["r/no spaces"])
    with pytest.raises(ValueError, match="page_size"):
        make_adapter(page_size=500)
    assert subreddit_name("/r/Columbus/") == subreddit_name("columbus") == "columbus"


def test_term_matcher() -> None:
    matcher = TermMatcher(["pothole", "city  hall", "311", "#ColumbusOH"])
    assert matcher.first("POTHOLE on 5th") == "pothole"
    assert matcher.first("potholes everywhere") is None
    assert matcher.first("went to City\nHall today") == "city hall"
    assert matcher.first("call 311.") == "311" and matcher.first("13112") is None
    assert matcher.first("love #columbusoh!") == "#ColumbusOH"
    assert TermMatcher([]).accepts("anything") == (True, None)
    assert TermMatcher([" "]).accepts("anything") == (True, None)
