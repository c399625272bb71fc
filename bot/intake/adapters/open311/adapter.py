"""A city's Open311 GeoReport v2 server as a source of mentions, over plain httpx.

Every new service request becomes a mention. Later status changes of a request are reported
as well. Open311 has no public reply API, so this source is read-only: there is no replier.

``GET {base_url}/requests.json`` filters only on ``requested_datetime`` (``start_date`` /
``end_date``, at most 90 days apart), and servers cut answers to a page size of their own
(Boston: 50). Paging extensions differ between servers. In the recorded Boston pages,
``page=0`` and ``page=1`` returned the same 50 records. So the adapter uses only the standard
parameters. It asks for the window from ``since - overlap`` to now. An answer with
``page_limit`` records or more may have been cut off, and its window is then split in two,
oldest half first, until each part answers fewer. The order within an answer does not
matter (Boston's follows ``updated_datetime``). Records are deduplicated by id, within an
answer and across the windows of a fetch.

A status change of an older request does not show in that window. So the adapter keeps up to
``max_open`` requests that are still open, most recently requested first, and each fetch
re-checks up to ``recheck_per_fetch`` of them, those checked longest ago first, with
``requests.json?service_request_id=a,b,c`` in batches of ``recheck_batch``. With
``recheck_batch=1`` it asks ``requests/{id}.json`` instead, for servers without id lists.
A changed status is reported as a mention of its own:

* ``external_id`` = ``"<service_request_id>#status:<status>@<updated_datetime>"``, so storage
  deduplication also works for updates;
* ``extra["status_update_of"]`` = the original ``service_request_id``, and
  ``extra["previous_status"]`` = the old status.

Consumers should attach such a mention to the original one (``source``, ``status_update_of``)
rather than route it as a new citizen mention. Only open requests are followed: a request seen
closed and reopened later is not reported again.

The cursor is ``{"since": ISO time, "seen": [ids, newest first], "open": [[id, status,
requested_datetime], ...]}``. ``open`` is a list in re-check order, because a JSON object's key
order does not survive every store. ``since`` is the end of the span fetched completely. When
the request budget (``max_requests``) runs out, ``since`` stops at the last complete window and
the next fetch goes on from there. The first fetch (cursor ``None``) takes the last
``first_run_days``. Restarting with a stored cursor repeats nothing: the overlap is
deduplicated through ``seen``, and a status is reported only when it differs from ``open``.
A request the server files more than ``overlap_minutes`` after its ``requested_datetime`` is
outside every window and is missed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx

from bot.core.adapter import JSON, AdapterError, FetchResult, IncomingMention, ItemError
from bot.intake.adapters.common import check_status
from bot.intake.adapters.open311.parse import (
    SOURCE,
    decode_records,
    error_detail,
    is_closed,
    parse_time,
    record_id,
    record_key,
    status_of,
    status_update,
    to_mention,
)

MAX_WINDOW = timedelta(days=90)  # the GeoReport v2 limit on end_date - start_date
ONE_SECOND = timedelta(seconds=1)


def _w3c(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _open_entries(value: object) -> dict[str, tuple[str, str]]:
    """The cursor's ``open`` list as {id: (status, requested)}, in re-check order."""
    entries: dict[str, tuple[str, str]] = {}
    for item in value if isinstance(value, list) else []:
        if isinstance(item, list) and len(item) == 3 and all(isinstance(x, str) for x in item):
            entries[item[0]] = (item[1], item[2])
    return entries


class Open311Adapter:
    """Polls one GeoReport v2 endpoint; see the module docstring for windows and cursor.

    :param name: the configured instance, e.g. ``boston-311``; used in error messages.
    :param base_url: the endpoint root, e.g. ``https://mayors24.cityofboston.gov/open311/v2``.
    :param api_key: sent as the ``api_key`` query parameter when given (some cities require
        one for reading); never put in error messages.
    :param jurisdiction_id: sent when the server hosts more than one city (e.g. ``boston.gov``).
    :param service_codes: only these service codes (comma list); empty means every service.
    :param url_template: link of a request, ``{id}`` replaced by its URL-quoted id, e.g.
        ``https://311.boston.gov/tickets/{id}``. Without it the photo (``media_url``) is the
        link when it is http(s), else there is none.
    :param first_run_days: how far back the first fetch (cursor ``None``) looks.
    :param overlap_minutes: each window starts this long before ``since``, for requests the
        server files late and for clock skew; repeats are dropped through ``seen``.
    :param page_limit: the most records the server puts in one answer (Boston: 50; often 1000).
        An answer this long is taken as cut off and its window split. Too low costs requests,
        too high loses records, so set it to the server's real limit or lower.
    :param max_window_days: the longest window asked at once (at most 90).
    :param max_requests: window requests per fetch, splits included; the rest waits for the
        next fetch. A fetch that completes no window at all raises :class:`AdapterError`.
    :param recheck_per_fetch: open requests re-checked per fetch (0 turns re-checks off).
    :param recheck_batch: ids per re-check request; 1 asks ``requests/{id}.json`` one by one.
    :param max_open: open requests tracked for status changes (the most recently requested).
    :param max_seen: ids remembered against repeats, beyond those in the current window.
    :param extra_params: more query parameters for window requests (server extensions).
    :param http: a shared ``httpx.Client``; one is made (and closed by ``close``) otherwise.
    :param timeout: seconds for each HTTP request (connect, read, write, pool).
    :param user_agent: the ``User-Agent`` header.
    :param clock: the current time, for tests and replays; defaults to the system clock.
    """

    source = SOURCE

    def __init__(
        self,
        *,
        name: str,
        base_url: str,
        api_key: str | None = None,
        jurisdiction_id: str | None = None,
        service_codes: Sequence[str] = (),
        url_template: str | None = None,
        first_run_days: float = 2.0,
        overlap_minutes: float = 120.0,
        page_limit: int = 50,
        max_window_days: float = 90.0,
        max_requests: int = 20,
        recheck_per_fetch: int = 200,
        recheck_batch: int = 50,
        max_open: int = 2000,
        max_seen: int = 5000,
        extra_params: Mapping[str, str] | None = None,
        http: httpx.Client | None = None,
        timeout: float = 20.0,
        user_agent: str = "Engage/0.1 (+civic mention router)",
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if page_limit < 1 or max_requests < 1 or recheck_batch < 1:
            raise ValueError("page_limit, max_requests and recheck_batch must be at least 1")
        if not 0 < max_window_days <= 90:
            raise ValueError("max_window_days must be more than 0 and at most 90")
        self.name, self.api_key, self.jurisdiction_id = name, api_key, jurisdiction_id
        self.base_url = base_url.rstrip("/")
        self.service_codes = [str(code) for code in service_codes]
        self.url_template, self.page_limit, self.max_requests = (
            url_template,
            page_limit,
            max_requests,
        )
        self.first_run = timedelta(days=first_run_days)
        self.overlap = timedelta(minutes=overlap_minutes)
        self.max_window = min(timedelta(days=max_window_days), MAX_WINDOW)
        self.recheck_per_fetch, self.recheck_batch = recheck_per_fetch, recheck_batch
        self.max_open, self.max_seen = max_open, max_seen
        self.extra_params = dict(extra_params or {})
        self.timeout, self.user_agent = timeout, user_agent
        self._clock = clock or (lambda: datetime.now(UTC))
        self._own_http = http is None
        self._http = http or httpx.Client(timeout=timeout)

    def close(self) -> None:
        if self._own_http:
            self._http.close()

    # -- HTTP ---------------------------------------------------------------------------------

    def _scrub(self, text: str) -> str:
        return text.replace(self.api_key, "***") if self.api_key else text

    def _get(self, path: str, params: dict[str, str], *, gone_ok: bool = False) -> list[Any]:
        """One GET below ``base_url``: the JSON array, [] for a 404 when ``gone_ok``."""
        url = f"{self.base_url}/{path}"
        where = f"{self.name}: {url}"
        if self.jurisdiction_id:
            params["jurisdiction_id"] = self.jurisdiction_id
        if self.api_key:
            params["api_key"] = self.api_key
        headers = {"User-Agent": self.user_agent, "Accept": "application/json"}
        try:
            response = self._http.get(
                url, params=params, headers=headers, follow_redirects=True, timeout=self.timeout
            )
        except httpx.TimeoutException as exc:
            message = f"{where}: timed out after {self.timeout:g}s ({exc!r})"
            raise AdapterError(self._scrub(message)) from exc
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise AdapterError(self._scrub(f"{where}: cannot fetch: {exc!r}")) from exc
        if gone_ok and response.status_code == 404:
            return []
        try:
            check_status(
                response.status_code,
                response.reason_phrase,
                response.headers.get("Retry-After"),
                where,
            )
        except AdapterError as exc:
            detail = error_detail(response.content)
            message = f"{exc}: {detail}" if detail else str(exc)
            raise AdapterError(self._scrub(message), retry_after=exc.retry_after) from None
        if not response.is_success:
            raise AdapterError(f"{where}: unexpected HTTP {response.status_code}")
        content_type = response.headers.get("Content-Type", "")
        try:
            return decode_records(response.content, content_type, where)
        except AdapterError as exc:
            raise AdapterError(self._scrub(str(exc))) from None

    def _windows(self, start: datetime, end: datetime) -> tuple[dict[str, Any], datetime | None]:
        """Records requested in [start, end] by key, and the end of the complete prefix."""
        stack: list[tuple[datetime, datetime]] = []  # the oldest window is on top
        while end > start:
            stack.append((max(start, end - self.max_window), end))
            end -= self.max_window
        found: dict[str, Any] = {}
        done_until: datetime | None = None
        for _ in range(self.max_requests):
            if not stack:
                break
            low, high = stack.pop()
            params = {"start_date": _w3c(low), "end_date": _w3c(high), **self.extra_params}
            if self.service_codes:
                params["service_code"] = ",".join(self.service_codes)
            rows = self._get("requests.json", params)
            if len(rows) >= self.page_limit and high - low > ONE_SECOND:
                middle = low + timedelta(seconds=(high - low).total_seconds() // 2)
                stack += [(middle, high), (low, middle)]  # the older half is asked first
                continue
            for row in rows:
                found[record_key(row)] = row
            done_until = high
        if stack and done_until is None:
            raise AdapterError(
                f"{self.name}: {self.max_requests} requests completed no window from"
                f" {_w3c(stack[-1][0])}; raise max_requests or check page_limit"
            )
        return found, done_until

    def _recheck(self, ids: list[str]) -> list[Any]:
        if self.recheck_batch == 1:
            return self._get(f"requests/{quote(ids[0], safe='')}.json", {}, gone_ok=True)
        return self._get("requests.json", {"service_request_id": ",".join(ids)})

    # -- fetch --------------------------------------------------------------------------------

    def fetch(self, cursor: JSON | None) -> FetchResult:
        state = cursor or {}
        now = self._clock().astimezone(UTC).replace(microsecond=0)
        since = parse_time(state.get("since"))
        stored_seen = state.get("seen")
        seen = [str(i) for i in stored_seen] if isinstance(stored_seen, list) else []
        open_ = _open_entries(state.get("open"))
        start = since - self.overlap if since else now - self.first_run
        found, done_until = self._windows(start, now)

        known = set(seen)
        new: list[IncomingMention] = []
        updates: list[IncomingMention] = []
        errors: list[ItemError] = []

        def track(row: Mapping[str, Any], rid: str) -> None:
            status = status_of(row)
            if not status:
                return
            if rid in open_:
                previous = open_[rid][0]
                if status.casefold() == previous.casefold():
                    return
                try:
                    updates.append(status_update(row, previous, url_template=self.url_template))
                except ValueError as exc:
                    errors.append(ItemError(item_id=rid, reason=f"{self.name}: {exc}"))
            if is_closed(status):
                open_.pop(rid, None)
            else:
                requested = parse_time(row.get("requested_datetime"))
                open_[rid] = (status, _w3c(requested) if requested else "")

        for key, row in found.items():
            rid = record_id(row)
            if key in known or (rid is not None and rid in open_):
                if rid is not None and isinstance(row, Mapping) and rid in open_:
                    track(row, rid)  # a request handed over before: only its status matters
                continue
            try:
                new.append(to_mention(row, url_template=self.url_template))
            except ValueError as exc:
                errors.append(ItemError(item_id=key, reason=f"{self.name}: {exc}"))
                continue
            if isinstance(row, Mapping) and rid is not None:
                track(row, rid)

        due = [rid for rid in open_ if rid not in found][: self.recheck_per_fetch]
        for index in range(0, len(due), self.recheck_batch):
            batch = due[index : index + self.recheck_batch]
            rows = self._recheck(batch)
            if self.recheck_batch == 1 and not rows:
                open_.pop(batch[0], None)  # 404: the server no longer knows the request
            for row in rows:
                rid = record_id(row)
                if isinstance(row, Mapping) and rid is not None and rid in open_:
                    track(row, rid)
            for rid in batch:  # checked now: to the back of the queue
                if rid in open_:
                    open_[rid] = open_.pop(rid)

        if len(open_) > self.max_open:
            keep = sorted(open_, key=lambda rid: open_[rid][1], reverse=True)[: self.max_open]
            kept = set(keep)
            open_ = {rid: entry for rid, entry in open_.items() if rid in kept}
        current = list(found)
        new_seen = current + [i for i in seen if i not in found]
        next_since = done_until or since or start + self.overlap
        new.sort(key=lambda m: m.created_at or now)
        return FetchResult(
            mentions=new + updates,
            cursor={
                "since": _w3c(next_since),
                "seen": new_seen[: max(self.max_seen, len(current))],
                "open": [[rid, status, requested] for rid, (status, requested) in open_.items()],
            },
            errors=errors,
        )
