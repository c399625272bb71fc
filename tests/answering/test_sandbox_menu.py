"""The sandbox page's saved-reply menu: its options are loaded through the page's API (a
signed ``block_suggestion`` to the bot), and choosing one fills the open Answered modal."""

from __future__ import annotations

from bot.sandbox.fake_slack import wait_until
from tests.sandbox.test_sandbox_api import (  # noqa: F401  (start: the fixture)
    ALEX,
    PARKS,
    Start,
    _card,
    _click,
    _post,
    _state,
    start,
)


def test_the_sandbox_loads_the_menu_and_fills_the_modal(start: Start) -> None:  # noqa: F811
    sandbox, client = start()
    assert sandbox.bot is not None
    saved = sandbox.bot.answering.saved
    doc = {"title": "Slide repair", "text": "Thanks {author}!", "department": "parks"}
    assert saved.save(user="U0COMMS01", doc=doc, reply_id=None, token=None, request_key="k").ok
    _post(client, "citizen", {"source": "mastodon", "text": "The playground slide is broken"})
    card = _card(client, PARKS, "playground slide")
    _click(client, ALEX, card, "engage.answered")
    modal = _state(client, ALEX)["modal"]
    body = {"user": ALEX, "view_id": modal["id"], "action_id": "engage.answer.saved_reply"}
    options = _post(client, "suggest", body | {"value": ""})["options"]
    assert [o["text"]["text"] for o in options] == ["Slide repair · Parks and Recreation"]
    chosen = body | {"value": options[0]["value"], "block_id": "engage.answer.saved"}
    _post(client, "click_view", chosen)

    def filled() -> str:
        blocks = _state(client, ALEX)["modal"]["blocks"]
        texts = [b for b in blocks if b.get("block_id", "").startswith("engage.answer.text.")]
        return str(texts[0]["element"].get("initial_value", "")) if texts else ""

    assert wait_until(filled, timeout=10).startswith("Thanks ")
