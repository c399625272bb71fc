"""The sandbox's JSON API (what the page calls), against a real ``Sandbox``: the bot on SQLite,
the fake Slack and the page's server, all on loopback. No browser here (see
``test_sandbox_browser``); the page's requests are made with httpx.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.config.file import load_config
from bot.sandbox.fake_slack import wait_until
from bot.sandbox.run import Sandbox

TRIAGE, PW, PARKS, TRANSPORT = "C0TRIAGE01", "C0PUBWORKS", "C0PARKS001", "C0TRANSP01"
ALEX, BLAIR = "U0STAFF001", "U0STAFF002"
Start = Callable[..., tuple[Sandbox, httpx.Client]]


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Start]:
    """Start sandboxes on free ports (seed=False unless asked); all are stopped afterwards."""
    started: list[tuple[Sandbox, httpx.Client]] = []

    def run(*, seed: bool = False) -> tuple[Sandbox, httpx.Client]:
        db = tmp_path / f"sandbox-{len(started)}.db"
        sandbox = Sandbox(load_config(None), port=0, seed=seed, database=db)
        client = httpx.Client(timeout=20)
        started.append((sandbox, client))
        client.base_url = httpx.URL(sandbox.start())
        return sandbox, client

    yield run
    for sandbox, client in started:
        client.close()
        sandbox.stop()


def _state(client: httpx.Client, user: str = ALEX, **params: str) -> dict[str, Any]:
    response = client.get("/api/state", params={"user": user, **params})
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    assert data["ok"] is True
    return data


def _messages(client: httpx.Client, channel: str, user: str = ALEX) -> list[dict[str, Any]]:
    found = [c for c in _state(client, user)["channels"] if c["id"] == channel]
    assert found, f"no channel {channel}"
    messages: list[dict[str, Any]] = found[0]["messages"]
    return messages


def _post(client: httpx.Client, path: str, body: dict[str, Any], status: int = 200) -> Any:
    response = client.post(f"/api/{path}", json=body)
    assert response.status_code == status, response.text
    data = response.json()
    assert data["ok"] is (status == 200), data
    return data


def _card(client: httpx.Client, channel: str, text: str) -> dict[str, Any]:
    def find() -> dict[str, Any]:
        return next((m for m in _messages(client, channel) if text in m["text"]), {})

    card: dict[str, Any] = wait_until(find, timeout=10)
    return card


def _status(card: dict[str, Any]) -> str:
    block = next(b for b in card["blocks"] if b["block_id"] == "engage.card.status")
    return str(block["elements"][0]["text"])


def _buttons(card: dict[str, Any]) -> list[str]:
    actions = [b for b in card["blocks"] if b["type"] == "actions"]
    return [e["text"]["text"] for b in actions for e in b["elements"]]


def _click(client: httpx.Client, user: str, card: dict[str, Any], action: str) -> Any:
    body = {"user": user, "channel": card["channel"], "ts": card["ts"], "action_id": action}
    return _post(client, "click", body)


def _fresh(client: httpx.Client, card: dict[str, Any], user: str = ALEX) -> dict[str, Any]:
    return next(m for m in _messages(client, card["channel"], user) if m["ts"] == card["ts"])


def test_the_sample_mentions_arrive_as_cards_in_their_channels(start: Start) -> None:
    _, client = start(seed=True)
    expected = {
        PW: ["pothole the size of a bathtub", "street light outside 42 Oak Avenue"],
        PARKS: ["playground swings at Riverside Park"],
        TRANSPORT: ["Bus route 12 skipped my stop"],
        TRIAGE: ["next council meeting"],
    }
    for channel, texts in expected.items():
        for text in texts:
            card = _card(client, channel, text)
            assert card["bot"] is True
            assert _buttons(card)[0] == "Claim"
            assert "Unclaimed" in _status(card)
    state = _state(client)
    assert [c["id"] for c in state["channels"]] == [TRIAGE, PW, PARKS, TRANSPORT]
    assert {p["role"] for p in state["people"]} == {"staff", "lead", "comms", "app"}
    assert {s["id"] for s in state["sources"]} >= {"mastodon", "open311", "x", "facebook"}
    assert state["modal"] is None and state["home"] is None and state["ephemerals"] == []
    # Nothing changed: same version, so the page need not redraw.
    assert _state(client)["version"] == state["version"]


def test_the_page_and_its_assets_are_served_locally(start: Start) -> None:
    _, client = start()
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "/static/app.js" in page.text and "http" not in page.text.replace("http-equiv", "")
    for name, kind in [("app.js", "javascript"), ("blocks.js", "javascript"), ("style.css", "css")]:
        asset = client.get(f"/static/{name}")
        assert asset.status_code == 200 and kind in asset.headers["content-type"]
    missing = client.get("/static/../ui.py")
    assert missing.status_code == 404 and missing.json()["ok"] is False
    assert client.get("/api/state", params={"user": "U0NOBODY"}).status_code == 400
    # POSTs must be JSON: a form posted from another web site is refused.
    form = client.post("/api/clock", data={"minutes": "5"})
    assert form.status_code == 415 and form.json() == {
        "ok": False,
        "error": "send application/json",
    }
    _post(client, "no-such-thing", {}, status=404)


def test_a_citizen_post_becomes_a_card_in_the_routed_channel(start: Start) -> None:
    _, client = start()
    body = {"source": "open311", "author": "Lee", "title": "Street defect", "text": "Pothole <b>"}
    _post(client, "citizen", body)
    card = _card(client, PW, "Pothole")
    section = card["blocks"][0]["text"]["text"]
    assert section == "*Street defect*\nPothole &lt;b&gt;"  # escaped by the bot, as in Slack
    assert "311 request" in card["blocks"][1]["elements"][0]["text"]
    _post(client, "citizen", {"source": "x", "text": "Lovely new benches downtown"})
    assert "@maria_downtown" in _card(client, TRIAGE, "benches")["blocks"][1]["elements"][0]["text"]
    _post(client, "citizen", {"source": "myspace", "text": "hi"}, status=400)
    _post(client, "citizen", {"source": "email", "text": "   "}, status=400)


def test_claim_refusal_answer_and_modal_errors(start: Start) -> None:
    sandbox, client = start()
    _post(client, "citizen", {"source": "mastodon", "text": "The playground slide is broken"})
    card = _card(client, PARKS, "playground slide")

    # Slack is slow to update the card (rate limited), so blair still sees Claim and clicks it.
    sandbox.slack.fail_next("chat.update", status=429, retry_after=1)
    _click(client, ALEX, card, "engage.claim")
    _click(client, BLAIR, card, "engage.claim")
    refusal = wait_until(lambda: _state(client, BLAIR)["ephemerals"], timeout=10)
    assert refusal[0]["text"] == f"Already claimed by <@{ALEX}>."
    assert refusal[0]["channel"] == PARKS and refusal[0]["ephemeral"] is True
    assert _state(client, ALEX)["ephemerals"] == []  # only blair sees it
    wait_until(lambda: "Claimed by" in _status(_fresh(client, card)), timeout=10)
    assert _status(_fresh(client, card)) == f":raising_hand: Claimed by <@{ALEX}>."
    # Now the button is gone: clicking it is an error, as the fake Slack has no such element.
    stale = {"user": BLAIR, "channel": PARKS, "ts": card["ts"], "action_id": "engage.claim"}
    gone = _post(client, "click", stale, status=404)
    assert "engage.claim" in gone["error"]

    # The no-action form's note: Slack itself adds "(optional)" to an optional field's label.
    _click(client, ALEX, card, "engage.dismiss")
    dismiss = _state(client, ALEX)["modal"]
    [note] = [b for b in dismiss["blocks"] if b.get("block_id") == "engage.note"]
    assert note["optional"] is True and note["label"]["text"] == "Note"
    _post(client, "close", {"user": ALEX, "view_id": dismiss["id"]})

    # Both open the answer modal; each sees only their own.
    _click(client, ALEX, card, "engage.answered")
    _click(client, BLAIR, card, "engage.answered")
    modal = _state(client, ALEX)["modal"]
    other = _state(client, BLAIR)["modal"]
    assert modal["callback_id"] == "engage.answer_modal" and modal["id"] != other["id"]
    assert modal["title"]["text"] == "Mark as answered" and modal["depth"] == 1
    inputs = [b for b in modal["blocks"] if b["type"] == "input"]
    assert inputs[0]["element"]["type"] == "plain_text_input" and inputs[0]["element"]["multiline"]

    values = {"engage.answer.text": {"answer_text": "Fixed tomorrow, thanks!"}}
    done = _post(client, "submit", {"user": ALEX, "view_id": modal["id"], "values": values})
    assert done == {"ok": True, "errors": {}, "open": False}
    assert _state(client, ALEX)["modal"] is None
    wait_until(lambda: "Answered by" in _status(_fresh(client, card)), timeout=10)

    # blair submits too late: the modal stays open with the bot's error on the field.
    late = _post(client, "submit", {"user": BLAIR, "view_id": other["id"], "values": values})
    assert late["open"] is True
    assert late["errors"] == {"engage.answer.text": f"Already answered by @{ALEX}."}
    assert _state(client, BLAIR)["modal"]["id"] == other["id"]
    _post(client, "close", {"user": BLAIR, "view_id": other["id"]})
    assert _state(client, BLAIR)["modal"] is None
    _post(client, "close", {"user": BLAIR, "view_id": other["id"]}, status=404)

    def replies() -> list[str]:
        thread = client.get("/api/thread", params={"channel": PARKS, "ts": card["ts"]}).json()
        return [r["text"] for r in thread["replies"]] if len(thread["replies"]) >= 2 else []

    notes = wait_until(replies, timeout=10)  # thread notes are paced, one a second per channel
    assert notes[0] == f"<@{ALEX}> claimed this."
    assert notes[1] == f"<@{ALEX}> answered the citizen:\n> Fixed tomorrow, thanks!"


def test_a_reply_in_the_thread_claims_the_card(start: Start) -> None:
    _, client = start()
    _post(client, "citizen", {"source": "reddit", "text": "Trash bins overflowing on 3rd"})
    card = _card(client, PW, "Trash bins")
    body = {"user": BLAIR, "channel": PW, "thread_ts": card["ts"], "text": "On it <3 & more"}
    _post(client, "message", body)
    wait_until(lambda: "Claimed by" in _status(_fresh(client, card)), timeout=10)
    assert _status(_fresh(client, card)) == f":raising_hand: Claimed by <@{BLAIR}>."
    thread = _state(client, thread=f"{PW}:{card['ts']}")["thread"]
    assert thread["parent"]["ts"] == card["ts"]
    assert thread["replies"][0]["text"] == "On it &lt;3 &amp; more"  # stored as Slack stores it
    assert thread["replies"][0]["user"] == BLAIR and not thread["replies"][0]["bot"]
    assert _fresh(client, card)["reply_count"] >= 1


def test_the_slash_command_answers_only_the_one_who_typed_it(start: Start) -> None:
    _, client = start()
    _post(
        client, "command", {"user": ALEX, "channel": TRIAGE, "text": "/engage route-test dog park"}
    )
    answer = _state(client, ALEX)["ephemerals"]
    assert len(answer) == 1 and answer[0]["channel"] == TRIAGE
    assert answer[0]["text"].startswith("It would go to *Parks and Recreation* by rule *parks*")
    assert _state(client, BLAIR)["ephemerals"] == []
    _post(client, "command", {"user": ALEX, "channel": TRIAGE, "text": "/engage"})
    assert "*Engage* brings" in _state(client, ALEX)["ephemerals"][1]["text"]
    _post(client, "command", {"user": ALEX, "channel": TRIAGE, "text": "/giphy cats"}, status=400)
    _post(client, "command", {"user": ALEX, "channel": "C0NOWHERE", "text": "/engage"}, status=404)


def test_the_clock_moves_forward_only(start: Start) -> None:
    _, client = start()
    first = _state(client)
    before = datetime.fromisoformat(first["now"])
    moved = _post(client, "clock", {"minutes": 90})
    after = datetime.fromisoformat(moved["now"])
    assert moved["ran"]["nudge-sweep"] == 90 // 5  # at its own times, once in 5 minutes at most
    assert 90 * 60 <= (after - before).total_seconds() < 90 * 60 + 30
    # The sandbox may start ahead already (inside office hours); the move adds 90 minutes.
    ahead = _state(client)["offset_seconds"] - first["offset_seconds"]
    assert 90 * 60 - 5 <= ahead <= 90 * 60 + 5
    for bad in (-5, 0, "10", True, 10**9):
        _post(client, "clock", {"minutes": bad}, status=400)


def test_the_stand_in_answers_like_slack(start: Start) -> None:
    sandbox, _ = start()
    api = sandbox.slack.api_url
    good = {"Authorization": f"Bearer {sandbox.slack.bot_token}"}
    unknown = httpx.post(api + "no.such.method", headers=good, timeout=10)
    assert unknown.status_code == 404
    assert unknown.json() == {"ok": False, "error": "unknown_method"}
    post = {"channel": TRIAGE, "text": "hello"}
    bad = httpx.post(api + "chat.postMessage", json=post, headers={"Authorization": "Bearer x"})
    assert bad.status_code == 200 and bad.json() == {"ok": False, "error": "invalid_auth"}
    none = httpx.post(api + "chat.postMessage", json=post, timeout=10)
    assert none.json() == {"ok": False, "error": "not_authed"}
    ok = httpx.post(api + "chat.postMessage", json=post, headers=good, timeout=10).json()
    assert ok["ok"] is True and ok["channel"] == TRIAGE
    assert sandbox.slack.message(TRIAGE, ok["ts"]) is not None


def test_the_comms_team_manages_rules_in_the_sandbox(start: Start) -> None:
    _, client = start()
    comms = "U0COMMS01"
    _post(client, "command", {"user": comms, "channel": TRIAGE, "text": "/engage rules"})
    modal = _state(client, comms)["modal"]
    assert modal is not None and modal["title"]["text"] == "Routing rules"
    _post(
        client,
        "click_view",
        {"user": comms, "view_id": modal["id"], "action_id": "engage.rules.add"},
    )
    form = _state(client, comms)["modal"]
    assert form["title"]["text"] == "Add a rule" and form["depth"] == 2
    values = {
        "engage.rule.name": {"name": "snow"},
        "engage.rule.department": {"department": "public-works"},
        "engage.rule.keywords": {"keywords": "snow, plow*"},
    }
    answer = _post(client, "submit", {"user": comms, "view_id": form["id"], "values": values})
    assert answer["errors"] == {} and answer["open"] is False
    listing = _state(client, comms)["modal"]
    assert listing["id"] == modal["id"] and "Saved rule *snow*" in str(listing["blocks"])
    # Someone else cannot click in a modal that is not theirs, nor open the rules.
    _post(
        client,
        "click_view",
        {"user": ALEX, "view_id": modal["id"], "action_id": "engage.rules.add"},
        status=404,
    )
    _post(client, "command", {"user": ALEX, "channel": TRIAGE, "text": "/engage rules"})
    assert "Only the comms team" in _state(client, ALEX)["ephemerals"][-1]["text"]


def test_each_role_opens_its_app_home(start: Start) -> None:
    sandbox, client = start(seed=True)
    _card(client, PW, "pothole the size of a bathtub")
    for user in (ALEX, "U0LEADPW1", "U0COMMS01"):
        assert _state(client, user)["home"] is None  # Slack shows nothing before it is opened
        _post(client, "home", {"user": user})
        home = _state(client, user)["home"]
        assert home is not None and home["type"] == "home" and home["blocks"]
        assert "pothole" in str(home["blocks"])  # what waits in the channels
    # Opened again, the tab is published again (fresh), for that person only.
    _post(client, "home", {"user": ALEX})
    assert len([c for c in sandbox.slack.calls_to("views.publish")]) == 4
    _post(client, "home", {"user": "U0NOBODY"}, status=400)


def test_a_summary_posted_from_its_ephemeral_shows_its_chart_image(start: Start) -> None:
    _, client = start(seed=True)
    lead = "U0LEADPW1"
    _card(client, PW, "pothole the size of a bathtub")
    _post(client, "command", {"user": lead, "channel": PW, "text": "/engage summary"})
    [answer] = _state(client, lead)["ephemerals"]
    assert answer["text"].startswith(":bar_chart:")
    click = {"user": lead, "channel": PW, "ts": answer["ts"], "action_id": "engage.post_summary"}
    _post(client, "click_ephemeral", click | {"user": ALEX}, status=404)  # not alex's to click
    _post(client, "click_ephemeral", click)

    def shared() -> dict[str, Any]:
        return next((m for m in _messages(client, PW) if m.get("files")), {})

    message: dict[str, Any] = wait_until(shared, timeout=10)
    [image] = message["files"]
    assert image["mimetype"] == "image/png" and "chart" in image["alt_txt"].lower()
    png = client.get(image["url"])
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG")
    assert client.get("/api/file/F0NOSUCH").status_code == 404
    assert any("summary for this week" in m["text"] for m in _messages(client, PW))


def test_a_temporary_database_is_removed_when_the_sandbox_stops(tmp_path: Path) -> None:
    sandbox = Sandbox(load_config(None), port=0, seed=False)
    folder = sandbox.database.parent
    assert folder.name.startswith("engage-sandbox-") and folder.is_dir()
    sandbox.start()
    sandbox.stop()
    assert not folder.exists()


def test_engage_sandbox_cleans_up_on_ctrl_c_and_sigterm(tmp_path: Path) -> None:
    engage = Path(sys.executable).parent / "engage"
    started = []
    for signal_ in (signal.SIGINT, signal.SIGTERM):  # both at once: each start takes seconds
        folder = tmp_path / signal_.name
        folder.mkdir()
        process = subprocess.Popen(
            [str(engage), "sandbox", "--port", "0", "--no-samples"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "TMPDIR": str(folder), "ENGAGE_CONFIG": ""},
            cwd=folder,
            text=True,
        )
        started.append((process, folder, signal_))
    for process, folder, signal_ in started:
        with process:
            assert process.stdout is not None
            assert "open http://127.0.0.1:" in process.stdout.readline()
            assert [p.name[:15] for p in folder.iterdir()] == ["engage-sandbox-"]
            process.send_signal(signal_)
            assert process.wait(timeout=20) == 0, signal_.name
        assert list(folder.iterdir()) == [], signal_.name


def test_answering_on_someone_elses_claim_is_allowed_and_said(start: Start) -> None:
    _, client = start()
    _post(client, "citizen", {"source": "mastodon", "text": "The park fountain leaks"})
    card = _card(client, PARKS, "park fountain")
    _click(client, ALEX, card, "engage.claim")
    wait_until(lambda: "Claimed by" in _status(_fresh(client, card)), timeout=10)
    _click(client, BLAIR, card, "engage.answered")
    modal = _state(client, BLAIR)["modal"]
    values = {"engage.answer.text": {"answer_text": "A plumber is on the way."}}
    done = _post(client, "submit", {"user": BLAIR, "view_id": modal["id"], "values": values})
    assert done["errors"] == {} and done["open"] is False
    on_claim = f"Answered by <@{BLAIR}> on <@{ALEX}>'s claim."
    wait_until(lambda: on_claim in _status(_fresh(client, card)), timeout=10)

    def note() -> str:
        thread = client.get("/api/thread", params={"channel": PARKS, "ts": card["ts"]}).json()
        return next((r["text"] for r in thread["replies"] if "answered" in r["text"]), "")

    said = wait_until(note, timeout=10)
    assert said.startswith(f"<@{BLAIR}> answered the citizen on <@{ALEX}>'s claim:")
