"""The fake Slack refuses Block Kit as Slack does: each rule the validator enforces is shown
refusing one thing, with Slack's JSON pointer, and the fake answers refusals in Slack's words
(``invalid_blocks`` for messages, ``invalid_arguments`` for views) through the real
``slack_sdk`` client, a ``response_url``, a submission's ``response_action`` and a slash
command's answer.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.sandbox.block_kit import errors_problems, message_problems, refusal, view_problems
from bot.sandbox.fake_slack import FakeSlack

JSON = dict[str, Any]
CHANNEL = "C0CARDS"


def plain(text: str) -> JSON:
    return {"type": "plain_text", "text": text}


def mrkdwn(text: str) -> JSON:
    return {"type": "mrkdwn", "text": text}


def button(action_id: str, text: str = "Go", **more: Any) -> JSON:
    return {"type": "button", "action_id": action_id, "text": plain(text), **more}


def options(count: int, text: str = "Option") -> list[JSON]:
    return [{"text": plain(f"{text} {i}"), "value": f"v{i}"} for i in range(count)]


def select(**more: Any) -> JSON:
    return {"type": "static_select", "action_id": "pick", "options": options(3), **more}


def input_block(element: JSON, **more: Any) -> JSON:
    return {"type": "input", "block_id": "in", "label": plain("Label"), "element": element, **more}


def modal(*blocks: JSON, **more: Any) -> JSON:
    view = {"type": "modal", "title": plain("Title"), "submit": plain("Save"), **more}
    return view | {"blocks": list(blocks) or [{"type": "divider"}]}


OVERFLOW = {"type": "overflow", "action_id": "menu", "options": options(5)}
IMAGE = {"type": "image", "image_url": "https://example.org/i.png", "alt_text": "i"}
# Everything Engage uses, and then some: all of it must pass.
VALID_MESSAGE: list[JSON] = [
    {"type": "header", "text": plain("Head") | {"emoji": True}},
    {"type": "section", "block_id": "a", "text": mrkdwn("*x*") | {"verbatim": True}},
    {"type": "section", "fields": [mrkdwn("one"), plain("two")], "accessory": select()},
    {"type": "section", "text": mrkdwn("menu"), "accessory": OVERFLOW},
    {"type": "context", "elements": [mrkdwn("c"), IMAGE]},
    {"type": "divider", "block_id": "b"},
    {
        "type": "actions",
        "elements": [
            button("one", style="primary", value="1"),
            button("two", url="https://example.org", style="danger"),
            {
                "type": "checkboxes",
                "action_id": "c",
                "options": [{"text": mrkdwn("*m*"), "value": "m"}],
            },
            {"type": "datepicker", "action_id": "d", "initial_date": "2026-11-23"},
        ],
    },
]


def test_what_engage_sends_passes() -> None:
    assert message_problems(VALID_MESSAGE) == []
    view = modal(
        input_block({"type": "plain_text_input", "action_id": "t", "max_length": 10}),
        input_block(
            {"type": "number_input", "action_id": "n", "is_decimal_allowed": False}
            | {"initial_value": "-3"},
            block_id="num",
            hint=plain("h"),
            optional=True,
        ),
        input_block(select(initial_option=options(3)[1]), block_id="sel"),
        input_block(
            {"type": "multi_static_select", "action_id": "m", "options": options(2)}
            | {"initial_options": options(2)},
            block_id="multi",
        ),
        private_metadata="{}",
        callback_id="cb",
        close=plain("Cancel"),
    )
    assert view_problems(view, "modal") == []
    home = {"type": "home", "blocks": VALID_MESSAGE[:3], "private_metadata": "x"}
    assert view_problems(home, "home") == []


def act(*elements: JSON) -> list[JSON]:
    """One actions block holding ``elements``."""
    return [{"type": "actions", "elements": list(elements)}]


def sec(text: JSON, **more: Any) -> list[JSON]:
    """One section block with ``text``."""
    return [{"type": "section", "text": text, **more}]


def opt(text: JSON | str = "o", value: str = "o", **more: Any) -> JSON:
    return {"text": plain(text) if isinstance(text, str) else text, "value": value, **more}


B0, E0 = "/blocks/0", "/blocks/0/elements/0"
DIALOG = {"title": plain("t" * 101), "text": mrkdwn("t"), "confirm": plain("y"), "deny": plain("n")}
ONE_BUTTON = [button("snooze"), button("snooze", "Later")]
P = pytest.param
MESSAGE_CASES = [
    P(
        act(*ONE_BUTTON),
        f"{B0}/elements/1/action_id",
        "duplicate action_id: snooze",
        id="dup-action",
    ),
    P([{"type": "divider", "block_id": "x"}] * 2, "/blocks/1/block_id", "duplicate block_id: x"),
    P([{"type": "divider"}] * 51, "/blocks", "no more than 50 items allowed", id="51-blocks"),
    P({"type": "divider"}, "/blocks", "must provide an array", id="not-array"),
    P(["divider"], B0, "must provide an object", id="not-object"),
    P([{"type": "banner"}], f"{B0}/type", "unsupported type: banner", id="unknown-block"),
    P([{"text": mrkdwn("x")}], B0, "missing required field: type", id="no-type"),
    P([{"type": "divider", "block_id": "b" * 256}], f"{B0}/block_id", "less than 256"),
    P(sec(mrkdwn("x" * 3001)), f"{B0}/text/text", "must be less than 3001 characters"),
    P(sec(mrkdwn("")), f"{B0}/text/text", "must be more than 0 characters", id="empty-text"),
    P([{"type": "section"}], B0, "must define either `text` or `fields`", id="bare-section"),
    P([{"type": "section", "fields": [mrkdwn("f")] * 11}], f"{B0}/fields", "no more than 10"),
    P([{"type": "section", "fields": [mrkdwn("f" * 2001)]}], f"{B0}/fields/0/text", "than 2001"),
    P(sec({"type": "html", "text": "x"}), f"{B0}/text/type", "unsupported type: html"),
    P(sec(mrkdwn("x") | {"emoji": True}), f"{B0}/text/emoji", "only allowed on plain_text"),
    P(sec(plain("x") | {"verbatim": True}), f"{B0}/text/verbatim", "only allowed on mrkdwn"),
    P([{"type": "header", "text": mrkdwn("x")}], f"{B0}/text/type", "must be plain_text"),
    P([{"type": "header", "text": plain("h" * 151)}], f"{B0}/text/text", "less than 151"),
    P([{"type": "context", "elements": [mrkdwn("c")] * 11}], f"{B0}/elements", "no more than 10"),
    P([{"type": "context", "elements": []}], f"{B0}/elements", "at least 1", id="empty-context"),
    P(act(*[button(f"b{i}") for i in range(26)]), f"{B0}/elements", "no more than 25"),
    P(act(), f"{B0}/elements", "at least 1", id="empty-actions"),
    P(act({"type": "plain_text_input"}), f"{E0}/type", "unsupported type", id="input-in-actions"),
    P(act(button("b", "x" * 76)), f"{E0}/text/text", "less than 76", id="button-text-76"),
    P(act(button("b") | {"text": mrkdwn("b")}), f"{E0}/text/type", "must be plain_text"),
    P(act({"type": "button"}), E0, "missing required field: text", id="button-no-text"),
    P(act(button("b", value="v" * 2001)), f"{E0}/value", "less than 2001", id="value-2001"),
    P(act(button("b", url="u" * 3001)), f"{E0}/url", "less than 3001", id="url-3001"),
    P(act(button("a" * 256)), f"{E0}/action_id", "less than 256", id="action-id-256"),
    P(act(button("b", style="warning")), f"{E0}/style", "primary, danger", id="style"),
    P(act(button("b", accessibility_label="l" * 76)), f"{E0}/accessibility_label", "than 76"),
    P(act(button("b", confirm=DIALOG)), f"{E0}/confirm/title/text", "less than 101"),
    P(act(select(options=options(101))), f"{E0}/options", "no more than 100 items allowed"),
    P(act(select(options=[])), f"{E0}/options", "at least 1", id="no-options"),
    P(act(select(option_groups=[])), E0, "exactly one of", id="options-and-groups"),
    P(act(select(options=[opt("o" * 76)])), f"{E0}/options/0/text/text", "less than 76"),
    P(act(select(options=[opt(value="v" * 151)])), f"{E0}/options/0/value", "less than 151"),
    P(act(select(options=[{"text": plain("o")}])), f"{E0}/options/0", "field: value"),
    P(act(select(options=[opt(mrkdwn("o"))])), f"{E0}/options/0/text/type", "must be plain"),
    P(act(select(options=[opt(url="https://x")])), f"{E0}/options/0/url", "allowed in overflow"),
    P(act(select(initial_option=opt("z"))), f"{E0}/initial_option", "must match an option"),
    P(act(select(placeholder=plain("p" * 151))), f"{E0}/placeholder/text", "less than 151"),
    P(act(select(initial_option=None)), f"{E0}/initial_option", "must provide an object"),
    P(
        sec(mrkdwn("x"), accessory=OVERFLOW | {"options": options(6)}),
        f"{B0}/accessory/options",
        "no more than 5",
    ),
    P(act({"type": "checkboxes", "options": options(11)}), f"{E0}/options", "no more than 10"),
    P(
        act({"type": "checkboxes", "options": options(2), "initial_options": options(3)[2:]}),
        f"{E0}/initial_options/0",
        "must match an option",
        id="checkbox-not-offered",
    ),
    P(act({"type": "datepicker", "initial_date": "23/11/2026"}), f"{E0}/initial_date", "YYYY-MM"),
    P([{"type": "image", "image_url": "https://i"}], B0, "missing required field: alt_text"),
]


@pytest.mark.parametrize(("blocks", "pointer", "message"), MESSAGE_CASES)
def test_a_message_slack_would_refuse_is_refused(blocks: Any, pointer: str, message: str) -> None:
    problems = message_problems(blocks)
    assert any(p.pointer == pointer and message in p.message for p in problems), problems


def no_submit(view: JSON) -> JSON:
    return {k: v for k, v in view.items() if k != "submit"}


TEXT_INPUT = {"type": "plain_text_input", "action_id": "t"}
V0 = "/view/blocks/0"
VIEW_CASES = [
    P(modal(title=plain("t" * 25)), "modal", "/view/title/text", "less than 25", id="title-25"),
    P({"type": "modal", "blocks": []}, "modal", "/view", "missing required field: title"),
    P(modal(title=mrkdwn("t")), "modal", "/view/title/type", "must be plain_text", id="md-title"),
    P(modal(submit=plain("s" * 25)), "modal", "/view/submit/text", "less than 25", id="submit-25"),
    P(modal(close=plain("c" * 25)), "modal", "/view/close/text", "less than 25", id="close-25"),
    P(no_submit(modal(input_block(TEXT_INPUT))), "modal", "/view", "must define `submit`"),
    P(modal(*[{"type": "divider"}] * 101), "modal", "/view/blocks", "no more than 100 items"),
    P({"type": "modal", "title": plain("t")}, "modal", "/view", "missing required field: blocks"),
    P(modal(private_metadata="m" * 3001), "modal", "/view/private_metadata", "less than 3001"),
    P(modal(callback_id="c" * 256), "modal", "/view/callback_id", "less than 256", id="cb-256"),
    P(modal(external_id="e" * 256), "modal", "/view/external_id", "less than 256", id="ext-256"),
    P({"type": "home", "blocks": []}, "modal", "/view/type", "unsupported type: home"),
    P(modal(), "home", "/view/type", "unsupported type: modal", id="modal-as-home"),
    P({"type": "home", "blocks": [], "submit": plain("s")}, "home", "/view/submit", "cannot have"),
    P(modal({"type": "markdown", "text": "x"}), "modal", f"{V0}/type", "unsupported type"),
    P(modal({"type": "input", "element": TEXT_INPUT}), "modal", V0, "field: label"),
    P(modal(input_block(TEXT_INPUT, label=mrkdwn("l"))), "modal", f"{V0}/label/type", "plain"),
    P(modal({"type": "input", "label": plain("l")}), "modal", V0, "field: element"),
    P(modal(input_block(button("b"))), "modal", f"{V0}/element/type", "unsupported type"),
    P(modal(input_block(TEXT_INPUT, hint=plain("h" * 2001))), "modal", f"{V0}/hint/text", "2001"),
    P(
        modal(input_block(TEXT_INPUT | {"max_length": 3001})),
        "modal",
        f"{V0}/element/max_length",
        "from 1 to 3000",
        id="max-length-3001",
    ),
    P(
        modal(input_block(TEXT_INPUT | {"min_length": 5, "max_length": 2})),
        "modal",
        f"{V0}/element/min_length",
        "more than max_length",
        id="min-above-max",
    ),
    P(
        modal(input_block({"type": "number_input"})),
        "modal",
        f"{V0}/element",
        "missing required field: is_decimal_allowed",
        id="number-kind",
    ),
    P(
        modal(
            input_block(
                {"type": "number_input", "is_decimal_allowed": False} | {"initial_value": "1.5"}
            )
        ),
        "modal",
        f"{V0}/element/initial_value",
        "a number",
        id="not-a-number",
    ),
]


@pytest.mark.parametrize(("view", "kind", "pointer", "message"), VIEW_CASES)
def test_a_view_slack_would_refuse_is_refused(
    view: JSON, kind: str, pointer: str, message: str
) -> None:
    problems = view_problems(view, kind)
    assert any(p.pointer == pointer and message in p.message for p in problems), problems


def test_a_submissions_errors_must_name_its_input_blocks() -> None:
    view = modal(input_block({"type": "plain_text_input"}), {"type": "divider", "block_id": "d"})
    assert errors_problems({"in": "Too short"}, view) == []
    assert [p.pointer for p in errors_problems({"d": "x", "nope": "y"}, view)] == [
        "/errors/d",
        "/errors/nope",
    ]
    assert [str(p) for p in errors_problems({}, view)] == [
        "must provide at least 1 error [json-pointer:/errors]"
    ]
    assert errors_problems(["in"], view)[0].message == "must provide an object"


def test_refusals_read_as_slacks() -> None:
    problems = message_problems([{"type": "section", "text": mrkdwn("x" * 3001)}])
    assert refusal("invalid_blocks", problems) == {
        "error": "invalid_blocks",
        "errors": ["must be less than 3001 characters [json-pointer:/blocks/0/text/text]"],
        "response_metadata": {
            "messages": [
                "[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]"
            ]
        },
    }
    views = refusal("invalid_arguments", view_problems(modal(title=plain("t" * 25))))
    assert views["response_metadata"]["messages"] == [
        "[ERROR] failed to match all allowed schemas [json-pointer:/view]",
        "[ERROR] must be less than 25 characters [json-pointer:/view/title/text]",
    ]
    assert "errors" not in views


# --------------------------------------------------------------------------- the fake's answers
@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as slack:
        yield slack


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(token="xoxb-test", base_url=fake.api_url, retry_handlers=[])


@dataclass
class Bot:
    """A bot endpoint that answers every request with the last of ``replies``."""

    url: str = ""
    replies: list[bytes] = field(default_factory=lambda: [b""])
    received: list[JSON] = field(default_factory=list)


@pytest.fixture
def bot() -> Iterator[Bot]:
    stub = Bot()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
            stub.received.append(json.loads(form["payload"][0]) if "payload" in form else {})
            body = stub.replies[-1]
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    Thread(target=server.serve_forever, daemon=True).start()
    stub.url = f"http://127.0.0.1:{server.server_address[1]}/slack/events"
    yield stub
    server.shutdown()
    server.server_close()


SNOOZES = [
    {"type": "actions", "elements": [button("engage.snooze"), button("engage.snooze", "Tomorrow")]}
]


def test_messages_with_refused_blocks_get_invalid_blocks_and_change_nothing(
    client: WebClient, fake: FakeSlack
) -> None:
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel=CHANNEL, text="reminder", blocks=SNOOZES)
    answer = err.value.response.data
    assert isinstance(answer, dict) and answer["error"] == "invalid_blocks"
    pointer = "[json-pointer:/blocks/0/elements/1/action_id]"
    assert answer["errors"] == [f"duplicate action_id: engage.snooze {pointer}"]
    assert answer["response_metadata"]["messages"] == [
        f"[ERROR] duplicate action_id: engage.snooze {pointer}"
    ]
    assert fake.messages(CHANNEL) == []

    ts = client.chat_postMessage(channel=CHANNEL, text="card", blocks=VALID_MESSAGE)["ts"]
    with pytest.raises(SlackApiError) as err:
        client.chat_update(channel=CHANNEL, ts=ts, text="changed", blocks=SNOOZES)
    assert err.value.response["error"] == "invalid_blocks"
    stored = fake.message(CHANNEL, ts)
    assert (
        stored is not None
        and stored["text"] == "card"
        and len(stored["blocks"]) == len(VALID_MESSAGE)
    )

    with pytest.raises(SlackApiError) as err:
        client.chat_postEphemeral(channel=CHANNEL, user="U1", text="x", blocks=SNOOZES)
    assert err.value.response["error"] == "invalid_blocks"
    assert fake.ephemerals == []
    assert [(r.source, r.error) for r in fake.rejections] == [
        ("chat.postMessage", "invalid_blocks"),
        ("chat.update", "invalid_blocks"),
        ("chat.postEphemeral", "invalid_blocks"),
    ]


def test_views_with_refused_blocks_get_invalid_arguments(
    client: WebClient, fake: FakeSlack
) -> None:
    with pytest.raises(SlackApiError) as err:
        client.views_open(
            trigger_id="trig-unit", view=modal(title=plain("A title far too long for Slack"))
        )
    assert err.value.response["error"] == "invalid_arguments"
    assert err.value.response["response_metadata"]["messages"][1].endswith(
        "[json-pointer:/view/title/text]"
    )
    opened = client.views_open(trigger_id="trig-unit", view=modal())["view"]
    calls: list[Callable[[], object]] = [
        lambda: client.views_update(
            view_id=opened["id"], view=modal({"type": "actions", "elements": []})
        ),
        lambda: client.views_push(trigger_id="trig-unit", view=modal(title=plain(""))),
        lambda: client.views_publish(
            user_id="U1", view={"type": "home", "blocks": [{"type": "section"}]}
        ),
    ]
    for call in calls:
        with pytest.raises(SlackApiError) as err:
            call()
        assert err.value.response["error"] == "invalid_arguments"
    assert fake.home("U1") is None and len(fake.views) == 1
    sources = [r.source for r in fake.rejections]
    assert sources == ["views.open", "views.update", "views.push", "views.publish"]


def test_response_url_posts_with_refused_blocks_are_refused(
    client: WebClient, fake: FakeSlack, bot: Bot
) -> None:
    ts = client.chat_postMessage(channel=CHANNEL, text="card", blocks=VALID_MESSAGE)["ts"]
    fake.click(bot.url, user_id="U1", channel=CHANNEL, ts=ts, action_id="one")
    response_url = bot.received[-1]["response_url"]
    answer = httpx.post(
        response_url, json={"replace_original": True, "text": "x", "blocks": SNOOZES}
    )
    assert answer.status_code == 400 and answer.text == "invalid_blocks"
    stored = fake.message(CHANNEL, ts)
    assert stored is not None and stored["text"] == "card"
    assert [r.source for r in fake.rejections] == ["response_url"]


def test_a_refused_response_action_leaves_the_modal_as_it_was(
    client: WebClient, fake: FakeSlack, bot: Bot
) -> None:
    url, reply = bot.url, bot.replies
    view = modal(input_block({"type": "plain_text_input", "action_id": "t"}), callback_id="v1")
    view_id = client.views_open(trigger_id="trig-unit", view=view)["view"]["id"]
    reply.append(
        json.dumps({"response_action": "update", "view": modal(title=plain("t" * 30))}).encode()
    )
    fake.submit_view(url, user_id="U1", view_id=view_id)
    assert fake.views[view_id]["callback_id"] == "v1"
    reply.append(json.dumps({"response_action": "errors", "errors": {"elsewhere": "No"}}).encode())
    fake.submit_view(url, user_id="U1", view_id=view_id)
    reply.append(
        json.dumps({"response_action": "update", "view": modal(callback_id="v2")}).encode()
    )
    fake.submit_view(url, user_id="U1", view_id=view_id)
    assert fake.views[view_id]["callback_id"] == "v2"
    assert [r.source for r in fake.rejections] == ["view_submission", "view_submission"]
    assert "[json-pointer:/errors/elsewhere]" in fake.rejections[1].messages[-1]


def test_a_slash_command_answer_with_refused_blocks_is_kept(fake: FakeSlack, bot: Bot) -> None:
    bot.replies.append(json.dumps({"text": "summary", "blocks": SNOOZES}).encode())
    fake.slash_command(bot.url, user_id="U1", channel=CHANNEL, text="summary")
    assert [(r.source, r.error) for r in fake.rejections] == [("slash_command", "invalid_blocks")]
