"""Team edits: validated against every other team exactly as `followsun check` does,
written with a version check, then the shift-end jobs re-planned. The API and the
console save through this one path."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from ..domain.errors import Problem, ScheduleError
from ..domain.model import TeamSpec
from ..domain.schedules import validate_specs
from ..store import TeamStore
from .calendar import Calendar

if TYPE_CHECKING:
    from ..jobs.planner import Planner

__all__ = ["TeamService"]


class TeamService:
    def __init__(self, store: TeamStore, calendar: Calendar, planner: Planner | None) -> None:
        self.store = store
        self._calendar = calendar
        self._planner = planner

    async def check(self, team_id: str, spec: TeamSpec | None, now: datetime) -> None:
        """Validate a team change (spec None: its deletion) against all the others."""
        stored = await self.store.all()
        specs = {tid: (t.spec, f"teams/{tid}") for tid, t in stored.items()}
        if spec is None:
            specs.pop(team_id, None)
            users = [tid for tid, (s, _) in specs.items() if s.escalates_to == team_id]
            if users:
                message = f"cannot delete: {', '.join(users)} escalate to it"
                raise ScheduleError([Problem(source=f"teams/{team_id}", path="", message=message)])
        else:
            specs[team_id] = (spec, f"teams/{team_id}")
        policy = (await self._calendar.schedules(now)).policy  # the one in force now
        validate_specs(specs, policy, now=now, warnings=False)

    async def save(
        self, team_id: str, spec: TeamSpec | None, *, expected: int, by: str, now: datetime
    ) -> int:
        """Validate, write (spec None: delete) if still at `expected`, re-plan; the new version."""
        await self.check(team_id, spec, now)
        version = await self.store.put(team_id, spec, expected=expected, by=by, at=now)
        self._calendar.forget()
        if self._planner is not None:
            await self._planner.replan_soon(now)
        return version
