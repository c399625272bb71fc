"""How the email adapter reaches a mail server: the three security modes, their default ports,
and the rule that keeps a password from crossing the network in clear.

Shared by the IMAP side (:mod:`bot.intake.adapters.email.adapter`) and the SMTP side
(:mod:`bot.intake.adapters.email.reply`) so both refuse the same settings with the same words.
TLS certificates are always verified: imaplib and smtplib do not verify them when given no SSL
context, so both sides always build one (``ssl.create_default_context()`` unless the config
hands in a context that trusts a private CA).
"""

from __future__ import annotations

import ipaddress
from typing import Literal

Security = Literal["ssl", "starttls", "none"]
IMAP_PORTS = {"ssl": 993, "starttls": 143, "none": 143}
SMTP_PORTS = {"ssl": 465, "starttls": 587, "none": 25}


def check_security(security: str, host: str, password: str, what: str) -> None:
    """Refuse an unknown mode, and ``none`` with a password for anything but loopback."""
    if security not in IMAP_PORTS:
        raise ValueError(f"{what}: security must be 'ssl', 'starttls' or 'none', not {security!r}")
    if security == "none" and password and not _loopback(host):
        raise ValueError(f"{what}: security 'none' would send the password in clear to {host}")


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"
