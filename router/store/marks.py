"""How far follow-the-sun has got: handovers begun and not finished, and the instant up to
which every shift end has been handed over. Catch-up reads both after downtime."""

from __future__ import annotations

from datetime import UTC, datetime

from redis.asyncio import Redis

from .keys import Keys

__all__ = ["HandoverMarks"]


def _member(team_id: str, at: datetime) -> str:
    return f"{team_id}|{int(at.timestamp())}"


class HandoverMarks:
    def __init__(self, redis: Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys

    async def begin(self, team_id: str, at: datetime) -> None:
        """Record a handover as under way: a crash before `done` leaves it for catch-up."""
        await self._redis.sadd(self._keys.pending_handovers, _member(team_id, at))

    async def done(self, team_id: str, at: datetime) -> None:
        await self._redis.srem(self._keys.pending_handovers, _member(team_id, at))

    async def unfinished(self) -> list[tuple[str, datetime]]:
        """Handovers begun and not finished, oldest first."""
        out = []
        for raw in await self._redis.smembers(self._keys.pending_handovers):
            team, _, ts = raw.decode().rpartition("|")
            out.append((team, datetime.fromtimestamp(int(ts), UTC)))
        return sorted(out, key=lambda item: item[1])

    async def handed_over_until(self) -> datetime | None:
        raw = await self._redis.get(self._keys.handover_mark)
        return datetime.fromtimestamp(float(raw), UTC) if raw else None

    async def mark(self, now: datetime) -> None:
        """Every shift end up to `now` has been handed over."""
        await self._redis.set(self._keys.handover_mark, f"{now.timestamp():.3f}")
