"""The sorted sets that say which cases need attention when: waiting for their team,
past a deadline, or with nobody to take them. The case script keeps them current; these
are their readers."""

from __future__ import annotations

from datetime import datetime

from redis.asyncio import Redis

from .keys import Keys

__all__ = ["CaseQueues"]


def _ids(members: list[bytes]) -> list[str]:
    return [m.decode() for m in members]


class CaseQueues:
    def __init__(self, redis: Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys

    async def waiting_until(self, now: datetime) -> list[str]:
        """Waiting cases whose team was due on shift by `now`."""
        return _ids(await self._redis.zrangebyscore(self._keys.waiting, "-inf", now.timestamp()))

    async def waiting_starts(self) -> list[float]:
        """The distinct instants (epoch seconds) waiting cases expect their team."""
        members = await self._redis.zrange(self._keys.waiting, 0, -1, withscores=True)
        return sorted({score for _, score in members})

    async def waiting(self, limit: int) -> list[str]:
        """The waiting cases whose team comes on soonest."""
        return _ids(await self._redis.zrange(self._keys.waiting, 0, limit - 1))

    async def unroutable(self, limit: int) -> list[str]:
        return _ids(await self._redis.zrange(self._keys.unroutable, 0, limit - 1))

    async def due(self, now: datetime, limit: int | None = None) -> list[str]:
        """Cases with a deadline at or before `now`, earliest first."""
        if limit is None:
            members = await self._redis.zrangebyscore(self._keys.deadlines, "-inf", now.timestamp())
        else:
            members = await self._redis.zrangebyscore(
                self._keys.deadlines, "-inf", now.timestamp(), start=0, num=limit
            )
        return _ids(members)
