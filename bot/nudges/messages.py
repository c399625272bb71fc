"""What each rung of the nudge ladder says, and to whom.

:mod:`bot.nudges.sweep` decides *when* a mention is due for which stage and records that it was
sent; this module turns a stage that fell due into Slack messages: a note in the card's thread (with
snooze buttons on claim reminders), one grouped message to the channel when a department has
several reminders of a stage in one sweep, a direct message to each claimer with *still on it* /
*hand back* / *need help*, a message to the department's leads, and the note that a claim went
back to the channel. Keeping the words and the Block Kit apart from the schedule lets either
change without reading the other.

Nothing is posted from here: every message is enqueued in the outbox, in the caller's
transaction, under an idempotency key made from the mention(s) and the stage (or the request),
so the same message is never queued twice.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from bot.core.blocks import button, section
from bot.core.mrkdwn import escape, one_line, safe
from bot.core.slack_directory import SlackDirectory
from bot.core.slack_ids import ActionId
from bot.core.sources import source_label
from bot.nudges.policy import Policy, Stage
from storage import cards, outbox
from storage.models import Mention, OutboxKind


@dataclass
class Sent:
    """A reminder the sweep has just recorded for a mention, with where its card is."""

    mention: Mention
    stage: Stage
    card_channel: str | None
    card_ts: str | None


class NudgeMessages:
    """Writes the reminders of a sweep to the outbox."""

    def __init__(self, directory: SlackDirectory) -> None:
        self.directory = directory

    def announce(
        self,
        session: Session,
        policy: Policy,
        stage: Stage,
        items: list[Sent],
        target: str | None,
        now: datetime,
    ) -> None:
        """Tell the right people about one department's reminders of one stage.

        ``target`` is the person rotation picked for a claim reminder, if any. The hand-back
        stage (``answer_return``) is not handled here: it changes the claim first, then calls
        :meth:`handed_back`.
        """
        if stage.name.endswith("_lead"):
            self._to_leads(session, policy, stage, items, now)
        elif stage.name == "answer_dm":
            by_claimer: dict[str, list[Sent]] = defaultdict(list)
            for item in items:
                by_claimer[item.mention.claimed_by or ""].append(item)
            for claimer, mine in by_claimer.items():
                self._dm_claimer(session, policy, claimer, mine, now)
        elif len(items) == 1:
            self._in_thread(session, policy, stage, items[0], target, now)
        else:
            self._grouped(session, policy, stage, items, target, now)

    def handed_back(self, session: Session, item: Sent, claimer: str, now: datetime) -> None:
        """The claim went back to the channel: refresh the card and say so in its thread."""
        m = item.mention
        self._queue_card_update(session, m, now, "answer_return")
        self._thread(
            session,
            m,
            f"nudge:{m.id}:answer_return",
            now,
            f":leftwards_arrow_with_hook: <@{claimer}> has not answered the reminder, "
            "so this is open again for anyone to claim (both names stay on record).",
            None,
            broadcast=True,
        )

    def help_wanted(
        self, session: Session, mention: Mention, user_id: str, request_key: str, now: datetime
    ) -> None:
        """The claimer asked for a second person: say so in the card's thread."""
        self._thread(
            session,
            mention,
            f"help:{request_key}",
            now,
            f":raising_hand: <@{user_id}> would like a second person on this one.",
            None,
            broadcast=True,
        )

    def _in_thread(
        self,
        session: Session,
        policy: Policy,
        stage: Stage,
        item: Sent,
        target: str | None,
        now: datetime,
    ) -> None:
        m = item.mention
        waited = _span(policy.hours.between(m.received_at, now))
        if stage.name == "claim_warn":
            left = _span(max(timedelta(), policy.claim - policy.hours.between(m.received_at, now)))
            text = f":hourglass_flowing_sand: Waiting for {waited}: please claim it within {left}."
        elif stage.name == "claim_thread":
            who = f"<@{target}>, could you" if target else "Could someone"
            text = f":wave: {who} take this one? Unclaimed for {waited} of office time."
        elif stage.name == "claim_channel":
            text = (
                f":rotating_light: Still unclaimed after {waited} of office time: "
                "can someone in the channel take it?"
            )
        else:  # answer_warn
            assert m.claimed_at is not None
            left = _span(max(timedelta(), policy.answer - policy.hours.between(m.claimed_at, now)))
            text = f":hourglass_flowing_sand: <@{m.claimed_by}>, the answer is due in {left}."
        blocks = _with_snooze(text, m) if stage.ladder == "claim" and stage.factor else None
        self._thread(
            session,
            m,
            f"nudge:{m.id}:{stage.name}",
            now,
            text,
            blocks,
            broadcast=stage.name == "claim_channel",
        )

    def _grouped(
        self,
        session: Session,
        policy: Policy,
        stage: Stage,
        items: list[Sent],
        target: str | None,
        now: datetime,
    ) -> None:
        who = f"<@{target}>, " if target else ""
        head = {
            "claim_warn": f":hourglass_flowing_sand: {len(items)} mentions are close to their "
            "claim deadline:",
            "claim_thread": f":wave: {who}{len(items)} mentions are waiting for someone to "
            "claim them:",
            "claim_channel": f":rotating_light: {len(items)} mentions are still unclaimed:",
            "answer_warn": f":hourglass_flowing_sand: {len(items)} claimed mentions are due soon:",
        }[stage.name]
        lines = [self._line(policy, i, now) for i in items[:40]]
        more = f"\n…and {len(items) - 40} more." if len(items) > 40 else ""
        ids = ",".join(str(i.mention.id) for i in items[:20])
        _message(
            session,
            policy.channel,
            f"group:{stage.name}:{ids}",
            now,
            head + "\n" + "\n".join(lines) + more,
        )

    def _dm_claimer(
        self, session: Session, policy: Policy, claimer: str, items: list[Sent], now: datetime
    ) -> None:
        for item in items:
            m = item.mention
            text = (
                f":alarm_clock: The answer to this mention is overdue "
                f"(claimed {_span(policy.hours.between(m.claimed_at or now, now))} of office "
                f"time ago):\n{self._line(policy, item, now)}"
            )
            buttons = [
                button("Still on it", ActionId.STILL_ON_IT, str(m.id), "primary"),
                button("Hand back", ActionId.HAND_BACK, str(m.id)),
                button("Need help", ActionId.NEED_HELP, str(m.id)),
            ]
            blocks = [section(text), {"type": "actions", "elements": buttons}]
            _message(session, claimer, f"dm:{m.id}:answer_dm", now, text, blocks)

    def _to_leads(
        self, session: Session, policy: Policy, stage: Stage, items: list[Sent], now: datetime
    ) -> None:
        lines = "\n".join(self._line(policy, i, now) for i in items[:40])
        what = "unclaimed" if stage.ladder == "claim" else "claimed but not answered"
        text = (
            f":bell: {policy.name}: {len(items)} mention(s) {what}, well past the service "
            f"level:\n{lines}"
        )
        ids = ",".join(str(i.mention.id) for i in items[:20])
        for lead in policy.leads:
            _message(session, lead, f"lead:{lead}:{stage.name}:{ids}", now, text)
        if not policy.leads:
            _message(
                session,
                policy.channel,
                f"lead:-:{stage.name}:{ids}",
                now,
                text + "\n(No lead is configured for this department.)",
            )

    def _line(self, policy: Policy, item: Sent, now: datetime) -> str:
        m = item.mention
        snippet = safe(one_line(m.text), 80)
        link = self.directory.permalink(item.card_channel, item.card_ts)
        label = (
            f"<{link}|{escape(source_label(m.source))}>" if link else escape(source_label(m.source))
        )
        return f"• {label}: {snippet} ({_span(policy.hours.between(m.received_at, now))})"

    # Through the outbox.
    @staticmethod
    def _thread(
        session: Session,
        mention: Mention,
        key: str,
        now: datetime,
        text: str,
        blocks: list[dict[str, Any]] | None,
        *,
        broadcast: bool = False,
    ) -> None:
        card = cards.active(session=session, mention_id=mention.id or 0)
        if card is None:
            return
        payload: dict[str, Any] = {"text": text, "broadcast": broadcast}
        if blocks:
            payload["blocks"] = blocks
        outbox.enqueue_for_card(
            session=session,
            card=card,
            kind=OutboxKind.THREAD_REPLY,
            idem_key=key,
            now=now,
            payload=payload,
        )

    @staticmethod
    def _queue_card_update(session: Session, mention: Mention, now: datetime, why: str) -> None:
        card = cards.active(session=session, mention_id=mention.id or 0)
        if card is not None:
            outbox.enqueue_for_card(
                session=session,
                card=card,
                kind=OutboxKind.UPDATE_CARD,
                idem_key=f"update:{card.id}:{why}",
                now=now,
            )


def _message(
    session: Session,
    channel: str,
    key: str,
    now: datetime,
    text: str,
    blocks: list[dict[str, Any]] | None = None,
) -> None:
    payload: dict[str, Any] = {"text": text, "blocks": blocks or [section(text)]}
    outbox.enqueue(
        session=session,
        kind=OutboxKind.MESSAGE,
        idem_key=key[:255],
        channel_id=channel,
        now=now,
        payload=payload,
    )


def _span(value: timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest:02d} min" if rest else f"{hours} h"


def _with_snooze(text: str, m: Mention) -> list[dict[str, Any]]:
    return [
        section(text),
        {
            "type": "actions",
            "elements": [
                button("Snooze 1 hour", ActionId.SNOOZE_HOUR, f"{m.id}:1h"),
                button("Snooze until tomorrow", ActionId.SNOOZE_TOMORROW, f"{m.id}:tomorrow"),
            ],
        },
    ]
