"""What handlers get injected: the service, the clock, the caller."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from litestar import Request
from litestar.di import NamedDependency, Provide
from litestar.exceptions import PermissionDeniedException

from ..domain.case import Case
from ..service import Service
from .auth import Principal
from .problems import NotFound


async def case_for(svc: Service, case_id: str, who: Principal) -> Case:
    """The case, if it exists and the caller may see it (agents: their team's only)."""
    case = await svc.cases.get(case_id)
    if case is None:
        raise NotFound("case", case_id)
    if who.role == "agent" and case.team != who.team:
        raise PermissionDeniedException(f"case {case_id} belongs to another team")
    return case


class Context(msgspec.Struct, frozen=True):
    """What every handler needs, resolved as one dependency: Litestar resolves several
    dependencies of one level concurrently, in a task group per request, which costs more
    than the work itself."""

    svc: Service
    now: datetime
    who: Principal | None


def context(request: Request[Any, Any, Any]) -> Context:
    state = request.app.state
    user = request.scope.get("user")
    return Context(
        svc=state.service, now=state.clock(), who=user if isinstance(user, Principal) else None
    )


Ctx = NamedDependency[Context]

DEPS = {"ctx": Provide(context, sync_to_thread=False)}
