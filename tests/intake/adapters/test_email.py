"""EmailAdapter against a real IMAP server (pymap) and EmailReplier against a real SMTP server.

Both servers run on loopback once per module (see tests/imap_server.py). Messages are the
recorded .eml files in tests/fixtures/email, delivered with IMAP APPEND; each test works in its
own folder so the tests do not see each other's mail.
"""

from __future__ import annotations

import itertools
import json
import socket
import ssl
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest

from bot.core.adapter import (
    AdapterError,
    IncomingMention,
    PollingAdapter,
    Replier,
    ReplyError,
    ReplyTarget,
)
from bot.intake.adapters.email.adapter import EmailAdapter
from bot.intake.adapters.email.parse import reply_subject, trim_reply
from bot.intake.adapters.email.reply import EmailReplier
from tests.imap_server import HOST, PymapServer, SmtpSink, free_port, self_signed_cert

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "email"
USER, PASSWORD = "engage@city.example", "imap-secret"
WHEN = datetime(2024, 10, 1, 12, 0, tzinfo=UTC)  # INTERNALDATE given to the appended mail
_folders = itertools.count()


def eml(name: str) -> bytes:
    return (FIXTURES / f"{name}.eml").read_bytes()


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path] | None:
    return self_signed_cert(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def imap(cert: tuple[Path, Path] | None) -> Iterator[PymapServer]:
    server = PymapServer(USER, PASSWORD, cert)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def smtp(cert: tuple[Path, Path] | None) -> Iterator[SmtpSink]:
    tls = None
    if cert:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(*cert)
    sink = SmtpSink(tls=tls)
    yield sink
    sink.stop()


@pytest.fixture
def folder(imap: PymapServer) -> str:
    name = f"Citizens{next(_folders)}"
    imap.create(name)
    return name


@pytest.fixture
def adapter(imap: PymapServer) -> Callable[..., EmailAdapter]:
    def make(folder: str = "INBOX", **kwargs: Any) -> EmailAdapter:
        settings: dict[str, Any] = {
            "name": "city-mail",
            "host": HOST,
            "port": imap.port,
            "security": "none",
            "username": USER,
            "password": PASSWORD,
            "folder": folder,
            "timeout": 5.0,
        }
        return EmailAdapter(**(settings | kwargs))

    return make


def by_id(mentions: list[IncomingMention]) -> dict[str, IncomingMention]:
    return {m.external_id: m for m in mentions}


def seen(imap: PymapServer, folder: str) -> dict[int, bool]:
    return {uid: r"\Seen" in flags for uid, flags in imap.flags(folder).items()}


def test_empty_folder(imap: PymapServer, folder: str, adapter: Callable[..., EmailAdapter]) -> None:
    mail = adapter(folder)
    assert isinstance(mail, PollingAdapter)
    result = mail.fetch(None)
    assert result.mentions == [] and result.errors == []
    assert result.cursor["uidvalidity"] == imap.uidvalidity(folder)
    assert result.cursor["last_uid"] == 0 and result.cursor["to_mark_seen"] == []
    assert mail.fetch(result.cursor).mentions == []


HARD = [
    "japanese_iso_2022",  # ISO-2022-JP body and subject, no Date, no Message-ID
    "japanese_shift_jis",  # 8-bit Shift-JIS body
    "raw_email_string_in_date_field",  # EUC-KR RFC 2047 subject, 8-bit junk in the Date
    "utf8_headers",  # raw UTF-8 headers (RFC 6532)
    "invalid_subject_characters",  # raw Latin-1 in the Subject
    "raw_email_with_bad_date",  # "Pn, 29 paX 2007": falls back to Received
    "raw_email_bad_time",  # the year 3609: falls back to Received
    "raw_email_with_illegal_boundary",  # unquoted boundary with "="
    "content_transfer_encoding_text-html",  # HTML only, CTE "text/html"
    "bad_encoded_subject",  # charset NONE, no From
    "truncated_encoded_word",  # =?utf-8?B?A?= cannot be decoded
    "report_530",  # a bounce: an error, not a mention
    "empty",  # no subject, no text: an error
    "street_light",
]


def test_batch_of_hard_messages(
    imap: PymapServer, folder: str, adapter: Callable[..., EmailAdapter]
) -> None:
    uids = dict(zip(HARD, imap.append(folder, *(eml(n) for n in HARD), when=WHEN), strict=True))
    result = adapter(folder).fetch(None)
    validity = imap.uidvalidity(folder)
    found = by_id(result.mentions)
    assert len(result.mentions) == len(HARD) - 2

    japanese = found[f"uid:{validity}:{uids['japanese_iso_2022']}"]
    assert (japanese.title, japanese.text) == ("まみむめも", "すみません。")
    assert japanese.author == "Mikel Lindsaar <raasdnil@gmail.com>"
    assert japanese.created_at == WHEN  # no Date header: the server's INTERNALDATE
    assert japanese.extra["message_id"] is None
    assert "あいうえお" in found["<xxxxx@docomo.ne.jp>"].text

    korean = found["<d3b8cf8e49f04480850c28713a1f473e@lindsaar.net>"]
    assert korean.title == "NOTE: 한국말로 하는 것"
    assert korean.created_at == datetime(2008, 9, 20, 17, 4, 30, tzinfo=UTC)
    utf8 = found[f"uid:{validity}:{uids['utf8_headers']}"]
    assert (utf8.author, utf8.title) == ("Jöhn Doe <jdöe@mächine.example>", "Säying Hello")
    latin = found[f"uid:{validity}:{uids['invalid_subject_characters']}"]
    assert latin.title and latin.title.startswith("Formação FrenetikPolis: Mega Campanha")

    bad_date = found["<000001c81a67$a4450700$0100007f@localhost>"].created_at
    assert bad_date == datetime(2007, 11, 5, 9, 17, 37, tzinfo=UTC)
    year_3609 = found["<86a2019dbec6$caa86cc0$390b0485@auracom.net>"].created_at
    assert year_3609 == datetime(2008, 6, 30, 9, 34, tzinfo=UTC)

    outlook = found["<009601c813c6$19df3510$0437d30a@mikel091a>"]
    assert outlook.text == "Hello\nThis is an outlook test\n\nSo there.\n\nMe."
    html = found[f"uid:{validity}:{uids['content_transfer_encoding_text-html']}"]
    assert html.text.startswith("Hello, You have qualified for the lowest rate in years.")
    assert "<" not in html.text
    no_from = found[f"uid:{validity}:{uids['bad_encoded_subject']}"]
    assert (no_from.title, no_from.author) == ("TEST", "")
    truncated = found["<bins-3@mail.example.com>"]
    assert truncated.title == "=?utf-8?B?A?= overflowing bins at the park"  # kept as written
    assert truncated.author == "=?utf-8?B?A?= <kim@mail.example.com>"

    light = found["<street-light-1@mail.example.net>"]
    assert light.text == "The street light in front of 18 Oak Ave has been out for a week."
    assert light.created_at == datetime(2024, 10, 16, 21, 40, tzinfo=UTC)
    assert light.source == "email" and light.url is None
    assert light.extra == {
        "message_id": "<street-light-1@mail.example.net>",
        "from_address": "ana.lima@mail.example.net",
        "from_name": "Ana Lima",
        "to": ["engage@city.example"],
        "reply_to": [],
        "subject": "Street light out on Oak Ave",
        "in_reply_to": None,
        "references": [],
        "uid": uids["street_light"],
        "uidvalidity": validity,
        "folder": folder,
    }

    bounce, empty = result.errors
    assert bounce.item_id == "<200712232303.lBNN3rDp003436@mail12.rrrr.com.au>"
    assert "delivery status report (bounce) from MAILER-DAEMON@tttttt.com.au" in bounce.reason
    assert empty.item_id == "<empty-4@mail.example.com>"
    assert "no subject and no text" in empty.reason

    handed_over = sorted(u for n, u in uids.items() if n not in ("report_530", "empty"))
    assert result.cursor["last_uid"] == max(uids.values())
    assert sorted(result.cursor["to_mark_seen"]) == handed_over
    assert not any(seen(imap, folder).values())  # fetching flags nothing


def test_only_new_mail_and_seen_only_after_store(
    imap: PymapServer, folder: str, adapter: Callable[..., EmailAdapter]
) -> None:
    mail = adapter(folder)
    first, second = imap.append(folder, eml("street_light"), eml("citizen_reply"))
    one = mail.fetch(None)
    assert len(one.mentions) == 2
    assert seen(imap, folder) == {first: False, second: False}

    # Someone reads new mail in a mail client before the bot polls: it still comes through.
    (third,) = imap.append(folder, eml("japanese_shift_jis"), seen=True)
    (fourth,) = imap.append(folder, eml("raw_email_reply"))
    two = mail.fetch(one.cursor)  # one.cursor was committed: its messages are stored
    assert [m.external_id for m in two.mentions] == [
        "<xxxxx@docomo.ne.jp>",
        "<473FFE27.20003@xxx.org>",
    ]
    assert seen(imap, folder) == {first: True, second: True, third: True, fourth: False}

    three = mail.fetch(two.cursor)
    assert three.mentions == [] and three.errors == []
    assert seen(imap, folder)[fourth] is True
    assert three.cursor["to_mark_seen"] == []


def test_crash_before_store_never_leaves_mail_seen(
    imap: PymapServer, folder: str, adapter: Callable[..., EmailAdapter]
) -> None:
    mail = adapter(folder)
    committed = mail.fetch(None).cursor
    imap.append(folder, eml("street_light"), eml("citizen_reply"))
    lost = mail.fetch(committed)  # the process dies before storing lost.mentions
    assert not any(seen(imap, folder).values())
    again = mail.fetch(committed)  # after the restart the runner still has the old cursor
    assert [m.external_id for m in again.mentions] == [m.external_id for m in lost.mentions]
    assert not any(seen(imap, folder).values())
    mail.fetch(again.cursor)
    assert all(seen(imap, folder).values())


def test_first_fetch_skips_mail_already_read(
    imap: PymapServer, folder: str, adapter: Callable[..., EmailAdapter]
) -> None:
    imap.append(folder, eml("raw_email_reply"), eml("japanese_shift_jis"), seen=True)
    imap.append(folder, eml("street_light"))
    mail = adapter(folder, max_messages=1)
    result = mail.fetch(None)
    assert [m.external_id for m in result.mentions] == ["<street-light-1@mail.example.net>"]
    imap.append(folder, eml("citizen_reply"), seen=True)  # new, though already read
    result = mail.fetch(result.cursor)
    assert [m.external_id for m in result.mentions] == ["<CAF+reply-77@mail.example.org>"]
    assert result.cursor["backlog_below"] == 0


def test_max_messages_per_fetch(
    imap: PymapServer, folder: str, adapter: Callable[..., EmailAdapter]
) -> None:
    imap.append(folder, eml("street_light"), eml("citizen_reply"), eml("raw_email_reply"))
    mail = adapter(folder, max_messages=2)
    one = mail.fetch(None)
    two = mail.fetch(one.cursor)
    assert len(one.mentions) == 2 and len(two.mentions) == 1
    assert mail.fetch(two.cursor).mentions == []


def test_restart_with_stored_cursor(
    imap: PymapServer, folder: str, adapter: Callable[..., EmailAdapter]
) -> None:
    imap.append(folder, eml("street_light"), eml("citizen_reply"))
    stored = json.loads(json.dumps(adapter(folder).fetch(None).cursor))  # as the database has it
    imap.append(folder, eml("raw_email_reply"))
    result = adapter(folder).fetch(stored)  # a new process, a new adapter
    assert [m.external_id for m in result.mentions] == ["<473FFE27.20003@xxx.org>"]


def test_rebuilt_mailbox_repeats_nothing(
    imap: PymapServer, adapter: Callable[..., EmailAdapter]
) -> None:
    mail = adapter()  # INBOX, the default folder
    before = imap.uidvalidity("INBOX")
    imap.append("INBOX", eml("street_light"), eml("citizen_reply"))
    cursor = mail.fetch(None).cursor
    assert cursor["last_uid"] == 102

    imap.restart()  # the mailbox is rebuilt: new UIDVALIDITY, UIDs start over
    assert imap.uidvalidity("INBOX") != before
    # Restored mail comes back unread and a new message gets a UID the old cursor had passed.
    imap.append("INBOX", eml("street_light"), eml("raw_email_reply"))
    result = mail.fetch(cursor)
    assert [m.external_id for m in result.mentions] == ["<473FFE27.20003@xxx.org>"]
    assert result.cursor["uidvalidity"] == imap.uidvalidity("INBOX")
    assert sorted(result.cursor["to_mark_seen"]) == [101, 102]  # the copy too
    mail.fetch(result.cursor)
    assert all(seen(imap, "INBOX").values())


def test_bad_credentials(imap: PymapServer, adapter: Callable[..., EmailAdapter]) -> None:
    with pytest.raises(AdapterError, match=r"login refused for 'engage@city.example'"):
        adapter(password="wrong").fetch(None)
    with pytest.raises(AdapterError, match="login refused"):
        adapter(password="wrøng").fetch(None)  # non-ASCII goes by AUTHENTICATE PLAIN


def test_missing_folder(adapter: Callable[..., EmailAdapter]) -> None:
    with pytest.raises(AdapterError, match="cannot open folder 'Nowhere'"):
        adapter("Nowhere").fetch(None)


def test_server_unreachable_or_silent(adapter: Callable[..., EmailAdapter]) -> None:
    with pytest.raises(AdapterError, match="cannot connect"):
        adapter(port=free_port()).fetch(None)

    with socket.socket() as silent:  # accepts the connection, never says hello
        silent.bind((HOST, 0))
        silent.listen()
        mail = adapter(port=silent.getsockname()[1], timeout=0.3)
        with pytest.raises(AdapterError, match=r"timed out after 0.3s"):
            mail.fetch(None)


def test_starttls_verifies_the_certificate(
    cert: tuple[Path, Path] | None, folder: str, adapter: Callable[..., EmailAdapter]
) -> None:
    if cert is None:
        pytest.skip("no openssl command to make a test certificate")
    trusted = ssl.create_default_context(cafile=str(cert[0]))
    result = adapter(folder, security="starttls", ssl_context=trusted).fetch(None)
    assert result.errors == []
    with pytest.raises(AdapterError, match="TLS failed"):  # not signed by a known CA
        adapter(folder, security="starttls").fetch(None)


def test_plain_imap_only_on_loopback() -> None:
    with pytest.raises(ValueError, match="password in clear"):
        EmailAdapter(host="imap.city.example", security="none", username="u", password="p")
    with pytest.raises(ValueError, match="security must be"):
        EmailAdapter(host=HOST, security="tls", username="u", password="p")  # type: ignore[arg-type]


def target_of(mention: IncomingMention) -> ReplyTarget:
    return ReplyTarget(
        source=mention.source,
        external_id=mention.external_id,
        author=mention.author,
        url=mention.url,
        title=mention.title,
        extra=json.loads(json.dumps(dict(mention.extra))),  # as storage gives it back
    )


@pytest.fixture
def replier(smtp: SmtpSink, cert: tuple[Path, Path] | None) -> Callable[..., EmailReplier]:
    def make(**kwargs: Any) -> EmailReplier:
        settings: dict[str, Any] = {
            "host": HOST,
            "port": smtp.port,
            "security": "none",
            "from_address": "engage@city.example",
            "from_name": "City Services",
            "timeout": 5.0,
        }
        if cert:
            settings |= {
                "security": "starttls",
                "username": smtp.user,
                "password": smtp.password,
                "ssl_context": ssl.create_default_context(cafile=str(cert[0])),
            }
        return EmailReplier(**(settings | kwargs))

    return make


def test_reply_threads_under_the_citizens_mail(
    imap: PymapServer,
    folder: str,
    adapter: Callable[..., EmailAdapter],
    smtp: SmtpSink,
    replier: Callable[..., EmailReplier],
    cert: tuple[Path, Path] | None,
) -> None:
    imap.append(folder, eml("citizen_reply"))
    (mention,) = adapter(folder).fetch(None).mentions
    assert mention.text == (
        "Thanks for the quick answer, but the pothole at 412 Elm St is still there and a "
        "cyclist fell this morning. Could someone look at it today?\n\nDana"
    )  # signature and the quoted history are gone
    sender = replier()
    assert isinstance(sender, Replier)
    result = sender.reply(target_of(mention), "A crew is on its way to 412 Elm St today.")

    received = smtp.received[-1]
    assert received.rcpt_tos == ["dana.r+city@mail.example.org"]  # Reply-To wins
    assert received.mail_from == "engage@city.example"
    assert received.authenticated is bool(cert)
    msg = message_from_bytes(received.content, policy=policy.default)
    assert msg["To"] == "dana.r+city@mail.example.org"
    assert msg["From"] == "City Services <engage@city.example>"
    assert msg["Subject"] == "Re: Pothole on Elm St \u2013 still there"  # no "Re: Re:"
    assert msg["In-Reply-To"] == "<CAF+reply-77@mail.example.org>"
    assert msg["References"] == (
        "<CAF+first-76@mail.example.org> <engage-ack-5521@city.example> "
        "<CAF+reply-77@mail.example.org>"
    )
    assert msg["Message-ID"] == result.external_id and result.url is None
    assert result.external_id.endswith("@city.example>")
    assert msg["Date"] is not None
    body = msg.get_body(("plain",))
    assert body is not None and body.get_content().strip() == (
        "A crew is on its way to 412 Elm St today."
    )


def test_reply_to_a_first_message(smtp: SmtpSink, replier: Callable[..., EmailReplier]) -> None:
    target = ReplyTarget(
        source="email",
        external_id="<street-light-1@mail.example.net>",
        author="Ana Lima <ana.lima@mail.example.net>",
        url=None,
        title="Street light out on Oak Ave",
        extra={
            "message_id": "<street-light-1@mail.example.net>",
            "from_address": "ana.lima@mail.example.net",
            "from_name": "Ana Lima",
            "subject": "Street light out on Oak Ave",
            "references": [],
        },
    )
    replier().reply(target, "Fixed, thank you!")
    msg = message_from_bytes(smtp.received[-1].content, policy=policy.default)
    assert msg["To"] == "Ana Lima <ana.lima@mail.example.net>"
    assert msg["Subject"] == "Re: Street light out on Oak Ave"
    assert msg["References"] == msg["In-Reply-To"] == "<street-light-1@mail.example.net>"


def test_reply_errors(smtp: SmtpSink, replier: Callable[..., EmailReplier]) -> None:
    def target(address: str) -> ReplyTarget:
        extra = {"from_address": address, "subject": "Hello", "message_id": "<x@mail.example>"}
        return ReplyTarget("email", "<x@mail.example>", address, None, "Hello", extra)

    smtp.refuse["gone@mail.example"] = "550 5.1.1 No such user"
    smtp.refuse["full@mail.example"] = "452 4.2.2 Mailbox full, try later"
    with pytest.raises(ReplyError, match="550") as rejected:
        replier().reply(target("gone@mail.example"), "Hi")
    assert rejected.value.retryable is False
    with pytest.raises(ReplyError, match="452") as later:
        replier().reply(target("full@mail.example"), "Hi")
    assert later.value.retryable is True
    with pytest.raises(ReplyError, match="cannot send") as down:
        replier(port=free_port()).reply(target("a@mail.example"), "Hi")
    assert down.value.retryable is True
    with pytest.raises(ReplyError, match="no address to reply to") as nowhere:
        replier().reply(target(""), "Hi")
    assert nowhere.value.retryable is False


def test_reply_bad_smtp_password(
    smtp: SmtpSink, replier: Callable[..., EmailReplier], cert: tuple[Path, Path] | None
) -> None:
    if cert is None:
        pytest.skip("SMTP AUTH needs TLS; no openssl command to make a test certificate")
    target = ReplyTarget("email", "<x@m.example>", "", None, None, {"from_address": "a@m.example"})
    with pytest.raises(ReplyError, match="535") as refused:
        replier(password="wrong").reply(target, "Hi")
    assert refused.value.retryable is False


def test_reply_timeout_is_retryable(replier: Callable[..., EmailReplier]) -> None:
    with socket.socket() as silent:
        silent.bind((HOST, 0))
        silent.listen()
        target = ReplyTarget("email", "<x@m.example>", "", None, None, {"from_address": "a@m.ex"})
        sender = replier(port=silent.getsockname()[1], timeout=0.3)
        with pytest.raises(ReplyError, match="timed out") as slow:
            sender.reply(target, "Hi")
        assert slow.value.retryable is True


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Pothole", "Re: Pothole"),
        ("RE: Pothole", "RE: Pothole"),
        ("Re[2]: Pothole", "Re[2]: Pothole"),
        ("AW: Schlagloch", "AW: Schlagloch"),
        ("Fwd: Pothole", "Re: Fwd: Pothole"),
        ("", "Re: your message"),
    ],
)
def test_reply_subject(subject: str, expected: str) -> None:
    assert reply_subject(subject) == expected


def test_trim_reply() -> None:
    outlook = "Yes, still broken.\r\n\r\nFrom: City <c@city.example>\r\nSent: Monday\r\n\r\nOld"
    assert trim_reply(outlook) == "Yes, still broken."
    folded = (
        "Thanks!\n\nOn Mon, Oct 14, 2024 at 4:02 PM City Services\n<c@city.example> wrote:\n> x"
    )
    assert trim_reply(folded) == "Thanks!"
    inline = "> Where is it?\nAt 412 Elm St.\n> When?\nToday."
    assert trim_reply(inline) == inline  # interleaved answers keep their questions
    assert trim_reply("-- \nJane Doe\nElm Street") == "--\nJane Doe\nElm Street"  # all signature


def test_module_name_does_not_shadow_the_stdlib() -> None:
    import email.utils

    import bot.intake.adapters.email.adapter as adapter_module

    assert email.utils.__name__ == "email.utils"
    assert adapter_module.__name__ == "bot.intake.adapters.email.adapter"
