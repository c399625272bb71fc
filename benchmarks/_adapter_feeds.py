"""The loopback fakes of ``bench_adapters.py``: one ``Source`` per adapter, fed new items shaped
after the recorded payloads of that adapter's tests, and the fake Slack the cards reach.

Each source keeps its latest items (``cap`` of them, newest first, in ``latest``) and serves
them from its fake; a subclass only says how its platform spells an item (``item``), how its
fake serves the list (``serve``) and its line in the config (``settings``).
"""

from __future__ import annotations

import copy
import html
import itertools
import json
import re
import time
from collections import defaultdict
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any, Protocol

from bot.sandbox.fake_slack import FakeSlack
from bot.sandbox.wire import JSON
from tests.imap_server import HOST, PymapServer
from tests.intake.adapters import test_bluesky as bsky
from tests.intake.adapters import test_facebook as fb
from tests.intake.adapters import test_mastodon as masto
from tests.intake.adapters import test_open311 as o311
from tests.intake.adapters import test_reddit as rdt
from tests.intake.adapters import test_rss as rss
from tests.intake.adapters import test_x as xfake
from tests.loopback import JsonReply

CAP = 50  # items each fake serves: the latest ones
# Fewer than the server's page limit (50): a full answer would read as cut off, and the adapter
# would split its window down to single seconds every poll.
OPEN311_CAP = 40
KEPT = ("ts", "type", "bot_id", "thread_ts", "text")  # what an old message keeps (see ``trim``)
SLACK_KEEP = 100  # API calls the fake Slack remembers, and messages per channel it keeps whole
PROBE = re.compile(r"streamprobe (\d+)")
MAIL_USER, MAIL_PASSWORD = "engage@city.example", "imap-secret"
PHRASES = (
    "Pothole on {street} is getting deeper",
    "The playground at {street} park has a broken swing",
    "Street light out on {street} since last week",
    "Loud music from a bar on {street} every night",
)
STREETS = ("Elm St", "Oak Ave", "Jaeger St", "Parsons Ave", "5th Ave")
_numbers = itertools.count(1)


def citizen_text(n: int) -> str:
    """Texts that route to each department and to triage in turn."""
    return PHRASES[n % 4].format(street=STREETS[n // 4 % 5]) + f" (report {n})"


def now_utc() -> datetime:
    return datetime.now(UTC)


def zulu_ms() -> str:
    """Now as ISO 8601 in milliseconds with a ``Z``, as Bluesky and X write it."""
    return now_utc().isoformat(timespec="milliseconds").replace("+00:00", "Z")


def base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = digits[r] + out
    return out or "0"


class BenchSlack(FakeSlack):
    """The fake Slack, remembering only its latest messages and calls, noting probe cards."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived: dict[int, float] = {}  # probe number -> perf_counter when posted
        self.posted: dict[str, int] = defaultdict(int)  # channel -> cards posted

    def _post_message(self, args: JSON) -> JSON:
        result = super()._post_message(args)
        self.posted[str(args.get("channel"))] += 1
        if found := PROBE.search(str(args.get("text") or "")):
            self.arrived.setdefault(int(found[1]), time.perf_counter())
        return result

    def trim(self) -> None:
        """Forget old calls, and all but the ids of old messages: a card's update must still
        find its message (as in Slack), which costs a small dict a message (~7,000 in 180 s)."""
        with self._lock:
            del self._calls[:-SLACK_KEEP]
            for messages in self._messages.values():
                for message in messages[:-SLACK_KEEP]:
                    for key in [k for k in message if k not in KEPT]:
                        del message[key]


class Fake(Protocol):
    """A loopback fake of the tests: it records the requests it answers."""

    @property
    def lock(self) -> AbstractContextManager[Any]: ...

    @property
    def requests(self) -> list[Any]: ...

    def close(self) -> None: ...


class Source:
    """One adapter's fake servers, fed new items; ``entry`` is its line in the config."""

    kind = ""
    name = ""
    env: dict[str, str] = {}  # noqa: RUF012 - read-only per class
    cap = CAP
    template: dict[str, Any] = {}  # noqa: RUF012 - a recorded item, copied by ``fill``

    def __init__(self, *fakes: Fake) -> None:
        self.fakes = fakes
        self.latest: list[Any] = []  # newest first

    def entry(self) -> str:
        return f"{{type: {self.kind}, name: {self.name}, {self.settings()}}}"

    def settings(self) -> str:
        raise NotImplementedError

    def item(self, n: int) -> Any:
        """New item number ``n``, as the platform sends it."""
        raise NotImplementedError

    def serve(self) -> None:
        """Have the fake serve ``latest``."""
        raise NotImplementedError

    def drop(self, old: list[Any]) -> None:
        """Items no longer among the latest (newest first)."""

    def fill(self, **fields: Any) -> dict[str, Any]:
        item = copy.deepcopy(self.template)
        item.update(fields)
        return item

    def publish(self, count: int) -> None:
        new = [self.item(next(_numbers)) for _ in range(count)]
        self.latest = new[::-1] + self.latest
        if old := self.latest[self.cap :]:
            del self.latest[self.cap :]
            self.drop(old)
        self.serve()

    def trim(self) -> None:
        """Forget the requests the fakes recorded (the tests assert on them; we do not)."""
        for fake in self.fakes:
            with fake.lock:
                fake.requests.clear()

    def close(self) -> None:
        for fake in self.fakes:
            fake.close()


class RssSource(Source):
    kind, name = "rss", "bench-rss"

    def __init__(self) -> None:
        self.server = rss.FeedServer()
        super().__init__(self.server)
        recorded = rss.feed("city_news.xml").decode()
        self.head = recorded[: recorded.index("<item>")]
        self.version = 0
        self.url = self.server.script("/news.xml", self.reply())

    def reply(self) -> rss.Reply:
        body = (self.head + "".join(self.latest) + "</channel>\n</rss>\n").encode()
        return rss.Reply(body, 200, rss.RSS, etag=f'"v{self.version}"' if self.version else None)

    def settings(self) -> str:
        return f"url: '{self.url}'"

    def item(self, n: int) -> str:
        words = html.escape(citizen_text(n))
        body = html.escape(f"<p>{words}. Reported on the 311 app.</p>")
        return (
            f"<item><title>{words}</title><description>{body}</description>"
            f"<link>https://content.govdelivery.example/accounts/CITY/bulletins/b{n}</link>"
            f'<guid isPermaLink="false">CITY-BENCH-{n}</guid>'
            f"<pubDate>{format_datetime(now_utc())}</pubDate>"
            "<dc:creator>Near East Area Commission</dc:creator></item>\n"
        )

    def serve(self) -> None:
        self.version += 1
        self.server.script("/news.xml", self.reply())


class Open311Source(Source):
    kind, name = "open311", "bench-311"
    cap = OPEN311_CAP
    template = o311.VEHICLES[0]

    def __init__(self) -> None:
        self.server = o311.Open311Server()
        super().__init__(self.server)

    def settings(self) -> str:
        return f"base_url: '{self.server.base_url}'"

    def item(self, n: int) -> dict[str, Any]:
        stamp = now_utc().isoformat(timespec="seconds")
        return self.fill(
            service_request_id=str(300_000_000_000 + n),
            description=citizen_text(n),
            requested_datetime=stamp,
            updated_datetime=stamp,
            status="open",
        )

    def serve(self) -> None:
        with self.server.lock:
            self.server.records = self.latest[::-1]


class BlueskySource(Source):
    kind, name = "bluesky", "bench-bsky"
    env = {"BLUESKY_APP_PASSWORD": bsky.PASSWORD}  # noqa: RUF012
    template = bsky.WANTED[0]

    def __init__(self) -> None:
        self.server = bsky.FakeBluesky()
        super().__init__(self.server)
        self.serve()

    def settings(self) -> str:
        return f"handle: {bsky.CITY_HANDLE}, base_url: '{self.server.url}'"

    def item(self, n: int) -> dict[str, Any]:
        stamp = zulu_ms()
        did = self.template["author"]["did"]
        item = self.fill(
            uri=f"at://{did}/app.bsky.feed.post/3bench{n:09d}",
            cid=f"bafyreibench{n:040d}",
            indexedAt=stamp,
            isRead=False,
        )
        record = item["record"]
        for key in ("embed", "facets", "reply"):
            record.pop(key, None)
        record.update(createdAt=stamp, text=f"@{bsky.CITY_HANDLE} {citizen_text(n)}")
        return item

    def serve(self) -> None:
        self.server.routes[bsky.NOTIFS] = bsky.paged(self.latest, "notifications")


class MastodonSource(Source):
    """Polled notifications on the REST fake; probes pushed on the streaming one."""

    kind, name = "mastodon", "bench-masto"
    env = {"MASTODON_ACCESS_TOKEN": masto.TOKEN}  # noqa: RUF012

    def __init__(self) -> None:
        self.rest, self.streaming = masto.FakeMastodon(), masto.FakeMastodon()
        super().__init__(self.rest, self.streaming)
        self.rest.instance_v1["urls"] = {
            "streaming_api": self.streaming.url.replace("http://", "ws://")
        }
        self.seq = itertools.count()

    def settings(self) -> str:
        return f"base_url: '{self.rest.url}', stream: true"

    def status(self, words: str) -> dict[str, Any]:
        when = now_utc()
        return masto.make_status(masto.snowflake(when, next(self.seq) % 65536), words, at=when)

    def item(self, n: int) -> dict[str, Any]:
        return masto.make_notification(n, self.status(f"@city {citizen_text(n)}"))

    def serve(self) -> None:
        self.rest.notifications = self.latest[::-1]

    def probe(self, number: int) -> None:
        """Push one streamed mention; AssertionError when the stream is not connected."""
        status = self.status(f"@city streamprobe {number:06d} at the corner of Elm St")
        notification = masto.make_notification(900_000_000 + number, status)
        self.streaming.push("/api/v1/streaming/user", "notification", notification)


class RedditSource(Source):
    kind, name = "reddit", "bench-reddit"
    env = {"REDDIT_CLIENT_ID": "bench-client", "REDDIT_CLIENT_SECRET": "bench-secret"}  # noqa: RUF012
    path = "/r/columbus/new"
    template = rdt.children("submissions_stream.json")[0]

    def __init__(self) -> None:
        self.server = rdt.FakeReddit()
        super().__init__(self.server)
        self.serve()

    def settings(self) -> str:
        url = self.server.url
        return f"subreddits: [r/Columbus], comments: false, oauth_url: '{url}', reddit_url: '{url}'"

    def item(self, n: int) -> dict[str, Any]:
        thing = self.fill()
        tid = base36(60_000_000 + n)
        thing["data"].update(
            id=tid,
            name=f"t3_{tid}",
            title=citizen_text(n),
            selftext="",
            subreddit="Columbus",
            subreddit_name_prefixed="r/Columbus",
            permalink=f"/r/Columbus/comments/{tid}/bench/",
            created_utc=time.time(),
            created=time.time(),
        )
        return thing

    def serve(self) -> None:
        self.server.timelines[self.path] = self.latest


class XSource(Source):
    """The mentions timeline; the fake does not filter on since_id (the adapter's ``recent``
    list and storage deduplicate what it serves again)."""

    kind, name = "x", "bench-x"
    env = {"X_BEARER_TOKEN": "bench-bearer"}  # noqa: RUF012
    page = json.loads(xfake.fixture("mentions_page1.json"))
    template, users = page["data"][0], page["includes"]["users"]

    def __init__(self) -> None:
        self.server = xfake.FakeX()
        super().__init__(self.server)
        self.seq = itertools.count()
        self.serve()

    def settings(self) -> str:
        return (
            f"user_id: '{xfake.CITY}', account_username: MaplewoodCity, "
            f"base_url: '{self.server.url}'"
        )

    def item(self, n: int) -> dict[str, Any]:
        ms = int(time.time() * 1000) - 1_288_834_974_657  # X's snowflake epoch
        tid = str((ms << 22) + next(self.seq) % 4096)
        return self.fill(
            id=tid,
            edit_history_tweet_ids=[tid],
            conversation_id=tid,
            text=f"@MaplewoodCity {html.escape(citizen_text(n), quote=False)}",
            created_at=zulu_ms(),
        )

    def serve(self) -> None:
        body: dict[str, Any] = {"meta": {"result_count": 0}}
        if tweets := self.latest:
            meta = {"result_count": len(tweets), "newest_id": tweets[0]["id"]}
            meta["oldest_id"] = tweets[-1]["id"]
            body = {"data": tweets, "includes": {"users": self.users}, "meta": meta}
        self.server.script("GET", xfake.MENTIONS, JsonReply(json.dumps(body).encode()))


class FacebookSource(Source):
    """Visitors' posts on the Page's feed; the Page has no posts of its own to comment on."""

    kind, name = "facebook", "bench-fb"
    env = {"FACEBOOK_PAGE_ACCESS_TOKEN": fb.TOKEN}  # noqa: RUF012
    template = json.loads(fb.fixture("feed_new.json"))["data"][1]

    def __init__(self) -> None:
        self.server = fb.FakeGraph()
        super().__init__(self.server)
        self.server.script("GET", fb.POSTS, JsonReply(b'{"data": []}'))
        self.serve()

    def settings(self) -> str:
        return f"page_id: '{fb.PAGE}', base_url: '{self.server.url}{fb.V}'"

    def item(self, n: int) -> dict[str, Any]:
        number = 122_200_000_000_000 + n
        return self.fill(
            id=f"{fb.PAGE}_{number}",
            message=citizen_text(n),
            created_time=now_utc().strftime("%Y-%m-%dT%H:%M:%S+0000"),
            permalink_url=f"https://www.facebook.com/{fb.PAGE}/posts/{number}",
        )

    def serve(self) -> None:
        body = json.dumps({"data": self.latest}).encode()
        self.server.script("GET", fb.FEED, JsonReply(body))


class EmailSource(Source):
    """A pymap IMAP server (its own process); mail is delivered with APPEND (``latest`` holds
    the UIDs) and the oldest beyond ``CAP`` are expunged."""

    kind, name = "email", "bench-mail"
    env = {"EMAIL_IMAP_PASSWORD": MAIL_PASSWORD}  # noqa: RUF012

    def __init__(self) -> None:
        super().__init__()  # no request log to trim
        self.server = PymapServer(MAIL_USER, MAIL_PASSWORD)
        self.imap = self.server.client()
        self.imap.select("INBOX")

    def settings(self) -> str:
        return f"host: '{HOST}', port: {self.server.port}, security: none, username: '{MAIL_USER}'"

    def item(self, n: int) -> int:
        words = citizen_text(n)
        mail = EmailMessage()  # the headers of tests/fixtures/email/street_light.eml
        mail["From"] = '"Ana Lima" <ana.lima@mail.example.net>'
        mail["To"] = MAIL_USER
        mail["Subject"] = words.split(" (report")[0]
        mail["Date"] = format_datetime(now_utc())
        mail["Message-ID"] = make_msgid(f"bench{n}", "mail.example.net")
        mail.set_content(f"{words}.\n\nSent from my iPhone\n")
        typ, data = self.imap.append("INBOX", None, None, mail.as_bytes())
        assert typ == "OK", data
        return int(data[0].split(b"APPENDUID ")[1].split()[1].rstrip(b"]"))

    def drop(self, old: list[Any]) -> None:
        self.imap.uid("STORE", f"{old[-1]}:{old[0]}", "+FLAGS", "(\\Deleted)")
        self.imap.expunge()

    def serve(self) -> None:
        """Nothing to do: ``item`` delivered the mail to the mailbox."""

    def close(self) -> None:
        try:
            self.imap.logout()
        finally:
            self.server.stop()


SOURCES: tuple[Callable[[], Source], ...] = (
    RssSource,
    Open311Source,
    BlueskySource,
    MastodonSource,
    RedditSource,
    XSource,
    FacebookSource,
    EmailSource,
)
