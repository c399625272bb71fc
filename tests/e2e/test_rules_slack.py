"""The comms team manages routing rules from Slack, end to end: signed slash commands, clicks
in modals and the App Home, and view submissions, against the fake Slack on loopback."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlmodel import select

from bot.app.compose import Engage
from bot.core.adapter import IncomingMention
from bot.core.slack_ids import ActionId
from bot.sandbox.fake_slack import FakeSlack
from storage.db import session_scope
from storage.models import Mention, RuleChange
from tests.conftest import CONFIG

COMMS = "U0COMMS01"
STAFF = "U0BOB0001"
PW = "C0PUBWORKS"
TRIAGE = "C0TRIAGE01"
MENU = ActionId.RULE_MENU.value


def _url(bot: Engage) -> str:
    return f"{bot.url}/slack/events"


def _open_rules(bot: Engage, slack: FakeSlack, user: str = COMMS) -> dict[str, Any]:
    answer = slack.slash_command(_url(bot), user_id=user, channel=TRIAGE, text="rules")
    assert answer.status == 200
    stack = slack.view_stack(user)
    assert stack, f"no modal opened: {answer.body}"
    return stack[-1]


def _text(view: dict[str, Any]) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


def _rule_id(bot: Engage, name: str) -> int:
    return next(line.id for line in bot.rule_admin.rules() if line.doc["name"] == name)


def _names(bot: Engage) -> list[str]:
    return [line.doc["name"] for line in bot.rule_admin.rules()]


def _menu(bot: Engage, slack: FakeSlack, view: dict[str, Any], verb: str, rule: str) -> Any:
    """Choose ``verb`` in a rule's menu, in the modal as it is now."""
    rule_id = _rule_id(bot, rule)
    return slack.click_view(
        _url(bot),
        user_id=COMMS,
        view_id=view["id"],
        action_id=MENU,
        value=f"{verb}:{rule_id}",
        block_id=f"engage.rules.rule.{rule_id}",
    )


def test_anyone_outside_the_comms_team_is_refused(
    make_bot: Callable[..., Engage], slack: FakeSlack
) -> None:
    bot = make_bot()
    for text in ("rules", "rules add", "rules history", "rules disable streets"):
        answer = slack.slash_command(_url(bot), user_id=STAFF, channel=PW, text=text)
        assert "Only the comms team can change routing rules" in answer.body
    assert slack.calls_to("views.open") == []
    # A stale or forged click reaches the service, which checks again.
    change = bot.rule_admin.move(
        user=STAFF, rule_id=_rule_id(bot, "parks"), steps=-1, request_key="k"
    )
    assert not change.ok and _names(bot) == ["streets", "parks"]


def test_the_list_shows_rules_in_routing_order_and_reorders_them(
    make_bot: Callable[..., Engage], slack: FakeSlack
) -> None:
    bot = make_bot()
    view = _open_rules(bot, slack)
    text = _text(view)
    assert text.index("#1 streets") < text.index("#2 parks")
    assert "keywords: pothole, street light, bin*" in text
    assert bot.route_test("pothole by the playground")[0].rule == "streets"  # type: ignore[union-attr]

    answer = _menu(bot, slack, view, "down", "streets")
    assert answer.status == 200
    assert _names(bot) == ["parks", "streets"]
    refreshed = slack.views[view["id"]]
    assert "Moved *streets* to #2" in _text(refreshed)
    assert _text(refreshed).index("#1 parks") < _text(refreshed).index("#2 streets")
    # At once, without a restart: the same text now goes to Parks.
    match, department = bot.route_test("pothole by the playground")
    assert match is not None and match.rule == "parks" and department == "Parks and Recreation"


def test_a_retried_click_moves_the_rule_once(
    make_bot: Callable[..., Engage], slack: FakeSlack
) -> None:
    bot = make_bot(CONFIG.replace("delivery:", _third_rule() + "delivery:"))
    view = _open_rules(bot, slack)
    first = _menu(bot, slack, view, "up", "bins")
    assert _names(bot) == ["streets", "bins", "parks"]
    headers = slack.signed_headers(first.request_body)
    slack.send_raw(_url(bot), first.request_body, {**headers, "X-Slack-Retry-Num": "1"})
    assert _names(bot) == ["streets", "bins", "parks"]
    with session_scope(bot.engine) as s:
        moved = list(s.exec(select(RuleChange).where(RuleChange.action == "moved")))
    assert len(moved) == 1 and moved[0].before["rank"] == 3 and moved[0].after["rank"] == 2  # type: ignore[index]


def _third_rule() -> str:
    return (
        "  - name: bins\n"
        "    department: public-works\n"
        "    priority: 30\n"
        "    keywords: [recycling]\n"
    )


def test_add_a_rule_in_the_form_with_errors_shown_on_their_fields(
    make_bot: Callable[..., Engage], slack: FakeSlack
) -> None:
    bot = make_bot()
    view = _open_rules(bot, slack)
    slack.click_view(
        _url(bot), user_id=COMMS, view_id=view["id"], action_id=ActionId.RULES_ADD.value
    )
    form = slack.view_stack(COMMS)[-1]
    assert form["title"]["text"] == "Add a rule"
    values: dict[str, dict[str, Any]] = {
        "engage.rule.name": {"name": "snow"},
        "engage.rule.department": {"department": "public-works"},
        "engage.rule.priority": {"priority": "5"},
        "engage.rule.keywords": {"keywords": "snow, plow*, déneigement"},
        "engage.rule.regex": {"regex": "salt(ing"},
        "engage.rule.places": {"places": "Boylston Street"},
        "engage.rule.exclude": {"exclude": "snowboard"},
    }
    refused = slack.submit_view(_url(bot), user_id=COMMS, view_id=form["id"], values=values)
    errors = refused.json()
    assert errors["response_action"] == "errors"
    assert list(errors["errors"]) == ["engage.rule.regex"]
    assert "snow" not in _names(bot)

    values["engage.rule.regex"] = {"regex": "salt(ing)?\\s+truck"}
    saved = slack.submit_view(_url(bot), user_id=COMMS, view_id=form["id"], values=values)
    assert saved.status == 200 and saved.body.strip() in ("", "{}")
    assert _names(bot)[0] == "snow"  # priority 5 comes first
    doc = bot.rule_admin.rules()[0].doc
    assert doc["keywords"] == ["snow", "plow*", "déneigement"]
    assert doc["regex"] == ["salt(ing)?\\s+truck"] and doc["places"] == ["Boylston Street"]
    assert "Saved rule *snow*" in _text(slack.views[view["id"]])
    match, _ = bot.route_test("Le DÉNEIGEMENT de Boylston St est en retard")
    assert match is not None and match.rule == "snow"
    assert bot.route_test("snowboard park")[0].rule == "parks"  # type: ignore[union-attr]


def test_edit_disable_and_retire_and_every_change_is_in_the_history(
    make_bot: Callable[..., Engage], slack: FakeSlack
) -> None:
    bot = make_bot()
    view = _open_rules(bot, slack)
    _menu(bot, slack, view, "edit", "parks")
    form = slack.view_stack(COMMS)[-1]
    assert form["title"]["text"] == "Edit rule"
    slack.submit_view(
        _url(bot),
        user_id=COMMS,
        view_id=form["id"],
        values={"engage.rule.keywords": {"keywords": "park, playground, splash pad"}},
    )
    assert bot.rule_admin.rules()[1].doc["keywords"] == ["park", "playground", "splash pad"]

    _menu(bot, slack, view, "toggle", "parks")
    assert bot.rule_admin.rules()[1].doc["enabled"] is False
    assert bot.route_test("the splash pad is broken")[0] is None
    bot.ingest_one(IncomingMention(source="rss", external_id="a", text="splash pad broken"))
    with session_scope(bot.engine) as s:
        assert s.exec(select(Mention)).one().department is None  # triage

    _menu(bot, slack, slack.views[view["id"]], "retire", "parks")
    confirm = slack.view_stack(COMMS)[-1]
    assert "Retire *parks*" in _text(confirm)
    slack.submit_view(_url(bot), user_id=COMMS, view_id=confirm["id"])
    assert _names(bot) == ["streets"]

    history = slack.slash_command(_url(bot), user_id=COMMS, channel=TRIAGE, text="rules history")
    body = history.body
    assert "edited *parks*: keywords +splash pad" in body
    assert "disabled *parks*" in body and "retired *parks*" in body
    assert f"<@{COMMS}>" in body and "seeded *streets* from the config file" in body
    one = slack.slash_command(
        _url(bot), user_id=COMMS, channel=TRIAGE, text="rules history streets"
    )
    assert "streets" in one.body and "parks" not in one.body
    with session_scope(bot.engine) as s:
        retired = s.exec(select(RuleChange).where(RuleChange.action == "retired")).one()
    assert retired.actor == COMMS and retired.after is None
    assert retired.before is not None and retired.before["keywords"][-1] == "splash pad"


def test_a_form_opened_before_someone_else_changed_the_rule_is_refused(
    make_bot: Callable[..., Engage], slack: FakeSlack
) -> None:
    bot = make_bot()
    slack.slash_command(_url(bot), user_id=COMMS, channel=TRIAGE, text="rules edit streets")
    form = slack.view_stack(COMMS)[-1]
    slack.slash_command(_url(bot), user_id=COMMS, channel=TRIAGE, text="rules disable streets")
    answer = slack.submit_view(
        _url(bot),
        user_id=COMMS,
        view_id=form["id"],
        values={"engage.rule.priority": {"priority": "1"}},
    )
    assert "changed this rule while you were editing" in json.dumps(answer.json())
    assert bot.rule_admin.rules()[0].doc["priority"] == 10


def test_test_a_text_in_the_modal(make_bot: Callable[..., Engage], slack: FakeSlack) -> None:
    bot = make_bot()
    view = _open_rules(bot, slack)
    slack.click_view(
        _url(bot), user_id=COMMS, view_id=view["id"], action_id=ActionId.RULES_TEST.value
    )
    box = slack.view_stack(COMMS)[-1]
    slack.submit_view(
        _url(bot),
        user_id=COMMS,
        view_id=box["id"],
        values={"engage.rule.test_text": {"test_text": "Huge POTHOLE on Elm"}},
    )
    shown = _text(slack.views[box["id"]])
    assert "It would go to *Public Works* by rule *streets*" in shown
    assert 'keyword \\"pothole\\" matched \\"POTHOLE\\"' in shown  # the why, not the input


def test_a_user_group_makes_someone_comms_team(
    make_bot: Callable[..., Engage], slack: FakeSlack
) -> None:
    slack.add_usergroup("S0COMMS01", ["U0CAROL01"])
    bot = make_bot(
        CONFIG.replace("users: [U0COMMS01]", "users: [U0COMMS01]\n  usergroup: S0COMMS01")
    )
    view = _open_rules(bot, slack, user="U0CAROL01")
    assert "#1 streets" in _text(view)
    refused = slack.slash_command(_url(bot), user_id=STAFF, channel=PW, text="rules")
    assert "Only the comms team" in refused.body


def test_the_comms_home_shows_routing_and_opens_the_rules(
    make_bot: Callable[..., Engage], slack: FakeSlack
) -> None:
    bot = make_bot()
    slack.send_event(_url(bot), {"type": "app_home_opened", "user": COMMS, "tab": "home"})
    home = slack.home(COMMS)
    assert home is not None
    text = _text(home)
    assert "*Routing*: 2 rules" in text and "*Sources*" in text and "Triage" in text
    slack.click_view(
        _url(bot), user_id=COMMS, view_id=home["id"], action_id=ActionId.RULES_OPEN.value
    )
    assert "#1 streets" in _text(slack.view_stack(COMMS)[-1])

    slack.send_event(_url(bot), {"type": "app_home_opened", "user": STAFF, "tab": "home"})
    staff_home = slack.home(STAFF)
    assert staff_home is not None and "Manage rules" not in _text(staff_home)


def test_a_change_in_one_replica_routes_in_the_other_at_once(
    make_bot: Callable[..., Engage], slack: FakeSlack
) -> None:
    first = make_bot()
    second = make_bot()  # same database, its own compiled rules
    assert second.route_test("pothole")[0] is not None
    slack.slash_command(_url(first), user_id=COMMS, channel=TRIAGE, text="rules disable streets")
    assert second.route_test("pothole")[0] is None
