"""Modals and the App Home: ``views.*`` of the fake's Web API.

``ViewsApi`` keeps Slack's rules for views: ``views.open`` and ``views.push`` need a trigger
that is not older than Slack's 3 seconds (a trigger this fake did not issue, as in a unit test,
is accepted), a modal stack holds at most three views, ``views.update`` finds a view by id or
``external_id`` and refuses a stale ``hash``, and ``views.publish`` sets a person's App Home.
Every view is checked as Slack checks it (``bot.sandbox.block_kit``): a modal for
``views.open`` and ``views.push``, a Home tab for ``views.publish``, either for
``views.update``; a refused one is answered ``invalid_arguments``.

A mixin over ``Workspace`` like the rest of the Web API (see ``bot.sandbox.web_api``): handlers
run with the workspace lock held and signal Slack errors by raising ``ApiError``.
"""

from __future__ import annotations

import copy
import time

from bot.sandbox.block_kit import view_problems
from bot.sandbox.wire import JSON, ApiError, json_arg
from bot.sandbox.workspace import Workspace


class ViewsApi(Workspace):
    """``views.open``, ``views.push``, ``views.update`` and ``views.publish``."""

    def _trigger_user(self, args: JSON) -> str | None:
        """Who the trigger belongs to; expired triggers fail like Slack's (3 s lifetime)."""
        trigger = args.get("trigger_id") or args.get("interactivity_pointer")
        if not trigger:
            raise ApiError("invalid_arguments")
        issued = self._triggers.get(str(trigger))
        if issued is None:
            return None  # not issued by this fake (e.g. a unit test): accept it
        if time.time() - issued[1] > self.trigger_ttl:
            raise ApiError("expired_trigger_id")
        return issued[0]

    def _view_spec(self, args: JSON, method: str) -> JSON:
        view = json_arg(args.get("view"))
        if not isinstance(view, dict) or not view.get("type"):
            raise ApiError("invalid_arguments")
        # views.update takes either kind (a Home tab has an id too); open and push a modal.
        kind = {"views.publish": "home", "views.update": None}.get(method, "modal")
        problems = view_problems(view, kind)
        if problems:
            raise self._refuse(method, "invalid_arguments", problems)
        return view

    def _views_open(self, args: JSON) -> JSON:
        user = self._trigger_user(args)
        view = self._new_view(self._view_spec(args, "views.open"))
        self._view_users[view["id"]] = user
        if user is not None:
            self._stacks[user] = [view["id"]]
        return {"ok": True, "view": copy.deepcopy(view)}

    def _views_push(self, args: JSON) -> JSON:
        user = self._trigger_user(args)
        stack = self._stacks.setdefault(user, []) if user is not None else []
        if len(stack) >= 3:
            raise ApiError("push_limit_reached")
        previous, root = (stack[-1], stack[0]) if stack else (None, None)
        view = self._new_view(self._view_spec(args, "views.push"), previous=previous, root=root)
        self._view_users[view["id"]] = user
        stack.append(view["id"])
        return {"ok": True, "view": copy.deepcopy(view)}

    def _views_update(self, args: JSON) -> JSON:
        view_id, external = args.get("view_id"), args.get("external_id")
        if not view_id and not external:
            raise ApiError("invalid_arguments")
        match = [
            v
            for v in self._views.values()
            if v["id"] == view_id or (external and v.get("external_id") == external)
        ]
        if not match:
            raise ApiError("not_found")
        current = match[0]
        if args.get("hash") and args["hash"] != current["hash"]:
            raise ApiError("hash_conflict")
        view = self._new_view(
            self._view_spec(args, "views.update"),
            view_id=current["id"],
            previous=current["previous_view_id"],
            root=current["root_view_id"],
        )
        return {"ok": True, "view": copy.deepcopy(view)}

    def _views_publish(self, args: JSON) -> JSON:
        user = str(args.get("user_id") or "")
        if not user:
            raise ApiError("invalid_arguments")
        spec = self._view_spec(args, "views.publish")
        current = self._views.get(self._homes.get(user, ""))
        if current and args.get("hash") and args["hash"] != current["hash"]:
            raise ApiError("hash_conflict")
        view = self._new_view(spec, view_id=current["id"] if current else None)
        self._homes[user] = view["id"]
        return {"ok": True, "view": copy.deepcopy(view)}
