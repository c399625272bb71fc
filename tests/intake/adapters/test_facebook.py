"""FacebookAdapter over real loopback connections: real httpx against a fake Graph API.

The fake serves the fixtures in tests/fixtures/facebook (shaped after Graph's documented
responses and errors; see SOURCES.md) and records every request, so the tests check what was
actually sent: path, query, headers and form body.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest

from bot.core.adapter import AdapterError, PollingAdapter, Replier, ReplyError, ReplyTarget
from bot.intake.adapters.facebook.adapter import FacebookAdapter
from bot.intake.adapters.facebook.parse import NO_TEXT
from bot.outbox.replies import Replies
from tests.factories import closing_factory
from tests.loopback import JSON_TYPE, JsonReply, Reply, Request, ScriptedServer, refused_url

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "facebook"
PAGE = "108824017345866"
V = "/v19.0"
FEED = f"{V}/{PAGE}/feed"
POSTS = f"{V}/{PAGE}/posts"
POST_902, POST_880 = f"{PAGE}_122110000000000902", f"{PAGE}_122110000000000880"
COMMENTS_902, COMMENTS_880 = f"{V}/{POST_902}/comments", f"{V}/{POST_880}/comments"
TOKEN, SECRET = "EAAGm0PX4ZCpsBA-test-page-token", "test-app-secret"


def post(n: int) -> str:
    return f"{PAGE}_122110000000000{n}"


def comment(post_n: int, n: int) -> str:
    return f"122110000000000{post_n}_{n}"


C1, C2, C3, C4, C5, C6 = (comment(902, 1093000000000000 + n) for n in range(1, 7))
C7 = comment(880, 1094000000000001)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


class FakeGraph(ScriptedServer):
    """Answers scripted replies per (method, path); the last answer of a script repeats."""

    def unscripted(self, request: Request) -> Reply:
        missing = b'{"error": {"message": "Unknown path components", "code": 2500}}'
        return JsonReply(missing, 400)

    def to(self, path: str) -> list[Request]:
        return self.requests_to(path)


@pytest.fixture
def fake() -> Iterator[FakeGraph]:
    with FakeGraph() as server:
        yield server


@pytest.fixture
def make_adapter(fake: FakeGraph) -> Iterator[Callable[..., FacebookAdapter]]:
    yield from closing_factory(
        FacebookAdapter,
        name="city-fb",
        page_id=PAGE,
        access_token=TOKEN,
        base_url=f"{fake.url}{V}",
        timeout=5.0,
    )


def ok(name: str, status: int = 200) -> JsonReply:
    return JsonReply(fixture(name), status)


def script_page(fake: FakeGraph) -> None:
    """The Page as the fixtures describe it: two pages of feed, two posts with comments."""
    fake.script("GET", FEED, ok("feed_page1.json"), ok("feed_page2.json"))
    fake.script("GET", POSTS, ok("posts.json"))
    fake.script("GET", COMMENTS_902, ok("comments_902_page1.json"), ok("comments_902_page2.json"))
    fake.script("GET", COMMENTS_880, ok("comments_880.json"))


def ids(result: Any) -> list[str]:
    return [m.external_id for m in result.mentions]


def test_first_run_takes_one_page_per_list(
    fake: FakeGraph, make_adapter: Callable[..., FacebookAdapter]
) -> None:
    script_page(fake)
    adapter = make_adapter(app_secret=SECRET)
    assert isinstance(adapter, PollingAdapter) and isinstance(adapter, Replier)
    result = adapter.fetch(None)
    # the Page's own post (902) and its own reply (C4) are not mentions
    assert ids(result) == [post(903), post(901), C5, C3, C7]
    fence, raccoon, jaeger, bags, railing = result.mentions
    assert fence.source == "facebook"
    assert fence.text.startswith("The playground fence at Schiller Park is broken")
    assert fence.author == "Dana Whitfield"
    assert fence.url == f"https://www.facebook.com/{PAGE}/posts/122110000000000903"
    assert fence.created_at == datetime(2024, 10, 14, 13, 30, 12, tzinfo=UTC)
    assert fence.extra == {
        "object_id": post(903),
        "kind": "post",
        "stream": "feed",
        "post_id": post(903),
        "parent_id": None,
        "from_id": "7212345678901234",
        "has_text": True,
    }
    assert raccoon.author == "Facebook user"  # Graph left out ``from``
    assert jaeger.extra == {
        "object_id": C5,
        "kind": "comment",
        "stream": "comments",
        "post_id": POST_902,
        "parent_id": None,
        "from_id": "7299000000000001",
        "has_text": True,
    }
    assert bags.author == "Facebook user" and railing.extra["post_id"] == POST_880
    assert result.errors == []
    assert result.cursor == {
        "feed": {"newest": "2024-10-14T13:30:12+00:00", "seen": [post(903), post(901)]},
        "comments": {"newest": "2024-10-14T13:41:00+00:00", "seen": [C5, C3, C7]},
    }
    assert len(fake.to(FEED)) == 1 and len(fake.to(COMMENTS_902)) == 1  # no second pages
    feed, posts, comments = fake.to(FEED)[0], fake.to(POSTS)[0], fake.to(COMMENTS_902)[0]
    assert feed.headers["authorization"] == f"Bearer {TOKEN}"
    assert "access_token" not in feed.query  # never in a URL that could be logged
    proof = hmac.new(SECRET.encode(), TOKEN.encode(), hashlib.sha256).hexdigest()
    assert feed.query["appsecret_proof"] == comments.query["appsecret_proof"] == proof
    assert feed.query["fields"] == "id,message,from,created_time,permalink_url"
    assert posts.query == {"fields": "id,created_time", "limit": "10", "appsecret_proof": proof}
    assert comments.query["filter"] == "stream"
    assert comments.query["order"] == "reverse_chronological"
    assert comments.query["fields"] == "id,message,from,created_time,permalink_url,parent"


def test_later_poll_pages_back_to_what_was_seen(
    fake: FakeGraph, make_adapter: Callable[..., FacebookAdapter]
) -> None:
    script_page(fake)
    cursor = {
        "feed": {"newest": "2024-10-12T08:00:00+00:00", "seen": []},
        "comments": {"newest": "2024-10-14T12:00:00+00:00", "seen": []},
    }
    result = make_adapter().fetch(cursor)
    feed_ids = [post(903), post(901), post(900), post(898)]
    assert ids(result) == [*feed_ids, C5, C3, C2, C1]  # C7 (09:10) is older than the cursor
    by_id = {m.external_id: m for m in result.mentions}
    assert by_id[post(898)].text == NO_TEXT and by_id[post(898)].extra["has_text"] is False
    assert by_id[C2].extra["parent_id"] == C1 and by_id[C2].author == "Mei Chen"
    errors = {e.item_id: e.reason for e in result.errors}
    assert errors.pop(post(899)) == f"city-fb: {post(899)} has no valid created_time"
    ((hashed, reason),) = errors.items()
    assert hashed.startswith("sha256:") and reason == "city-fb: item has no id"
    assert result.cursor["comments"]["newest"] == "2024-10-14T13:41:00+00:00"
    second = fake.to(FEED)[1].query  # the query of paging.next, on our base URL
    assert second["after"] == "QVFIUkNhMk12dFJZAOXVHMm1uckt3SGpJVzZAKNkVRWjNVU2RtYW9pR0JSZAEdQ"
    assert second["limit"] == "3" and "access_token" not in second
    second = fake.to(COMMENTS_902)[1].query
    assert second["filter"] == "stream" and second["after"].startswith("WTI5dFpXNTBPakV3")
    assert len(fake.to(COMMENTS_880)) == 1
    # the malformed items are reported once, not on every poll
    again = make_adapter().fetch(result.cursor)
    assert again.mentions == [] and again.errors == []


def test_empty_page_keeps_the_cursor(
    fake: FakeGraph, make_adapter: Callable[..., FacebookAdapter]
) -> None:
    fake.script("GET", FEED, ok("feed_empty.json"))
    adapter = make_adapter(max_posts=0)
    first = adapter.fetch(None)
    assert first.mentions == [] and first.errors == []
    assert first.cursor == {"feed": {"newest": None, "seen": []}}
    cursor = {"feed": {"newest": "2024-10-14T13:30:12+00:00", "seen": [post(903)]}}
    later = adapter.fetch(cursor)
    assert later.mentions == [] and later.cursor == cursor
    assert fake.to(POSTS) == []


def test_restart_repeats_nothing_and_takes_only_new(
    fake: FakeGraph, make_adapter: Callable[..., FacebookAdapter]
) -> None:
    script_page(fake)
    first = make_adapter().fetch(None)
    stored = json.loads(json.dumps(first.cursor))  # what the runner keeps in the database
    fake.script("GET", FEED, ok("feed_new.json"))
    fake.script("GET", COMMENTS_902, ok("comments_902_new.json"))
    later = make_adapter().fetch(stored)  # a new process
    assert ids(later) == [post(904), C6]
    assert later.errors == []
    assert later.cursor["feed"]["seen"][:2] == [post(904), post(903)]
    assert later.cursor["comments"]["newest"] == "2024-10-14T16:50:00+00:00"
    # each list stopped on its first page: it reached back past what was seen
    assert len(fake.to(FEED)) == 2 and len(fake.to(COMMENTS_902)) == 2


def test_more_new_pages_than_allowed_is_reported(
    fake: FakeGraph, make_adapter: Callable[..., FacebookAdapter]
) -> None:
    fake.script("GET", FEED, ok("feed_page1.json"), ok("feed_page2.json"))
    cursor = {"feed": {"newest": "2024-10-01T00:00:00+00:00", "seen": []}}
    result = make_adapter(max_posts=0, max_pages=1).fetch(cursor)
    assert ids(result) == [post(903), post(901)]
    ((gap),) = result.errors
    assert gap.item_id == f"feed:/{PAGE}/feed" and "more than 1 pages" in gap.reason


def test_other_post_edges(fake: FakeGraph, make_adapter: Callable[..., FacebookAdapter]) -> None:
    fake.script("GET", f"{V}/{PAGE}/visitor_posts", ok("feed_page1.json"))
    fake.script("GET", f"{V}/{PAGE}/tagged", ok("feed_empty.json"))
    result = make_adapter(post_edges=["visitor_posts", "tagged"], max_posts=0).fetch(None)
    assert ids(result) == [post(903), post(901)]
    assert result.mentions[0].extra["stream"] == "visitor_posts"
    assert set(result.cursor) == {"visitor_posts", "tagged"}


@pytest.mark.parametrize(
    ("body", "headers", "expected"),
    [
        (
            "error_page_rate_limited.json",
            {
                "x-business-use-case-usage": json.dumps(
                    {
                        PAGE: [
                            {
                                "type": "pages",
                                "call_count": 100,
                                "total_cputime": 12,
                                "total_time": 15,
                                "estimated_time_to_regain_access": 7,
                            }
                        ]
                    }
                )
            },
            420.0,
        ),
        (
            "error_app_rate_limited.json",
            {"x-app-usage": '{"call_count":100,"total_cputime":20,"total_time":22}'},
            None,
        ),
    ],
)
def test_rate_limited(
    fake: FakeGraph,
    make_adapter: Callable[..., FacebookAdapter],
    body: str,
    headers: dict[str, str],
    expected: float | None,
) -> None:
    fake.script("GET", FEED, JsonReply(fixture(body), 400, {**JSON_TYPE, **headers}))
    with pytest.raises(AdapterError, match="rate limited") as raised:
        make_adapter().fetch(None)
    assert raised.value.retry_after == expected
    assert "fbtrace_id" in str(raised.value)


def test_expired_token(fake: FakeGraph, make_adapter: Callable[..., FacebookAdapter]) -> None:
    fake.script("GET", FEED, JsonReply(fixture("error_token_expired.json"), 400))
    with pytest.raises(AdapterError, match="Page access token was rejected") as raised:
        make_adapter().fetch(None)
    assert "code 190/463" in str(raised.value) and "Session has expired" in str(raised.value)
    assert raised.value.retry_after is None


@pytest.mark.parametrize(
    ("answer", "match"),
    [
        (JsonReply(fixture("error_transient.json"), 500), "temporary Graph error"),
        (Reply(b"<html>502 Bad Gateway</html>", 502, {"Content-Type": "text/html"}), "HTTP 502"),
        (Reply(b"<html>down</html>", 503, {"Retry-After": "30"}), "retry after 30s"),
    ],
)
def test_server_errors(
    fake: FakeGraph, make_adapter: Callable[..., FacebookAdapter], answer: Reply, match: str
) -> None:
    fake.script("GET", FEED, answer)
    with pytest.raises(AdapterError, match=match):
        make_adapter().fetch(None)


def test_not_json(fake: FakeGraph, make_adapter: Callable[..., FacebookAdapter]) -> None:
    fake.script("GET", FEED, Reply(b"<html>ok?</html>", 200, {"Content-Type": "text/html"}))
    with pytest.raises(AdapterError, match="not a JSON object"):
        make_adapter().fetch(None)


def test_timeout(fake: FakeGraph, make_adapter: Callable[..., FacebookAdapter]) -> None:
    fake.script("GET", FEED, JsonReply(fixture("feed_page1.json"), delay=0.5))
    with pytest.raises(AdapterError, match="timed out"):
        make_adapter(timeout=0.1).fetch(None)


def test_connection_refused(make_adapter: Callable[..., FacebookAdapter]) -> None:
    with pytest.raises(AdapterError, match="cannot reach Graph"):
        make_adapter(base_url=refused_url(V)).fetch(None)


def target(object_id: str, parent_id: str | None = None) -> ReplyTarget:
    return ReplyTarget(
        source="facebook",
        external_id=object_id,
        author="Ruth Okafor",
        url=None,
        title=None,
        extra={"object_id": object_id, "kind": "comment", "parent_id": parent_id},
    )


def test_reply_comments_as_the_page(
    fake: FakeGraph, make_adapter: Callable[..., FacebookAdapter]
) -> None:
    fake.script("POST", f"{V}/{C5}/comments", ok("comment_created.json"))
    result = make_adapter(app_secret=SECRET).reply(target(C5), "Yes, Jaeger St is on Tuesday.")
    assert result.external_id == comment(902, 1093000000000010) and result.url is None
    (sent,) = fake.requests
    assert (sent.method, sent.path) == ("POST", f"{V}/{C5}/comments")
    assert dict(parse_qsl(sent.body.decode())) == {"message": "Yes, Jaeger St is on Tuesday."}
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"
    assert (
        sent.query["appsecret_proof"]
        == hmac.new(SECRET.encode(), TOKEN.encode(), hashlib.sha256).hexdigest()
    )


def test_reply_to_a_reply_goes_under_its_parent(
    fake: FakeGraph, make_adapter: Callable[..., FacebookAdapter]
) -> None:
    fake.script("POST", f"{V}/{C1}/comments", ok("comment_created.json"))
    make_adapter().reply(target(C2, parent_id=C1), "Pickup on the north side is Thursday.")
    assert fake.requests[0].path == f"{V}/{C1}/comments"


@pytest.mark.parametrize(
    ("answer", "retryable", "match"),
    [
        (JsonReply(fixture("error_permission.json"), 403), False, "permission missing"),
        (JsonReply(fixture("error_token_expired.json"), 400), False, "access token"),
        (JsonReply(fixture("error_app_rate_limited.json"), 400), True, "rate limited"),
        (JsonReply(fixture("error_transient.json"), 500), True, "temporary"),
        (JsonReply(b"", 503), True, "HTTP 503"),
    ],
)
def test_reply_errors(
    fake: FakeGraph,
    make_adapter: Callable[..., FacebookAdapter],
    answer: Reply,
    retryable: bool,
    match: str,
) -> None:
    fake.script("POST", f"{V}/{C5}/comments", answer)
    with pytest.raises(ReplyError, match=match) as raised:
        make_adapter().reply(target(C5), "On it.")
    assert raised.value.retryable is retryable
    assert raised.value.ambiguous is (retryable and "rate limited" not in str(raised.value))


ANSWER = "Yes, Jaeger St is on Tuesday."
OURS = comment(902, 1093000000000010)  # the Page's reply in comments_on_c5.json


def test_a_reply_whose_answer_was_lost_is_found_not_posted_again(
    fake: FakeGraph, make_adapter: Callable[..., FacebookAdapter]
) -> None:
    """Graph took the comment but answered after the client had given up."""
    fake.script("POST", f"{V}/{C5}/comments", JsonReply(fixture("comment_created.json"), delay=0.5))
    fake.script("GET", f"{V}/{C5}/comments", ok("comments_on_c5.json"))
    adapter = make_adapter(timeout=0.25)
    with pytest.raises(ReplyError, match="timed out") as raised:
        adapter.reply(target(C5), ANSWER)
    assert raised.value.retryable and raised.value.ambiguous
    result = Replies.send(adapter, target(C5), ANSWER, look_first=True)  # the next attempt
    assert result.external_id == OURS and len(fake.to(f"{V}/{C5}/comments")) == 2
    assert result.url is not None and result.url.endswith("reply_comment_id=1093000000000010")
    look = fake.requests[-1]
    assert look.method == "GET" and look.query["filter"] == "toplevel"
    assert look.query["order"] == "reverse_chronological" and "from" in look.query["fields"]


def test_find_reply_needs_the_page_as_author_and_the_same_text(
    fake: FakeGraph, make_adapter: Callable[..., FacebookAdapter]
) -> None:
    fake.script("GET", f"{V}/{C5}/comments", ok("comments_on_c5.json"))
    adapter = make_adapter()
    assert adapter.find_reply(target(C5), "Thank you!!") is None  # Ruth's, not the Page's
    assert adapter.find_reply(target(C5), "Yes, Jaeger St is on Wednesday.") is None
    fake.script("GET", f"{V}/{C5}/comments", ok("feed_empty.json"))
    fake.script("POST", f"{V}/{C5}/comments", ok("comment_created.json"))
    result = Replies.send(adapter, target(C5), ANSWER, look_first=True)
    assert result.external_id == OURS and [r.method for r in fake.requests][-2:] == ["GET", "POST"]


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="page_id and access_token"):
        FacebookAdapter(name="fb", page_id=PAGE, access_token="")
