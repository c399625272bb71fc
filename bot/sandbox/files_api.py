"""File uploads as Slack does them since ``files.upload`` retired (what ``files_upload_v2`` uses).

1. ``files.getUploadURLExternal`` (filename, length) answers an ``upload_url`` and a file id;
2. the client POSTs the bytes to that URL (here ``/upload/<id>`` on the fake);
3. ``files.completeUploadExternal`` (files, channel_id, initial_comment, thread_ts) shares the
   file: a message with ``files`` appears in the channel.
"""

from __future__ import annotations

import json
import mimetypes
import uuid
from collections.abc import Callable
from functools import cached_property

from bot.sandbox.web_api import WebApi
from bot.sandbox.wire import JSON, ApiError, Reply, dm_channel

ALT_TEXT_LIMIT = 1000  # files.getUploadURLExternal: a screen reader's description of an image


class FilesApi(WebApi):
    """The Web API plus the three steps of an upload."""

    @property
    def files(self) -> dict[str, JSON]:
        """Uploaded files by id: name, title, bytes, and where they were shared."""
        with self._lock:
            return {k: dict(v) for k, v in self._file_store().items()}

    def _file_store(self) -> dict[str, JSON]:
        store: dict[str, JSON] | None = getattr(self, "_uploaded", None)
        if store is None:
            store = {}
            self._uploaded: dict[str, JSON] = store
        return store

    @property
    def base_url(self) -> str:
        raise NotImplementedError  # FakeSlack knows its server's address

    @cached_property
    def _methods(self) -> dict[str, Callable[[JSON], JSON]]:
        return {
            **WebApi._methods.func(self),  # type: ignore[attr-defined]
            "files.getUploadURLExternal": self._get_upload_url,
            "files.completeUploadExternal": self._complete_upload,
            "conversations.open": self._open_dm,
        }

    def _open_dm(self, args: JSON) -> JSON:
        """Slack's rules for a direct message: user ids only (a name or a channel is
        ``user_not_found``), no bots, no deactivated people; several people make a group DM,
        which the bot never opens, so more than one is refused here. Any well-formed id is
        known by default, like channels, so tests need no setup."""
        users = [u.strip() for u in str(args.get("users") or "").split(",") if u.strip()]
        if not users:
            raise ApiError("not_enough_users" if "users" in args else "invalid_arguments")
        if len(users) > 8:
            raise ApiError("too_many_users")
        if len(users) != 1:
            raise ApiError("invalid_arguments")
        user = users[0]
        if user[:1] not in ("U", "W") or not user[1:].isalnum():
            raise ApiError("user_not_found")
        known = self._users.get(user)
        if known is not None and (known.get("is_bot") or user == self.bot_user_id):
            raise ApiError("cannot_dm_bot")
        if known is not None and known.get("deleted"):
            raise ApiError("user_disabled")
        return {"ok": True, "channel": {"id": dm_channel(user)}}

    def _get_upload_url(self, args: JSON) -> JSON:
        filename = str(args.get("filename") or "")
        if not filename or not str(args.get("length") or "").isdigit():
            raise ApiError("invalid_arguments")
        alt_txt = args.get("alt_txt")
        if alt_txt is not None and len(str(alt_txt)) > ALT_TEXT_LIMIT:
            raise ApiError("invalid_arguments")
        file_id = "F" + uuid.uuid4().hex[:10].upper()
        self._file_store()[file_id] = {
            "id": file_id,
            "name": filename,
            "data": None,
            "alt_txt": alt_txt,
        }
        return {"ok": True, "upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    def _upload_request(self, file_id: str, body: bytes) -> Reply:
        with self._lock:
            entry = self._file_store().get(file_id)
            if entry is None:
                return 404, {"Content-Type": "text/plain"}, b"no such upload"
            entry["data"] = body
        return 200, {"Content-Type": "text/plain"}, b"OK - " + str(len(body)).encode()

    def _complete_upload(self, args: JSON) -> JSON:
        raw = args.get("files")
        files = json.loads(raw) if isinstance(raw, str) else raw
        if not isinstance(files, list) or not files:
            raise ApiError("invalid_arguments")
        shared = []
        for item in files:
            entry = self._file_store().get(str(item.get("id")))
            if entry is None or entry["data"] is None:
                raise ApiError("file_not_found")
            entry["title"] = item.get("title") or entry["name"]
            mimetype = mimetypes.guess_type(str(entry["name"]))[0] or "application/octet-stream"
            entry["mimetype"] = mimetype
            # As Slack's file objects: the image's description travels with it.
            shared.append({k: entry[k] for k in ("id", "name", "title", "mimetype", "alt_txt")})
        channel = args.get("channel_id")
        if channel:
            message = self._bot_message(
                {"text": args.get("initial_comment") or ""}, "files.completeUploadExternal"
            )
            message["files"] = shared
            if args.get("thread_ts"):
                message["thread_ts"] = args["thread_ts"]
            self._store(str(channel), message)
            for item in shared:
                self._file_store()[item["id"]]["channels"] = [channel]
        return {"ok": True, "files": shared}
