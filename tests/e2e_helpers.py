"""Helpers for end-to-end tests: post to the bot's webhook the way a form tool does."""

from __future__ import annotations

import json
from typing import Any

import httpx

from bot.intake.webhook import SIGNATURE_HEADER, sign
from tests.conftest import WEBHOOK_SECRET


def post_webhook(
    base_url: str,
    payload: dict[str, Any] | bytes,
    *,
    secret: str = WEBHOOK_SECRET,
    signature: str | None = None,
) -> httpx.Response:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature if signature is not None else sign(secret, body),
    }
    return httpx.post(f"{base_url}/ingest/webhook", content=body, headers=headers, timeout=10)
