"""Who is who: ``auth.test``, ``users.*`` and ``usergroups.users.list`` of the fake's Web API.

Read-only answers about the bot's own identity, the workspace's people (profile and presence)
and its user groups, as the directory look-ups and the comms team's group need them.

A mixin over ``Workspace`` like the rest of the Web API (see ``bot.sandbox.web_api``): handlers
run with the workspace lock held and signal Slack errors by raising ``ApiError``.
"""

from __future__ import annotations

import copy

from bot.sandbox.wire import JSON, ApiError
from bot.sandbox.workspace import Workspace


class DirectoryApi(Workspace):
    """The bot's identity, users and user groups."""

    def _auth_test(self, args: JSON) -> JSON:
        return {
            "ok": True,
            "url": f"https://{self.team_domain}.slack.com/",
            "team": self.team_domain.title(),
            "team_id": self.team_id,
            "user": "engage",
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _user_info(self, args: JSON) -> JSON:
        user = self._users.get(str(args.get("user") or ""))
        if user is None:
            raise ApiError("user_not_found")
        return {"ok": True, "user": copy.deepcopy(user)}

    def _user_presence(self, args: JSON) -> JSON:
        user = self._users.get(str(args.get("user") or ""))
        if user is None:
            raise ApiError("user_not_found")
        return {"ok": True, "presence": user.get("presence", "active")}

    def _usergroup_users(self, args: JSON) -> JSON:
        group = str(args.get("usergroup") or "")
        if not group:
            raise ApiError("invalid_arguments")
        if group not in self._usergroups:
            raise ApiError("no_such_subteam")
        return {"ok": True, "users": list(self._usergroups[group])}
