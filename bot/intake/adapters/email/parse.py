"""One fetched email turned into a mention: headers decoded, body trimmed, dates made sane.

Mail from citizens is the messiest input Engage takes: RFC 2047 words cut in half, raw UTF-8 or
Shift-JIS in headers, dates in the year 3609 or in no format at all, boundaries that do not
match, HTML-only bodies, whole threads quoted under a two-line answer. This module is kept apart
from the IMAP plumbing in ``bot.intake.adapters.email.adapter`` so that it can be reasoned about
(and tested) on bytes alone. It is deliberately tolerant: an undecodable header is kept as
written, a bad date falls back to the receiving server's time, and only a message with nothing
to route (no subject and no text) or one a machine wrote (a bounce, a read receipt, an
auto-reply) is refused, with :class:`NotAMention` saying why.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.header import Header, decode_header
from email.message import Message
from email.utils import getaddresses
from typing import Any

from imap_tools import MailMessage
from imap_tools.utils import parse_email_date

from bot.core.adapter import IncomingMention
from bot.intake.adapters.common import html_to_text

SOURCE = "email"
EARLIEST = datetime(1995, 1, 1, tzinfo=UTC)  # an earlier Date header is a broken clock
_MSGID = re.compile(r"<[^<>\s]+>")
_ATTRIBUTION = re.compile(
    r"^(on|am|le|el|op)\s.{0,300}(wrote|schrieb|a écrit|escribió|schreef)\s?:$", re.I | re.S
)
_SEPARATOR = re.compile(r"^(--\s?|-{2,}\s*original message\s*-{2,}|_{20,})$", re.I)
_MOBILE = re.compile(r"^(sent from my [\w .-]{1,40}|get outlook for \w+)$", re.I)
_FORWARD = re.compile(r"^\s*(fwd?|tr|wg)\s*:", re.I)
_REPLY = re.compile(r"^\s*(re|aw|sv|antw)\s*(\[\d+\])?\s*:", re.I)


class NotAMention(ValueError):
    """The message is readable but is nothing a citizen wrote (bounce, auto-reply, empty)."""


def _eight_bit(raw: bytes) -> str:
    """Raw 8-bit header bytes: UTF-8 (RFC 6532) if they are, else the usual Windows-1252."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", "replace")


def _text_of(value: object) -> str:
    """A header as a string, its raw 8-bit bytes (RFC 6532 or just broken) decoded."""
    if isinstance(value, Header):  # the stdlib's wrapper for headers with undecodable bytes
        return "".join(
            _eight_bit(part) if isinstance(part, bytes) else part
            for part, _ in decode_header(value)
        )
    return "" if value is None else str(value)


def _decode_part(part: bytes | str, charset: str | None) -> str:
    if isinstance(part, str):
        return part
    if charset is None:  # decode_header's own re-encoding of the unencoded stretches
        return part.decode("raw-unicode-escape", "replace")
    try:
        return part.decode(charset, "replace")
    except LookupError:  # an unknown charset name: UTF-8 is the best guess left
        return part.decode("utf-8", "replace")


def header_text(value: object) -> str:
    """An RFC 2047 header decoded and unfolded; a word that will not decode is kept as written."""
    raw = _text_of(value)
    try:
        parts = decode_header(raw)
    except Exception:  # e.g. HeaderParseError on a truncated base64 word
        return " ".join(raw.split())
    return " ".join("".join(_decode_part(p, c) for p, c in parts).split())


def addresses(msg: Message, field: str) -> list[tuple[str, str]]:
    """``(display name, address)`` pairs of an address header; a part with no ``@`` is a name."""
    found: list[tuple[str, str]] = []
    for raw in msg.get_all(field) or []:
        for name, address in getaddresses([_text_of(raw)]):
            name, address = header_text(name), address.strip()
            if "@" not in address:
                name, address = name or address, ""
            if name or address:
                found.append((name, address))
    return found


def message_ids(value: object) -> list[str]:
    """The ``<id>`` tokens of a Message-ID, In-Reply-To or References header."""
    return _MSGID.findall(_text_of(value))


def message_id(value: object) -> str | None:
    """A Message-ID in its ``<...>`` form; a bare ``local@domain`` gets its brackets back."""
    if found := message_ids(value):
        return found[0]
    bare = "".join(_text_of(value).split()).strip("<>")
    return f"<{bare}>" if "@" in bare else None


def _sane(when: datetime | None, now: datetime) -> datetime | None:
    if when is None:
        return None
    when = (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)
    return when if EARLIEST <= when <= now + timedelta(days=1) else None


def sent_at(msg: Message, now: datetime | None = None) -> datetime | None:
    """The Date header in UTC; if absent or absurd, the top Received header's date; else None."""
    now = now or datetime.now(UTC)
    if when := _sane(parse_email_date(_text_of(msg.get("Date"))), now):
        return when
    received = msg.get_all("Received") or []
    if received and ";" in (top := _text_of(received[0])):
        return _sane(parse_email_date(" ".join(top.rsplit(";", 1)[1].split())), now)
    return None


def trim_reply(text: str) -> str:
    """The new part of a reply: quoted history, attribution lines and signatures cut off.

    Cuts at the first signature separator (``-- ``), ``-----Original Message-----``, Outlook's
    ``____`` rule or ``From:``/``Sent:`` block, or an ``On ... wrote:`` line (also folded over
    two lines), then drops trailing ``>`` quotes and "Sent from my phone" lines. Quotes
    interleaved with answers stay. If nothing would be left, the whole text is kept.
    """
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    cut = len(lines)
    for i, line in enumerate(lines):
        following = lines[i + 1] if i + 1 < len(lines) else ""
        if (
            _SEPARATOR.match(line)
            or _ATTRIBUTION.match(line)
            or (line.startswith(("On ", "on ")) and _ATTRIBUTION.match(f"{line} {following}"))
            or (line.startswith("From: ") and following.startswith("Sent: "))
        ):
            cut = i
            break
    kept = lines[:cut]
    while kept and (
        not kept[-1].strip() or kept[-1].lstrip().startswith(">") or _MOBILE.match(kept[-1].strip())
    ):
        kept.pop()
    trimmed = re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()
    return trimmed or re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def body_text(msg: MailMessage, *, forwarded: bool = False) -> str:
    """The text/plain body (reply history trimmed unless forwarded), else the HTML as text."""
    plain = msg.text
    if plain.strip():
        if forwarded:  # a forward's quoted part is the point of it
            return re.sub(r"\n{3,}", "\n\n", plain.replace("\r\n", "\n")).strip()
        return trim_reply(plain)
    return html_to_text(msg.html) if msg.html else ""


def machine_written(msg: Message, sender: str) -> str | None:
    """Why a message is a machine's (bounce, receipt, auto-reply), or None for a person's."""
    if msg.get_content_type() == "multipart/report":
        kind = str(msg.get_param("report-type") or "").lower()
        return {
            "delivery-status": "delivery status report (bounce)",
            "disposition-notification": "read receipt",
        }.get(kind, f"automatic report ({kind or 'unknown type'})")
    if sender.lower().split("@")[0] in ("mailer-daemon", "postmaster"):
        return "delivery status report (bounce)"
    auto = header_text(msg.get("Auto-Submitted")).lower()
    if auto and not auto.startswith("no"):
        return f"automatic message (Auto-Submitted: {auto})"
    if msg.get("X-Autoreply") or header_text(msg.get("Precedence")).lower() == "auto_reply":
        return "auto-reply"
    return None


def reply_subject(subject: str) -> str:
    """``Re: <subject>``, without stacking a second ``Re:`` (or ``AW:``/``SV:``) on a reply."""
    subject = " ".join(subject.split())
    if _REPLY.match(subject):
        return subject
    return f"Re: {subject}" if subject else "Re: your message"


def mention_from_message(
    msg: MailMessage, *, uid: int, uidvalidity: int, folder: str, now: datetime | None = None
) -> IncomingMention:
    """The mention in one message; raises :class:`NotAMention` for machine mail or no content.

    ``created_at`` is None when neither the Date nor a Received header holds a believable time:
    the adapter then uses the server's INTERNALDATE.
    """
    obj = msg.obj
    senders = addresses(obj, "From")
    from_name, from_address = senders[0] if senders else ("", "")
    if reason := machine_written(obj, from_address):
        raise NotAMention(f"{reason} from {from_address or 'an unknown sender'}")
    subject = header_text(obj.get("Subject"))
    text = body_text(msg, forwarded=bool(_FORWARD.match(subject))) or subject
    if not text:
        raise NotAMention("no subject and no text")
    own_id = message_id(obj.get("Message-ID"))
    replied_to = message_ids(obj.get("In-Reply-To"))
    extra: dict[str, Any] = {
        "message_id": own_id,
        "from_address": from_address,
        "from_name": from_name,
        "to": [a for _, a in addresses(obj, "To") if a],
        "reply_to": [a for _, a in addresses(obj, "Reply-To") if a],
        "subject": subject,
        "in_reply_to": replied_to[0] if replied_to else None,
        "references": [i for raw in obj.get_all("References") or [] for i in message_ids(raw)],
        "uid": uid,
        "uidvalidity": uidvalidity,
        "folder": folder,
    }
    language = header_text(obj.get("Content-Language")).split(",")[0].strip()
    return IncomingMention(
        source=SOURCE,
        external_id=own_id or f"uid:{uidvalidity}:{uid}",
        text=text,
        author=f"{from_name} <{from_address}>"
        if from_name and from_address
        else from_name or from_address,
        url=None,
        title=subject or None,
        created_at=sent_at(obj, now),
        language=language or None,
        extra=extra,
    )
