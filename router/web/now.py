"""The console's "Now" page: who is on shift, the next handovers, and the cases that need
someone (waiting for their team, unroutable, overdue) and the messages that never arrived."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from litestar import Request, get
from litestar.response import Redirect

from ..domain.coverage import handover_chain
from ..domain.index import ShiftIndex
from ..domain.schedules import Schedules
from ..http.context import context
from .console import ConsoleController, local, page, zone_key

__all__ = ["Now"]

AHEAD = timedelta(hours=12)  # how far the page looks for handovers
LISTED = 50  # cases per list


def _upcoming(
    schedules: Schedules, index: ShiftIndex, now: datetime, loads: dict[str, int], key: str
) -> list[dict[str, Any]]:
    """The shift ends of the next AHEAD, each with the other teams of the leaving team's
    tier on shift then (up to four, by id): the coverage's handover chain."""
    return [
        {
            "at": local(h.at, key),
            "from": h.from_team,
            "to": ", ".join(h.on_shift[:4]) or "nobody on shift",
            "open": loads.get(h.from_team, 0),
        }
        for h in handover_chain(schedules.teams, index, ends=(now, now + AHEAD))
    ]


class Now(ConsoleController):
    @get("/")
    async def now_page(self, request: Request[Any, Any, Any]) -> Any:
        ctx = context(request)
        if ctx.caller.team is not None:  # limited to a team: its queue, not every team's
            return Redirect("/console/queue")
        services, now, key = ctx.services, ctx.now, zone_key(request)
        schedules = await services.calendar.schedules(now)
        index = await services.calendar.index(now)
        on = sorted(index.at(now), key=lambda s: (schedules.teams[s.team].tier, s.team))
        cases = services.cases.store
        loads = await cases.team_loads(list(schedules.teams))
        queues = services.stores.queues
        overdue = await cases.get_many(await queues.due(now, limit=LISTED))
        return page(
            request,
            "console/now.html.j2",
            ctx.caller,
            now_local=local(now, key),
            on=[
                {
                    "team": schedules.teams[s.team],
                    "until": local(s.end, key),
                    "open": loads.get(s.team, 0),
                }
                for s in on
            ],
            upcoming=_upcoming(schedules, index, now, loads, key),
            waiting=await cases.get_many(await queues.waiting(LISTED)),
            unroutable=await cases.get_many(await queues.unroutable(LISTED)),
            overdue=[c for c in overdue if c.is_open],
            dead=await services.outbox.dead_letters(),
            local=lambda v: local(v, key),
        )
