"""Delivery reads and renders a batch of leased card rows at once (bot/outbox/card_state.ready):
each card must still show its own copies, links and hand-overs, exactly as when read alone,
and the batch must cost a few statements whatever its size."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from bot.outbox.card_state import Ready, ready
from bot.outbox.jobs import Job
from storage.db import read_scope, session_scope
from storage.models import Card, Department, Event, EventKind, Mention, OutboxKind

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _job(n: int, kind: OutboxKind, card_id: int | None) -> Job:
    return Job(n, kind.value, "C0ANY", None, card_id, {}, 1, False, T0)


def _fill(engine: Engine) -> dict[str, int]:
    """Two roots: one with 13 copies and 2 linked reports, one handed over from pw to parks."""
    with session_scope(engine) as session:
        session.add(Department(slug="pw", name="Public Works", channel_id="C0PW"))
        session.add(Department(slug="parks", name="Parks", channel_id="C0PARKS"))
        flood = Mention(
            received_at=T0, source="webhook", external_id="a", text="pothole", department="pw"
        )
        moved = Mention(
            received_at=T0,
            source="webhook",
            external_id="b",
            text="fallen tree",
            department="parks",
        )
        session.add_all([flood, moved])
        session.flush()
        assert flood.id and moved.id
        for n in range(13):
            session.add(
                Mention(
                    received_at=T0,
                    source="webhook",
                    external_id=f"copy{n}",
                    author=f"a{n}",
                    folded_into=flood.id,
                )
            )
        for source in ("bluesky", "reddit"):
            session.add(
                Mention(
                    received_at=T0,
                    source=source,
                    external_id=f"l-{source}",
                    author=f"{source}-author",
                    url=f"https://{source}.example/1",
                    folded_into=flood.id,
                    extra={"linked_into": flood.id},
                )
            )
        cards = {
            "flood": Card(mention_id=flood.id, channel_id="C0PW", department="pw", created_at=T0),
            "old": Card(
                mention_id=moved.id,
                channel_id="C0PW",
                department="pw",
                ts="1.1",
                active=False,
                created_at=T0,
            ),
            "new": Card(
                mention_id=moved.id,
                channel_id="C0PARKS",
                department="parks",
                ts="2.2",
                created_at=T0 + timedelta(minutes=5),
            ),
        }
        session.add_all(cards.values())
        session.add(
            Event(
                mention_id=moved.id,
                kind=EventKind.HANDED_OVER.value,
                actor="U0MOVER",
                at=T0 + timedelta(minutes=5),
                data={"from": "pw", "to": "parks"},
            )
        )
        session.flush()
        return {name: card.id for name, card in cards.items() if card.id}


def _shown(one: Ready) -> str:
    return json.dumps(one.blocks)


def test_a_batch_renders_each_card_as_it_would_alone(engine: Engine) -> None:
    ids = _fill(engine)
    jobs = [
        _job(1, OutboxKind.POST_CARD, ids["flood"]),
        _job(2, OutboxKind.UPDATE_CARD, ids["old"]),
        _job(3, OutboxKind.UPDATE_CARD, ids["new"]),
        _job(4, OutboxKind.THREAD_REPLY, ids["new"]),
        _job(5, OutboxKind.POST_CARD, 999_999),  # its card is gone
        _job(6, OutboxKind.MESSAGE, None),  # not about a card
    ]
    with read_scope(engine) as session:
        batch = ready(session, jobs)
        alone = {job.id: ready(session, [job]).get(job.id) for job in jobs}
    assert batch == {k: v for k, v in alone.items() if v is not None}
    assert set(batch) == {1, 2, 3, 4, 5}

    flood = _shown(batch[1])
    assert "*+13* similar or repeated post(s)" in flood
    assert "a0, a1" in flood and "a11 and 1 more" in flood and "a12" not in flood
    assert "Also reported on" in flood and "bluesky-author" in flood and "reddit-author" in flood
    assert "Handed over" not in flood and "handed over" not in flood
    assert "Handed over to *Parks* by <@U0MOVER>" in _shown(batch[2])
    assert "handed over from *Public Works* by <@U0MOVER>" in _shown(batch[3])
    assert "similar or repeated" not in _shown(batch[3])
    assert (batch[3].channel_id, batch[3].ts) == ("C0PARKS", "2.2")
    assert batch[4] == Ready(True, "C0PARKS", "2.2")  # a note in the thread needs no render
    assert batch[5] == Ready(found=False)


def test_a_batch_costs_the_same_statements_as_one_card(engine: Engine) -> None:
    ids = _fill(engine)
    statements: list[Any] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    def run(jobs: list[Job]) -> int:
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            with read_scope(engine) as session:
                ready(session, jobs)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(statements)

    one = run([_job(1, OutboxKind.POST_CARD, ids["flood"])])
    three = run([_job(n, OutboxKind.UPDATE_CARD, card) for n, card in enumerate(ids.values())])
    assert three == one
