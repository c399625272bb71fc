"""The services in Bolt's context: one global middleware puts them there for every listener.

Listeners are module-level functions, so they can be imported and called alone (tests) and
cannot close over the services as ``register()`` closures once did. Instead
:func:`handlers.register` installs :func:`provide` once as a global middleware
(``app.middleware``, as Netflix Dispatch hands its listeners a database session): it stores the
one :class:`handlers.Services` object under ``context["services"]`` (:data:`SERVICES`) before
any listener runs.

Each domain reads that object through its own ``services_of(context)``, typed by a Protocol
that names only what the domain uses. The Protocols, not this module, are where a domain says
what it needs; this module imports no domain, so every handler package may use it.
"""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import BoltContext

SERVICES = "services"
"""The key of the services in Bolt's context."""

Middleware = Callable[[BoltContext, Callable[[], None]], None]


def provide(services: object) -> Middleware:
    """A global middleware that puts ``services`` into every request's context."""

    # Bolt passes middleware arguments by name: ``context`` and ``next_`` (``next`` would
    # shadow the builtin).
    def put_services(context: BoltContext, next_: Callable[[], None]) -> None:
        context[SERVICES] = services
        next_()

    return put_services
