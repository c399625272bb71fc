"""BlueskyAdapter with the real atproto SDK against a fake XRPC server on loopback.

The fake answers login (createSession, refreshSession, getProfile) with minted JWT-shaped tokens
and serves RECORDED bsky.social payloads (tests/fixtures/bluesky, vcr cassettes from bskyr):
searchPosts with 25 posts, listNotifications with 50 notifications (mentions, quotes, likes,
follows), getPosts. Pages are cut from those recordings with an offset cursor. The city account
is the one the notifications were recorded for (bskyr.bsky.social).
"""

from __future__ import annotations

import base64
import copy
import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.core.adapter import AdapterError, PollingAdapter, Replier, ReplyError, ReplyTarget
from bot.intake.adapters.bluesky.adapter import BlueskyAdapter
from bot.intake.adapters.bluesky.parse import (
    is_valid_did,
    is_valid_handle,
    parse_at_uri,
    parse_datetime,
    to_mention,
)
from bot.outbox.replies import Replies
from tests.factories import closing_factory
from tests.loopback import (
    JsonReply,
    LoopbackServer,
    Reply,
    Request,
    Script,
    json_reply,
    refused_url,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "bluesky"
CITY_DID, CITY_HANDLE, PASSWORD = "did:plc:5c2r73erhng4bszmxlfdtscf", "bskyr.bsky.social", "app-pw"
NOTIFS, SEARCH = "app.bsky.notification.listNotifications", "app.bsky.feed.searchPosts"
CREATE = "com.atproto.repo.createRecord"


def cassette(name: str) -> list[dict[str, Any]]:
    """A vcr cassette's interactions: request method/uri, response status/headers/JSON body."""
    data = yaml.safe_load((FIXTURES / name).read_text(encoding="utf-8"))
    return [
        {
            "method": i["request"]["method"],
            "uri": i["request"]["uri"],
            "status": i["response"]["status"],
            "headers": i["response"]["headers"],
            "body": json.loads(i["response"]["body"]["string"]),
        }
        for i in data["http_interactions"]
    ]


def recorded(name: str) -> tuple[dict[str, Any], dict[str, str]]:
    (interaction,) = cassette(name)
    keep = {k: str(v) for k, v in interaction["headers"].items() if k.lower().startswith("ratel")}
    return interaction["body"], keep


NOTIFICATIONS = recorded("n_notifications.yml")[0]["notifications"]
POSTS = recorded("f_search.yml")[0]["posts"]
WANTED = [n for n in NOTIFICATIONS if n["reason"] in ("mention", "reply", "quote")]


def at(value: Any) -> datetime:
    when = parse_datetime(value)
    assert when is not None, value
    return when


def jwt(payload: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'typ': 'at+jwt', 'alg': 'ES256K'})}.{part(payload)}.c2ln"


Handler = Callable[[Request], Reply]


def xrpc_error(status: int, error: str, message: str = "", **headers: str) -> Reply:
    return json_reply({"error": error, "message": message}, status, headers)


def paged(items: list[Any], key: str, headers: dict[str, str] | None = None) -> Handler:
    """Recorded items served newest first, ``limit`` at a time, with an offset cursor."""

    def handle(req: Request) -> Reply:
        start = int(req.params.get("cursor", ["0"])[0])
        limit = int(req.params.get("limit", ["50"])[0])
        body: dict[str, Any] = {key: items[start : start + limit]}
        if start + limit < len(items):
            body["cursor"] = str(start + limit)
        return json_reply(body, headers=headers)

    return handle


class FakeBluesky(LoopbackServer):
    """An XRPC server: login endpoints built in, other methods scripted per NSID."""

    def __init__(self, *, access_ttl: int = 7200) -> None:
        self.routes: dict[str, Handler] = {}
        self.password, self.access_ttl = PASSWORD, access_ttl
        self.access: set[str] = set()
        self.refresh: set[str] = set()
        self.created = 0
        self.profile = json_reply({"did": CITY_DID, "handle": CITY_HANDLE, "displayName": "City"})
        super().__init__()

    def tokens(self) -> Reply:
        now = int(time.time())
        self.created += 1
        claims = {"sub": CITY_DID, "iat": now, "aud": "did:web:127.0.0.1", "jti": str(self.created)}
        access = jwt({**claims, "scope": "com.atproto.appPass", "exp": now + self.access_ttl})
        refresh = jwt({**claims, "scope": "com.atproto.refresh", "exp": now + 86400})
        self.access.add(access)
        self.refresh.add(refresh)
        body = {"accessJwt": access, "refreshJwt": refresh, "handle": CITY_HANDLE, "did": CITY_DID}
        return json_reply({**body, "active": True})

    def respond(self, request: Request) -> Reply:
        nsid = request.path.removeprefix("/xrpc/")
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if nsid == "com.atproto.server.createSession":
            if request.json == {"identifier": CITY_HANDLE, "password": self.password}:
                return self.tokens()
            return xrpc_error(401, "AuthenticationRequired", "Invalid identifier or password")
        if nsid == "com.atproto.server.refreshSession":
            if token in self.refresh:
                self.refresh.discard(token)
                return self.tokens()
            return xrpc_error(400, "ExpiredToken", "Token has been revoked")
        if token not in self.access:
            return xrpc_error(400, "ExpiredToken", "Token has expired")
        if nsid == "app.bsky.actor.getProfile":
            return self.profile
        if nsid in self.routes:
            return self.routes[nsid](request)
        return xrpc_error(501, "MethodNotImplemented", f"{nsid} not scripted")

    def revoke(self) -> None:
        with self.lock:
            self.access.clear()
            self.refresh.clear()

    def calls(self, nsid: str) -> list[Request]:
        return self.requests_to(f"/xrpc/{nsid}")


@pytest.fixture
def fake() -> Iterator[FakeBluesky]:
    with FakeBluesky() as server:
        yield server


@pytest.fixture
def make() -> Iterator[Callable[..., BlueskyAdapter]]:
    def build(server: FakeBluesky, **kwargs: Any) -> BlueskyAdapter:
        return BlueskyAdapter(**{"base_url": server.url, **kwargs})

    yield from closing_factory(
        build,
        name="city-bsky",
        handle=CITY_HANDLE,
        app_password=PASSWORD,
        initial_lookback=None,
        timeout=2.0,
    )


def roundtrip(cursor: dict[str, Any]) -> Any:
    return json.loads(json.dumps(cursor))


def test_notifications_first_page(fake: FakeBluesky, make: Callable[..., BlueskyAdapter]) -> None:
    body, headers = recorded("n_notifications.yml")
    fake.routes[NOTIFS] = paged(body["notifications"], "notifications", headers)
    adapter = make(fake)
    assert isinstance(adapter, PollingAdapter) and isinstance(adapter, Replier)
    result = adapter.fetch(None)
    assert result.errors == []
    assert [m.external_id for m in result.mentions] == [n["uri"] for n in WANTED]
    assert len(result.mentions) == 18  # 11 mentions and 7 quotes; likes and follows are skipped
    by_id = {m.external_id: m for m in result.mentions}
    swedish = by_id["at://did:plc:dvdagn45jd7yybrbsh3ygs5l/app.bsky.feed.post/3lffbrjglpc2u"]
    assert swedish.source == "bluesky" and swedish.author == "@magnusx71.bsky.social"
    assert swedish.text.startswith("Följarkurva på den här appen över tid")
    assert swedish.language == "sv"
    assert swedish.created_at == datetime(2025, 1, 10, 13, 18, 41, 465000, tzinfo=UTC)
    assert swedish.url == "https://bsky.app/profile/magnusx71.bsky.social/post/3lffbrjglpc2u"
    assert swedish.extra["reason"] == "mention" and swedish.extra["reply_root"] is None
    assert swedish.extra["tags"] == ["rstats", "ggplot2"]
    assert swedish.extra["links"] == ["https://posit.cloud"]
    in_thread = by_id["at://did:plc:zdd4yxyclksq2sem6jqxsfu2/app.bsky.feed.post/3liulqwmk4a2h"]
    root = {
        "uri": "at://did:plc:5c2r73erhng4bszmxlfdtscf/app.bsky.feed.post/3kexwuoyqj32g",
        "cid": "bafyreid4i763c2iyr6adhmgriiisz2p7gleztu7tn66pfrl3qhe4hgoyny",
    }
    assert in_thread.extra["reply_root"] == root == in_thread.extra["reply_parent"]
    assert in_thread.extra["author_did"] == "did:plc:zdd4yxyclksq2sem6jqxsfu2"
    assert in_thread.extra["links"] == ["https://christophertkenny.com/bskyr/"]
    quote = next(m for m in result.mentions if m.extra["reason"] == "quote")
    assert quote.extra["reason_subject"].startswith(f"at://{CITY_DID}/")
    json.dumps([dict(m.extra) for m in result.mentions])  # JSON-serialisable
    # logged in once with the app password, then one page with the token and the reasons
    (login,) = fake.calls("com.atproto.server.createSession")
    assert login.json == {"identifier": CITY_HANDLE, "password": PASSWORD}
    (page,) = fake.calls(NOTIFS)
    assert page.params["reasons"] == ["mention", "reply", "quote"]
    assert page.params["limit"] == ["50"]
    assert page.headers["authorization"].removeprefix("Bearer ") in fake.access
    assert result.cursor["notifications"]["newest"] == "2025-05-17T08:44:44.416Z"  # a like
    assert result.cursor["search"] == {}


def test_search_page(fake: FakeBluesky, make: Callable[..., BlueskyAdapter]) -> None:
    body, headers = recorded("f_search.yml")
    fake.routes[SEARCH] = paged(body["posts"], "posts", headers)
    adapter = make(fake, notifications=False, search_terms=["redistricting"], search_language="en")
    result = adapter.fetch(None)
    assert result.errors == [] and len(result.mentions) == 25
    post = result.mentions[1]
    assert (
        post.external_id == "at://did:plc:s7savtl25cqhm3ddqc7jeljx/app.bsky.feed.post/3lpk2r5h5ec2j"
    )
    assert post.author == "@cjtackett.bsky.social"
    assert post.url == "https://bsky.app/profile/cjtackett.bsky.social/post/3lpk2r5h5ec2j"
    assert post.text.startswith("I dove into the RIDICULOUS op-ed")
    assert post.text.endswith("open.substack.com/pub/christac...")  # as posted: facets hold links
    assert post.created_at == datetime(2025, 5, 19, 17, 8, 27, 677000, tzinfo=UTC)
    assert post.language == "en"
    assert post.extra["search_term"] == "redistricting" and post.extra["reason"] == "search"
    assert post.extra["cid"] == "bafyreid5xizjatchg3cdddekg6e53tdj4xcvuyrbzcf3zqq4pfzncco7iy"
    assert post.extra["links"][0].startswith("https://open.substack.com/pub/christackett/")
    assert post.extra["display_name"] == "Chris Tackett"
    assert result.mentions[0].language is None  # no langs in the record
    reply = result.mentions[2]
    assert reply.extra["reply_parent"]["uri"].startswith("at://did:plc:7nagdvjqrzaquzk7mueohne5/")
    assert result.mentions[-1].extra["tags"] == ["txlege"]
    (page,) = fake.calls(SEARCH)
    assert page.params["q"] == ["redistricting"] and page.params["sort"] == ["latest"]
    assert page.params["lang"] == ["en"] and "since" not in page.params  # first run: no lookback
    state = result.cursor["search"]["redistricting"]
    assert state["newest"] == "2025-05-19T17:10:09.561Z"  # createdAt, earlier than indexedAt
    assert list(state["seen"]) == [result.mentions[0].external_id, post.external_id]  # last 10 min
    assert "notifications" not in result.cursor


def test_empty_pages(fake: FakeBluesky, make: Callable[..., BlueskyAdapter]) -> None:
    fake.routes[NOTIFS] = paged([], "notifications")
    fake.routes[SEARCH] = paged([], "posts")
    before = datetime.now(UTC) - timedelta(seconds=1)
    result = make(fake, search_terms=["pothole"]).fetch(None)
    assert result.mentions == [] and result.errors == []
    for state in (result.cursor["notifications"], result.cursor["search"]["pothole"]):
        assert state["seen"] == {} and at(state["newest"]) >= before


def test_first_run_keeps_only_recent_posts(
    fake: FakeBluesky, make: Callable[..., BlueskyAdapter]
) -> None:
    fake.routes[NOTIFS] = paged(NOTIFICATIONS, "notifications")
    adapter = make(fake, initial_lookback=timedelta(days=1))  # the recordings are from 2025
    first = adapter.fetch(None)
    assert first.mentions == [] and first.cursor["notifications"]["newest"].startswith("2025-05-17")
    assert make(fake).fetch(roundtrip(first.cursor)).mentions == []


def test_pagination_stops_at_the_watermark(
    fake: FakeBluesky, make: Callable[..., BlueskyAdapter]
) -> None:
    fake.routes[NOTIFS] = paged(NOTIFICATIONS, "notifications")
    newest = "2025-02-23T19:42:46.644Z"  # the previous poll ended here ...
    floor = at(newest) - timedelta(minutes=10)
    seen = {n["uri"]: n["indexedAt"] for n in WANTED if n["indexedAt"] <= newest}  # ... with these
    cursor = {"notifications": {"newest": newest, "seen": seen}, "search": {}}
    result = make(fake, page_size=5).fetch(cursor)
    assert result.errors == []
    assert [m.external_id for m in result.mentions] == [
        n["uri"] for n in WANTED if n["indexedAt"] > newest
    ]
    pages = fake.calls(NOTIFS)
    assert [p.params.get("cursor") for p in pages] == [None] + [[str(i)] for i in range(5, 40, 5)]
    last_page = NOTIFICATIONS[35:40]
    assert at(last_page[-1]["indexedAt"]) < floor
    state = result.cursor["notifications"]
    assert state["newest"] == "2025-05-17T08:44:44.416Z"
    assert all(at(w) >= at(state["newest"]) - timedelta(minutes=10) for w in state["seen"].values())


def test_too_many_pages_is_reported(fake: FakeBluesky, make: Callable[..., BlueskyAdapter]) -> None:
    fake.routes[NOTIFS] = paged(NOTIFICATIONS, "notifications")
    cursor = {"notifications": {"newest": "2024-01-01T00:00:00.000Z", "seen": {}}}
    result = make(fake, page_size=5, max_pages=3).fetch(cursor)
    assert len(fake.calls(NOTIFS)) == 3
    (error,) = result.errors
    assert error.item_id == "city-bsky:notifications" and "more than 3 pages" in error.reason
    assert [m.external_id for m in result.mentions] == [
        n["uri"] for n in NOTIFICATIONS[:15] if n in WANTED
    ]


def test_restart_with_stored_cursor(fake: FakeBluesky, make: Callable[..., BlueskyAdapter]) -> None:
    # an earlier state of both streams: the newest 20 notifications and 5 posts not there yet
    fake.routes[NOTIFS] = paged(NOTIFICATIONS[20:], "notifications")
    fake.routes[SEARCH] = paged(POSTS[5:], "posts")
    first = make(fake, search_terms=["redistricting"]).fetch(None)
    assert len(first.mentions) == 16 + 20
    stored = roundtrip(first.cursor)

    fake.routes[NOTIFS] = paged(NOTIFICATIONS, "notifications")
    fake.routes[SEARCH] = paged(POSTS, "posts")
    restarted = make(fake, search_terms=["redistricting"])
    second = restarted.fetch(stored)
    new_notifications = [n["uri"] for n in NOTIFICATIONS[:20] if n in WANTED]
    assert len(new_notifications) == 2  # the josephjefe mention and the chriskenny quote
    assert [m.external_id for m in second.mentions] == new_notifications + [
        p["uri"] for p in POSTS[:5]
    ]
    assert second.errors == []
    (search_request,) = fake.calls(SEARCH)[1:]
    assert search_request.params["since"] == ["2025-05-19T13:59:34.606Z"]  # watermark - 10 min
    third = make(fake, search_terms=["redistricting"]).fetch(roundtrip(second.cursor))
    assert third.mentions == [] and third.errors == []
    # a term added later starts on its own; the others keep their cursors
    fourth = make(fake, search_terms=["redistricting", "pothole"]).fetch(roundtrip(third.cursor))
    # (the same recorded page answers every q: the 2 posts "redistricting" still remembers from
    # its overlap window are not handed over again under "pothole")
    assert len(third.cursor["search"]["redistricting"]["seen"]) == 2
    assert [m.extra["search_term"] for m in fourth.mentions] == ["pothole"] * 23


def test_post_found_by_two_streams_is_handed_over_once(
    fake: FakeBluesky, make: Callable[..., BlueskyAdapter]
) -> None:
    mention = next(n for n in NOTIFICATIONS if n["reason"] == "mention")
    as_post = {k: v for k, v in mention.items() if k not in ("reason", "isRead")}
    fake.routes[NOTIFS] = paged(NOTIFICATIONS, "notifications")
    fake.routes[SEARCH] = paged([as_post], "posts")
    result = make(fake, search_terms=["bskyr"]).fetch(None)
    assert [m.extra["reason"] for m in result.mentions].count("search") == 0
    assert len(result.mentions) == 18
    assert mention["uri"] in result.cursor["search"]["bskyr"]["seen"]


def test_malformed_items_are_item_errors(
    fake: FakeBluesky, make: Callable[..., BlueskyAdapter]
) -> None:
    posts = copy.deepcopy(POSTS[:6])
    del posts[1]["record"]["text"]
    posts[2]["uri"] = "https://not-an-at-uri"
    posts[3] = "not an object"
    posts[4]["author"] = {"handle": "no-did.bsky.social"}
    fake.routes[SEARCH] = paged(posts, "posts")
    adapter = make(fake, notifications=False, search_terms=["redistricting"])
    result = adapter.fetch(None)
    assert [m.external_id for m in result.mentions] == [POSTS[0]["uri"], POSTS[5]["uri"]]
    reasons = {e.item_id: e.reason for e in result.errors}
    assert len(reasons) == 4
    assert "no text field" in reasons[POSTS[1]["uri"]]
    assert "not an at:// URI" in reasons["https://not-an-at-uri"]
    assert "no valid DID" in reasons[POSTS[4]["uri"]]
    assert any(k.startswith("sha256:") and "not an object" in v for k, v in reasons.items())
    again = adapter.fetch(roundtrip(result.cursor))  # the same page: nothing is reported twice
    assert again.mentions == [] and again.errors == []


def test_own_posts_are_skipped(fake: FakeBluesky, make: Callable[..., BlueskyAdapter]) -> None:
    posts = copy.deepcopy(POSTS[:3])
    posts[0]["author"] = {"did": CITY_DID, "handle": CITY_HANDLE}  # as our reply would look
    fake.routes[SEARCH] = paged(posts, "posts")
    result = make(fake, notifications=False, search_terms=["redistricting"]).fetch(None)
    assert [m.external_id for m in result.mentions] == [p["uri"] for p in posts[1:]]


@pytest.mark.parametrize(
    ("headers", "low", "high"),
    [
        ({"RateLimit-Reset": "{reset}", "RateLimit-Remaining": "0"}, 55, 61),
        ({"Retry-After": "30", "RateLimit-Reset": "{reset}"}, 30, 30),
    ],
)
def test_rate_limited(
    fake: FakeBluesky,
    make: Callable[..., BlueskyAdapter],
    headers: dict[str, str],
    low: float,
    high: float,
) -> None:
    reset = str(int(time.time()) + 60)
    sent = {k: v.format(reset=reset) for k, v in headers.items()}
    limit = {"RateLimit-Limit": "3000", "RateLimit-Policy": "3000;w=300", **sent}
    fake.routes[NOTIFS] = Script(
        xrpc_error(429, "RateLimitExceeded", "Rate Limit Exceeded", **limit)
    )
    with pytest.raises(AdapterError, match="city-bsky: notifications: rate limited") as raised:
        make(fake).fetch(None)
    assert raised.value.retry_after is not None and low <= raised.value.retry_after <= high


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors(fake: FakeBluesky, make: Callable[..., BlueskyAdapter], status: int) -> None:
    fake.routes[SEARCH] = Script(xrpc_error(status, "InternalServerError", "Internal Server Error"))
    adapter = make(fake, notifications=False, search_terms=["pothole"])
    with pytest.raises(AdapterError, match=f"city-bsky: search 'pothole'.*HTTP {status}") as raised:
        adapter.fetch(None)
    assert raised.value.retry_after is None


def test_bad_app_password(fake: FakeBluesky, make: Callable[..., BlueskyAdapter]) -> None:
    fake.routes[NOTIFS] = paged(NOTIFICATIONS, "notifications")
    with pytest.raises(AdapterError, match=r"login as bskyr\.bsky\.social.*app password") as raised:
        make(fake, app_password="wrong").fetch(None)
    assert "Invalid identifier or password" in str(raised.value)
    assert fake.calls(NOTIFS) == []


def test_session_is_reused_and_refreshed(make: Callable[..., BlueskyAdapter]) -> None:
    fake = FakeBluesky(access_ttl=60)  # under the SDK's 15-minute margin: refreshed before use
    try:
        fake.routes[NOTIFS] = paged([], "notifications")
        adapter = make(fake)
        adapter.fetch(None)
        adapter.fetch(None)
        assert len(fake.calls("com.atproto.server.createSession")) == 1
        refreshes = fake.calls("com.atproto.server.refreshSession")
        assert len(refreshes) == 3  # before getProfile at login, and before each fetch
        tokens = [r.headers["authorization"] for r in fake.calls(NOTIFS)]
        assert len(set(tokens)) == 2 and fake.created == 4
    finally:
        fake.close()


def test_expired_session_logs_in_again(
    fake: FakeBluesky, make: Callable[..., BlueskyAdapter]
) -> None:
    fake.routes[NOTIFS] = paged(NOTIFICATIONS, "notifications")
    adapter = make(fake)
    cursor = adapter.fetch(None).cursor
    fake.revoke()  # the server forgets every token: the next call gets 400 ExpiredToken
    assert adapter.fetch(cursor).errors == []
    assert len(fake.calls("com.atproto.server.createSession")) == 2
    fake.revoke()
    fake.password = "revoked"  # and now the app password was revoked too
    with pytest.raises(AdapterError, match="app password"):
        adapter.fetch(cursor)


def test_failed_profile_lookup_after_login_is_not_fatal(
    fake: FakeBluesky, make: Callable[..., BlueskyAdapter]
) -> None:
    fake.profile = xrpc_error(500, "InternalServerError")  # SDK's login looks the profile up
    fake.routes[NOTIFS] = paged(NOTIFICATIONS, "notifications")
    assert len(make(fake).fetch(None).mentions) == 18


def test_timeout(fake: FakeBluesky, make: Callable[..., BlueskyAdapter]) -> None:
    fake.routes[NOTIFS] = Script(json_reply({"notifications": []}, delay=0.6))
    with pytest.raises(AdapterError, match=r"city-bsky: notifications: timed out after 0\.2s"):
        make(fake, timeout=0.2).fetch(None)


def test_connection_refused(make: Callable[..., BlueskyAdapter]) -> None:
    nowhere = refused_url()
    adapter = BlueskyAdapter(
        name="city-bsky", handle=CITY_HANDLE, app_password="x", base_url=nowhere
    )
    with pytest.raises(AdapterError, match=r"login as bskyr\.bsky\.social: cannot reach"):
        adapter.fetch(None)
    adapter.close()


def test_non_json_answer(fake: FakeBluesky, make: Callable[..., BlueskyAdapter]) -> None:
    fake.routes[NOTIFS] = Script(JsonReply(b"<html>proxy error</html>"))
    with pytest.raises(AdapterError, match="notifications: unexpected answer"):
        make(fake).fetch(None)


# -- replies ------------------------------------------------------------------------------------


def target_of(view: dict[str, Any], **extra: Any) -> ReplyTarget:
    mention = to_mention(view, reason=view.get("reason", "search"))
    return ReplyTarget(
        source=mention.source,
        external_id=mention.external_id,
        author=mention.author,
        url=mention.url,
        title=None,
        extra=roundtrip(dict(mention.extra)) | extra,
    )


CREATED = json_reply({"uri": f"at://{CITY_DID}/app.bsky.feed.post/3lreply2xyz2a", "cid": "bafyre"})


def test_reply_to_a_top_level_post(fake: FakeBluesky, make: Callable[..., BlueskyAdapter]) -> None:
    fake.routes[CREATE] = Script(CREATED)
    post = POSTS[1]
    text = "Thanks! Details: https://example.org/report <!channel>"
    result = make(fake, handle="@bskyr.bsky.social").reply(target_of(post), text)
    assert result.external_id == f"at://{CITY_DID}/app.bsky.feed.post/3lreply2xyz2a"
    assert result.url == "https://bsky.app/profile/bskyr.bsky.social/post/3lreply2xyz2a"
    (sent,) = fake.calls(CREATE)
    assert sent.method == "POST" and sent.json["repo"] == CITY_DID
    assert sent.json["collection"] == "app.bsky.feed.post"
    record = sent.json["record"]
    assert record["$type"] == "app.bsky.feed.post" and record["text"] == text
    strong = {"uri": post["uri"], "cid": post["cid"]}
    assert {k: v for k, v in record["reply"]["root"].items() if k != "$type"} == strong
    assert {k: v for k, v in record["reply"]["parent"].items() if k != "$type"} == strong
    assert record["langs"] == ["en"]
    (link,) = record["facets"]
    assert link["features"][0]["uri"] == "https://example.org/report"
    start, end = link["index"]["byteStart"], link["index"]["byteEnd"]
    assert text.encode()[start:end] == b"https://example.org/report"
    assert sent.headers["authorization"].removeprefix("Bearer ") in fake.access


def test_reply_in_thread_keeps_the_root(
    fake: FakeBluesky, make: Callable[..., BlueskyAdapter]
) -> None:
    fake.routes[CREATE] = Script(CREATED)
    view = next(n for n in WANTED if n["record"].get("reply"))
    make(fake, reply_language="de").reply(target_of(view), "Danke")
    record = fake.calls(CREATE)[0].json["record"]
    assert record["reply"]["root"]["uri"] == view["record"]["reply"]["root"]["uri"]
    assert record["reply"]["root"]["cid"] == view["record"]["reply"]["root"]["cid"]
    assert record["reply"]["parent"]["uri"] == view["uri"] != view["record"]["reply"]["root"]["uri"]
    assert record["reply"]["parent"]["cid"] == view["cid"]
    assert record["langs"] == ["de"]


def test_reply_without_a_stored_cid_looks_the_post_up(
    fake: FakeBluesky, make: Callable[..., BlueskyAdapter]
) -> None:
    body, _ = recorded("f_getposts.yml")
    fake.routes["app.bsky.feed.getPosts"] = Script(json_reply(body))
    fake.routes[CREATE] = Script(CREATED)
    uri = body["posts"][0]["uri"]
    target = ReplyTarget("bluesky", uri, "@soubhikbarari.bsky.social", None, None, {})
    make(fake).reply(target, "Hello")
    (lookup,) = fake.calls("app.bsky.feed.getPosts")
    assert lookup.params["uris"] == [uri]
    reply = fake.calls(CREATE)[0].json["record"]["reply"]
    assert reply["parent"]["cid"] == body["posts"][0]["cid"] == reply["root"]["cid"]


@pytest.mark.parametrize(
    ("answer", "retryable"),
    [
        (xrpc_error(400, "InvalidRequest", "Invalid app.bsky.feed.post record"), False),
        (xrpc_error(503, "NotEnoughResources", "try later"), True),
        (xrpc_error(429, "RateLimitExceeded", "slow down", **{"Retry-After": "5"}), True),
    ],
)
def test_reply_errors(
    fake: FakeBluesky, make: Callable[..., BlueskyAdapter], answer: Reply, retryable: bool
) -> None:
    fake.routes[CREATE] = Script(answer)
    with pytest.raises(ReplyError, match="city-bsky: reply") as raised:
        make(fake).reply(target_of(POSTS[0]), "Thanks")
    assert raised.value.retryable is retryable
    assert raised.value.ambiguous is (answer.status >= 500)  # a 5xx may have posted it


def test_reply_too_long_is_refused_before_sending(
    fake: FakeBluesky, make: Callable[..., BlueskyAdapter]
) -> None:
    with pytest.raises(ReplyError, match="reply refused") as raised:
        make(fake).reply(target_of(POSTS[0]), "x" * 3001)
    assert raised.value.retryable is False and fake.calls(CREATE) == []


def test_reply_refuses_other_sources(
    fake: FakeBluesky, make: Callable[..., BlueskyAdapter]
) -> None:
    with pytest.raises(ReplyError, match="cannot answer a mastodon mention"):
        make(fake).reply(ReplyTarget("mastodon", "1", "@a", None, None, {}), "hi")
    assert fake.requests == []


# -- a reply whose answer was lost ---------------------------------------------------------------

LIST = "com.atproto.repo.listRecords"
REPO = recorded("r_listrcd.yml")[0]  # 50 posts of an account's repository, newest first


def repository(written: list[dict[str, Any]]) -> Handler:
    """The city's repository as listRecords serves it: what createRecord wrote, then REPO."""
    return lambda req: json_reply({"records": written + REPO["records"], "cursor": REPO["cursor"]})


def test_a_reply_whose_answer_was_lost_is_found_not_posted_again(
    fake: FakeBluesky, make: Callable[..., BlueskyAdapter]
) -> None:
    written: list[dict[str, Any]] = []

    def create(req: Request) -> Reply:  # the PDS writes the post, but the answer comes too late
        uri = f"at://{CITY_DID}/app.bsky.feed.post/3lreply{len(written)}xyz2a"
        written.insert(0, {"uri": uri, "cid": "bafyreply", "value": req.json["record"]})
        return json_reply({"uri": uri, "cid": "bafyreply"}, delay=0.5)

    fake.routes[CREATE] = create
    fake.routes[LIST] = repository(written)
    adapter = make(fake, timeout=0.25)
    target, text = target_of(POSTS[1]), "Thanks! A crew is on the way: https://example.org/r/1"
    with pytest.raises(ReplyError, match="timed out") as raised:
        adapter.reply(target, text)
    assert raised.value.retryable and raised.value.ambiguous
    result = Replies.send(adapter, target, text, look_first=True)  # the outbox's next attempt
    assert result.external_id == written[0]["uri"] and len(fake.calls(CREATE)) == 1
    assert result.url == "https://bsky.app/profile/bskyr.bsky.social/post/3lreply0xyz2a"
    (lookup,) = fake.calls(LIST)
    assert lookup.params == {
        "repo": [CITY_DID],
        "collection": ["app.bsky.feed.post"],
        "limit": ["50"],
    }


def test_find_reply_needs_the_same_parent_and_the_same_text(
    fake: FakeBluesky, make: Callable[..., BlueskyAdapter]
) -> None:
    fake.routes[LIST] = repository([])
    adapter = make(fake)
    ours = REPO["records"][0]  # a recorded reply, as if the city had posted it
    parent = ours["value"]["reply"]["parent"]["uri"]
    target = ReplyTarget("bluesky", parent, "@someone", None, None, {"uri": parent})
    found = adapter.find_reply(target, ours["value"]["text"])
    assert found is not None and found.external_id == ours["uri"]
    assert adapter.find_reply(target, "Another answer") is None
    assert adapter.find_reply(target_of(POSTS[1]), ours["value"]["text"]) is None


def test_nothing_found_is_posted_and_a_refused_post_is_not_ambiguous(
    fake: FakeBluesky, make: Callable[..., BlueskyAdapter]
) -> None:
    fake.routes[LIST] = repository([])
    fake.routes[CREATE] = Script(xrpc_error(429, "RateLimitExceeded", "slow down"), CREATED)
    adapter = make(fake)
    with pytest.raises(ReplyError) as raised:
        adapter.reply(target_of(POSTS[0]), "Thanks")
    assert raised.value.retryable and not raised.value.ambiguous
    result = Replies.send(adapter, target_of(POSTS[0]), "Thanks", look_first=True)
    assert result.external_id.endswith("3lreply2xyz2a") and len(fake.calls(CREATE)) == 2


# -- identifiers and parsing -------------------------------------------------------------------


def vectors(name: str) -> list[str]:
    text = (FIXTURES / "interop_syntax" / name).read_text(encoding="utf-8")
    return [line for line in text.split("\n") if line and not line.startswith("#")]


def test_interop_syntax_vectors() -> None:
    def uri_ok(value: str) -> bool:
        try:
            parse_at_uri(value)
        except ValueError:
            return False
        return True

    for check, kind in ((is_valid_handle, "handle"), (is_valid_did, "did"), (uri_ok, "aturi")):
        valid, invalid = vectors(f"{kind}_syntax_valid.txt"), vectors(f"{kind}_syntax_invalid.txt")
        assert valid and invalid
        assert [v for v in valid if not check(v)] == []
        assert [v for v in invalid if check(v)] == []


def test_parse_at_uri_parts() -> None:
    at = parse_at_uri("at://did:plc:asdf123/com.atproto.feed.post/record")
    assert (at.authority, at.collection, at.rkey) == (
        "did:plc:asdf123",
        "com.atproto.feed.post",
        "record",
    )
    assert parse_at_uri("at://user.bsky.social").collection is None


def test_unverified_handle_falls_back_to_the_did() -> None:
    view = copy.deepcopy(POSTS[0])
    view["author"]["handle"] = "handle.invalid"
    view["record"]["text"] = "<!channel> pothole on Main St"
    mention = to_mention(view, reason="search")
    did = view["author"]["did"]
    assert mention.author == did and mention.extra["handle"] is None
    assert mention.url == f"https://bsky.app/profile/{did}/post/3lpk2u6qo222m"
    assert mention.text == "<!channel> pothole on Main St"


def test_image_only_post_uses_alt_text() -> None:
    view = copy.deepcopy(next(n for n in NOTIFICATIONS if n["reason"] == "mention"))
    view["record"]["text"] = " "
    mention = to_mention(view, reason="mention")
    assert mention.text.startswith("[image: library(bskyr)")
    del view["record"]["embed"]
    with pytest.raises(ValueError, match="no text"):
        to_mention(view, reason="mention")


def test_parse_datetime_variants() -> None:
    assert parse_datetime("2025-02-24T04:27:20.710330Z") == datetime(
        2025, 2, 24, 4, 27, 20, 710330, tzinfo=UTC
    )
    assert parse_datetime("2025-03-20T17:15:03-03:00") == datetime(
        2025, 3, 20, 20, 15, 3, tzinfo=UTC
    )
    assert parse_datetime("2025-05-19T17:10:09") == datetime(2025, 5, 19, 17, 10, 9, tzinfo=UTC)
    assert parse_datetime("yesterday") is None and parse_datetime(None) is None
