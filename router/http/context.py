"""What every handler works with: the services, the clock, the caller."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from litestar import Request

from ..wiring import Services
from .auth import Principal


class Context(msgspec.Struct, frozen=True):
    """What every handler needs: the services, the request's `now`, and the caller.

    Handlers build it from the request (`ctx = context(request)`) rather than receiving
    it as a Litestar dependency: dependency injection validated and resolved it on every
    request for about 2% of an intake's CPU, and several dependencies of one level
    resolve concurrently in a task group per request, which costs more still."""

    services: Services
    now: datetime
    who: Principal | None

    @property
    def caller(self) -> Principal:
        """The signed-in caller (handlers that declare roles always have one)."""
        assert self.who is not None
        return self.who


def context(request: Request[Any, Any, Any]) -> Context:
    state = request.app.state
    user = request.scope.get("user")
    return Context(
        services=state.services,
        now=state.clock(),
        who=user if isinstance(user, Principal) else None,
    )
