"""Policy edits: the matrix, targets and flags checked as `followsun check` checks
policy.toml, then with every stored team, written with a version check, then the
calendar re-read and the shift-end jobs re-planned. New deadlines apply to cases opened
or re-routed after the edit; a case keeps the deadlines it was given."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import msgspec

from ..domain.errors import NotFound
from ..domain.model import Policy
from ..domain.schedules import validate_specs
from ..domain.validation import decode_policy
from ..store import PolicyRevision, PolicyStore, TeamStore
from .calendar import Calendar

if TYPE_CHECKING:
    from ..jobs.planner import Planner

__all__ = ["SOURCE", "PolicyService"]

SOURCE = "policy"  # how problems name the document edited through the API


class PolicyService:
    def __init__(
        self, store: PolicyStore, teams: TeamStore, calendar: Calendar, planner: Planner | None
    ) -> None:
        self.store = store
        self._teams = teams
        self._calendar = calendar
        self._planner = planner

    async def current(self) -> tuple[int, Policy]:
        """(version, policy) stored; (0, the process's bootstrap policy) while none is."""
        stored = await self.store.get()
        if stored is not None:
            return stored.version, stored.policy
        if self._calendar.bootstrap is None:
            raise NotFound("policy", "(none stored, no policy.toml)")
        return 0, self._calendar.bootstrap

    async def revisions(self) -> list[PolicyRevision]:
        return await self.store.revisions()

    async def check(self, policy: Policy, now: datetime) -> Policy:
        """Validate a policy on its own (matrix complete, targets positive: the checks of
        policy.toml, through the same code) and with the stored teams."""
        checked = decode_policy(msgspec.toml.encode(policy), SOURCE)
        stored = await self._teams.all()
        specs = {tid: (t.spec, f"teams/{tid}") for tid, t in stored.items()}
        validate_specs(specs, checked, now=now, warnings=False)
        return checked

    async def save(self, policy: Policy, *, expected: int, by: str, now: datetime) -> int:
        """Validate, write if still at `expected` (0: none stored yet), re-plan; the new
        version. Raises ScheduleError (nothing written) or StaleVersion."""
        checked = await self.check(policy, now)
        version = await self.store.put(checked, expected=expected, by=by, at=now)
        self._calendar.forget()
        if self._planner is not None:
            await self._planner.replan_soon(now)
        return version
