"""Teams in Redis: the schedule documents operations edit, with optimistic concurrency.

Each team is a hash {v, doc}; a write names the version it was based on (the ETag the
client got), and a Lua script refuses it if the stored version moved on. Every write
also appends a revision (who, when, the whole document) and bumps a counter that tells
every process to reload its calendar.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import msgspec
from redis.asyncio import Redis

from ..domain.errors import FollowsunError
from ..domain.model import TeamSpec
from .codec import decode, encode
from .keys import Keys

__all__ = ["Revision", "StaleTeam", "StoredTeam", "TeamStore"]

_PUT = """
local cur = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
local exists = redis.call('HEXISTS', KEYS[1], 'doc') == 1
local expected = tonumber(ARGV[1])
if expected == 0 and exists then return {0, cur} end
if expected > 0 and (cur ~= expected or not exists) then return {0, cur} end
if expected < -1 then return {0, cur} end
local v = cur + 1
if ARGV[2] == '' then
  if not exists then return {0, cur} end
  redis.call('HDEL', KEYS[1], 'doc')
  redis.call('HSET', KEYS[1], 'v', v)
  redis.call('SREM', KEYS[2], ARGV[5])
else
  redis.call('HSET', KEYS[1], 'v', v, 'doc', ARGV[2])
  redis.call('SADD', KEYS[2], ARGV[5])
end
redis.call('INCR', KEYS[3])
redis.call('XADD', KEYS[4], '*', 'v', v, 'by', ARGV[3], 'at', ARGV[4],
           'doc', ARGV[2], 'note', ARGV[6])
return {1, v}
"""


NEVER = -2  # an If-Match that cannot match anything (not an ETag we gave out)


class StaleTeam(FollowsunError):
    """The team changed since the version the writer read (HTTP 412 at the edge)."""

    def __init__(self, team_id: str, expected: int, found: int) -> None:
        super().__init__(f"team {team_id} is at version {found}, not {expected}")
        self.team_id, self.expected, self.found = team_id, expected, found


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
        self._put = redis.register_script(_PUT)

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
        not exist now; N: must be at version N; NEVER: refuse. Versions only grow, also
        across a delete, so an old ETag can never match a re-created team. Returns the new
        version; raises StaleTeam on a lost race."""
        k = self.keys
        result = await self._put(
            keys=[k.team(team_id), k.teams, k.teams_rev, k.team_revisions(team_id)],
            args=[
                -1 if expected is None else expected,
                encode(spec) if spec else b"",
                by,
                at.isoformat(),
                team_id,
                note,
            ],
        )
        if result[0] == 0:
            raise StaleTeam(team_id, expected or 0, int(result[1]))
        return int(result[1])

    async def get(self, team_id: str) -> StoredTeam | None:
        v, doc = await self.redis.hmget(self.keys.team(team_id), ["v", "doc"])
        return StoredTeam(team_id, int(v), decode(doc, TeamSpec)) if doc else None

    async def all(self) -> dict[str, StoredTeam]:
        ids = sorted(m.decode() for m in await self.redis.smembers(self.keys.teams))
        pipe = self.redis.pipeline(transaction=False)
        for tid in ids:
            pipe.hmget(self.keys.team(tid), ["v", "doc"])
        out = {}
        for tid, (v, doc) in zip(ids, await pipe.execute(), strict=True):
            if doc:
                out[tid] = StoredTeam(tid, int(v), decode(doc, TeamSpec))
        return out

    async def revision_counter(self) -> int:
        return int(await self.redis.get(self.keys.teams_rev) or 0)

    async def revisions(self, team_id: str) -> list[Revision]:
        out = []
        for _, f in await self.redis.xrange(self.keys.team_revisions(team_id)):
            out.append(
                Revision(
                    version=int(f[b"v"]),
                    by=f[b"by"].decode(),
                    at=datetime.fromisoformat(f[b"at"].decode()),
                    spec=decode(f[b"doc"], TeamSpec) if f[b"doc"] else None,
                    note=f.get(b"note", b"").decode(),
                )
            )
        return out

    async def load(self, specs: Mapping[str, TeamSpec], *, by: str, at: datetime) -> int:
        """Write every team (schedules load); returns how many changed."""
        current = await self.all()
        changed = 0
        for tid, spec in specs.items():
            stored = current.get(tid)
            if stored is not None and stored.spec == spec:
                continue
            await self.put(
                tid,
                spec,
                expected=stored.version if stored else 0,
                by=by,
                at=at,
                note="schedules load",
            )
            changed += 1
        return changed
