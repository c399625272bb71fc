"""Acting once per Slack request: the key and the effect commit together, or neither does."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from storage import inbox, mentions
from storage.db import session_scope
from storage.models import Mention, SlackInbox

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def _mention(engine: Engine) -> int:
    with session_scope(engine) as s:
        mention_id = mentions.insert(
            session=s,
            values={"source": "webhook", "external_id": "m-1", "received_at": NOW, "extra": {}},
        )
    assert mention_id is not None
    return mention_id


def _keys(engine: Engine) -> list[str]:
    with session_scope(engine) as s:
        return [row.key for row in s.exec(select(SlackInbox))]


def test_a_request_acts_once(engine: Engine) -> None:
    def act(session: Session) -> str:
        session.add(SlackInbox(key="effect", received_at=NOW))
        return "done"

    first = inbox.once(engine=engine, key="k1", now=NOW, duplicate="again", act=act)
    second = inbox.once(engine=engine, key="k1", now=NOW, duplicate="again", act=act)
    assert (first, second) == ("done", "again")
    assert sorted(_keys(engine)) == ["effect", "k1"]


def test_an_action_that_raises_leaves_no_key(engine: Engine) -> None:
    def act(session: Session) -> str:
        raise LookupError("refused")

    with pytest.raises(LookupError):
        inbox.once(engine=engine, key="k1", now=NOW, duplicate="again", act=act)
    assert _keys(engine) == []  # the retry is judged again


def test_a_request_about_a_mention(engine: Engine) -> None:
    mention_id = _mention(engine)
    seen: list[str] = []
    woken: list[str] = []

    def run(key: str, about: int) -> str:
        def act(session: Session, m: Mention) -> str:
            seen.append(m.external_id)
            return "acted"

        return inbox.once_for_mention(
            engine=engine,
            key=key,
            now=NOW,
            mention_id=about,
            duplicate="again",
            missing="gone",
            act=act,
            then=lambda: woken.append(key),
        )

    assert run("k1", mention_id) == "acted"
    assert run("k1", mention_id) == "again"
    assert run("k2", mention_id + 100) == "gone"
    assert seen == ["m-1"]
    assert woken == ["k1"]  # only after an action ran, never for a retry or a missing mention
    assert sorted(_keys(engine)) == ["k1", "k2"]  # a missing mention's request is remembered too
