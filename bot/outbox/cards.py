"""The card: the Slack message that shows one mention, rendered from its current state.

Delivery renders a card when it sends it, so an update that waited in the outbox still shows
the latest state, and two updates waiting for one card show the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core.blocks import button, context, section
from bot.core.mrkdwn import (
    CONTEXT_TEXT_LIMIT,
    FALLBACK_LIMIT,
    SECTION_TEXT_LIMIT,
    cut,
    escape,
    one_line,
    safe,
)
from bot.core.mrkdwn import link as mrkdwn_link
from bot.core.slack_ids import ActionId, BlockId
from bot.core.sources import source_label
from storage.models import OPEN_STATUSES, MentionStatus

STATUS_LINES = {
    MentionStatus.NEW: ":large_yellow_circle: Unclaimed: claim it to answer, or hand it over.",
}
URL_LIMIT = 3000
TITLE_LIMIT = 300
LINKED_PART_LIMIT = 400  # one source in "Also reported on"; longer, it is shown unlinked


@dataclass(frozen=True)
class LinkedReport:
    """Another platform's report of the card's issue, linked to the card.

    See :mod:`bot.intake.screening.linking`.
    """

    source: str
    url: str | None
    author: str
    request_id: str | None = None  # a 311 request's id
    priority: str | None = None  # the badge of its author's priority list


@dataclass(frozen=True)
class CardView:
    """Everything a card shows; built by delivery from the mention, its card and events."""

    mention_id: int
    source: str
    author: str
    text: str
    title: str | None
    url: str | None
    created_at: datetime | None
    received_at: datetime
    department_name: str | None  # None: triage
    rule: str | None
    route_reason: str | None
    status: MentionStatus
    claimed_by: str | None = None
    answered_by: str | None = None
    dismissed_by: str | None = None
    dismissed_reason: str | None = None
    moved_to: str | None = None  # set on a card whose mention was handed over elsewhere
    moved_by: str | None = None
    handed_from: str | None = None  # set on the card a hand-over created
    handed_by: str | None = None
    folded: int = 0  # near-duplicates and floods shown on this card
    folded_authors: tuple[str, ...] = ()
    care: tuple[str, ...] = ()  # the words that earned the "handle with care" label
    priority: str | None = None  # the badge of the author's priority list ("Press")
    linked: tuple[LinkedReport, ...] = ()  # the first few reports of the same issue elsewhere
    linked_total: int = 0
    removed: str | None = None  # "retention" or "erasure": the content is gone (bot/privacy)
    urgent: str | None = None  # why it is urgent (bot/urgent): the badge and "Not urgent"


def _date(value: datetime) -> str:
    ts = int(value.timestamp())
    fallback = value.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{ts}^{{date_short_pretty}} at {{time}}|{fallback}>"


def _link(url: str | None) -> str | None:
    if url and url.startswith(("https://", "http://")) and len(url) <= URL_LIMIT:
        return url
    return None


def fallback_text(view: CardView) -> str:
    where = view.department_name or "triage"
    snippet = safe(one_line(view.text), FALLBACK_LIMIT)
    badge = f" ({escape(view.priority)})" if view.priority else ""
    return f"{source_label(view.source)} mention{badge} for {escape(where)}: {snippet}"


def status_line(view: CardView) -> str:
    if view.moved_to:
        by = f" by <@{view.moved_by}>" if view.moved_by else ""
        return f":arrow_right: Handed over to *{escape(view.moved_to)}*{by}."
    if view.status == MentionStatus.CLAIMED:
        return f":raising_hand: Claimed by <@{view.claimed_by}>."
    if view.status == MentionStatus.ANSWERED:
        # Anyone may answer a claimed card; the card says so when it was not the claimer.
        other = view.claimed_by and view.claimed_by != view.answered_by
        on = f" on <@{view.claimed_by}>'s claim" if other else ""
        return f":white_check_mark: Answered by <@{view.answered_by}>{on}."
    if view.status == MentionStatus.DISMISSED:
        reason = escape(view.dismissed_reason or "no action")
        return f":no_entry_sign: Closed without action ({reason}) by <@{view.dismissed_by}>."
    return STATUS_LINES[MentionStatus.NEW]


def _actions(view: CardView) -> list[dict[str, Any]]:
    value = str(view.mention_id)
    buttons: list[dict[str, Any]] = []
    if not view.moved_to and view.status in OPEN_STATUSES:
        if view.status == MentionStatus.NEW:
            buttons.append(button("Claim", ActionId.CLAIM, value, "primary"))
        else:
            buttons.append(button("Release", ActionId.RELEASE, value))
        answered_style = "primary" if view.status == MentionStatus.CLAIMED else None
        buttons.append(button("Answered", ActionId.ANSWERED, value, answered_style))
        buttons.append(button("Hand over", ActionId.HAND_OVER, value))
        buttons.append(button("No action / spam", ActionId.DISMISS, value))
        if view.urgent:
            buttons.append(button("Not urgent", ActionId.URGENT_DOWNGRADE, value))
    link = _link(view.url)
    if link:
        original = button("Open original", ActionId.OPEN_ORIGINAL, value)
        original["url"] = link
        buttons.append(original)
    return buttons


def _linked_line(view: CardView) -> str:
    """Every platform the issue was reported on, linked where the adapter gave a permalink."""
    head = ":link: *Also reported on:* "
    parts: list[str] = []
    used = len(head) + 40  # room for "and N more"
    for report in view.linked:
        label = escape(
            source_label(report.source) + (f" #{report.request_id}" if report.request_id else "")
        )
        part = mrkdwn_link(report.url, label)
        if len(part) > LINKED_PART_LIMIT:
            part = label
        if report.author and not report.request_id:
            part += f" ({safe(one_line(report.author), 60)})"
        if report.priority:
            part += f" :star: {safe(report.priority, 60)}"
        if used + len(part) + 3 > CONTEXT_TEXT_LIMIT:
            break
        parts.append(part)
        used += len(part) + 3
    more = view.linked_total - len(parts)
    return head + " · ".join(parts) + (f" and {more} more" if more > 0 else "")


def render(view: CardView) -> tuple[str, list[dict[str, Any]]]:
    """The fallback text and the blocks of a card."""
    if view.removed:
        return _render_removed(view)
    body = view.text.strip() or "(no text)"
    link = _link(view.url)
    more = "… (cut: open the original for the rest)" if link else "… (cut)"
    text_limit = SECTION_TEXT_LIMIT - (TITLE_LIMIT + 10 if view.title else 0)
    text = safe(body, text_limit)
    if len(escape(body)) > text_limit:
        text = escape(cut(body, text_limit - len(more), suffix="")) + more
    if view.title:
        text = f"*{safe(one_line(view.title), TITLE_LIMIT)}*\n{text}"

    meta = [f"*{escape(source_label(view.source))}*"]
    if view.author:
        meta.append(safe(one_line(view.author), 200))
    meta.append(_date(view.created_at or view.received_at))
    if view.rule:
        why = f" ({safe(one_line(view.route_reason), 300)})" if view.route_reason else ""
        meta.append(f"rule *{escape(view.rule)}*{why}")
    else:
        meta.append("no rule matched: triage")
    if view.handed_from:
        by = f" by <@{view.handed_by}>" if view.handed_by else ""
        meta.append(f"handed over from *{escape(view.handed_from)}*{by}")

    blocks: list[dict[str, Any]] = []
    if view.urgent:
        blocks.append(
            context(
                f":rotating_light: *Urgent* ({safe(one_line(view.urgent), 200)}): the on-call "
                "person is paged, day or night."
            )
        )
    if view.priority:
        blocks.append(context(f":star: *{safe(view.priority, 60)}*: a priority author"))
    if view.care:
        blocks.append(
            context(
                f":warning: *Handle with care*: abusive language ({escape(', '.join(view.care))}). "
                "The comms team sees it first."
            )
        )
    blocks += [
        section(text, block_id=BlockId.CARD_TEXT.value),
        context(" · ".join(meta), block_id=BlockId.CARD_META.value),
        context(status_line(view), block_id=BlockId.CARD_STATUS.value),
    ]
    if view.folded:
        who = ", ".join(safe(one_line(a), 60) for a in view.folded_authors)
        others = view.folded - len(view.folded_authors)
        who += f" and {others} more" if others > 0 else ""
        blocks.append(
            context(
                f":busts_in_silhouette: *+{view.folded}* similar or repeated post(s), folded into "
                f"this card: {who}"
            )
        )
    if view.linked_total:
        blocks.append(context(_linked_line(view)))
    actions = _actions(view)
    if actions:
        blocks.append(
            {"type": "actions", "block_id": BlockId.CARD_ACTIONS.value, "elements": actions}
        )
    return fallback_text(view), blocks


REMOVED_NOTES = {
    "retention": "The content was removed under the retention policy.",
    "erasure": "The content was removed at the author's request.",
}


def _render_removed(view: CardView) -> tuple[str, list[dict[str, Any]]]:
    """A card whose mention's content is gone: what happened to it, nothing it said."""
    note = REMOVED_NOTES.get(view.removed or "", REMOVED_NOTES["retention"])
    where = escape(view.department_name or "triage")
    meta = f"*{escape(source_label(view.source))}* · {_date(view.received_at)} · {where}"
    blocks = [
        section(f":wastebasket: _{note}_", block_id=BlockId.CARD_TEXT.value),
        context(meta, block_id=BlockId.CARD_META.value),
    ]
    # Who claimed, answered or handed it over stays; an erasure's own closing names nobody.
    closed_by_erasure = view.status == MentionStatus.DISMISSED and not view.dismissed_by
    if (view.status != MentionStatus.NEW or view.moved_to) and not closed_by_erasure:
        blocks.append(context(status_line(view), block_id=BlockId.CARD_STATUS.value))
    return f"{source_label(view.source)} mention: {note}", blocks
