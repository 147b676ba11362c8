"""What handlers get injected: the service, the clock, the caller."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.exceptions import PermissionDeniedException

from ..domain.case import Case
from ..service import Service
from .auth import Principal
from .problems import NotFound


def service(state: State) -> Service:
    return state.service


def now(state: State) -> datetime:
    clock: Callable[[], datetime] = state.clock
    return clock()


def principal(request: Request[Any, Any, Any]) -> Principal:
    return request.user


async def case_for(svc: Service, case_id: str, who: Principal) -> Case:
    """The case, if it exists and the caller may see it (agents: their team's only)."""
    case = await svc.cases.get(case_id)
    if case is None:
        raise NotFound("case", case_id)
    if who.role == "agent" and case.team != who.team:
        raise PermissionDeniedException(f"case {case_id} belongs to another team")
    return case


# Handler parameter types: explicit named dependencies (inferred ones go away in Litestar 3).
Svc = NamedDependency[Service]
Now = NamedDependency[datetime]
Who = NamedDependency[Principal]

DEPS = {
    "svc": Provide(service, sync_to_thread=False),
    "now": Provide(now, sync_to_thread=False),
    "who": Provide(principal, sync_to_thread=False),
}
