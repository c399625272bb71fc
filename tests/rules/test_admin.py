"""Rules as stored: seeded once from the config, exported and imported exactly, every change
in the audit log; and the hand-over suggestions' one-click fix from the App Home."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.app.compose import Engage
from bot.config.comms import CommsTeam
from bot.config.file import parse_config
from bot.core.adapter import IncomingMention
from bot.core.clock import SystemClock
from bot.core.slack_ids import ActionId
from bot.rules.admin import RuleAdmin
from bot.rules.docs import doc_of_config, dump, load
from bot.sandbox.fake_slack import FakeSlack
from storage.db import session_scope
from storage.models import RuleChange
from tests.conftest import CONFIG, store_config

COMMS = "U0COMMS01"
RICH_RULE = """\
  - name: "Voirie (français)"
    department: public-works
    priority: 15
    keywords: [nid-de-poule, "éclairage public", trottoir*]
    regex: ['\\bchauss[ée]e\\s+\\w+']
    require: [rue]
    exclude: [vélo]
    languages: [fr, unknown]
    authors: [list:press, "@maire@mastodon.example"]
    sources: [mastodon, email]
    cc: parks
    enabled: false
"""
WITH_RICH = CONFIG.replace("delivery:", RICH_RULE + "author_lists:\n  press: ['@globe']\ndelivery:")


def _admin(engine: Engine, config_text: str = WITH_RICH) -> RuleAdmin:
    config = parse_config(config_text)
    return RuleAdmin(
        engine=engine,
        clock=SystemClock(),
        comms=CommsTeam(config.comms_team, None),
        author_lists=config.author_members(),
        areas=None,
    )


def _seeded(engine: Engine, config_text: str = WITH_RICH) -> RuleAdmin:
    config = parse_config(config_text)
    store_config(engine, config.model_copy(update={"rules": ()}))  # departments only
    admin = _admin(engine, config_text)
    assert admin.seed([doc_of_config(r) for r in config.rules])
    return admin


def test_the_config_seeds_the_rules_once(engine: Engine) -> None:
    admin = _seeded(engine)
    assert [line.doc["name"] for line in admin.rules()] == [
        "streets",
        "Voirie (français)",
        "parks",
    ]
    streets = admin.rules()[0]
    assert admin.set_enabled(user=COMMS, rule_id=streets.id, on=False, request_key="k1").ok
    config_docs = [doc_of_config(r) for r in parse_config(WITH_RICH).rules]
    assert not admin.seed(config_docs)  # a restart: the comms team's change stays
    assert admin.rules()[0].doc["enabled"] is False
    assert admin.differs_from(config_docs)
    with session_scope(engine) as s:
        actions = [c.action for c in s.exec(select(RuleChange).order_by(col(RuleChange.id)))]
    assert actions == ["seeded", "seeded", "seeded", "disabled"]


def test_export_then_import_round_trips_exactly(engine: Engine) -> None:
    admin = _seeded(engine)
    text = dump(admin.export())
    assert "éclairage public" in text and "enabled: false" in text
    report = admin.import_docs(load(text, where="export.yml"), actor="cli:ops")
    assert not report.changed
    assert dump(admin.export()) == text

    edited = load(text, where="export.yml")
    edited.reverse()  # parks, Voirie, streets: order in the file is routing order
    edited[0] = {**edited[0], "priority": 15}  # parks ties with Voirie, and comes first
    edited = [d for d in edited if d["name"] != "streets"] + [
        {"name": "noise", "department": "parks", "priority": 50, "keywords": ["noise"]}
    ]
    new_text = dump(edited)
    report = admin.import_docs(load(new_text, where="new.yml"), actor="cli:ops")
    assert report.added == ["noise"] and report.edited == ["parks"]
    assert report.retired == ["streets"] and report.moved == ["Voirie (français)"]
    assert [line.doc["name"] for line in admin.rules()] == ["parks", "Voirie (français)", "noise"]
    assert dump(admin.export()) == new_text
    assert admin.import_docs(load(new_text, where="new.yml"), actor="cli:ops").changed is False
    with session_scope(engine) as s:
        retired = s.exec(select(RuleChange).where(RuleChange.action == "retired")).one()
    assert retired.actor == "cli:ops" and retired.before is not None
    assert retired.before["keywords"] == ["pothole", "street light", "bin*"]


def test_an_import_with_one_bad_rule_changes_nothing(engine: Engine) -> None:
    admin = _seeded(engine)
    before = dump(admin.export())
    docs = [*load(before, where="x.yml"), {"name": "roads", "department": "roads", "priority": 1}]
    with pytest.raises(ValueError, match="Unknown department"):
        admin.import_docs(docs, actor="cli:ops")
    bad_regex = load(before, where="x.yml")
    bad_regex[0] = {**bad_regex[0], "regex": ["(unclosed"]}
    with pytest.raises(ValueError, match="regex"):
        admin.import_docs(bad_regex, actor="cli:ops")
    assert dump(admin.export()) == before


def _engage(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_cli_export_and_import(tmp_path: Path) -> None:
    config = tmp_path / "engage.yml"
    config.write_text(WITH_RICH)
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'e.db'}", "ENGAGE_CONFIG": str(config)}
    # A database the bot never started on: importing the config itself seeds it.
    first = _engage("rules", "import", str(config), cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr
    assert "3 added (streets, Voirie (français), parks)" in first.stdout
    exported = _engage("rules", "export", cwd=tmp_path, env=env)
    assert exported.returncode == 0 and "Voirie (français)" in exported.stdout
    out = tmp_path / "rules.yml"
    out.write_text(exported.stdout.replace("priority: 20", "priority: 16"))
    again = _engage("rules", "import", str(out), cwd=tmp_path, env=env)
    assert "1 edited (parks)" in again.stdout
    final = _engage("rules", "export", "--out", str(tmp_path / "final.yml"), cwd=tmp_path, env=env)
    assert final.returncode == 0 and (tmp_path / "final.yml").read_text() == out.read_text()
    same = _engage("rules", "import", str(out), cwd=tmp_path, env=env)
    assert "nothing changed" in same.stdout
    broken = tmp_path / "broken.yml"
    broken.write_text("rules:\n  - name: x\n    department: roads\n")
    refused = _engage("rules", "import", str(broken), cwd=tmp_path, env=env)
    assert refused.returncode == 2 and "Unknown department" in refused.stderr
    assert "nothing imported" in refused.stderr


def test_a_hand_over_suggestion_is_added_to_a_rule_in_one_click(
    make_bot: Callable[..., Engage], slack: FakeSlack
) -> None:
    bot = make_bot()
    url = f"{bot.url}/slack/events"
    kept = [
        "The playground swings in the park are broken",
        "Park benches need paint",
        "Lovely new playground at the park",
        "Dog park gate does not close",
        "The park fountain is dry",
        "Playground slide cracked at Elm park",
    ]
    for i, text in enumerate(kept):
        bot.ingest_one(
            IncomingMention(source="rss", external_id=f"k{i}", text=text, author=f"k{i}")
        )
    moved = [
        "Streetlight out at the park entrance",
        "The streetlight by the park flickers all night",
        "Park path dark: streetlight broken again",
        "No streetlight working near the park gate",
        "Streetlight pole leaning at the park corner",
    ]
    for i, text in enumerate(moved):
        result = bot.ingest_one(
            IncomingMention(source="mastodon", external_id=f"m{i}", text=text, author=f"@a{i}")
        )
        assert result.mention_id is not None and result.department == "parks"
        bot.claims.hand_over(
            mention_id=result.mention_id,
            user_id="U0PARKS01",
            to_department="public-works",
            note="",
            request_key=f"h{i}",
        )
    rates = bot.rule_admin.stats()
    assert rates["parks"].routed == 11 and rates["parks"].handed_over == 5

    slack.send_event(url, {"type": "app_home_opened", "user": COMMS, "tab": "home"})
    home = slack.home(COMMS)
    assert home is not None
    text = json.dumps(home["blocks"], ensure_ascii=False)
    assert "to *Public Works* often say “streetlight”" in text
    assert "*parks*: 5 of 11 handed over elsewhere (45%)" in text
    slack.click_view(
        url,
        user_id=COMMS,
        view_id=home["id"],
        action_id=ActionId.SUGGESTION_ADD.value,
        value=None,
    )
    streets = bot.rule_admin.rules()[0].doc
    assert streets["name"] == "streets" and streets["keywords"][-1] == "streetlight"
    assert bot.route_test("streetlight out again")[0].rule == "streets"  # type: ignore[union-attr]
    assert "streetlight" not in json.dumps(slack.home(COMMS) or {})  # the suggestion is done
    with session_scope(bot.engine) as s:
        change = s.exec(select(RuleChange).where(RuleChange.action == "edited")).one()
    assert change.actor == COMMS and change.before is not None and change.after is not None
    assert change.after["keywords"] == [*change.before["keywords"], "streetlight"]
