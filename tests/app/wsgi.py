"""Calling the bot's WSGI app directly, as waitress would, without a server or a socket.

An exception the app lets escape is what waitress answers 500 (with a traceback in the log);
here it fails the test, which is the point: :func:`call` returns only what a client would see.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.app.web import WebApp


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


def call(
    app: WebApp,
    path: str,
    body: bytes = b"",
    headers: Mapping[str, str] | None = None,
    *,
    method: str = "POST",
) -> Answer:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.input": io.BytesIO(body),
        "CONTENT_LENGTH": str(len(body)),
    }
    for name, value in (headers or {}).items():
        key = name.upper().replace("-", "_")
        # WSGI servers hand headers over as latin-1 text: so does waitress.
        text = value if isinstance(value, str) else value.decode("latin-1")
        environ[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"] = text
    seen: dict[str, Any] = {}

    def start(status: str, response_headers: list[tuple[str, str]], exc: Any = None) -> None:
        seen["status"] = int(status.split()[0])
        seen["headers"] = {k.lower(): v for k, v in response_headers}

    out = b"".join(app(environ, start))
    return Answer(seen["status"], seen["headers"], out)
