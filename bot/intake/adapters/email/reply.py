"""Answering a citizen's mail: the reply message, and sending it over SMTP as the city.

:class:`EmailReplier` answers by SMTP to the Reply-To (else the From) address, as
``Re: <subject>`` with In-Reply-To and References (:func:`build_reply`), so the answer lands in
the citizen's thread. SMTP's answers become ``ReplyError``s that say whether trying again may
help: a 4xx, a timeout or a dropped connection may; a 5xx or a refused certificate will not.

``email`` here is the stdlib's package: Python 3 imports are absolute, so this adapter's package
name does not hide it.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid

from bot.core.adapter import ReplyError, ReplyResult, ReplyTarget
from bot.intake.adapters.email.parse import reply_subject
from bot.intake.adapters.email.security import SMTP_PORTS, Security, check_security


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
        check_security(security, host, password, "email replier")
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
