"""What a sandbox visitor does, turned into what Slack would send the bot.

Each public method of :class:`Actions` answers one ``POST /api/<name>`` with the page's JSON
body: a click on a message, in a modal or in the App Home, a modal submitted or closed, a slash
command, a message typed in a channel or thread, the App Home tab opened, a citizen's post, and
the clock moved forward.
The Slack ones go through ``FakeSlack`` as signed requests, exactly as Slack would deliver
them; the bot's HTTP answer is checked and its useful part (modal errors, a command's reply)
handed back to the page. Anything the page got wrong is an :class:`ApiFailure` with the
status and message the page shows.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.sandbox.block_kit import message_problems
from bot.sandbox.fake_slack import JSON, FakeSlack, HttpResult
from bot.sandbox.ui.screen import CITIZEN_SOURCES, ApiFailure, Screen
from bot.sandbox.wire import dm_channel

TEXT_LIMIT = 5000
MAX_MINUTES = 60 * 24 * 366


class Actions:
    """The visitor's actions, each checked against the ``screen``'s people and channels."""

    def __init__(
        self,
        *,
        slack: FakeSlack,
        screen: Screen,
        bot_events_url: str,
        post_mention: Callable[..., None],
        advance_clock: Callable[[timedelta], object],
        now: Callable[[], datetime],
    ) -> None:
        self.slack, self.screen, self.events_url = slack, screen, bot_events_url
        self.post_mention, self.advance_clock, self.now = post_mention, advance_clock, now

    def click(self, body: JSON) -> JSON:
        """A click on a message in a channel."""
        where = {"channel": _str(body, "channel"), "ts": _str(body, "ts")}
        return self._click(self.slack.click, body, where)

    def click_ephemeral(self, body: JSON) -> JSON:
        """A click in a message only this person sees (a command's answer, a refusal)."""
        user = self.screen.person(body.get("user"))
        shown = self.screen.ephemeral(user, _str(body, "channel"), _str(body, "ts"))
        if shown is None:
            raise ApiFailure(404, "that message is gone")

        def send(url: str, **args: object) -> HttpResult:
            return self.slack.click_ephemeral(url, message=shown, **args)  # type: ignore[arg-type]

        return self._click(send, body, {})

    def home(self, body: JSON) -> JSON:
        """The person opens the app's Home tab: Slack tells the bot, which publishes it."""
        user = self.screen.person(body.get("user"))
        event: JSON = {"type": "app_home_opened", "user": user, "channel": dm_channel(user)}
        event |= {"tab": "home"}
        if (home := self.slack.home(user)) is not None:
            event["view"] = home  # Slack sends the tab's current view once there is one
        _check(self.slack.send_event(self.events_url, event))
        return {"ok": True}

    def click_view(self, body: JSON) -> JSON:
        """A click in the open modal or in the App Home (no channel, no message)."""
        user, view_id = self.screen.person(body.get("user")), _str(body, "view_id")
        home = self.slack.home(user)
        if not (home and home["id"] == view_id):
            self._open_view(user, view_id)
        return self._click(self.slack.click_view, body, {"view_id": view_id})

    def suggest(self, body: JSON) -> JSON:
        """The options of an external select in the open modal, as the bot answers them."""
        user, view_id = self.screen.person(body.get("user")), _str(body, "view_id")
        try:
            options = self.slack.suggest(
                self.events_url,
                user_id=user,
                view_id=view_id,
                action_id=_str(body, "action_id"),
                value=str(body.get("value") or "")[:200],  # what was typed: may be nothing
            )
        except LookupError as exc:
            raise ApiFailure(404, str(exc)) from None
        return {"ok": True, "options": options}

    def _click(self, send: Callable[..., HttpResult], body: JSON, where: JSON) -> JSON:
        value = body.get("value")
        try:
            result = send(
                self.events_url,
                user_id=self.screen.person(body.get("user")),
                action_id=_str(body, "action_id"),
                value=value if isinstance(value, str | list) else None,
                block_id=body.get("block_id") if isinstance(body.get("block_id"), str) else None,
                **where,
            )
        except LookupError as exc:
            raise ApiFailure(404, str(exc)) from None
        except ValueError as exc:
            raise ApiFailure(400, str(exc)) from None
        _check(result)
        return {"ok": True}

    def submit(self, body: JSON) -> JSON:
        user, view_id = self.screen.person(body.get("user")), _str(body, "view_id")
        self._open_view(user, view_id)
        values = body.get("values") or {}
        if not isinstance(values, dict) or not all(isinstance(v, dict) for v in values.values()):
            raise ApiFailure(400, "values must be {block_id: {action_id: value}}")
        try:
            result = self.slack.submit_view(
                self.events_url, user_id=user, view_id=view_id, values=values
            )
        except (LookupError, ValueError) as exc:
            raise ApiFailure(400, str(exc)) from None
        _check(result)
        answer = _json(result)
        errors = answer.get("errors") if answer.get("response_action") == "errors" else None
        still_open = any(v["id"] == view_id for v in self.slack.view_stack(user))
        return {"ok": True, "errors": errors or {}, "open": still_open}

    def close(self, body: JSON) -> JSON:
        user, view_id = self.screen.person(body.get("user")), _str(body, "view_id")
        self._open_view(user, view_id)
        result = self.slack.close_view(self.events_url, user_id=user, view_id=view_id)
        if result is not None:
            _check(result)
        return {"ok": True}

    def command(self, body: JSON) -> JSON:
        user = self.screen.person(body.get("user"))
        channel = self.screen.channel(body.get("channel"))
        command, _, text = _str(body, "text", TEXT_LIMIT).strip().partition(" ")
        if command != "/engage":
            raise ApiFailure(400, f"{command} is not a valid command here: try /engage help")
        result = self.slack.slash_command(
            self.events_url, user_id=user, channel=channel, command=command, text=text.strip()
        )
        if result.status != 200:
            raise ApiFailure(502, f'{command} failed with the error "dispatch_failed"')
        answer = _json(result) or ({"text": result.body} if result.body.strip() else {})
        if "blocks" in answer and message_problems(answer["blocks"]):  # as Slack shows it
            raise ApiFailure(502, f'{command} failed with the error "invalid_blocks"')
        if answer.get("text") or answer.get("blocks"):  # the ack: shown only to the user
            shown: JSON = {"user": user, "channel": channel, "ts": f"{time.time():.6f}"}
            shown |= {"text": str(answer.get("text") or "")}
            shown |= {"blocks": answer["blocks"]} if isinstance(answer.get("blocks"), list) else {}
            self.screen.add_answer(shown)
        return {"ok": True}

    def message(self, body: JSON) -> JSON:
        user = self.screen.person(body.get("user"))
        channel = self.screen.channel(body.get("channel"))
        text = _str(body, "text", TEXT_LIMIT).strip()
        thread_ts = body.get("thread_ts") if isinstance(body.get("thread_ts"), str) else None
        if thread_ts and self.slack.message(channel, thread_ts) is None:
            raise ApiFailure(404, "that thread is gone")
        # Slack stores what people type escaped, as it does for everything it sends to apps.
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        result = self.slack.post_user_message(
            self.events_url, user_id=user, channel=channel, text=text, thread_ts=thread_ts
        )
        _check(result)
        return {"ok": True, "ts": result.sent.get("event", {}).get("ts")}

    def citizen(self, body: JSON) -> JSON:
        source = _str(body, "source")
        if source not in CITIZEN_SOURCES:
            raise ApiFailure(400, f"unknown source {source!r}: one of {', '.join(CITIZEN_SOURCES)}")
        text = _str(body, "text", TEXT_LIMIT).strip()
        author = str(body.get("author") or "").strip()[:200] or CITIZEN_SOURCES[source]
        title = str(body.get("title") or "").strip()[:300] or None
        if not text:
            raise ApiFailure(400, "write what the citizen says")
        self.post_mention(source=source, author=author, text=text, title=title)
        return {"ok": True}

    def clock(self, body: JSON) -> JSON:
        minutes = body.get("minutes")
        if isinstance(minutes, bool) or not isinstance(minutes, int | float):
            raise ApiFailure(400, "minutes must be a number")
        if not 0 < minutes <= MAX_MINUTES:
            raise ApiFailure(400, f"minutes must be between 0 and {MAX_MINUTES}")
        ran = self.advance_clock(timedelta(minutes=minutes))
        counts: dict[str, int] = {}  # how often each scheduled job ran on the way
        for _, job in ran if isinstance(ran, list) else []:
            counts[job] = counts.get(job, 0) + 1
        return {"ok": True, "now": self.now().isoformat(), "ran": counts}

    def _open_view(self, user: str, view_id: str) -> None:
        if not any(v["id"] == view_id for v in self.slack.view_stack(user)):
            raise ApiFailure(404, "that modal is not open any more")


def _str(body: JSON, key: str, limit: int = 200) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise ApiFailure(400, f"{key} is required")
    if len(value) > limit:
        raise ApiFailure(400, f"{key} is too long (at most {limit} characters)")
    return value


def _json(result: HttpResult) -> JSON:
    try:
        answer = result.json() if result.body.strip() else {}
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def _check(result: HttpResult) -> None:
    if result.status != 200:
        raise ApiFailure(502, f"the bot answered HTTP {result.status}: {result.body[:200]}")
