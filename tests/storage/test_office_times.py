"""The citizen's waits kept on each mention: the first claim and the office times to it and to
the answer are set once, and migration 0007 finds the first claims of older mentions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic import command
from sqlalchemy import MetaData, Table, insert, select
from sqlalchemy.engine import Engine
from sqlmodel import col

from storage import mentions
from storage.db import alembic_config, session_scope, upgrade
from storage.models import Mention

NOW = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)


def _at(minutes: int) -> datetime:
    return NOW + timedelta(minutes=minutes)


def _mention(engine: Engine) -> int:
    with session_scope(engine) as s:
        values = {"source": "x", "external_id": "1", "received_at": NOW, "extra": {}}
        mention_id = mentions.insert(session=s, values=values)
    assert mention_id is not None
    return mention_id


def _waits(engine: Engine, mention_id: int) -> tuple[datetime | None, int | None, int | None]:
    with session_scope(engine) as s:
        m = s.get(Mention, mention_id)
        assert m is not None
        return m.first_claimed_at, m.claim_office_us, m.answer_office_us


def test_release_hand_over_and_answer_keep_the_first_claim(engine: Engine) -> None:
    mention_id = _mention(engine)
    with session_scope(engine) as s:
        assert mentions.claim(
            session=s, mention_id=mention_id, user_id="U1", now=_at(10), claim_office_us=600
        )
        assert mentions.release(session=s, mention_id=mention_id, user_id="U1", now=_at(20))
        assert mentions.hand_over(
            session=s,
            mention_id=mention_id,
            from_department=None,
            to_department="parks",
            now=_at(30),
        )
        assert mentions.claim(
            session=s, mention_id=mention_id, user_id="U2", now=_at(40), claim_office_us=2400
        )
    assert _waits(engine, mention_id) == (_at(10), 600, None)
    with session_scope(engine) as s:
        assert mentions.answer(
            session=s,
            mention_id=mention_id,
            user_id="U2",
            text="done",
            now=_at(50),
            claim_office_us=3000,
            answer_office_us=3000,
        )
    assert _waits(engine, mention_id) == (_at(10), 600, 3000)


def test_an_answer_without_a_claim_is_the_first_claim(engine: Engine) -> None:
    mention_id = _mention(engine)
    with session_scope(engine) as s:
        assert mentions.answer(
            session=s, mention_id=mention_id, user_id="U1", text="done", now=_at(5)
        )
    assert _waits(engine, mention_id) == (_at(5), None, None)  # unmeasured: the summary will


def test_0007_finds_each_first_claim_in_the_events(engine: Engine) -> None:
    command.downgrade(alembic_config(engine), "0006")
    naive = NOW.replace(tzinfo=None)
    with engine.begin() as conn:
        meta = MetaData()
        mention, event = (Table(t, meta, autoload_with=conn) for t in ("mention", "event"))
        rows = [
            {"id": n, "source": "x", "external_id": str(n), "adapter": "", "author": "", "text": ""}
            | {"received_at": naive, "extra": {}, "status": "new", "version": 0}
            for n in (1, 2)
        ]
        conn.execute(insert(mention), rows)
        claims = [(1, 30), (1, 10), (2, None)]  # mention 1 claimed twice, mention 2 never
        conn.execute(
            insert(event),
            [
                {"mention_id": n, "kind": "claimed" if m else "received", "data": {}}
                | {"at": naive + timedelta(minutes=m or 0)}
                for n, m in claims
            ],
        )
    upgrade(engine)
    with engine.connect() as conn:
        columns = (col(Mention.id), col(Mention.first_claimed_at), col(Mention.claim_office_us))
        found = conn.execute(select(*columns).order_by(col(Mention.id))).all()
    assert [tuple(r) for r in found] == [(1, _at(10), None), (2, None, None)]
