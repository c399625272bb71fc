"""RssAdapter over a real loopback connection, serving recorded feeds from tests/fixtures/feeds."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from bot.core.adapter import AdapterError, IncomingMention, PollingAdapter
from bot.intake.adapters.rss.adapter import RssAdapter, feed_entries_from_bytes
from tests import loopback
from tests.factories import closing_factory

FEEDS = Path(__file__).resolve().parents[2] / "fixtures" / "feeds"
RSS = {"Content-Type": "application/rss+xml"}
LAST_MODIFIED = "Tue, 15 Oct 2024 11:05:00 GMT"


def feed(name: str) -> bytes:
    return (FEEDS / name).read_bytes()


@dataclass
class Reply(loopback.Reply):
    etag: str | None = None  # sent as ETag; a request with If-None-Match == etag gets 304


class FeedServer(loopback.LoopbackServer):
    """Serves scripted replies per path; the last reply of a script repeats."""

    def __init__(self) -> None:
        self.scripts: dict[str, loopback.Script[Reply]] = {}
        super().__init__()

    def respond(self, request: loopback.Request) -> loopback.Reply:
        script = self.scripts.get(request.target)
        reply = script.next() if script is not None else Reply(b"no such feed", 404)
        if not reply.etag:
            return reply
        headers = {**reply.headers, "ETag": reply.etag}
        if request.headers.get("if-none-match") == reply.etag:
            return loopback.Reply(b"", 304, headers, reply.delay)
        return loopback.Reply(reply.body, reply.status, headers, reply.delay)

    def script(self, path: str, *replies: Reply) -> str:
        with self.lock:
            self.scripts[path] = loopback.Script(*replies)
        return f"{self.url}{path}"

    def headers_of(self, index: int) -> dict[str, str]:
        return self.requests[index].headers


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as srv:
        yield srv


@pytest.fixture
def make_adapter() -> Iterator[Callable[..., RssAdapter]]:
    def build(url: str, **kwargs: Any) -> RssAdapter:
        return RssAdapter(url=url, **kwargs)

    yield from closing_factory(build, name="city-news")


def by_id(mentions: list[IncomingMention]) -> dict[str, IncomingMention]:
    return {m.external_id: m for m in mentions}


def test_rss20_feed_from_corpus(
    server: FeedServer, make_adapter: Callable[..., RssAdapter]
) -> None:
    adapter = make_adapter(
        server.script("/delicious", Reply(feed("rss2.0withAtomNS.xml"), 200, RSS))
    )
    assert isinstance(adapter, PollingAdapter)
    result = adapter.fetch(None)
    (mention,) = result.mentions
    assert mention.source == "rss"
    assert (
        mention.external_id == "http://delicious.com/url/174603f9d836a1aafac49e28ace1c19e#wearehugh"
    )
    assert mention.text == "rsync and vfat | Geek at Play"
    assert mention.url == "http://www.kylev.com/2005/03/29/rsync-and-vfat/"
    assert mention.author == "wearehugh"  # dc:creator in CDATA
    assert mention.created_at == datetime(2009, 12, 25, 3, 30, 22, tzinfo=UTC)
    assert mention.extra == {"feed": "city-news", "feed_title": "Delicious/wearehugh"}
    assert result.errors == []
    assert result.cursor == {"etag": None, "modified": None, "seen": [mention.external_id]}
    sent = server.headers_of(0)
    assert sent["user-agent"] == "Engage/0.1 (+civic mention router)"
    assert "application/rss+xml" in sent["accept"]


def test_atom_feed_with_escaped_html(
    server: FeedServer, make_adapter: Callable[..., RssAdapter]
) -> None:
    url = server.script(
        "/atom",
        Reply(feed("atomthreadingwithentry.xml"), 200, {"Content-Type": "application/atom+xml"}),
    )
    (mention,) = make_adapter(url).fetch(None).mentions
    assert (
        mention.external_id
        == "tag:blogger.com,1999:blog-893591374313312737.post-4788628857625737701"
    )
    assert (
        mention.text == "bloffo bliff by te..."
    )  # the <a> is stripped; the title repeats the text
    assert mention.title == "bloffo bliff by te..."
    assert mention.author == "John"  # author_detail name, not "John (noreply@blogger.com)"
    assert mention.created_at == datetime(2009, 12, 9, 0, 59, 2, tzinfo=UTC)  # -08:00 -> UTC
    assert mention.url is not None and mention.url.endswith("#c4788628857625737701")
    assert mention.extra["feed_title"] == "Comments on salmon-test: Test post"


def test_charset_from_http_header(
    server: FeedServer, make_adapter: Callable[..., RssAdapter]
) -> None:
    body = feed("http_text_xml_charset_2.xml")
    url = server.script(
        "/cp1252", Reply(body, 200, {"Content-Type": "text/xml; charset=windows-1252"})
    )
    (mention,) = make_adapter(url).fetch(None).mentions
    assert mention.text == "Foo\nThis is a \xa3\u201ctest.\u201d"
    assert mention.external_id == mention.url == "http://purl.org/rss/2.0/?item"


def test_windows_1252_declared_in_xml(
    server: FeedServer, make_adapter: Callable[..., RssAdapter]
) -> None:
    url = server.script("/pride", Reply(feed("city_news_cp1252.xml"), 200, RSS))
    (mention,) = make_adapter(url).fetch(None).mentions
    assert mention.title == "\u201cClean-up day\u201d at Schiller Park \u2013 volunteers wanted"
    assert mention.text.endswith(
        "Se\u00f1ora D\u00edaz says: the caf\u00e9 on Jaeger St will bring coffee & donuts"
        " \u2026 \u00a35 donation welcome."
    )
    assert mention.created_at == datetime(2024, 10, 12, 12, 0, tzinfo=UTC)  # EDT


def test_entry_without_id_or_link_gets_a_stable_hash(
    server: FeedServer, make_adapter: Callable[..., RssAdapter]
) -> None:
    url = server.script("/moron", Reply(feed("demoronize-1.xml"), 200, RSS))
    first = make_adapter(url).fetch(None)
    (mention,) = first.mentions
    assert (
        mention.text == "don\u2019t"
    )  # a windows-1252 code point in UTF-8, repaired by feedparser
    assert mention.external_id.startswith("sha256:")
    assert mention.url is None and mention.title is None
    assert make_adapter(url).fetch(None).mentions[0].external_id == mention.external_id
    assert make_adapter(url).fetch(first.cursor).mentions == []


def test_city_feed_text_is_plain_and_slack_syntax_survives(
    server: FeedServer, make_adapter: Callable[..., RssAdapter]
) -> None:
    url = server.script("/city", Reply(feed("city_news.xml"), 200, RSS))
    result = make_adapter(url).fetch(None)
    mentions = by_id(result.mentions)
    assert list(mentions) == [
        "https://content.govdelivery.example/accounts/CITY/bulletins/3b1c2d1",
        "CITY-2024-1002",
        "https://content.govdelivery.example/accounts/CITY/bulletins/3b1c2d3",  # no guid: link
        "CITY-2024-1004",
    ]
    pothole, light, trash, park = mentions.values()
    assert pothole.text == (
        "Pothole on Cleveland Ave & E. 5th Ave still not fixed\n"
        "Reported via the 311 app on Monday \u2013 the pothole in front of Caf\u00e9 Roma"
        " is now > 30 cm wide. Photo: 1001.jpg"  # &nbsp; and <br/> collapse to one space
    )
    assert pothole.author == "Near East Area Commission"
    assert pothole.created_at == datetime(2024, 10, 14, 13, 15, tzinfo=UTC)
    assert pothole.language == "en-us"
    assert light.title == "Streetlight out on Parsons Ave <!channel>"
    assert "@CityHall <!channel> the streetlight at Parsons & Whittier" in light.text
    assert light.author == "NEI - Neighborhood Concerns - Recent Updates"  # feed title
    assert "Mattresses Furniture Questions? Write <!here> or call 311." in trash.text
    assert "teaser" not in trash.text  # content:encoded wins over description
    assert trash.created_at is None
    assert park.url is None  # javascript: link dropped
    assert [(e.item_id, e.reason) for e in result.errors] == [
        ("CITY-2024-1005", "city-news: entry has no title and no text")
    ]


def test_conditional_get_answers_304(
    server: FeedServer, make_adapter: Callable[..., RssAdapter]
) -> None:
    headers = {**RSS, "Last-Modified": LAST_MODIFIED}
    url = server.script("/city", Reply(feed("city_news.xml"), 200, headers, etag='"v1"'))
    adapter = make_adapter(url)
    first = adapter.fetch(None)
    assert len(first.mentions) == 4
    assert first.cursor["etag"] == '"v1"' and first.cursor["modified"] == LAST_MODIFIED
    second = adapter.fetch(first.cursor)
    assert second.mentions == [] and second.errors == []
    assert second.cursor == first.cursor
    sent = server.headers_of(1)
    assert sent["if-none-match"] == '"v1"'
    assert sent["if-modified-since"] == LAST_MODIFIED


def test_restart_repeats_nothing_and_misses_nothing(
    server: FeedServer, make_adapter: Callable[..., RssAdapter]
) -> None:
    url = server.script(
        "/city",
        Reply(feed("city_news.xml"), 200, RSS),
        Reply(feed("city_news.xml"), 200, RSS),
        Reply(feed("city_news_updated.xml"), 200, RSS),
    )
    first = make_adapter(url).fetch(None)
    stored = json.loads(json.dumps(first.cursor))  # what the runner keeps in the database
    again = make_adapter(url).fetch(stored)
    assert again.mentions == [] and again.errors == []  # the malformed entry is reported once
    later = make_adapter(url).fetch(again.cursor)
    assert [m.external_id for m in later.mentions] == ["CITY-2024-1006"]
    assert later.mentions[0].text == (
        "Flooded underpass on Hudson St\n"
        "Water is knee-deep under the rail bridge \u2014 cars are turning around."
    )
    assert later.cursor["seen"][0] == "CITY-2024-1006"
    assert "CITY-2024-1004" in later.cursor["seen"]  # dropped out of the feed, still remembered


def test_seen_is_bounded_but_keeps_the_whole_current_feed(
    server: FeedServer, make_adapter: Callable[..., RssAdapter]
) -> None:
    url = server.script(
        "/city",
        Reply(feed("city_news.xml"), 200, RSS),
        Reply(feed("city_news_updated.xml"), 200, RSS),
    )
    adapter = make_adapter(url, max_seen=3)
    first = adapter.fetch(None)
    assert len(first.cursor["seen"]) == 5  # all ids in the feed, although above max_seen
    second = adapter.fetch(first.cursor)
    assert [m.external_id for m in second.mentions] == ["CITY-2024-1006"]
    assert len(second.cursor["seen"]) == 5 and "CITY-2024-1004" not in second.cursor["seen"]


def test_truncated_feed_keeps_recovered_entries_and_refetches(
    server: FeedServer, make_adapter: Callable[..., RssAdapter]
) -> None:
    url = server.script(
        "/city",
        Reply(feed("city_news_truncated.xml"), 200, RSS, etag='"cut"'),
        Reply(feed("city_news.xml"), 200, RSS, etag='"full"'),
    )
    adapter = make_adapter(url)
    first = adapter.fetch(None)
    # the third entry was cut off mid-way: held back rather than sent half (and under a hash id)
    assert [m.external_id for m in first.mentions] == [
        "https://content.govdelivery.example/accounts/CITY/bulletins/3b1c2d1",
        "CITY-2024-1002",
    ]
    assert first.cursor["etag"] is None  # never a 304 for the broken copy
    second = adapter.fetch(first.cursor)
    assert "if-none-match" not in server.headers_of(1)
    assert [m.external_id for m in second.mentions] == [
        "https://content.govdelivery.example/accounts/CITY/bulletins/3b1c2d3",
        "CITY-2024-1004",
    ]
    assert [e.item_id for e in second.errors] == ["CITY-2024-1005"]
    assert second.cursor["etag"] == '"full"'


def test_truncated_corpus_feed_does_not_crash(
    server: FeedServer, make_adapter: Callable[..., RssAdapter]
) -> None:
    url = server.script("/cdata", Reply(feed("rss_incomplete_cdata.xml"), 200, RSS))
    result = make_adapter(url).fetch(None)
    assert result.mentions == [] and result.errors == []


def test_empty_feed_has_no_mentions(
    server: FeedServer, make_adapter: Callable[..., RssAdapter]
) -> None:
    url = server.script("/empty", Reply(feed("channel_title.xml"), 200, RSS))
    result = make_adapter(url).fetch(None)
    assert result.mentions == [] and result.errors == []
    assert result.cursor == {"etag": None, "modified": None, "seen": []}


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (feed("rss_empty_document.xml"), "no element found"),
        (b"<html><body><h1>Site maintenance</h1></body></html>", "no RSS or Atom root element"),
        (b"<html><body><h1>Site maintenance</h1></body></html>", "not an XML media type"),
        (b"", "empty body"),
    ],
)
def test_not_a_feed(
    server: FeedServer, make_adapter: Callable[..., RssAdapter], body: bytes, detail: str
) -> None:
    content_type = "text/html" if "media type" in detail else "application/xml"
    url = server.script("/bad", Reply(body, 200, {"Content-Type": content_type}))
    with pytest.raises(AdapterError, match="not a feed") as raised:
        make_adapter(url).fetch(None)
    assert detail in str(raised.value)


@pytest.mark.parametrize(
    ("status", "retry_after", "expected"),
    [(429, "120", 120.0), (503, "30", 30.0), (429, None, None), (503, "soon", None)],
)
def test_rate_limited(
    server: FeedServer,
    make_adapter: Callable[..., RssAdapter],
    status: int,
    retry_after: str | None,
    expected: float | None,
) -> None:
    headers = {"Retry-After": retry_after} if retry_after else {}
    url = server.script("/busy", Reply(b"slow down", status, headers))
    with pytest.raises(AdapterError, match=f"HTTP {status}") as raised:
        make_adapter(url).fetch(None)
    assert raised.value.retry_after == expected


def test_retry_after_as_http_date(
    server: FeedServer, make_adapter: Callable[..., RssAdapter]
) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=90), usegmt=True)
    url = server.script("/busy", Reply(b"", 429, {"Retry-After": when}))
    with pytest.raises(AdapterError) as raised:
        make_adapter(url).fetch(None)
    assert raised.value.retry_after is not None and 80 < raised.value.retry_after <= 90


@pytest.mark.parametrize("status", [500, 502, 404, 410, 401, 403])
def test_http_errors(
    server: FeedServer, make_adapter: Callable[..., RssAdapter], status: int
) -> None:
    url = server.script("/broken", Reply(b"<html>oops</html>", status))
    with pytest.raises(AdapterError, match=f"HTTP {status}") as raised:
        make_adapter(url).fetch({"etag": None, "modified": None, "seen": ["x"]})
    assert raised.value.retry_after is None
    assert "city-news" in str(raised.value) and url in str(raised.value)


def test_redirect_is_followed(server: FeedServer, make_adapter: Callable[..., RssAdapter]) -> None:
    server.script("/new", Reply(feed("rss2.0withAtomNS.xml"), 200, RSS))
    url = server.script("/old", Reply(b"", 301, {"Location": "/new"}))
    assert len(make_adapter(url).fetch(None).mentions) == 1


def test_timeout(server: FeedServer, make_adapter: Callable[..., RssAdapter]) -> None:
    url = server.script("/slow", Reply(feed("city_news.xml"), 200, RSS, delay=0.5))
    with pytest.raises(AdapterError, match="timed out"):
        make_adapter(url, timeout=0.1).fetch(None)


def test_connection_refused(make_adapter: Callable[..., RssAdapter]) -> None:
    with pytest.raises(AdapterError, match="cannot fetch"):
        make_adapter(loopback.refused_url("/feed.rss")).fetch(None)


def test_feed_entries_from_bytes() -> None:
    mentions, errors, info = feed_entries_from_bytes(feed("city_news_truncated.xml"), name="t")
    assert len(mentions) == 2 and errors == []
    assert info["well_formed"] is False and "unclosed CDATA" in info["bozo"]


def test_body_naming_a_local_file_is_not_read(
    server: FeedServer, make_adapter: Callable[..., RssAdapter]
) -> None:
    # feedparser.parse(bytes) opens the bytes as a path if such a file exists
    url = server.script("/path", Reply(str(FEEDS / "city_news.xml").encode(), 200, RSS))
    with pytest.raises(AdapterError, match="not a feed"):
        make_adapter(url).fetch(None)
