"""Who a request is about, and the keyed hash that stands for a person once their data is gone.

Authors compare as routing compares them (:func:`bot.routing.author_key`): ``@Alice@Town.social``
is ``alice@town.social``, and ``Alice <alice@example.org>`` is ``alice@example.org``. The hash is
an HMAC-SHA256 with the install's secret (``ENGAGE_PRIVACY_SECRET``, or one made at first use
and kept in the database), so nobody can find a handle by hashing guesses without that secret.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable

from sqlmodel import Session

from bot.routing import author_key
from storage.insert import insert_ignore
from storage.models import Meta

SECRET_KEY = "privacy_secret"
MAX_AUTHOR = 320  # an e-mail address at its longest; anything longer is not a handle


def keys_of(authors: Iterable[str]) -> list[str]:
    """The comparable forms of the identities asked about, without blanks and repeats."""
    found = [author_key(a) for a in authors if a and len(a) <= MAX_AUTHOR]
    return sorted({k for k in found if k})


def install_secret(session: Session, configured: str | None) -> bytes:
    """The secret the hashes are keyed with: the configured one, else this install's own (made
    once, shared by every replica through the ``meta`` table)."""
    if configured:
        return configured.encode()
    insert_ignore(session, Meta, {"key": SECRET_KEY, "value": secrets.token_hex(32)})
    row = session.get(Meta, SECRET_KEY)
    assert row is not None
    return row.value.encode()


class Hasher:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def author(self, author: str) -> str:
        return self.keys([author_key(author) or author])

    def keys(self, keys: Iterable[str]) -> str:
        message = "\n".join(sorted(keys)).encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()[:32]
