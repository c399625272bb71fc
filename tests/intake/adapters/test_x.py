"""XAdapter over real loopback connections: the real tweepy Client against a fake X API.

The fake serves the fixtures in tests/fixtures/x (shaped after X's documented examples, plus two
bodies recorded in tweepy's own cassettes; see SOURCES.md) and records every request, so the
tests check what tweepy actually sent: path, query, auth header and JSON body.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.adapter import AdapterError, PollingAdapter, Replier, ReplyError, ReplyTarget
from bot.intake.adapters.x.adapter import XAdapter
from bot.outbox.replies import Replies
from tests.factories import closing_factory
from tests.loopback import JSON_TYPE, JsonReply, Reply, Request, ScriptedServer, refused_url

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "x"
CITY = "1587046382104121344"
MENTIONS = f"/2/users/{CITY}/mentions"
SEARCH = "/2/tweets/search/recent"
QUERY = "maplewood (pothole OR streetlight) -is:retweet"
# tweet ids in the fixtures, oldest first
A0, A1, A2, A3, A4 = (
    "1845781595550658577",
    "1845791713658941457",
    "1845799233102295057",
    "1845806945928228881",
    "1845813186113056785",
)
S1, S2, A5, B1, B2 = (
    "1845814350967746577",
    "1845815570461634577",
    "1845816839867740177",
    "1845827468666089489",
    "1845834635041320977",
)
OLD = "1845700000000000000"
NOW = datetime(2024, 10, 14, 15, 0, tzinfo=UTC).timestamp()  # "now" for the fixtures


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


class FakeX(ScriptedServer):
    """Answers scripted replies per (method, path); the last answer of a script repeats."""

    def unscripted(self, request: Request) -> Reply:
        return JsonReply(b'{"title": "Not Found Error", "status": 404}', 404)


@pytest.fixture
def fake() -> Iterator[FakeX]:
    with FakeX() as server:
        yield server


@pytest.fixture
def make_adapter(fake: FakeX) -> Iterator[Callable[..., XAdapter]]:
    yield from closing_factory(
        XAdapter,
        name="city-x",
        user_id=CITY,
        bearer_token="test-bearer",
        account_username="MaplewoodCity",
        base_url=fake.url,
        timeout=5.0,
        clock=lambda: NOW,
    )


def ok(name: str, status: int = 200) -> JsonReply:
    return JsonReply(fixture(name), status)


def test_first_run_takes_one_page_of_recent_mentions(
    fake: FakeX, make_adapter: Callable[..., XAdapter]
) -> None:
    fake.script("GET", MENTIONS, ok("mentions_page1.json"), ok("mentions_page2.json"))
    adapter = make_adapter()
    assert isinstance(adapter, PollingAdapter) and isinstance(adapter, Replier)
    result = adapter.fetch(None)
    assert [m.external_id for m in result.mentions] == [A5, A4]  # the retweet A3 is skipped
    light, trash = result.mentions
    assert light.source == "x"
    assert light.text == (
        "@MaplewoodCity the streetlight at Parsons & Whittier has been out for a week,"
        " it's pitch dark at the bus stop"
    )
    assert light.author == "@nina_r"
    assert light.url == f"https://x.com/nina_r/status/{A5}"
    assert light.created_at == datetime(2024, 10, 14, 13, 20, 2, tzinfo=UTC)
    assert light.language == "en"
    assert light.extra == {
        "tweet_id": A5,
        "author_id": "1032877654321098752",
        "username": "nina_r",
        "conversation_id": A5,
        "stream": "mentions",
        "query": None,
    }
    assert trash.language == "es" and trash.author == "@jorge_mx"
    assert result.errors == []
    assert result.cursor == {
        "mentions": {"since_id": A5, "backfill": None},
        "search": {},
        "recent": [A5, A4],
    }
    (sent,) = fake.requests  # one page only, although the answer had a next_token
    assert sent.method == "GET" and sent.path == MENTIONS
    assert sent.headers["authorization"] == "Bearer test-bearer"
    assert sent.query["expansions"] == "author_id"
    assert set(sent.query["tweet.fields"].split(",")) >= {
        "created_at",
        "lang",
        "conversation_id",
        "in_reply_to_user_id",
        "referenced_tweets",
    }
    assert sent.query["user.fields"] == "username,name"
    assert sent.query["max_results"] == "100"
    assert "since_id" not in sent.query and "pagination_token" not in sent.query


def test_later_poll_pages_until_caught_up(
    fake: FakeX, make_adapter: Callable[..., XAdapter]
) -> None:
    fake.script("GET", MENTIONS, ok("mentions_page1.json"), ok("mentions_page2.json"))
    result = make_adapter().fetch({"mentions": {"since_id": OLD, "backfill": None}})
    assert [m.external_id for m in result.mentions] == [A5, A4, A2, A0]
    by_id = {m.external_id: m for m in result.mentions}
    assert by_id[A2].text == (
        "@MaplewoodCity @MaplewoodParks pothole on Cleveland Ave & E 5th is finally fixed <3\n"
        "thank you crew!"
    )
    assert by_id[A2].author == "@sam_k"
    assert by_id[A0].language is None  # "und"
    assert [(e.item_id, e.reason) for e in result.errors] == [(A1, "city-x: tweet has no text")]
    assert result.cursor["mentions"] == {"since_id": A5, "backfill": None}
    first, second = fake.requests
    assert first.query["since_id"] == second.query["since_id"] == OLD
    assert "pagination_token" not in first.query
    assert second.query["pagination_token"] == "7140dibdnow9c7btw423i3sy3u5zupmkcpofxcsmxj48j"


def test_empty_page_keeps_the_cursor(fake: FakeX, make_adapter: Callable[..., XAdapter]) -> None:
    fake.script("GET", MENTIONS, ok("mentions_empty.json"))
    adapter = make_adapter()
    first = adapter.fetch(None)
    assert first.mentions == [] and first.errors == []
    assert first.cursor["mentions"] == {"since_id": None, "backfill": None}
    later = adapter.fetch({"mentions": {"since_id": A5, "backfill": None}, "recent": [A5]})
    assert later.mentions == [] and later.errors == []
    assert later.cursor == {
        "mentions": {"since_id": A5, "backfill": None},
        "search": {},
        "recent": [A5],
    }
    assert fake.requests[-1].query["since_id"] == A5


def test_a_burst_larger_than_one_poll_is_backfilled_not_skipped(
    fake: FakeX, make_adapter: Callable[..., XAdapter]
) -> None:
    fake.script("GET", MENTIONS, ok("mentions_page1.json"), ok("mentions_page2.json"))
    adapter = make_adapter(max_pages=1)
    first = adapter.fetch({"mentions": {"since_id": OLD, "backfill": None}})
    assert [m.external_id for m in first.mentions] == [A5, A4]
    assert first.cursor["mentions"] == {
        "since_id": OLD,
        "backfill": {"until_id": A3, "newest_id": A5},
    }
    second = adapter.fetch(json.loads(json.dumps(first.cursor)))
    assert [m.external_id for m in second.mentions] == [A2, A0]
    assert [e.item_id for e in second.errors] == [A1]
    assert second.cursor["mentions"] == {"since_id": A5, "backfill": None}
    sent = fake.requests[1].query
    assert sent["since_id"] == OLD and sent["until_id"] == A3
    assert "pagination_token" not in sent  # until_id, not an expired token, carries on


def test_search_streams_dedup_and_skip_the_city_itself(
    fake: FakeX, make_adapter: Callable[..., XAdapter]
) -> None:
    fake.script("GET", MENTIONS, ok("mentions_page1.json"))
    fake.script("GET", SEARCH, ok("search_recent.json"))
    result = make_adapter(queries=[QUERY]).fetch(None)
    # A5 came from mentions first and is not repeated by search; S1 is the city's own tweet
    assert [m.external_id for m in result.mentions] == [A5, A4, S2]
    pothole = result.mentions[-1]
    assert pothole.text.endswith("the cones are gone; somebody will get hurt.")  # note_tweet
    assert pothole.extra["stream"] == "search" and pothole.extra["query"] == QUERY
    assert pothole.url == f"https://x.com/tom_b/status/{S2}"
    assert result.cursor["search"] == {QUERY: {"since_id": A5, "backfill": None}}
    (sent,) = fake.requests_to(SEARCH)
    assert sent.query["query"] == QUERY and sent.query["expansions"] == "author_id"


def test_recorded_search_without_expansions(
    fake: FakeX, make_adapter: Callable[..., XAdapter]
) -> None:
    # a response recorded by tweepy's test suite: default fields only, no includes
    fake.script("GET", SEARCH, ok("search_recent_tweepy_cassette.json"))
    result = make_adapter(user_id=None, queries=["Tweepy"]).fetch(None)
    assert len(result.mentions) == 10 and result.errors == []
    newest = result.mentions[0]
    assert newest.external_id == "1578516068309794817"
    assert newest.text == "2022-10-07 22:42:12.637103 tweepy"
    assert newest.author == "" and newest.created_at is None and newest.language is None
    assert newest.url == "https://x.com/i/web/status/1578516068309794817"
    assert result.cursor["mentions"] is None
    assert result.cursor["search"] == {
        "Tweepy": {"since_id": "1578516068309794817", "backfill": None}
    }


def test_search_since_id_older_than_seven_days_starts_afresh(
    fake: FakeX, make_adapter: Callable[..., XAdapter]
) -> None:
    # X refuses a since_id outside recent search's 7-day window with HTTP 400
    fake.script("GET", SEARCH, ok("search_recent_tweepy_cassette.json"))
    stale = {"search": {"Tweepy": {"since_id": "1578511538419212288", "backfill": None}}}
    result = make_adapter(user_id=None, queries=["Tweepy"]).fetch(stale)
    assert len(result.mentions) == 10
    (sent,) = fake.requests  # one page, as on a first run
    assert "since_id" not in sent.query and "until_id" not in sent.query
    assert result.cursor["search"]["Tweepy"]["since_id"] == "1578516068309794817"


def test_restart_repeats_nothing_and_takes_only_new(
    fake: FakeX, make_adapter: Callable[..., XAdapter]
) -> None:
    fake.script("GET", MENTIONS, ok("mentions_page1.json"), ok("mentions_new.json"))
    fake.script("GET", SEARCH, ok("search_recent.json"), ok("search_recent_new.json"))
    first = make_adapter(queries=[QUERY]).fetch(None)
    stored = json.loads(json.dumps(first.cursor))  # what the runner keeps in the database
    later = make_adapter(queries=[QUERY]).fetch(stored)  # a new process
    assert [m.external_id for m in later.mentions] == [B1, B2]  # B1 not repeated by search
    assert fake.requests_to(MENTIONS)[1].query["since_id"] == A5
    assert fake.requests_to(SEARCH)[1].query["since_id"] == A5
    assert later.cursor["mentions"] == {"since_id": B1, "backfill": None}
    assert later.cursor["search"] == {QUERY: {"since_id": B2, "backfill": None}}
    assert later.cursor["recent"][:2] == [B1, B2]
    # a query dropped from the settings drops its state; a new one starts with one page
    fake.script("GET", SEARCH, ok("search_recent_tweepy_cassette.json"))
    renamed = make_adapter(queries=["Tweepy"]).fetch(later.cursor)
    assert list(renamed.cursor["search"]) == ["Tweepy"]
    assert "since_id" not in fake.requests_to(SEARCH)[-1].query


def test_rate_limited_gives_the_reset_time(
    fake: FakeX, make_adapter: Callable[..., XAdapter]
) -> None:
    headers = {**JSON_TYPE, "x-rate-limit-reset": str(int(NOW) + 120)}
    fake.script("GET", MENTIONS, JsonReply(fixture("rate_limited.json"), 429, headers))
    with pytest.raises(AdapterError, match="rate limited") as raised:
        make_adapter().fetch({"mentions": {"since_id": A5}})
    assert raised.value.retry_after == 120.0
    assert "retry after 120s" in str(raised.value)


@pytest.mark.parametrize("status", [500, 503])
def test_server_error(fake: FakeX, make_adapter: Callable[..., XAdapter], status: int) -> None:
    fake.script("GET", MENTIONS, JsonReply(fixture("service_unavailable.json"), status))
    with pytest.raises(AdapterError, match="server error") as raised:
        make_adapter().fetch(None)
    assert raised.value.retry_after is None
    assert "city-x" in str(raised.value) and "\n" not in str(raised.value)


def test_bad_bearer_token(fake: FakeX, make_adapter: Callable[..., XAdapter]) -> None:
    fake.script("GET", MENTIONS, JsonReply(fixture("unauthorized.json"), 401))
    with pytest.raises(AdapterError, match="rejected the credentials") as raised:
        make_adapter().fetch(None)
    assert "bearer_token" in str(raised.value) and "Unauthorized" in str(raised.value)


def test_user_context_credentials(fake: FakeX, make_adapter: Callable[..., XAdapter]) -> None:
    fake.script("GET", MENTIONS, JsonReply(fixture("unauthorized.json"), 401))
    adapter = make_adapter(
        bearer_token=None,
        consumer_key="ck",
        consumer_secret="cs",
        access_token="1587046382104121344-at",
        access_token_secret="ats",
    )
    with pytest.raises(AdapterError, match="consumer_key/consumer_secret") as raised:
        adapter.fetch(None)
    assert raised.value.retry_after is None
    auth = fake.requests[0].headers["authorization"]
    assert auth.startswith("OAuth ") and 'oauth_consumer_key="ck"' in auth


def test_timeout(fake: FakeX, make_adapter: Callable[..., XAdapter]) -> None:
    fake.script("GET", MENTIONS, JsonReply(fixture("mentions_page1.json"), delay=0.5))
    with pytest.raises(AdapterError, match="timed out"):
        make_adapter(timeout=0.1).fetch(None)


def test_not_json(fake: FakeX, make_adapter: Callable[..., XAdapter]) -> None:
    html = Reply(b"<html>maintenance</html>", 200, {"Content-Type": "text/html"})
    fake.script("GET", MENTIONS, html)
    with pytest.raises(AdapterError, match="not JSON"):
        make_adapter().fetch(None)


def test_connection_refused(make_adapter: Callable[..., XAdapter]) -> None:
    with pytest.raises(AdapterError, match="cannot reach X"):
        make_adapter(base_url=refused_url()).fetch(None)


def target(tweet_id: str = A5) -> ReplyTarget:
    return ReplyTarget(
        source="x",
        external_id=tweet_id,
        author="@nina_r",
        url=f"https://x.com/nina_r/status/{tweet_id}",
        title=None,
        extra={"tweet_id": tweet_id, "username": "nina_r"},
    )


def test_reply_posts_a_tweet_in_reply(fake: FakeX, make_adapter: Callable[..., XAdapter]) -> None:
    fake.script("POST", "/2/tweets", ok("create_tweet_cassette.json", 201))
    adapter = make_adapter(
        consumer_key="ck",
        consumer_secret="cs",
        access_token="1587046382104121344-at",
        access_token_secret="ats",
    )
    result = adapter.reply(target(), "Thanks Nina, a crew is on the way to Parsons & Whittier.")
    assert result.external_id == "1456012973835788293"  # the id in the recorded answer
    assert result.url == "https://x.com/MaplewoodCity/status/1456012973835788293"
    (sent,) = fake.requests
    assert (sent.method, sent.path) == ("POST", "/2/tweets")
    assert json.loads(sent.body) == {
        "text": "Thanks Nina, a crew is on the way to Parsons & Whittier.",
        "reply": {"in_reply_to_tweet_id": A5},
    }
    assert sent.headers["authorization"].startswith("OAuth ")  # user context, not the bearer


@pytest.mark.parametrize(
    ("status", "body", "retryable"),
    [(429, "rate_limited.json", True), (503, "service_unavailable.json", True)],
)
def test_reply_errors(
    fake: FakeX,
    make_adapter: Callable[..., XAdapter],
    status: int,
    body: str,
    retryable: bool,
) -> None:
    fake.script("POST", "/2/tweets", JsonReply(fixture(body), status))
    with pytest.raises(ReplyError) as raised:
        make_adapter().reply(target(), "On it.")
    assert raised.value.retryable is retryable
    assert raised.value.ambiguous is (status == 503)  # X may have created it before failing


CITY_TWEETS = f"/2/users/{CITY}/tweets"
ANSWER = "Thanks Nina, a crew is on the way to Parsons & Whittier."
OURS = "1845817498792886272"  # the city's reply to A5 in user_tweets_city.json


def test_a_reply_whose_answer_was_lost_is_found_not_posted_again(
    fake: FakeX, make_adapter: Callable[..., XAdapter]
) -> None:
    """X answered 503 after creating the reply; the account's timeline shows it."""
    fake.script("POST", "/2/tweets", JsonReply(fixture("service_unavailable.json"), 503))
    fake.script("GET", CITY_TWEETS, ok("user_tweets_city.json"))
    adapter = make_adapter()
    with pytest.raises(ReplyError) as raised:
        adapter.reply(target(), ANSWER)
    assert raised.value.retryable and raised.value.ambiguous
    result = Replies.send(adapter, target(), ANSWER, look_first=True)  # the next attempt
    assert result.external_id == OURS
    assert result.url == f"https://x.com/MaplewoodCity/status/{OURS}"
    assert len(fake.requests_to("/2/tweets")) == 1
    (look,) = fake.requests_to(CITY_TWEETS)
    assert look.query["since_id"] == A5 and look.query["exclude"] == "retweets"
    assert "referenced_tweets" in look.query["tweet.fields"].split(",")


def test_find_reply_needs_the_same_tweet_and_text_and_knows_its_account(
    fake: FakeX, make_adapter: Callable[..., XAdapter]
) -> None:
    fake.script("GET", CITY_TWEETS, ok("user_tweets_city.json"))
    fake.script("GET", "/2/users/me", JsonReply(json.dumps({"data": {"id": CITY}}).encode()))
    adapter = make_adapter()
    assert adapter.find_reply(target(), "Thanks Nina, we will look into it.") is None
    sam = ReplyTarget("x", A2, "@sam_k", None, None, {"tweet_id": A2})
    assert adapter.find_reply(sam, ANSWER) is None  # the reply to A2 says something else
    search_only = make_adapter(
        user_id=None,
        queries=[QUERY],
        consumer_key="ck",
        consumer_secret="cs",
        access_token="at",
        access_token_secret="ats",
    )
    found = search_only.find_reply(target(), ANSWER)
    assert found is not None and found.external_id == OURS
    assert len(fake.requests_to("/2/users/me")) == 1


def test_nothing_found_is_posted(fake: FakeX, make_adapter: Callable[..., XAdapter]) -> None:
    fake.script("GET", CITY_TWEETS, ok("mentions_empty.json"))
    fake.script("POST", "/2/tweets", ok("create_tweet_cassette.json", 201))
    result = Replies.send(make_adapter(), target(), ANSWER, look_first=True)
    assert result.external_id == "1456012973835788293"
    assert [r.path for r in fake.requests] == [CITY_TWEETS, "/2/tweets"]


def test_reply_refused(fake: FakeX, make_adapter: Callable[..., XAdapter]) -> None:
    forbidden = b'{"detail": "You are not permitted to perform this action.", "status": 403}'
    fake.script("POST", "/2/tweets", JsonReply(forbidden, 403))
    with pytest.raises(ReplyError, match="not permitted") as raised:
        make_adapter(account_username=None).reply(target(), "On it.")
    assert raised.value.retryable is False


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="user_id"):
        XAdapter(name="x", bearer_token="t")
    with pytest.raises(ValueError, match="bearer_token"):
        XAdapter(name="x", user_id=CITY, consumer_key="ck")
