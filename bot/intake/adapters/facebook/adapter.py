"""A Facebook Page as a source: what visitors post on it and comments on its recent posts.

Plain httpx against the Graph API, authenticated with a Page access token (sent as an
``Authorization: Bearer`` header, so it never appears in a logged URL) plus ``appsecret_proof``
(HMAC-SHA256 of the token keyed by the app secret) when the app secret is given.

Streams. Each edge in ``post_edges`` (``feed`` by default; ``visitor_posts`` and ``tagged``
also work) is one stream of posts; the Page's own posts are skipped. Graph documents
``visitor_posts`` as unsupported for Pages on the New Pages Experience, where visitors' posts
are in ``feed``. The ``comments`` stream reads ``/{post-id}/comments?filter=stream
&order=reverse_chronological`` (replies included) for each of the Page's ``max_posts`` latest
posts (``/{page-id}/posts``); the Page's own replies are skipped. Comments on older posts are
not gathered.

Cursor: ``{stream: {"newest": ISO time, "seen": [ids]}}``. Graph has no since-id and its
pagination cursors must not be stored (they expire), so a stream remembers the newest
``created_time`` it has seen and the ids it handed over, most recent first, up to ``max_seen``.
A poll pages (following ``paging.next``, whose absence is the documented end) until a page
reaches back past ``newest - overlap``; anything in that window not in ``seen`` is new. The
overlap covers comments that land on one post while another post's comments are being read,
and Graph's delays; within it ``seen`` dedups, so a restart repeats nothing. A first run takes
one page per list. If ``max_pages`` pages are not enough to catch up, the rest is skipped and
said so as an :class:`ItemError`. A malformed item becomes an ItemError once (its id, or a hash
of it, goes into ``seen``).

Graph errors come as JSON ``{"error": {"message", "type", "code", "error_subcode",
"fbtrace_id"}}`` with varying HTTP statuses, so the code decides: 190/102 is the token, 4, 17,
32, 613 and 80001-80014 are rate limits (the wait is ``estimated_time_to_regain_access``,
minutes, from the usage headers when there), 10 and 200-299 are permissions, 1 and 2 transient.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from bot.core.adapter import (
    JSON,
    AdapterError,
    FetchResult,
    IncomingMention,
    ItemError,
    ReplyError,
    ReplyResult,
    ReplyTarget,
)
from bot.intake.adapters.common import check_status, retry_after

DEFAULT_BASE_URL = "https://graph.facebook.com/v19.0"
POST_FIELDS = "id,message,from,created_time,permalink_url"
COMMENT_FIELDS = "id,message,from,created_time,permalink_url,parent"
COMMENT_ORDER = {"filter": "stream", "order": "reverse_chronological"}  # replies too, newest first
ANONYMOUS = "Facebook user"  # Graph often hides ``from`` for people's privacy
NO_TEXT = "[no text: photo, sticker or link only]"
TOKEN_CODES = {102, 190}
RATE_LIMIT_CODES = {4, 17, 32, 613, *range(80001, 80015)}
TRANSIENT_CODES = {1, 2}
USAGE_HEADERS = ("x-business-use-case-usage", "x-page-usage", "x-app-usage")
AUTH_PARAMS = {"access_token", "appsecret_proof"}


class GraphError(AdapterError):
    """A failed Graph call; ``retryable`` if the same call may work later."""

    def __init__(
        self, message: str, *, retry_after: float | None = None, retryable: bool = False
    ) -> None:
        super().__init__(message, retry_after=retry_after)
        self.retryable = retryable


def _when(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def _regain_access(headers: httpx.Headers) -> float | None:
    """Seconds until Graph lifts throttling, from the usage headers' estimate in minutes."""
    minutes: list[float] = []

    def walk(node: object) -> None:
        if isinstance(node, Mapping):
            value = node.get("estimated_time_to_regain_access")
            if isinstance(value, int | float) and not isinstance(value, bool):
                minutes.append(float(value))
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    for name in USAGE_HEADERS:
        try:
            walk(json.loads(headers.get(name) or "null"))
        except ValueError:
            continue
    wait = max(minutes, default=0.0) * 60
    return wait if wait > 0 else None


def _graph_error(where: str, error: Mapping[str, Any], response: httpx.Response) -> GraphError:
    code = error.get("code")
    subcode = error.get("error_subcode")
    label = f"code {code}" + (f"/{subcode}" if subcode else "")
    detail = " ".join(str(error.get("message") or "no message").split()) + f" ({label}"
    detail += f", fbtrace_id {error['fbtrace_id']})" if error.get("fbtrace_id") else ")"
    if code in TOKEN_CODES:
        return GraphError(f"{where}: the Page access token was rejected, get a new one: {detail}")
    if code in RATE_LIMIT_CODES:
        wait = _regain_access(response.headers) or retry_after(response.headers.get("Retry-After"))
        later = "" if wait is None else f", retry after {wait:.0f}s"
        return GraphError(
            f"{where}: rate limited{later}: {detail}", retry_after=wait, retryable=True
        )
    if code == 10 or (isinstance(code, int) and 200 <= code <= 299):
        return GraphError(f"{where}: permission missing for the Page access token: {detail}")
    transient = code in TRANSIENT_CODES or bool(error.get("is_transient"))
    transient = transient or response.status_code >= 500
    kind = "temporary Graph error" if transient else "Graph error"
    return GraphError(f"{where}: {kind}: {detail}", retryable=transient)


def _http_error(where: str, response: httpx.Response) -> GraphError:
    """A failed answer without Graph's error object (a proxy, an outage page)."""
    status = response.status_code
    try:
        check_status(status, response.reason_phrase, response.headers.get("Retry-After"), where)
    except AdapterError as exc:
        return GraphError(
            str(exc), retry_after=exc.retry_after, retryable=status == 429 or status >= 500
        )
    return GraphError(f"{where}: unexpected HTTP {status}", retryable=status >= 500)


def _obj(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


class FacebookAdapter:
    """Polls one Facebook Page's visitor posts and comments; replies as the Page.

    ``page_id`` is the Page's numeric id and ``access_token`` a Page access token (reading
    needs ``pages_read_engagement`` and ``pages_read_user_content``, replying
    ``pages_manage_engagement``). ``app_secret`` adds ``appsecret_proof``, which apps set to
    "require app secret" must send. ``base_url`` is the versioned Graph root. ``post_edges``
    are the Page edges read as post streams; ``max_posts`` how many of the Page's latest posts
    have their comments read; ``page_size`` the ``limit``; ``max_pages`` bounds one list per
    poll; ``overlap`` (seconds) and ``max_seen`` are explained in the module docstring;
    ``timeout`` is seconds per request.
    """

    source = "facebook"

    def __init__(
        self,
        *,
        name: str,
        page_id: str,
        access_token: str,
        app_secret: str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        post_edges: Sequence[str] = ("feed",),
        max_posts: int = 10,
        page_size: int = 50,
        max_pages: int = 5,
        overlap: float = 900.0,
        max_seen: int = 1000,
        timeout: float = 20.0,
        http: httpx.Client | None = None,
        user_agent: str = "Engage/0.1 (+civic mention router)",
    ) -> None:
        if not page_id or not access_token:
            raise ValueError(f"{name}: Facebook needs page_id and access_token")
        self.name, self.page_id, self.base_url = name, str(page_id), base_url.rstrip("/")
        self.post_edges = list(dict.fromkeys(post_edges))
        self.max_posts, self.page_size = max(0, max_posts), min(100, max(1, page_size))
        self.max_pages, self.overlap = max(1, max_pages), timedelta(seconds=overlap)
        self.max_seen, self.timeout, self.user_agent = max_seen, timeout, user_agent
        self._token = access_token
        self._proof = (
            hmac.new(app_secret.encode(), access_token.encode(), hashlib.sha256).hexdigest()
            if app_secret
            else None
        )
        self._own_http = http is None
        self._http = http or httpx.Client(timeout=timeout)

    def close(self) -> None:
        if self._own_http:
            self._http.close()

    # --- HTTP ------------------------------------------------------------------------------

    def _call(self, method: str, path: str, params: Mapping[str, str], data: Any = None) -> JSON:
        where = f"{self.name}: Facebook {method} {path}"
        query = {k: v for k, v in params.items() if k not in AUTH_PARAMS}
        if self._proof:
            query["appsecret_proof"] = self._proof
        headers = {
            "Authorization": f"Bearer {self._token}",
            "Accept": "application/json",
            "User-Agent": self.user_agent,
        }
        try:
            response = self._http.request(
                method,
                self.base_url + path,
                params=query,
                data=data,
                headers=headers,
                timeout=self.timeout,
            )
        except httpx.TimeoutException as exc:
            message = f"{where}: timed out after {self.timeout:g}s ({exc!r})"
            raise GraphError(message, retryable=True) from exc
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise GraphError(f"{where}: cannot reach Graph: {exc!r}", retryable=True) from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("error"), Mapping):
            raise _graph_error(where, body["error"], response)
        if not response.is_success:
            raise _http_error(where, response)
        if not isinstance(body, dict):
            raise GraphError(f"{where}: not a JSON object: {response.text[:200]!r}", retryable=True)
        return body

    # --- reading ---------------------------------------------------------------------------

    def fetch(self, cursor: JSON | None) -> FetchResult:
        state = cursor or {}
        mentions: list[IncomingMention] = []
        errors: list[ItemError] = []
        new_cursor: JSON = {}
        for stream in [*self.post_edges, *(["comments"] if self.max_posts else [])]:
            items, new_cursor[stream] = self._stream(stream, state.get(stream), self._lists(stream))
            mentions += [i for i in items if isinstance(i, IncomingMention)]
            errors += [i for i in items if isinstance(i, ItemError)]
        return FetchResult(mentions=mentions, cursor=new_cursor, errors=errors)

    def _lists(self, stream: str) -> list[tuple[str, dict[str, str], str | None]]:
        """(path, query, post id for comments) of each list a stream reads, newest first."""
        limit = str(self.page_size)
        if stream != "comments":
            fields = {"fields": POST_FIELDS, "limit": limit}
            return [(f"/{self.page_id}/{stream}", fields, None)]
        query = {"fields": COMMENT_FIELDS, "limit": limit, **COMMENT_ORDER}
        return [(f"/{post_id}/comments", query, post_id) for post_id in self._recent_posts()]

    def _recent_posts(self) -> list[str]:
        params = {"fields": "id,created_time", "limit": str(self.max_posts)}
        body = self._call("GET", f"/{self.page_id}/posts", params)
        data = body.get("data")
        if not isinstance(data, list):
            raise AdapterError(f"{self.name}: Facebook /{self.page_id}/posts: no data list")
        ids = [p["id"] for p in data if isinstance(p, Mapping) and isinstance(p.get("id"), str)]
        return ids[: self.max_posts]

    def _stream(
        self,
        stream: str,
        state: Any,
        lists: Sequence[tuple[str, Mapping[str, str], str | None]],
    ) -> tuple[list[IncomingMention | ItemError], JSON]:
        state = state if isinstance(state, Mapping) else {}
        newest = _when(state.get("newest"))
        seen_before = [str(i) for i in state.get("seen") or []]
        seen = set(seen_before)
        threshold = newest - self.overlap if newest else None
        latest = newest
        out: list[IncomingMention | ItemError] = []
        handed: list[str] = []
        for path, base_params, post_id in lists:
            params = dict(base_params)
            for page in range(1 if threshold is None else self.max_pages):
                body = self._call("GET", path, params)
                data = body.get("data")
                if not isinstance(data, list):
                    raise AdapterError(f"{self.name}: Facebook GET {path}: no data list")
                reached = False
                for raw in data:
                    item, created = self._item(raw, stream, post_id)
                    if created is not None:
                        latest = max(latest, created) if latest else created
                        reached = reached or (threshold is not None and created < threshold)
                    if item is None or _key(item) in seen:
                        continue
                    if created is not None and threshold is not None and created < threshold:
                        continue
                    seen.add(_key(item))
                    handed.append(_key(item))
                    out.append(item)
                follow = _next_params(body, base_params)
                if reached or follow is None:
                    break
                if threshold is not None and data and page == self.max_pages - 1:
                    out.append(
                        ItemError(
                            item_id=f"{stream}:{path}",
                            reason=f"{self.name}: more than {self.max_pages} pages new since the"
                            " last poll; the older rest was skipped",
                        )
                    )
                params = follow
        fresh = [i for i in handed if i not in seen_before]
        kept = fresh + seen_before
        return out, {
            "newest": latest.isoformat() if latest else None,
            "seen": kept[: max(self.max_seen, len(fresh))],
        }

    def _item(
        self, raw: object, stream: str, post_id: str | None
    ) -> tuple[IncomingMention | ItemError | None, datetime | None]:
        created = _when(raw.get("created_time")) if isinstance(raw, Mapping) else None
        try:
            return self._normalise(raw, stream, post_id, created), created
        except Exception as exc:  # one bad item never blocks the others
            obj_id = raw.get("id") if isinstance(raw, Mapping) else None
            if not isinstance(obj_id, str) or not obj_id:
                digest = json.dumps(raw, sort_keys=True, default=str).encode()
                obj_id = "sha256:" + hashlib.sha256(digest).hexdigest()
            return ItemError(item_id=obj_id, reason=f"{self.name}: {exc}"), created

    def _normalise(
        self, raw: object, stream: str, post_id: str | None, created: datetime | None
    ) -> IncomingMention | None:
        if not isinstance(raw, Mapping):
            raise ValueError(f"item is not an object: {str(raw)[:80]}")
        obj_id = raw.get("id")
        if not isinstance(obj_id, str) or not obj_id:
            raise ValueError("item has no id")
        if created is None:
            raise ValueError(f"{obj_id} has no valid created_time")
        sender = _obj(raw.get("from"))
        sender_id = str(sender.get("id") or "") or None
        if sender_id == self.page_id:
            return None  # the Page itself: its posts, its replies
        message = raw.get("message")
        text = message.strip() if isinstance(message, str) else ""
        link = raw.get("permalink_url")
        parent = _obj(raw.get("parent"))
        comment = post_id is not None
        return IncomingMention(
            source=self.source,
            external_id=obj_id,
            text=text or NO_TEXT,
            author=str(sender.get("name") or "") or ANONYMOUS,
            url=link if isinstance(link, str) and link.startswith("https://") else None,
            created_at=created,
            extra={
                "object_id": obj_id,
                "kind": "comment" if comment else "post",
                "stream": stream,
                "post_id": post_id if comment else obj_id,
                "parent_id": parent.get("id") if isinstance(parent.get("id"), str) else None,
                "from_id": sender_id,
                "has_text": bool(text),
            },
        )

    # --- replying --------------------------------------------------------------------------

    def reply(self, target: ReplyTarget, text: str) -> ReplyResult:
        """Comment ``text`` under the mention, as the Page (``POST /{id}/comments``).

        Graph threads are two levels deep: a reply to a reply goes under its parent comment.
        """
        object_id = str(target.extra.get("parent_id") or target.external_id)
        try:
            body = self._call("POST", f"/{object_id}/comments", {}, data={"message": text})
        except GraphError as exc:
            raise ReplyError(str(exc), retryable=exc.retryable) from exc
        new_id = body.get("id")
        if not isinstance(new_id, str) or not new_id:
            raise ReplyError(f"{self.name}: Facebook answered without a comment id: {body!r}")
        link = body.get("permalink_url")
        return ReplyResult(external_id=new_id, url=link if isinstance(link, str) else None)


def _key(item: IncomingMention | ItemError) -> str:
    return item.external_id if isinstance(item, IncomingMention) else item.item_id


def _next_params(body: Mapping[str, Any], base: Mapping[str, str]) -> dict[str, str] | None:
    """The next page's query, from ``paging.next`` (absent on the last page), on our base URL."""
    link = _obj(body.get("paging")).get("next")
    if not isinstance(link, str) or not link:
        return None
    query = {k: v for k, v in parse_qsl(urlsplit(link).query) if k not in AUTH_PARAMS}
    return {**base, **query}
