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

:class:`EmailReplier` (:mod:`bot.intake.adapters.email.reply`) answers by SMTP in the
citizen's thread; it is re-exported here for callers that import it with the adapter.

TLS certificates are always verified, and ``security="none"`` (plain IMAP/SMTP) is refused for
anything but loopback when a password would cross the network in clear
(:mod:`bot.intake.adapters.email.security`).

The module is named after its source. It does not hide the stdlib's ``email`` package: Python 3
imports are absolute, so ``import email`` anywhere (in ``reply`` too) is the stdlib's. (``mailbox``
would be no safer a name: it is a stdlib module as well.)
"""

from __future__ import annotations

import imaplib
import logging
import re
import ssl
from contextlib import suppress
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

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
)
from bot.intake.adapters.email.parse import (
    NotAMention,
    mention_from_message,
    message_id,
)
from bot.intake.adapters.email.reply import EmailReplier
from bot.intake.adapters.email.security import IMAP_PORTS, Security, check_security

__all__ = ["EmailAdapter", "EmailReplier"]

_INTERNALDATE = re.compile(rb'INTERNALDATE "([^"]+)"')
log = logging.getLogger(__name__)


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
        check_security(security, host, password, f"email adapter {name}")
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
