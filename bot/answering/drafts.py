"""What the comms team and the author see of a held answer: the draft card and the notes.

The draft card carries three buttons in one actions block, each with its own ``action_id``
(Slack refuses a message whose block repeats one); each carries the approval's id. Once
decided, the card is edited to say by whom and how, without buttons.
"""

from __future__ import annotations

from bot.core.blocks import Block, actions, button, context, section
from bot.core.mrkdwn import escape, one_line, safe
from bot.core.slack_ids import ActionId
from storage.answering.tables import Approval, ApprovalStatus
from storage.models import Mention

QUOTE = 1200


def quote(text: str, limit: int = QUOTE) -> str:
    return "\n".join(f"> {line}" for line in safe(text, limit).splitlines()) or "> …"


def draft_card(approval: Approval, mention: Mention, platform: str) -> tuple[str, list[Block]]:
    """The card in the comms channel: who wants to send what, to whom, and why it waits."""
    why = escape(", ".join(approval.reasons))
    who = safe(one_line(mention.author), 150) or "the citizen"
    head = (
        f":raised_hand: *Answer waiting for approval* ({why})\n"
        f"<@{approval.author}> would reply to *{who}* on {escape(platform)}. They wrote:\n"
        f"{quote(mention.text, 600)}"
    )
    body = f"*Proposed answer:*\n{quote(approval.text)}"
    value = str(approval.id)
    blocks = [section(head), section(body)]
    if approval.status == ApprovalStatus.PENDING:
        blocks.append(
            actions(
                [
                    button("Approve and send", ActionId.APPROVAL_APPROVE, value, "primary"),
                    button("Edit", ActionId.APPROVAL_EDIT, value),
                    button("Send back", ActionId.APPROVAL_SEND_BACK, value, "danger"),
                ],
                block_id=f"engage.approval.{value}",
            )
        )
    else:
        blocks.append(context(decided_line(approval)))
    return f"Answer waiting for approval ({', '.join(approval.reasons)})", blocks


def decided_line(approval: Approval) -> str:
    by = f"<@{approval.decided_by}>" if approval.decided_by else "someone"
    note = f": {safe(one_line(approval.note or ''), 500)}" if approval.note else ""
    if approval.status == ApprovalStatus.APPROVED:
        return f":white_check_mark: Approved by {by} and sent to the citizen."
    if approval.status == ApprovalStatus.SENT_BACK:
        return f":leftwards_arrow_with_hook: Sent back to <@{approval.author}> by {by}{note}"
    return f":no_entry_sign: Not sent{note}"


def to_author(approval: Approval, step: str) -> str:
    """The direct message the author gets at each step."""
    by = f"<@{approval.decided_by}>" if approval.decided_by else "the comms team"
    if step == "asked":
        return (
            ":hourglass_flowing_sand: Your answer needs the comms team's approval before it "
            f"reaches the citizen ({escape(', '.join(approval.reasons))}). It is waiting for "
            f"them now; you will hear back here.\n{quote(approval.text, 600)}"
        )
    if step == "approved":
        return f":white_check_mark: {by} approved your answer: it is on its way to the citizen."
    if step == "sent_back":
        note = quote(approval.note or "", 1500)
        return (
            f":leftwards_arrow_with_hook: {by} sent your answer back, with this note:\n{note}\n"
            "Nothing was sent to the citizen. Open the card's *Answered* again to write a new "
            f"one. What you wrote:\n{quote(approval.text, 1200)}"
        )
    return f":no_entry_sign: Your answer was approved but not sent: {escape(approval.note or '')}"
