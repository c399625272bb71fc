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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from bot.core.blocks import Block, actions, button, section
from bot.core.mrkdwn import SECTION_TEXT_LIMIT, escape, one_line, safe
from bot.core.slack_directory import SlackDirectory
from bot.core.slack_ids import ActionId, BlockId
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
    named: str | None = None  # who the rotation named for it (the thread rung only)


# Mentions listed in one grouped message; more go in the next. The claimer's check-in has a
# heading, then a section and a row of buttons per mention: 1 + 2 x 24 = 49 of Slack's 50 blocks.
PER_MESSAGE = 40
CHECK_INS_PER_MESSAGE = 24


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
        now: datetime,
    ) -> None:
        """Tell the right people about one department's reminders of one stage.

        Each item's ``named`` is the person rotation picked for it, if any. The hand-back
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
            self._in_thread(session, policy, stage, items[0], now)
        else:
            self._grouped(session, policy, stage, items, now)

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
        now: datetime,
    ) -> None:
        m = item.mention
        waited = _span(policy.hours.between(m.received_at, now))
        if stage.name == "claim_warn":
            left = _span(max(timedelta(), policy.claim - policy.hours.between(m.received_at, now)))
            text = f":hourglass_flowing_sand: Waiting for {waited}: please claim it within {left}."
        elif stage.name == "claim_thread":
            who = f"<@{item.named}>, could you" if item.named else "Could someone"
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
        self, session: Session, policy: Policy, stage: Stage, items: list[Sent], now: datetime
    ) -> None:
        head = {
            "claim_warn": f":hourglass_flowing_sand: {len(items)} mentions are close to their "
            "claim deadline:",
            "claim_thread": f":wave: {len(items)} mentions are waiting for someone to claim them:",
            "claim_channel": f":rotating_light: {len(items)} mentions are still unclaimed:",
            "answer_warn": f":hourglass_flowing_sand: {len(items)} claimed mentions are due soon:",
        }[stage.name]
        for start, part in _parts(items, PER_MESSAGE):
            lines = [
                self._line(policy, i, now)
                + (f" — <@{i.named}>, could you take this one?" if i.named else "")
                for i in part
            ]
            top = head if start == 0 else f"{head} (continued)"
            _message(session, policy.channel, f"group:{stage.name}:{_ids(part)}", now, top, lines)

    def _dm_claimer(
        self, session: Session, policy: Policy, claimer: str, items: list[Sent], now: datetime
    ) -> None:
        """One message listing the claimer's overdue answers, each with its own buttons."""
        mine = list({i.mention.id: i for i in items}.values())  # one row of buttons a mention
        head = (
            ":alarm_clock: The answer to this mention is overdue:"
            if len(mine) == 1
            else f":alarm_clock: The answers to these {len(mine)} mentions are overdue:"
        )
        for start, part in _parts(mine, CHECK_INS_PER_MESSAGE):
            top = head if start == 0 else f"{head} (continued)"
            blocks = [section(top)]
            lines = []
            for item in part:
                m = item.mention
                claimed = _span(policy.hours.between(m.claimed_at or now, now))
                line = f"{self._line(policy, item, now)}\nClaimed {claimed} of office time ago."
                lines.append(line)
                buttons = [
                    button("Still on it", ActionId.STILL_ON_IT, str(m.id), "primary"),
                    button("Hand back", ActionId.HAND_BACK, str(m.id)),
                    button("Need help", ActionId.NEED_HELP, str(m.id)),
                ]
                # Slack wants block ids unique in a message; the mention's id makes them so.
                blocks += [section(line), actions(buttons, block_id=f"{BlockId.CHECK_IN}:{m.id}")]
            key = f"dm:{part[0].mention.id}:answer_dm"
            _message(session, claimer, key, now, _fallback(top, lines), blocks=blocks)

    def _to_leads(
        self, session: Session, policy: Policy, stage: Stage, items: list[Sent], now: datetime
    ) -> None:
        what = "unclaimed" if stage.ladder == "claim" else "claimed but not answered"
        head = f":bell: {policy.name}: {len(items)} mention(s) {what}, well past the service level:"
        for start, part in _parts(items, PER_MESSAGE):
            lines = [self._line(policy, i, now) for i in part]
            top = head if start == 0 else f"{head} (continued)"
            ids = _ids(part)
            for lead in policy.leads:
                _message(session, lead, f"lead:{lead}:{stage.name}:{ids}", now, top, lines)
            if not policy.leads:
                lines.append("(No lead is configured for this department.)")
                _message(session, policy.channel, f"lead:-:{stage.name}:{ids}", now, top, lines)

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
    head: str,
    lines: Sequence[str] = (),
    *,
    blocks: list[Block] | None = None,
) -> None:
    """A message of ``head`` and ``lines``, the lines packed into as few sections as Slack's
    3,000 characters allow (one section would cut a long list short); or ``blocks`` as given,
    with ``head`` as the notification text."""
    if blocks is None:
        blocks = [section(head), *_sections(lines)]
        head = _fallback(head, lines)
    outbox.enqueue(
        session=session,
        kind=OutboxKind.MESSAGE,
        idem_key=key[:255],
        channel_id=channel,
        now=now,
        payload={"text": head, "blocks": blocks},
    )


def _sections(lines: Sequence[str]) -> list[Block]:
    packed: list[str] = []
    for line in lines:
        if packed and len(packed[-1]) + 1 + len(line) <= SECTION_TEXT_LIMIT:
            packed[-1] += "\n" + line
        else:
            packed.append(line)
    return [section(text) for text in packed]


def _fallback(head: str, lines: Sequence[str]) -> str:
    """The notification text: the head and as many whole lines as fit in a section."""
    text = head
    for line in lines:
        if len(text) + 1 + len(line) > SECTION_TEXT_LIMIT:
            break
        text += "\n" + line
    return text


def _parts(items: list[Sent], size: int) -> list[tuple[int, list[Sent]]]:
    """``items`` in parts of ``size``, each with where it starts."""
    return [(start, items[start : start + size]) for start in range(0, len(items), size)]


def _ids(items: list[Sent]) -> str:
    return ",".join(str(i.mention.id) for i in items[:20])


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
