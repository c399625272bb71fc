"""What a page says: a direct message with the mention, *Acknowledge* and *Not urgent*.

Each stage says why it reached this person (on call, the on-call person did not answer, the
leads, the comms team), so a lead woken at 2:20 knows two people were tried before.
"""

from __future__ import annotations

from typing import Any

from bot.core.blocks import actions, button, context, section
from bot.core.mrkdwn import escape, one_line, safe
from bot.core.slack_ids import ActionId
from bot.core.sources import source_label
from storage.models import Mention

SNIPPET = 1500

INTRO = {
    "oncall": "You are on call for *{where}*.",
    "next": "<@{first}> has not acknowledged this in {minutes} minutes; you are next on call "
    "for *{where}*.",
    "lead": "Nobody on call for *{where}* has acknowledged this in {minutes} minutes.",
    "comms": "Nobody at *{where}* has acknowledged this in {minutes} minutes.",
}


def page(
    mention: Mention,
    *,
    stage: str,
    where: str,
    reason: str,
    first: str | None,
    waited: int,
    card_link: str | None,
) -> tuple[str, list[dict[str, Any]]]:
    """The fallback text and the blocks of one page."""
    assert mention.id is not None
    intro = INTRO[stage].format(where=escape(where), first=first or "", minutes=waited)
    head = f":rotating_light: *Urgent* ({escape(reason)}). {intro}"
    quote = safe(one_line(mention.text or "(no text)"), SNIPPET)
    meta = [f"*{escape(source_label(mention.source))}*"]
    if mention.author:
        meta.append(safe(one_line(mention.author), 200))
    if card_link:
        meta.append(f"<{card_link}|the card>")
    value = str(mention.id)
    blocks = [
        section(f"{head}\n>{quote}"),
        context(" · ".join(meta)),
        actions(
            [
                button("Acknowledge", ActionId.URGENT_ACK, value, "primary"),
                button("Not urgent", ActionId.URGENT_DOWNGRADE, value),
            ]
        ),
    ]
    text = f"Urgent for {escape(where)}: {safe(one_line(mention.text), 200)}"
    return text, blocks
