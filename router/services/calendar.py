"""The validated calendar every process routes on, reloaded when the store says it changed.

Teams and the policy live in the store behind one revision counter (every write of
either bumps it); each process keeps the validated calendar in memory and re-reads both
when the counter moves, so web workers and RQ workers route on the same schedules and
deadlines within RECHECK seconds of an edit.

Until a policy is in the store (`followsun schedules load`, `up`, or PUT /v1/policy) a
process uses the policy it was given at construction: its own `schedules/policy.toml`.
Once one is stored, that file no longer matters to any process.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from ..domain.errors import Problem, ScheduleError
from ..domain.index import ShiftIndex
from ..domain.model import Policy
from ..domain.schedules import Schedules, validate_specs
from ..store import CaseStore, PolicyStore, TeamStore

__all__ = ["RECHECK", "Calendar"]

_BEFORE, _AFTER = timedelta(days=2), timedelta(days=9)
RECHECK = 0.5


class Calendar:
    def __init__(
        self, teams: TeamStore, policies: PolicyStore, cases: CaseStore, policy: Policy | None
    ) -> None:
        """`policy`: the one in force until the store holds one (None: there is no file)."""
        self._teams = teams
        self._policies = policies
        self._cases = cases
        self.bootstrap = policy
        self._policy = policy
        self._rev = -1
        self._schedules: Schedules | None = None
        self._index: ShiftIndex | None = None
        self._checked = float("-inf")
        self._checking = False
        self._loads: dict[str, int] = {}
        self._loads_at = float("-inf")

    @property
    def policy(self) -> Policy:
        """The policy in force as of the last look at the store (the one `schedules`
        validated the teams with): read it after `schedules(now)`, as the use cases do."""
        if self._policy is None:
            raise _no_policy()
        return self._policy

    def forget(self) -> None:
        """Re-read teams and policy on the next question (after this process changed one)."""
        self._checked = float("-inf")

    async def schedules(self, now: datetime) -> Schedules:
        """The validated calendar; the store's revision counter is checked at most every
        RECHECK seconds (another process's edit shows within that), and at once after an
        edit made through this process."""
        tick = time.monotonic()
        if self._schedules is not None and (tick - self._checked < RECHECK or self._checking):
            return self._schedules  # fresh, or another request is checking it right now
        self._checking = True
        try:
            rev = await self._teams.revision_counter()
            if self._schedules is None or rev != self._rev:
                stored = await self._teams.all()
                specs = {tid: (t.spec, f"teams/{tid}") for tid, t in stored.items()}
                found = await self._policies.get()
                policy = found.policy if found else self.bootstrap
                if policy is None:
                    raise _no_policy()
                self._schedules = validate_specs(specs, policy, now=now, warnings=False)
                self._policy, self._rev, self._index = policy, rev, None
            self._checked = tick
        finally:
            self._checking = False
        return self._schedules

    def region_of(self, team_id: str | None) -> str:
        """The region of a team, from the calendar last loaded (for customer messages)."""
        team = self._schedules.teams.get(team_id or "") if self._schedules else None
        return team.region if team else ""

    async def index(self, now: datetime) -> ShiftIndex:
        """An index covering `now` with days of margin either side (rebuilt as time moves)."""
        return self.index_of(await self.schedules(now), now)

    def index_of(self, schedules: Schedules, now: datetime) -> ShiftIndex:
        idx = self._index
        if idx is None or not (idx.start + _BEFORE / 2 <= now <= idx.end - _AFTER / 2):
            idx = self._index = schedules.index(now - _BEFORE, now + _AFTER)
        return idx

    async def loads(self, now: datetime) -> dict[str, int]:
        """Open cases per team, at most RECHECK seconds old: load only breaks near-ties in
        routing, so intake need not pay a round trip for it."""
        tick = time.monotonic()
        if tick - self._loads_at >= RECHECK:
            self._loads_at = tick  # one request refreshes; the others route on the last counts
            try:
                schedules = await self.schedules(now)
                self._loads = await self._cases.team_loads(list(schedules.teams))
            except BaseException:
                self._loads_at = float("-inf")
                raise
        return self._loads


def _no_policy() -> ScheduleError:
    message = "no policy in the store and no policy.toml: run `followsun schedules load`"
    return ScheduleError([Problem(source="policy", path="", message=message)])
