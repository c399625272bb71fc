"""The fake's Web API: the bot -> Slack direction, as ``slack_sdk.WebClient`` experiences it.

:class:`WebApi` turns one HTTP request into a Slack answer. It is a mixin over ``Workspace``
(see that module for why), made of one mixin per family of methods so each set of Slack rules
can be read alone:

- ``transport``: :class:`WebApi` itself: request parsing, the token, recorded calls, scheduled
  faults and delays, the method table, and POSTs to response URLs;
- ``messages``: ``chat.*``, ``conversations.*`` and what a response URL does to a message;
- ``views``: ``views.*``, modal stacks and triggers;
- ``directory``: ``auth.test``, ``users.*`` and ``usergroups.users.list``;
- ``socket_mode``: :class:`SocketMode`, ``apps.connections.open`` and the Socket Mode
  WebSocket (``websocket``), which can also carry the Slack -> bot deliveries.

Handlers run with the workspace lock held and signal Slack errors by raising ``ApiError``.
Import :class:`WebApi` from here.
"""

from bot.sandbox.web_api.socket_mode import SocketMode
from bot.sandbox.web_api.transport import WebApi

__all__ = ["SocketMode", "WebApi"]
