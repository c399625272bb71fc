"""Facebook Page posts and comments as mentions: pure functions over Graph's JSON (no I/O).

Graph often hides ``from`` for people's privacy, so an author may be :data:`ANONYMOUS`; a post
of only a photo, sticker or link has no ``message`` and gets :data:`NO_TEXT`. The Page's own
posts and replies are not mentions. A comment keeps the post it is under and its parent comment,
since Graph threads are two levels deep and a reply to a reply goes under the parent.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.core.adapter import IncomingMention

SOURCE = "facebook"
ANONYMOUS = "Facebook user"  # Graph often hides ``from`` for people's privacy
NO_TEXT = "[no text: photo, sticker or link only]"


def when(value: object) -> datetime | None:
    """An ISO ``created_time`` as an aware datetime, or None."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def to_mention(
    raw: object, *, stream: str, post_id: str | None, created: datetime | None, page_id: str
) -> IncomingMention | None:
    """One post (``post_id`` None) or comment as a mention; None if the Page wrote it;
    ValueError if it cannot be read."""
    if not isinstance(raw, Mapping):
        raise ValueError(f"item is not an object: {str(raw)[:80]}")
    obj_id = raw.get("id")
    if not isinstance(obj_id, str) or not obj_id:
        raise ValueError("item has no id")
    if created is None:
        raise ValueError(f"{obj_id} has no valid created_time")
    sender = _obj(raw.get("from"))
    sender_id = str(sender.get("id") or "") or None
    if sender_id == page_id:
        return None  # the Page itself: its posts, its replies
    message = raw.get("message")
    text = message.strip() if isinstance(message, str) else ""
    link = raw.get("permalink_url")
    parent = _obj(raw.get("parent"))
    comment = post_id is not None
    return IncomingMention(
        source=SOURCE,
        external_id=obj_id,
        text=text or NO_TEXT,
        author=str(sender.get("name") or "") or ANONYMOUS,
        url=link if isinstance(link, str) and link.startswith("https://") else None,
        created_at=created,
        extra={
            "object_id": obj_id,
            "kind": "comment" if comment else "post",
            "stream": stream,
            "post_id": post_id if comment else obj_id,
            "parent_id": parent.get("id") if isinstance(parent.get("id"), str) else None,
            "from_id": sender_id,
            "has_text": bool(text),
        },
    )


def _obj(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
