"""Real mail servers on loopback for the email adapter's tests: pymap (IMAP) and aiosmtpd (SMTP).

pymap runs as a subprocess with its in-memory ``dict`` backend and one user; tests load
messages into it with a plain ``imaplib`` APPEND, exactly as a mail server delivers them, so
the adapter talks to a real IMAP server over a real socket. Restarting the subprocess wipes the
mailbox and gives it a new UIDVALIDITY, which is how a rebuilt mailbox looks to a client.
When ``openssl`` is there, pymap also gets a self-signed certificate so STARTTLS can be tested;
the same certificate serves the SMTP server's STARTTLS.

pymap is started through this file (``python tests/imap_server.py <pymap arguments>``) only to
hash the test password with one PBKDF2 round: the default costs 0.1 s per login, and the tests
log in some sixty times.
"""

from __future__ import annotations

import imaplib
import shutil
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def self_signed_cert(directory: Path) -> tuple[Path, Path] | None:
    """A certificate for 127.0.0.1 and its key, or None without the openssl command."""
    if not shutil.which("openssl"):
        return None
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost"),
            *("-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"),
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return cert, key


class PymapServer:
    """``pymap dict`` on a free loopback port, with one user and no demo data."""

    def __init__(self, user: str, password: str, cert: tuple[Path, Path] | None = None) -> None:
        self.user, self.password, self.cert = user, password, cert
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        tls = ["--cert", str(self.cert[0]), "--key", str(self.cert[1])] if self.cert else []
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--host", HOST, "--port", str(self.port), *tls]
            + ["--no-tls"] * (not self.cert)
            + ["--no-service", "admin", "--no-service", "managesieve", "--no-service", "swim"]
            + ["dict", "--demo-user", self.user, "--demo-password", self.password],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"pymap exited: {self.process.stderr and self.process.stderr.read()!r}"
                )
            try:
                with socket.create_connection((HOST, self.port), timeout=0.5) as sock:
                    if sock.recv(100).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("pymap did not start within 15s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self.process and self.process.stderr:
            self.process.stderr.close()

    def restart(self) -> None:
        """Same port, empty mailbox, new UIDVALIDITY: a rebuilt mailbox."""
        self.stop()
        self.start()

    def client(self) -> imaplib.IMAP4:
        imap = imaplib.IMAP4(HOST, self.port, timeout=5)
        imap.login(self.user, self.password)
        return imap

    def create(self, folder: str) -> None:
        imap = self.client()
        try:
            typ, data = imap.create(folder)
            assert typ == "OK", data
        finally:
            imap.logout()

    def append(
        self, folder: str, *messages: bytes, when: datetime | None = None, seen: bool = False
    ) -> list[int]:
        """Deliver messages into ``folder``; their UIDs (from APPENDUID)."""
        uids = []
        imap = self.client()
        try:
            for raw in messages:
                flags = r"(\Seen)" if seen else None
                stamp = imaplib.Time2Internaldate(when) if when else None
                typ, data = imap.append(folder, flags, stamp, raw)
                assert typ == "OK", data
                uids.append(int(data[0].split(b"APPENDUID ")[1].split()[1].rstrip(b"]")))
        finally:
            imap.logout()
        return uids

    def flags(self, folder: str) -> dict[int, set[str]]:
        """UID -> flags, read without touching them."""
        imap = self.client()
        try:
            imap.select(folder, readonly=True)
            _, data = imap.uid("FETCH", "1:*", "(UID FLAGS)")
            found = {}
            for line in data:
                if isinstance(line, bytes) and b"UID" in line:
                    uid = int(line.split(b"UID ")[1].split()[0].rstrip(b")"))
                    found[uid] = {f.decode() for f in imaplib.ParseFlags(line)}
            return found
        finally:
            imap.logout()

    def uidvalidity(self, folder: str) -> int:
        imap = self.client()
        try:
            _, data = imap.status(folder, "(UIDVALIDITY)")
            return int(data[0].split(b"UIDVALIDITY ")[1].split(b")")[0])
        finally:
            imap.logout()


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    authenticated: bool

    @property
    def message(self) -> Message:
        return message_from_bytes(self.content)


@dataclass
class SmtpSink:
    """An aiosmtpd server that records what it is sent and refuses scripted recipients."""

    user: str = "mailer"
    password: str = "mailer-secret"
    tls: ssl.SSLContext | None = None
    received: list[Received] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)  # recipient -> SMTP reply to RCPT
    port: int = 0

    def __post_init__(self) -> None:
        self.port = free_port()
        self.controller = Controller(
            self,
            hostname=HOST,
            port=self.port,
            tls_context=self.tls,
            authenticator=self._authenticate,
            auth_require_tls=True,
            auth_exclude_mechanism=["LOGIN"],  # smtplib's LOGIN retry after a 535 stalls here
        )
        self.controller.start()

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            self.user.encode(),
            self.password.encode(),
        )
        return AuthResult(success=ok, handled=False)  # handled=True would send no reply

    async def handle_RCPT(  # aiosmtpd's hook names
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(
            Received(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                bytes(envelope.original_content or envelope.content),
                bool(session.authenticated),
            )
        )
        return "250 Message accepted"

    def stop(self) -> None:
        self.controller.stop()


def _serve() -> None:
    """Run pymap with a one-round password hash (see the module docstring)."""
    from pymap import config, main
    from pysasl.hashing import BuiltinHash

    def cheap_hash(cls: type[Any], passlib_cfg: str | None) -> BuiltinHash:
        return BuiltinHash(rounds=1)

    config.IMAPConfig._get_hash_context = classmethod(cheap_hash)  # type: ignore[method-assign,assignment]
    main.main()


if __name__ == "__main__":
    _serve()
