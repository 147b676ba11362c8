"""Teams in Redis: the schedule documents operations edit, with optimistic concurrency
and revisions (see `documents`), and the set of team ids."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import msgspec
from redis.asyncio import Redis

from ..domain.model import TeamSpec
from .documents import NEVER, Documents
from .keys import Keys

__all__ = ["NEVER", "Revision", "StoredTeam", "TeamStore"]


class StoredTeam(msgspec.Struct, frozen=True):
    id: str
    version: int
    spec: TeamSpec


class Revision(msgspec.Struct, frozen=True, kw_only=True):
    version: int
    by: str
    at: datetime
    spec: TeamSpec | None
    note: str = ""


class TeamStore:
    def __init__(self, redis: Redis, keys: Keys) -> None:
        self.redis, self.keys = redis, keys
        self._docs = Documents(
            redis,
            TeamSpec,
            key=keys.team,
            revisions=keys.team_revisions,
            counter=keys.schedules_rev,
            what=lambda team_id: f"team {team_id}",
            index=keys.teams,
        )

    async def put(
        self,
        team_id: str,
        spec: TeamSpec | None,
        *,
        expected: int | None,
        by: str,
        at: datetime,
        note: str = "",
    ) -> int:
        """Write (or with spec=None delete) a team. expected=None: whatever is stored; 0: must
        not exist now; N: must be at version N; NEVER: refuse. Returns the new version;
        raises StaleVersion on a lost race."""
        return await self._docs.put(team_id, spec, expected=expected, by=by, at=at, note=note)

    async def get(self, team_id: str) -> StoredTeam | None:
        found = await self._docs.get(team_id)
        return StoredTeam(team_id, *found) if found else None

    async def all(self) -> dict[str, StoredTeam]:
        found = await self._docs.many(await self._docs.ids())
        return {tid: StoredTeam(tid, v, spec) for tid, (v, spec) in found.items()}

    async def revision_counter(self) -> int:
        """The schedules counter: bumped by every team and policy write."""
        return await self._docs.counter()

    async def revisions(self, team_id: str) -> list[Revision]:
        return [
            Revision(version=e.version, by=e.by, at=e.at, spec=e.doc, note=e.note)
            for e in await self._docs.history(team_id)
        ]

    async def load(self, specs: Mapping[str, TeamSpec], *, by: str, at: datetime) -> int:
        """Write every team that changed (schedules load); returns how many changed."""
        current = {tid: (t.version, t.spec) for tid, t in (await self.all()).items()}
        changed = await self._docs.load(specs, current, by=by, at=at, note="schedules load")
        return len(changed)
