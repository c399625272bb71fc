"""A city mailbox as a source of mentions (IMAP, via imap-tools) and replies sent over SMTP.

Citizens write to an address such as ``engage@city.example``; this adapter polls one folder of
that mailbox. Messages are read with ``BODY.PEEK`` (never flagged on fetch) and each is parsed
on its own by :mod:`bot.intake.adapters.email.parse`, so one broken message never blocks the others.

Cursor ``{"uidvalidity", "last_uid", "backlog_below", "to_mark_seen", "seen_ids"}``:

* A fetch takes the messages with UID > ``last_uid`` (lowest first, ``max_messages`` at a
  time), whether or not someone has read them in a mail client meanwhile.
* The first fetch, and the first after the folder was rebuilt, takes only the *unseen*
  messages among those already there (UID < ``backlog_below``, the UIDNEXT of that moment):
  connecting the bot to a mailbox with years of read mail does not flood Slack.
* UIDs only mean something under one UIDVALIDITY. When the server reports another one the
  folder was rebuilt (migration, restore): the UID bookkeeping starts over as above and
  ``seen_ids``, the external ids of the last ``max_seen_ids`` messages handed over, keeps
  those from being repeated (a second copy of a message, same Message-ID, is skipped the same
  way at any time). Storage deduplication on the Message-ID catches the rest; a message with
  no Message-ID has the id ``uid:<uidvalidity>:<uid>``, which a rebuild cannot keep.
* A message is flagged ``\\Seen`` only after it was stored. The runner stores the mentions
  and the cursor in one transaction after ``fetch`` returns, so ``fetch`` cannot flag what it
  returns. Instead the cursor lists their UIDs in ``to_mark_seen`` and the *next* fetch, which
  receives that cursor only if it was committed, flags them first. A crash between fetch and
  commit leaves the messages unread and the old cursor, so they are fetched again. Messages
  turned into errors (bounces, empty ones) are never flagged: they stay unread for a person.

:class:`EmailReplier` answers by SMTP to the Reply-To (else the From) address, as
``Re: <subject>`` with In-Reply-To and References, so the answer lands in the citizen's thread.

TLS certificates are always verified: imaplib and smtplib do not verify them when given no
SSL context, so one is always built here. ``security="none"`` (plain IMAP/SMTP) is refused
for anything but loopback when a password would cross the network in clear.

The module is named after its source. It does not hide the stdlib's ``email`` package: Python 3
imports are absolute, so ``import email`` anywhere (here too) is the stdlib's. (``mailbox``
would be no safer a name: it is a stdlib module as well.)
"""

from __future__ import annotations

import imaplib
import ipaddress
import logging
import re
import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import replace
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from typing import Any, Literal

from imap_tools import BaseMailBox, MailBox, MailBoxStartTls, MailBoxUnencrypted
from imap_tools.errors import (
    ImapToolsError,
    MailboxFetchError,
    MailboxFolderSelectError,
    MailboxLoginError,
)

from bot.core.adapter import (
    JSON,
    AdapterError,
    FetchResult,
    IncomingMention,
    ItemError,
    ReplyError,
    ReplyResult,
    ReplyTarget,
)
from bot.intake.adapters.email.parse import (
    NotAMention,
    mention_from_message,
    message_id,
    reply_subject,
)

Security = Literal["ssl", "starttls", "none"]
IMAP_PORTS = {"ssl": 993, "starttls": 143, "none": 143}
SMTP_PORTS = {"ssl": 465, "starttls": 587, "none": 25}
_INTERNALDATE = re.compile(rb'INTERNALDATE "([^"]+)"')
log = logging.getLogger(__name__)


def _check_security(security: str, host: str, password: str, what: str) -> None:
    if security not in IMAP_PORTS:
        raise ValueError(f"{what}: security must be 'ssl', 'starttls' or 'none', not {security!r}")
    if security == "none" and password and not _loopback(host):
        raise ValueError(f"{what}: security 'none' would send the password in clear to {host}")


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


class EmailAdapter:
    """Polls one IMAP folder for citizens' mail; see the module docstring for the cursor.

    ``host``/``port``/``security``: the IMAP server (port defaults to 993 for ``ssl``, 143
    otherwise). ``username``/``password``: the mailbox login. ``folder``: the folder to poll.
    ``timeout``: seconds for connecting and for every IMAP command. ``max_messages``: messages
    per fetch (the rest come next time). ``max_seen_ids``: recent ids kept against repeats after
    a rebuild. ``ssl_context``: to trust a private CA; the default verifies against the system.
    """

    source = "email"

    def __init__(
        self,
        *,
        name: str = "email",
        host: str,
        port: int | None = None,
        security: Security = "ssl",
        username: str,
        password: str,
        folder: str = "INBOX",
        timeout: float = 30.0,
        max_messages: int = 50,
        max_seen_ids: int = 500,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        _check_security(security, host, password, f"email adapter {name}")
        if timeout <= 0 or max_messages < 1 or max_seen_ids < 0:
            raise ValueError("timeout and max_messages must be positive")
        self.name, self.host, self.security = name, host, security
        self.port = port or IMAP_PORTS[security]
        self.username, self._password, self.folder = username, password, folder
        self.timeout, self.max_messages, self.max_seen_ids = timeout, max_messages, max_seen_ids
        self._ssl_context = ssl_context

    def _mailbox(self) -> BaseMailBox:
        context = self._ssl_context or ssl.create_default_context()
        if self.security == "ssl":
            return MailBox(self.host, self.port, timeout=self.timeout, ssl_context=context)
        if self.security == "starttls":
            return MailBoxStartTls(self.host, self.port, timeout=self.timeout, ssl_context=context)
        return MailBoxUnencrypted(self.host, self.port, timeout=self.timeout)

    def fetch(self, cursor: JSON | None) -> FetchResult:
        where = f"{self.name}: imap {self.host}:{self.port}"
        try:
            box = self._mailbox()
        except TimeoutError as exc:
            raise AdapterError(f"{where}: connection timed out after {self.timeout:g}s") from exc
        except ssl.SSLError as exc:
            raise AdapterError(f"{where}: TLS failed: {exc}") from exc
        except (OSError, ValueError, imaplib.IMAP4.error, ImapToolsError) as exc:
            raise AdapterError(f"{where}: cannot connect: {exc!r}") from exc
        try:
            try:
                if self.username.isascii() and self._password.isascii():
                    box.login(self.username, self._password, initial_folder=None)
                else:  # LOGIN is ASCII-only; AUTHENTICATE PLAIN carries UTF-8
                    box.login_utf8(self.username, self._password, initial_folder=None)
            except (MailboxLoginError, imaplib.IMAP4.error) as exc:
                if isinstance(exc, imaplib.IMAP4.abort):
                    raise
                said = exc.command_result[1] if isinstance(exc, MailboxLoginError) else [exc]
                detail = " ".join(
                    i.decode(errors="replace") if isinstance(i, bytes) else str(i) for i in said
                )
                raise AdapterError(
                    f"{where}: login refused for {self.username!r}: {detail} (check the username"
                    " and password)"
                ) from exc
            box.folder.set(self.folder)
            return self._fetch(box, cursor or {})
        except AdapterError:
            raise
        except MailboxFolderSelectError as exc:
            raise AdapterError(f"{where}: cannot open folder {self.folder!r}: {exc}") from exc
        except TimeoutError as exc:
            raise AdapterError(f"{where}: timed out after {self.timeout:g}s") from exc
        except (OSError, imaplib.IMAP4.error, ImapToolsError) as exc:
            raise AdapterError(f"{where}: {self.folder}: {exc!r}") from exc
        finally:
            with suppress(Exception):
                box.logout()

    def _status(self, box: BaseMailBox) -> tuple[int, int]:
        """UIDVALIDITY and UIDNEXT of the selected folder (from SELECT, else from STATUS)."""
        found = {}
        for key in ("UIDVALIDITY", "UIDNEXT"):
            _, data = box.client.response(key)
            if data and data[-1]:
                found[key] = _int(data[-1].decode() if isinstance(data[-1], bytes) else data[-1])
        if len(found) < 2:
            status = box.folder.status(self.folder, ["UIDVALIDITY", "UIDNEXT"])
            found = {key: _int(status.get(key)) for key in ("UIDVALIDITY", "UIDNEXT")}
        return found["UIDVALIDITY"], found["UIDNEXT"]

    def _new_uids(self, box: BaseMailBox, last_uid: int, backlog_below: int) -> list[int]:
        """UIDs above ``last_uid``; below ``backlog_below`` only the unseen ones."""
        found: set[int] = set()
        start = last_uid + 1
        if backlog_below > start:
            found.update(
                int(u) for u in box.uids(f"UID {start}:{backlog_below - 1} UNSEEN", charset=None)
            )
            start = backlog_below
        # "UID n:*" also matches the highest UID when it is below n, hence the filter.
        found.update(u for u in map(int, box.uids(f"UID {start}:*", charset=None)) if u >= start)
        return sorted(found)[: self.max_messages]

    def _mark_seen(self, box: BaseMailBox, uids: list[int]) -> None:
        if not uids:
            return
        # Not box.flag(): it EXPUNGEs afterwards, deleting whatever a person marked \Deleted.
        typ, data = box.client.uid("STORE", ",".join(map(str, uids)), "+FLAGS.SILENT", r"(\Seen)")
        if typ != "OK":  # a read-only folder, say: the messages just stay unread
            log.warning(
                "%s: could not flag %d stored messages as seen: %s", self.name, len(uids), data
            )

    def _internaldate(self, box: BaseMailBox, uid: int) -> datetime | None:
        """When the server received the message, for mail with no believable Date header."""
        typ, data = box.client.uid("FETCH", str(uid), "(INTERNALDATE)")
        for item in data if typ == "OK" else []:
            raw = item[0] if isinstance(item, tuple) else item
            if isinstance(raw, bytes) and (match := _INTERNALDATE.search(raw)):
                with suppress(ValueError):
                    stamp = match.group(1).decode().strip()
                    return datetime.strptime(stamp, "%d-%b-%Y %H:%M:%S %z").astimezone(UTC)
        return None

    def _fetch(self, box: BaseMailBox, state: JSON) -> FetchResult:
        uidvalidity, uidnext = self._status(box)
        seen_ids = [str(i) for i in state.get("seen_ids") or []]
        if _int(state.get("uidvalidity"), -1) == uidvalidity:
            last_uid, backlog_below = _int(state.get("last_uid")), _int(state.get("backlog_below"))
            self._mark_seen(box, sorted({_int(u) for u in state.get("to_mark_seen") or []} - {0}))
        else:  # first run, or the folder was rebuilt: its UIDs say nothing about ours
            last_uid, backlog_below = 0, uidnext
        mentions: list[IncomingMention] = []
        errors: list[ItemError] = []
        to_mark: list[int] = []
        known = set(seen_ids)
        uids = self._new_uids(box, last_uid, backlog_below)
        for uid in uids:
            fallback_id = f"uid:{uidvalidity}:{uid}"
            try:
                fetched = list(box.fetch(uid_list=[str(uid)], mark_seen=False))
            except MailboxFetchError as exc:
                errors.append(
                    ItemError(fallback_id, f"{self.name}: uid {uid}: fetch failed: {exc}")
                )
                continue
            if not fetched:
                continue  # expunged since the search
            try:
                mention = mention_from_message(
                    fetched[0], uid=uid, uidvalidity=uidvalidity, folder=self.folder
                )
            except Exception as exc:  # one bad message never blocks the others
                item_id = message_id(fetched[0].obj.get("Message-ID")) or fallback_id
                why = f"skipped: {exc}" if isinstance(exc, NotAMention) else f"unreadable: {exc!r}"
                errors.append(ItemError(item_id, f"{self.name}: uid {uid}: {why}"))
                continue
            if mention.external_id in known:  # a copy of one handed over before
                to_mark.append(uid)
                continue
            if mention.created_at is None:
                mention = replace(mention, created_at=self._internaldate(box, uid))
            known.add(mention.external_id)
            seen_ids.insert(0, mention.external_id)
            mentions.append(mention)
            to_mark.append(uid)
        last_uid = max([last_uid, *uids])
        return FetchResult(
            mentions=mentions,
            cursor={
                "uidvalidity": uidvalidity,
                "last_uid": last_uid,
                "backlog_below": backlog_below if backlog_below > last_uid + 1 else 0,
                "to_mark_seen": to_mark,
                "seen_ids": seen_ids[: self.max_seen_ids],
            },
            errors=errors,
        )


def build_reply(
    target: ReplyTarget, text: str, *, from_address: str, from_name: str = ""
) -> EmailMessage:
    """The answer to one citizen's mail, threaded under it (In-Reply-To and References)."""
    extra = target.extra
    recipients = [str(a) for a in extra.get("reply_to") or [] if a] or [
        str(extra.get("from_address") or "")
    ]
    if not recipients[0]:
        raise ReplyError(f"{target.external_id}: the message has no address to reply to")
    own_id = target.external_id if target.external_id.startswith("<") else None
    original = extra.get("message_id") or own_id
    references = [str(r) for r in extra.get("references") or []]
    if original and original not in references:
        references.append(str(original))
    if len(references) > 20:  # RFC 5322: keep the first and the most recent
        references = references[:1] + references[-19:]
    msg = EmailMessage()
    msg["From"] = formataddr((from_name, from_address))
    sender_name = str(extra.get("from_name") or "") if not extra.get("reply_to") else ""
    msg["To"] = formataddr((sender_name, recipients[0]))
    msg["Subject"] = reply_subject(str(extra.get("subject") or target.title or ""))
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = make_msgid(domain=from_address.rpartition("@")[2] or None)
    if original:
        msg["In-Reply-To"] = str(original)
    if references:
        msg["References"] = " ".join(references)
    msg.set_content(text)
    return msg


class EmailReplier:
    """Answers a mention by mail over SMTP, as the city's address, in the citizen's thread.

    ``host``/``port``/``security``: the submission server (port defaults to 465 for ``ssl``,
    587 for ``starttls``, 25 for ``none``). ``username``/``password``: SMTP login, skipped if
    empty. ``from_address``/``from_name``: the city's sender; its domain names new Message-IDs
    and the EHLO. ``timeout``: seconds for connecting and every command.
    """

    source = "email"

    def __init__(
        self,
        *,
        host: str,
        port: int | None = None,
        security: Security = "starttls",
        username: str = "",
        password: str = "",
        from_address: str,
        from_name: str = "",
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        _check_security(security, host, password, "email replier")
        if "@" not in from_address:
            raise ValueError(f"email replier: from_address {from_address!r} is not an address")
        self.host, self.security = host, security
        self.port = port or SMTP_PORTS[security]
        self.username, self._password = username, password
        self.from_address, self.from_name, self.timeout = from_address, from_name, timeout
        self._ssl_context = ssl_context
        self._ehlo_name = from_address.rpartition("@")[2]  # never socket.getfqdn(): it can hang

    @contextmanager
    def _smtp(self) -> Iterator[smtplib.SMTP]:
        context = self._ssl_context or ssl.create_default_context()
        smtp: smtplib.SMTP
        if self.security == "ssl":
            smtp = smtplib.SMTP_SSL(
                self.host, self.port, self._ehlo_name, timeout=self.timeout, context=context
            )
        else:
            smtp = smtplib.SMTP(self.host, self.port, self._ehlo_name, timeout=self.timeout)
        with smtp:
            if self.security == "starttls":
                smtp.starttls(context=context)
            if self.username:
                smtp.login(self.username, self._password)
            yield smtp

    def reply(self, target: ReplyTarget, text: str) -> ReplyResult:
        try:
            msg = build_reply(
                target, text, from_address=self.from_address, from_name=self.from_name
            )
        except ValueError as exc:  # e.g. a line break in a header value from storage
            raise ReplyError(f"{target.external_id}: cannot build the reply: {exc}") from exc
        where = f"smtp {self.host}:{self.port}"
        try:
            with self._smtp() as smtp:
                smtp.send_message(msg, from_addr=self.from_address)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise ReplyError(
                f"{where}: recipient refused: {exc.recipients}",
                retryable=all(400 <= code < 500 for code in codes),
            ) from exc
        except smtplib.SMTPResponseException as exc:  # auth, sender, data: 4xx says try later
            detail = exc.smtp_error
            if isinstance(detail, bytes):
                detail = detail.decode(errors="replace")
            raise ReplyError(
                f"{where}: {exc.smtp_code} {detail}", retryable=400 <= exc.smtp_code < 500
            ) from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise ReplyError(f"{where}: server does not support it: {exc}") from exc
        except smtplib.SMTPServerDisconnected as exc:
            raise ReplyError(f"{where}: disconnected: {exc}", retryable=True) from exc
        except ssl.SSLCertVerificationError as exc:
            raise ReplyError(f"{where}: TLS certificate not trusted: {exc}") from exc
        except TimeoutError as exc:
            raise ReplyError(f"{where}: timed out after {self.timeout:g}s", retryable=True) from exc
        except OSError as exc:  # refused, unreachable, reset, TLS handshake
            raise ReplyError(f"{where}: cannot send: {exc!r}", retryable=True) from exc
        except smtplib.SMTPException as exc:  # e.g. no usable AUTH mechanism: a setup problem
            raise ReplyError(f"{where}: {exc}") from exc
        return ReplyResult(external_id=str(msg["Message-ID"]))
