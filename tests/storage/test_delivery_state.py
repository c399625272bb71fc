"""Delivery's shared state on SQLite and PostgreSQL: each channel's turn, failed rows put back
with a fresh budget, and one alert per (channel, error)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from storage import cards, delivery, mentions, outbox
from storage.db import session_scope
from storage.models import Outbox

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
PACED = ("post_card", "message")


def _mention(engine: Engine, external_id: str) -> int:
    values = {"source": "webhook", "external_id": external_id, "text": "pothole on Elm"}
    with session_scope(engine) as s:
        mention_id = mentions.insert(session=s, values={**values, "received_at": NOW, "extra": {}})
    assert mention_id is not None
    return mention_id


def test_one_replica_at_a_time_takes_a_channels_turn(engine: Engine) -> None:
    waits: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(3)

    def replica() -> None:
        barrier.wait()
        with session_scope(engine) as s:
            wait = delivery.take_turn(session=s, channel_id="C1", now=NOW, interval=1.0)
        with lock:
            waits.append(wait)

    threads = [threading.Thread(target=replica) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(waits) == [0.0, 1.0, 1.0]  # one posts; the others learn when their turn comes
    with session_scope(engine) as s:
        assert delivery.take_turn(session=s, channel_id="C2", now=NOW, interval=1.0) == 0.0
        later = NOW + timedelta(seconds=1)
        assert delivery.take_turn(session=s, channel_id="C1", now=later, interval=1.0) == 0.0


def test_a_rate_limit_holds_the_channel_and_due_leaves_its_posts(engine: Engine) -> None:
    m = _mention(engine, "a")
    with session_scope(engine) as s:
        post = outbox.enqueue(
            session=s, kind="post_card", idem_key="p", channel_id="C1", mention_id=m, now=NOW
        )
        ephemeral = outbox.enqueue(
            session=s, kind="ephemeral", idem_key="e", channel_id="C1", now=NOW
        )
        delivery.hold_channel(session=s, channel_id="C1", until=NOW + timedelta(seconds=30))
        delivery.hold_channel(session=s, channel_id="C1", until=NOW + timedelta(seconds=5))
    with session_scope(engine) as s:
        due = [r.id for r in outbox.due(session=s, now=NOW, paced_kinds=PACED, pace_now=NOW)]
        assert due == [ephemeral]  # only posts wait for the channel's turn
        assert outbox.soonest(session=s, now=NOW, pace_now=NOW) == 30.0  # a hold never shortens
        assert delivery.take_turn(session=s, channel_id="C1", now=NOW, interval=1.0) == 30.0
        later = NOW + timedelta(seconds=30)
        due = [r.id for r in outbox.due(session=s, now=later, paced_kinds=PACED, pace_now=later)]
        assert due == [post, ephemeral]


def test_failures_count_and_a_retry_starts_the_budget_again(engine: Engine) -> None:
    m = _mention(engine, "b")
    with session_scope(engine) as s:
        card = cards.create(session=s, mention_id=m, channel_id="C1", department=None, now=NOW)
        post = outbox.enqueue_for_card(
            session=s, card=card, kind="post_card", idem_key="p", now=NOW
        )
        note = outbox.enqueue_for_card(
            session=s, card=card, kind="thread_reply", idem_key="n", now=NOW
        )
        assert post is not None and note is not None
        later = NOW + timedelta(minutes=5)
        outbox.reschedule(session=s, row_id=post, at=NOW, error="429", needs_check=False)
        outbox.reschedule(
            session=s, row_id=post, at=NOW, error="500", needs_check=True, failed_at=NOW
        )
        outbox.reschedule(
            session=s, row_id=post, at=NOW, error="500", needs_check=True, failed_at=later
        )
        row = s.get(Outbox, post, populate_existing=True)
        assert row is not None
        assert (row.failures, row.failing_since) == (2, NOW)  # the 429 is no failure
        outbox.fail(session=s, row_id=post, now=later, error="chat.postMessage: not_in_channel")
        outbox.fail(session=s, row_id=note, now=later, error="the card was never posted")
    with session_scope(engine) as s:
        assert outbox.count_failed(session=s, kinds=("post_card", "thread_reply")) == 2
        [(first, text), _] = outbox.failed(session=s, kinds=("post_card", "thread_reply"))
        assert first.id == note and text == "pothole on Elm"
        back = outbox.retry_failed(session=s, now=later, kinds=("post_card",), row_id=post)
        assert [r.id for r in back] == [post]  # kinds limit what is put back
        assert outbox.retry_failed(session=s, now=later, kinds=("post_card",), row_id=post) == []
    with session_scope(engine) as s:
        row = s.get(Outbox, post)
        assert row is not None and row.status == "pending"
        assert (row.failures, row.failing_since, row.needs_check) == (0, None, True)
        outbox.fail(session=s, row_id=post, now=later, error="again")
        # A card's post brings back its notes, which failed because the card never appeared.
        kinds = ("post_card", "thread_reply")
        back = outbox.retry_failed(session=s, now=later, kinds=kinds, row_id=post)
        assert [r.id for r in back] == [post, note]


def test_an_alert_is_once_per_channel_and_error_until_rearmed(engine: Engine) -> None:
    with session_scope(engine) as s:
        assert delivery.alert_once(session=s, channel_id="C1", error="not_in_channel", now=NOW)
        assert not delivery.alert_once(session=s, channel_id="C1", error="not_in_channel", now=NOW)
        assert delivery.alert_once(session=s, channel_id="C1", error="is_archived", now=NOW)
        assert delivery.alert_once(session=s, channel_id="C2", error="not_in_channel", now=NOW)
        delivery.rearm_alerts(session=s, channel_ids={"C1"})
        assert delivery.alert_once(session=s, channel_id="C1", error="not_in_channel", now=NOW)
        assert not delivery.alert_once(session=s, channel_id="C2", error="not_in_channel", now=NOW)
