"""Storage on SQLite and PostgreSQL: uniqueness, atomic claims, the outbox's order and leases."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from storage import cards, inbox, mentions, outbox
from storage.db import session_scope
from storage.intake import adapter_states as adapters
from storage.models import Mention

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def _mention(engine: Engine, external_id: str = "m-1") -> int:
    with session_scope(engine) as s:
        mention_id = mentions.insert(
            session=s,
            values={
                "source": "webhook",
                "external_id": external_id,
                "text": "pothole",
                "received_at": NOW,
                "extra": {},
            },
        )
    assert mention_id is not None
    return mention_id


def test_mentions_are_unique_by_source_and_external_id(engine: Engine) -> None:
    first = _mention(engine)
    with session_scope(engine) as s:
        again = mentions.insert(
            session=s,
            values={
                "source": "webhook",
                "external_id": "m-1",
                "text": "again",
                "received_at": NOW,
                "extra": {},
            },
        )
        other_source = mentions.insert(
            session=s,
            values={
                "source": "rss",
                "external_id": "m-1",
                "text": "x",
                "received_at": NOW,
                "extra": {},
            },
        )
    assert again is None
    assert other_source is not None and other_source != first


def test_datetimes_come_back_aware_utc(engine: Engine) -> None:
    mention_id = _mention(engine)
    with session_scope(engine) as s:
        m = s.get(Mention, mention_id)
        assert m is not None
        assert m.received_at == NOW and m.received_at.tzinfo is not None


def test_simultaneous_claims_have_one_winner(engine: Engine) -> None:
    mention_id = _mention(engine)
    barrier = threading.Barrier(8)
    wins: list[str] = []

    def click(user: str) -> None:
        barrier.wait()
        with session_scope(engine) as s:
            if mentions.claim(session=s, mention_id=mention_id, user_id=user, now=NOW):
                wins.append(user)

    threads = [threading.Thread(target=click, args=(f"U{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1
    with session_scope(engine) as s:
        m = mentions.get(session=s, mention_id=mention_id)
        assert m is not None and m.claimed_by == wins[0] and m.status == "claimed"


def test_state_changes_are_conditional(engine: Engine) -> None:
    mention_id = _mention(engine)
    with session_scope(engine) as s:
        assert mentions.claim(session=s, mention_id=mention_id, user_id="U1", now=NOW)
        assert not mentions.release(session=s, mention_id=mention_id, user_id="U2", now=NOW)
        assert mentions.release(session=s, mention_id=mention_id, user_id="U1", now=NOW)
        assert mentions.answer(session=s, mention_id=mention_id, user_id="U3", text="done", now=NOW)
        assert not mentions.dismiss(session=s, mention_id=mention_id, user_id="U1", reason="spam")
        assert not mentions.claim(session=s, mention_id=mention_id, user_id="U1", now=NOW)
        m = mentions.get(session=s, mention_id=mention_id)
        assert m is not None
        # Answering an unclaimed mention makes the answerer its claimer.
        assert (m.status, m.claimed_by, m.answered_by) == ("answered", "U3", "U3")


def test_hand_over_only_from_the_current_department(engine: Engine) -> None:
    mention_id = _mention(engine)
    with session_scope(engine) as s:
        assert mentions.hand_over(
            session=s, mention_id=mention_id, from_department=None, to_department="parks", now=NOW
        )
        assert not mentions.hand_over(
            session=s, mention_id=mention_id, from_department=None, to_department="roads", now=NOW
        )


def test_inbox_remembers_each_key_once(engine: Engine) -> None:
    with session_scope(engine) as s:
        assert inbox.remember(session=s, key="event:Ev1", now=NOW)
        assert not inbox.remember(session=s, key="event:Ev1", now=NOW)
        assert inbox.forget_before(session=s, cutoff=NOW + timedelta(seconds=1)) == 1


def test_outbox_keeps_each_mentions_rows_in_order_and_leases_once(engine: Engine) -> None:
    a, b = _mention(engine, "a"), _mention(engine, "b")
    with session_scope(engine) as s:
        card = cards.create(session=s, mention_id=a, channel_id="C1", department=None, now=NOW)
        first = outbox.enqueue(
            session=s,
            kind="post_card",
            idem_key="card:a",
            channel_id="C1",
            mention_id=a,
            card_id=card.id,
            now=NOW,
        )
        second = outbox.enqueue(
            session=s,
            kind="update_card",
            idem_key="update:a",
            channel_id="C1",
            mention_id=a,
            now=NOW,
        )
        other = outbox.enqueue(
            session=s, kind="post_card", idem_key="card:b", channel_id="C2", mention_id=b, now=NOW
        )
        assert (
            outbox.enqueue(
                session=s,
                kind="post_card",
                idem_key="card:a",
                channel_id="C1",
                mention_id=a,
                now=NOW,
            )
            is None
        )
    with session_scope(engine) as s:
        due = [r.id for r in outbox.due(session=s, now=NOW)]
        assert due == [first, other]  # the update waits for its card
        assert first is not None
        assert outbox.lease(session=s, row_id=first, now=NOW, seconds=30)
        assert not outbox.lease(session=s, row_id=first, now=NOW, seconds=30)
    with session_scope(engine) as s:
        assert [r.id for r in outbox.due(session=s, now=NOW)] == [other]
        # A crashed worker's lease runs out and the row comes back.
        later = NOW + timedelta(seconds=31)
        assert first in [r.id for r in outbox.due(session=s, now=later)]
        assert first is not None
        outbox.complete(session=s, row_id=first, now=NOW, result={"ts": "1.0"})
    with session_scope(engine) as s:
        assert [r.id for r in outbox.due(session=s, now=NOW)] == [second, other]
        depth, age = outbox.stats(session=s, now=NOW + timedelta(seconds=5))
        assert depth == 2 and age == 5.0
        assert outbox.purge_finished(session=s, before=NOW) == 0
        assert outbox.purge_finished(session=s, before=NOW + timedelta(seconds=1)) == 1


def test_adapter_lease_is_held_by_one_owner(engine: Engine) -> None:
    with session_scope(engine) as s:
        adapters.ensure(session=s, name="news", source="rss")
        assert adapters.acquire(session=s, name="news", owner="r1", now=NOW, seconds=60)
        assert not adapters.acquire(session=s, name="news", owner="r2", now=NOW, seconds=60)
        assert adapters.acquire(
            session=s, name="news", owner="r2", now=NOW + timedelta(seconds=61), seconds=60
        )


def test_the_migrations_match_the_models(engine: Engine) -> None:
    """A model changed without a migration would pass on SQLite and break real databases."""
    from alembic import command

    from storage.db import alembic_config

    command.check(alembic_config(engine))  # raises when autogenerate finds a difference
