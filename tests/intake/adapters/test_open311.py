"""Open311Adapter over real loopback connections, against a small GeoReport v2 server.

The server holds real records captured from Boston's Open311 server (tests/fixtures/open311).
It answers as a GeoReport v2 server does: ``requests.json`` filters on ``requested_datetime``
between ``start_date`` and ``end_date``, on ``service_code``, or by ``service_request_id``
lists, orders by ``updated_datetime`` (newest first, as Boston does) and cuts each answer at
its page limit. Scripted replies (errors, odd bodies) are served before the data.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

import pytest

from bot.core.adapter import AdapterError, IncomingMention, PollingAdapter
from bot.intake.adapters.open311.adapter import Open311Adapter
from bot.intake.adapters.open311.parse import PREVIOUS_STATUS, STATUS_UPDATE_OF, parse_time
from tests.factories import closing_factory
from tests.loopback import JsonReply, LoopbackServer, Reply, Request, json_reply, refused_url

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "open311"
BASE = "/open311/v2"
VEHICLE_CODE = "4f389210e75084437f0001de"


def records(name: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return data


def when(record: dict[str, Any]) -> datetime:
    value = parse_time(record.get("requested_datetime") or record.get("updated_datetime"))
    assert value is not None
    return value


def query_of(request: Request) -> dict[str, str]:
    return dict(parse_qsl(request.query_string, keep_blank_values=True))


class Open311Server(LoopbackServer):
    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self.page_limit = 50
        self.script: list[Reply] = []
        super().__init__()

    @property
    def base_url(self) -> str:
        return f"{self.url}{BASE}"

    def respond(self, request: Request) -> Reply:
        return self.script.pop(0) if self.script else self.answer(request.path, query_of(request))

    def answer(self, path: str, query: dict[str, str]) -> Reply:
        if path == f"{BASE}/requests.json":
            return json_reply(self.select(query))
        if match := re.fullmatch(rf"{BASE}/requests/(.+)\.json", path):
            rid = unquote(match[1])
            found = [r for r in self.records if r.get("service_request_id") == rid]
            if found:
                return json_reply(found[:1])
        return JsonReply(b'[{"code":404,"description":"Not found"}]', 404)

    def select(self, query: dict[str, str]) -> list[dict[str, Any]]:
        if "service_request_id" in query:  # overrides all other arguments, as the spec says
            ids = query["service_request_id"].split(",")
            return [r for r in self.records if r.get("service_request_id") in ids]
        start, end = parse_time(query.get("start_date")), parse_time(query.get("end_date"))
        codes = query["service_code"].split(",") if "service_code" in query else None
        rows = [
            r
            for r in self.records
            if (start is None or when(r) >= start)
            and (end is None or when(r) <= end)
            and (codes is None or r.get("service_code") in codes)
        ]
        rows.sort(key=lambda r: str(r.get("updated_datetime")), reverse=True)
        return rows[: self.page_limit]

    def queries(self, path: str = "/requests.json") -> list[dict[str, str]]:
        return [query_of(r) for r in self.requests_to(BASE + path)]


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def server() -> Iterator[Open311Server]:
    with Open311Server() as srv:
        yield srv


@pytest.fixture
def make_adapter(server: Open311Server) -> Iterator[Callable[..., Open311Adapter]]:
    def build(now: datetime | Clock, **kwargs: Any) -> Open311Adapter:
        return Open311Adapter(clock=now if isinstance(now, Clock) else Clock(now), **kwargs)

    yield from closing_factory(build, name="boston-311", base_url=server.base_url)


def ids(mentions: list[IncomingMention]) -> list[str]:
    return [m.external_id for m in mentions]


VEHICLES = records("boston-abandoned-vehicle.json")
V_NOW = datetime(2020, 1, 18, 1, 0, tzinfo=UTC)  # an hour after the newest request


def in_span(rows: list[dict[str, Any]], start: datetime, end: datetime) -> set[str]:
    return {r["service_request_id"] for r in rows if start <= when(r) <= end}


def test_first_fetch_takes_the_recent_requests(
    server: Open311Server, make_adapter: Callable[..., Open311Adapter]
) -> None:
    server.records = VEHICLES
    adapter = make_adapter(
        V_NOW,
        api_key="k-123",
        jurisdiction_id="boston.gov",
        service_codes=[VEHICLE_CODE],
        url_template="https://311.boston.gov/tickets/{id}",
    )
    assert isinstance(adapter, PollingAdapter)
    result = adapter.fetch(None)
    (query,) = server.queries()
    assert query == {
        "start_date": "2020-01-16T01:00:00Z",  # first_run_days=2
        "end_date": "2020-01-18T01:00:00Z",
        "service_code": VEHICLE_CODE,
        "jurisdiction_id": "boston.gov",
        "api_key": "k-123",
    }
    expected = in_span(VEHICLES, V_NOW - timedelta(days=2), V_NOW)
    assert len(expected) == 21 and set(ids(result.mentions)) == expected
    assert result.errors == []
    created = [m.created_at for m in result.mentions]
    assert created == sorted(c for c in created if c)  # oldest first
    suv = result.mentions[-1]
    assert suv.source == "open311" and suv.external_id == "101003172470"
    assert suv.text == "Abandoned SUV on sidewalk blocking passage"
    assert suv.title == "Abandoned Vehicle" and suv.author == "311 request"
    assert suv.url == "https://311.boston.gov/tickets/101003172470"
    assert suv.created_at == datetime(2020, 1, 18, 0, 3, 41, tzinfo=UTC)
    assert suv.extra == {
        "service_request_id": "101003172470",
        "service_code": VEHICLE_CODE,
        "service_name": "Abandoned Vehicle",
        "agency_responsible": None,
        "status": "open",
        "status_notes": None,
        "requested_datetime": "2020-01-17T19:03:41-05:00",
        "expected_datetime": None,
        "updated_datetime": "2020-01-17T19:03:00-05:00",
        "address": "49 S Huntington Ave, Jamaica Plain",
        "zipcode": None,
        "lat": 42.330849,
        "long": -71.1118042,
        "media_url": None,
    }
    by_id = {m.external_id: m for m in result.mentions}
    assert by_id["101003172420"].text == "Abandoned Vehicle"  # no description
    assert by_id["101003171996"].text.startswith("Vehicle hasn\u2019t moved In over\n4 weeks")
    closed = by_id["101003171572"]
    assert closed.extra["status"] == "closed"
    assert closed.extra["status_notes"].startswith("Duplicate of Existing Case.")
    cursor = result.cursor
    assert cursor["since"] == "2020-01-18T01:00:00Z"
    assert set(cursor["seen"]) == expected
    open_ids = {e[0] for e in cursor["open"]}
    assert open_ids == {m.external_id for m in result.mentions if m.extra["status"] == "open"}
    assert ["101003172470", "open", "2020-01-18T00:03:41Z"] in cursor["open"]


def test_without_template_the_photo_is_the_link(
    server: Open311Server, make_adapter: Callable[..., Open311Adapter]
) -> None:
    server.records = VEHICLES
    by_id = {m.external_id: m for m in make_adapter(V_NOW).fetch(None).mentions}
    photo = "https://311.boston.gov/media/boston/report/photos/5e222de375052c479c6faee8/report.jpg"
    assert by_id["101003172420"].url == by_id["101003172420"].extra["media_url"] == photo
    assert by_id["101003172470"].url is None


def test_empty_array(server: Open311Server, make_adapter: Callable[..., Open311Adapter]) -> None:
    result = make_adapter(V_NOW).fetch(None)
    assert result.mentions == [] and result.errors == []
    assert result.cursor == {"since": "2020-01-18T01:00:00Z", "seen": [], "open": []}
    later = make_adapter(V_NOW + timedelta(hours=1)).fetch(result.cursor)
    assert later.mentions == []
    assert server.queries()[-1]["start_date"] == "2020-01-17T23:00:00Z"  # since - 2 h overlap


def test_full_answers_split_the_window(
    server: Open311Server, make_adapter: Callable[..., Open311Adapter]
) -> None:
    server.records, server.page_limit = VEHICLES, 8
    result = make_adapter(V_NOW, page_limit=8).fetch(None)
    expected = in_span(VEHICLES, V_NOW - timedelta(days=2), V_NOW)
    assert sorted(ids(result.mentions)) == sorted(expected)  # all 21, each once
    windows = [(q["start_date"], q["end_date"]) for q in server.queries()]
    assert len(windows) > 4
    assert windows[:3] == [
        ("2020-01-16T01:00:00Z", "2020-01-18T01:00:00Z"),  # 8 answers: cut off, split
        ("2020-01-16T01:00:00Z", "2020-01-17T01:00:00Z"),  # the older half first, cut off too
        ("2020-01-16T01:00:00Z", "2020-01-16T13:00:00Z"),
    ]
    assert windows[-1][1] == "2020-01-18T01:00:00Z"
    assert ("2020-01-17T01:00:00Z", "2020-01-18T01:00:00Z") in windows  # the newer half later
    assert result.cursor["since"] == "2020-01-18T01:00:00Z"


def test_request_budget_resumes_on_the_next_fetch(
    server: Open311Server, make_adapter: Callable[..., Open311Adapter]
) -> None:
    server.records, server.page_limit = VEHICLES, 8
    adapter = make_adapter(V_NOW, page_limit=8, max_requests=4)
    first = adapter.fetch(None)
    assert len(server.queries()) == 4
    since = parse_time(first.cursor["since"])
    assert since is not None and since < V_NOW  # stops at the last complete window
    assert set(ids(first.mentions)) == in_span(VEHICLES, V_NOW - timedelta(days=2), since)
    got = ids(first.mentions)
    cursor = first.cursor
    for _ in range(5):
        result = adapter.fetch(json.loads(json.dumps(cursor)))
        got += ids(result.mentions)
        cursor = result.cursor
    assert sorted(got) == sorted(in_span(VEHICLES, V_NOW - timedelta(days=2), V_NOW))
    assert cursor["since"] == "2020-01-18T01:00:00Z"


def test_a_budget_that_completes_no_window_is_an_error(
    server: Open311Server, make_adapter: Callable[..., Open311Adapter]
) -> None:
    server.records, server.page_limit = VEHICLES, 8
    with pytest.raises(AdapterError, match="2 requests completed no window") as raised:
        make_adapter(V_NOW, page_limit=8, max_requests=2).fetch(None)
    assert "2020-01-16T01:00:00Z" in str(raised.value)


def test_a_long_gap_is_asked_in_windows_of_90_days(
    server: Open311Server, make_adapter: Callable[..., Open311Adapter]
) -> None:
    server.records = VEHICLES
    cursor = {"since": "2019-06-01T00:00:00Z", "seen": [], "open": []}
    result = make_adapter(V_NOW).fetch(cursor)
    windows = [(parse_time(q["start_date"]), parse_time(q["end_date"])) for q in server.queries()]
    assert len(windows) == 3
    assert all(b - a <= timedelta(days=90) for a, b in windows if a and b)
    assert windows[0][0] == datetime(2019, 5, 31, 22, 0, tzinfo=UTC)
    assert windows[-1][1] == V_NOW
    assert len(result.mentions) == len(VEHICLES)  # back to July 2019


def test_restart_repeats_nothing_and_misses_nothing(
    server: Open311Server, make_adapter: Callable[..., Open311Adapter]
) -> None:
    older = [r for r in VEHICLES if when(r) < datetime(2020, 1, 17, 20, 0, tzinfo=UTC)]
    server.records = older
    clock = Clock(datetime(2020, 1, 17, 20, 0, tzinfo=UTC))
    first = make_adapter(clock).fetch(None)
    stored = json.loads(json.dumps(first.cursor))  # what the runner keeps in the database
    clock.now = datetime(2020, 1, 17, 20, 5, tzinfo=UTC)
    again = make_adapter(clock).fetch(stored)
    assert again.mentions == [] and again.errors == []
    server.records = VEHICLES  # five requests arrive, 15:08 to 19:03 Boston time
    clock.now = V_NOW
    later = make_adapter(clock).fetch(json.loads(json.dumps(again.cursor)))
    assert ids(later.mentions) == [
        "101003172353",
        "101003172398",
        "101003172420",
        "101003172438",
        "101003172470",
    ]
    assert later.mentions[-2].text.startswith("Make of the abandoned car: FORD")
    assert set(ids(first.mentions)) <= set(later.cursor["seen"])  # overlap stays deduplicated


def test_repeated_records_in_one_answer_count_once(
    server: Open311Server, make_adapter: Callable[..., Open311Adapter]
) -> None:
    page = records("boston-other-repeated-page.json")  # Boston sent these 20 records twice
    assert len(page) == 40 and len({r["service_request_id"] for r in page}) == 20
    server.script = [json_reply(page)]
    result = make_adapter(datetime(2020, 4, 26, 14, 0, tzinfo=UTC), page_limit=1000).fetch(None)
    assert len(result.mentions) == 20 == len(set(ids(result.mentions)))


def test_record_without_id_is_an_item_error_reported_once(
    server: Open311Server, make_adapter: Callable[..., Open311Adapter]
) -> None:
    server.records = records("boston-sidewalk-quirks.json")
    clock = Clock(datetime(2019, 12, 19, 14, 0, tzinfo=UTC))
    result = make_adapter(clock).fetch(None)
    assert len(result.mentions) == 13
    (error,) = result.errors
    assert error.item_id.startswith("noid:")
    assert error.reason == "boston-311: request has no service_request_id"
    assert by_text(result.mentions, "101003140320") == "Sidewalk Not Shoveled"  # empty text
    clock.now += timedelta(minutes=10)
    again = make_adapter(clock).fetch(result.cursor)
    assert again.mentions == [] and again.errors == []


def test_an_element_that_is_not_an_object_is_an_item_error(
    server: Open311Server, make_adapter: Callable[..., Open311Adapter]
) -> None:
    server.script = [json_reply(["101003172470", VEHICLES[0]])]
    result = make_adapter(V_NOW).fetch(None)
    assert ids(result.mentions) == ["101003172470"]
    (error,) = result.errors
    assert error.reason == "boston-311: not a JSON object but str"


def by_text(mentions: list[IncomingMention], rid: str) -> str:
    return next(m.text for m in mentions if m.external_id == rid)


def test_quirks_of_real_servers(
    server: Open311Server, make_adapter: Callable[..., Open311Adapter]
) -> None:
    # Derived from real records: the variants other Open311 servers send.
    a, b, c, d, e = (dict(r) for r in records("boston-unsafe-conditions.json")[:5])
    a.update(lat="42.3297", long=" -71.07008 ")  # coordinates as strings
    b.update(lat=None, long=None)
    c.update(lat="", long="n/a", media_url="ftp://example.invalid/x.jpg")
    d.update(service_request_id=323358, lat=0, long=0)  # a number; 0,0 means unknown
    del e["requested_datetime"]  # like Boston's pending request
    e["zipcode"] = "02119"
    server.script = [json_reply([a, b, c, d, e])]
    adapter = make_adapter(
        datetime(2020, 2, 12, 21, 0, tzinfo=UTC), url_template="https://311.city.example/r/{id}"
    )
    result = adapter.fetch(None)
    assert result.errors == []
    got = {m.external_id: m for m in result.mentions}
    first = got["H323401-101003193368"]
    assert (first.extra["lat"], first.extra["long"]) == (42.3297, -71.07008)
    assert first.url == "https://311.city.example/r/H323401-101003193368"
    assert got["H323399-101003193359"].extra["lat"] is None
    third = got["H323367-101003193061"]
    assert third.extra["long"] is None and third.extra["media_url"] is None
    assert got["323358"].extra["lat"] is None and got["323358"].extra["long"] is None
    last = got["H323358-101003192928"]
    assert last.created_at == datetime(2020, 2, 12, 14, 41, tzinfo=UTC)  # updated_datetime
    assert last.extra["requested_datetime"] is None and last.extra["zipcode"] == "02119"
    assert ["H323358-101003192928", "open", ""] in result.cursor["open"]


OTHER = records("boston-other-repeated-page.json")[:20]
O_NOW = datetime(2020, 4, 26, 18, 0, tzinfo=UTC)


def earlier(record: dict[str, Any]) -> dict[str, Any]:
    """A closed request as it looked while open, the way Boston shows open requests."""
    if record["status"] != "closed":
        return record
    snapshot = {k: v for k, v in record.items() if k != "status_notes"}
    snapshot["status"] = "open"
    snapshot["updated_datetime"] = (
        record["requested_datetime"][:17] + "00" + record["requested_datetime"][19:]
    )
    return snapshot


def test_status_change_of_an_older_request_found_by_recheck(
    server: Open311Server, make_adapter: Callable[..., Open311Adapter]
) -> None:
    server.records = [earlier(r) for r in OTHER]
    clock = Clock(O_NOW)
    first = make_adapter(clock, first_run_days=1, overlap_minutes=60).fetch(None)
    assert len(first.mentions) == 20 and all(m.extra["status"] == "open" for m in first.mentions)
    assert len(first.cursor["open"]) == 20
    assert server.queries()[-1].keys() == {"start_date", "end_date"}  # nothing to re-check yet

    server.records = OTHER  # what the server says three days later
    clock.now = O_NOW + timedelta(days=3)
    adapter = make_adapter(clock, overlap_minutes=60, recheck_batch=8)
    second = adapter.fetch(json.loads(json.dumps(first.cursor)))
    window, *batches = server.queries()[1:]
    assert window["start_date"] == "2020-04-26T17:00:00Z"  # the requests are older than that
    assert [len(q["service_request_id"].split(",")) for q in batches] == [8, 8, 4]
    assert [q.keys() for q in batches] == [{"service_request_id"}] * 3
    closed = [r for r in OTHER if r["status"] == "closed"]
    assert len(second.mentions) == len(closed) == 8
    update = next(m for m in second.mentions if m.extra[STATUS_UPDATE_OF] == "101003262749")
    assert update.external_id == "101003262749#status:closed@2020-04-26T09:11:43-04:00"
    assert update.text == (
        "Status changed from open to closed. Case Invalid. insufficient info; unverifiable."
    )
    assert update.extra[PREVIOUS_STATUS] == "open" and update.extra["status"] == "closed"
    assert update.created_at == datetime(2020, 4, 26, 13, 11, 43, tzinfo=UTC)
    assert update.author == "311 request" and update.title == "Other"
    still_open = {e[0] for e in second.cursor["open"]}
    assert still_open == {r["service_request_id"] for r in OTHER if r["status"] == "open"}

    clock.now += timedelta(hours=1)
    third = make_adapter(clock).fetch(json.loads(json.dumps(second.cursor)))
    assert third.mentions == [] and third.errors == []  # each change is reported once


def test_status_change_seen_in_the_overlap_window(
    server: Open311Server, make_adapter: Callable[..., Open311Adapter]
) -> None:
    server.records = [earlier(r) for r in OTHER]
    clock = Clock(datetime(2020, 4, 26, 12, 0, tzinfo=UTC))
    first = make_adapter(clock).fetch(None)
    server.records = OTHER
    clock.now += timedelta(minutes=30)
    second = make_adapter(clock, recheck_per_fetch=0).fetch(first.cursor)
    assert len(server.queries()) == 2  # the window only: re-checks are off
    assert ids(second.mentions) == ["101003262749#status:closed@2020-04-26T09:11:43-04:00"]


def test_rechecks_rotate_and_single_mode_asks_by_id(
    server: Open311Server, make_adapter: Callable[..., Open311Adapter]
) -> None:
    server.records = [earlier(r) for r in OTHER]
    clock = Clock(O_NOW)
    cursor = make_adapter(clock, first_run_days=1).fetch(None).cursor
    server.records = OTHER[1:]  # the server forgot the newest request
    clock.now += timedelta(days=3)
    adapter = make_adapter(clock, recheck_batch=1, recheck_per_fetch=12)
    found: list[str] = []
    still_open: list[int] = []
    for _ in range(2):
        result = adapter.fetch(cursor)
        found += [m.extra[STATUS_UPDATE_OF] for m in result.mentions]
        cursor = result.cursor
        still_open.append(len(cursor["open"]))
    prefix = f"{BASE}/requests/"
    asked = [
        unquote(r.path[len(prefix) : -len(".json")]) for r in server.requests if prefix in r.path
    ]
    assert len(set(asked[:12])) == 12 and len(set(asked)) == 20  # the rest: the next time
    assert len(asked) == 12 + min(12, still_open[0])
    assert sorted(found) == sorted(
        r["service_request_id"] for r in OTHER if r["status"] == "closed"
    )
    assert "101003262787" not in {e[0] for e in cursor["open"]}  # 404: no longer tracked


def test_open_requests_are_bounded(
    server: Open311Server, make_adapter: Callable[..., Open311Adapter]
) -> None:
    server.records = [earlier(r) for r in OTHER]
    result = make_adapter(O_NOW, first_run_days=1, max_open=5).fetch(None)
    kept = [e[0] for e in result.cursor["open"]]
    newest = sorted(OTHER, key=when, reverse=True)[:5]
    assert sorted(kept) == sorted(r["service_request_id"] for r in newest)


@pytest.mark.parametrize(
    ("status", "retry_after", "expected"),
    [(429, "120", 120.0), (503, "30", 30.0), (429, None, None)],
)
def test_rate_limited(
    server: Open311Server,
    make_adapter: Callable[..., Open311Adapter],
    status: int,
    retry_after: str | None,
    expected: float | None,
) -> None:
    headers = {"Retry-After": retry_after} if retry_after else {}
    server.script = [Reply(b"slow down", status, headers)]
    with pytest.raises(AdapterError, match=f"HTTP {status}") as raised:
        make_adapter(V_NOW).fetch(None)
    assert raised.value.retry_after == expected


@pytest.mark.parametrize("status", [500, 502, 400, 404])
def test_http_errors(
    server: Open311Server, make_adapter: Callable[..., Open311Adapter], status: int
) -> None:
    server.script = [Reply(b"<html>oops</html>", status, {"Content-Type": "text/html"})]
    with pytest.raises(AdapterError, match=f"HTTP {status}") as raised:
        make_adapter(V_NOW).fetch({"since": "2020-01-17T00:00:00Z", "seen": [], "open": []})
    assert raised.value.retry_after is None
    assert f"boston-311: {server.base_url}/requests.json" in str(raised.value)


@pytest.mark.parametrize("status", [401, 403])
def test_refused_key_is_named_but_never_shown(
    server: Open311Server, make_adapter: Callable[..., Open311Adapter], status: int
) -> None:
    body = b'[{"code":403,"description":"Invalid api_key: s3cret-key"}]'
    server.script = [JsonReply(body, status)]
    with pytest.raises(AdapterError, match="check the credentials") as raised:
        make_adapter(V_NOW, api_key="s3cret-key").fetch(None)
    assert "Invalid api_key: ***" in str(raised.value)
    assert "s3cret-key" not in str(raised.value)


@pytest.mark.parametrize(
    ("body", "content_type", "detail"),
    [
        (b'{"error": "Service unavailable"}', "application/json", "got a JSON object"),
        (b'{"requests": []}', "application/json", "with keys requests"),
        (b'[{"code":400,"description":"Invalid date"}]', "application/json", "Invalid date"),
        (b'<?xml version="1.0"?><errors/>', "text/xml", "got XML (text/xml)"),
        (b"<!DOCTYPE html><html>maintenance</html>", "text/html", "got an HTML page"),
        (b"", "application/json", "got an empty body"),
        (b'"ok"', "application/json", "got JSON str"),
    ],
)
def test_not_a_json_array(
    server: Open311Server,
    make_adapter: Callable[..., Open311Adapter],
    body: bytes,
    content_type: str,
    detail: str,
) -> None:
    server.script = [Reply(body, 200, {"Content-Type": content_type})]
    with pytest.raises(AdapterError, match="boston-311") as raised:
        make_adapter(V_NOW).fetch(None)
    assert detail in str(raised.value)


def test_a_failed_recheck_fails_the_whole_fetch(
    server: Open311Server, make_adapter: Callable[..., Open311Adapter]
) -> None:
    server.records = [earlier(r) for r in OTHER]
    cursor = make_adapter(O_NOW, first_run_days=1).fetch(None).cursor
    server.script = [JsonReply(b"[]"), Reply(b"busy", 429, {"Retry-After": "60"})]
    with pytest.raises(AdapterError, match="HTTP 429") as raised:
        make_adapter(O_NOW + timedelta(days=3)).fetch(cursor)
    assert raised.value.retry_after == 60.0


def test_timeout(server: Open311Server, make_adapter: Callable[..., Open311Adapter]) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)  # accepts the connection, never answers
        url = f"http://127.0.0.1:{listener.getsockname()[1]}{BASE}"
        with pytest.raises(AdapterError, match="timed out"):
            make_adapter(V_NOW, base_url=url, timeout=0.2).fetch(None)


def test_connection_refused(make_adapter: Callable[..., Open311Adapter]) -> None:
    with pytest.raises(AdapterError, match="cannot fetch"):
        make_adapter(V_NOW, base_url=refused_url(BASE), api_key="k").fetch(None)


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="max_window_days"):
        Open311Adapter(name="x", base_url="http://127.0.0.1:9", max_window_days=120)
    with pytest.raises(ValueError, match="page_limit"):
        Open311Adapter(name="x", base_url="http://127.0.0.1:9", page_limit=0)
