"""The job functions RQ runs. Module level, arguments are plain values (rq pickles them),
state is re-read inside: each job builds its own clients in the event loop rq gives it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import cache

import msgspec

from .. import delivery, handovers
from ..i18n import Catalogs
from ..schedule_files import read_policy
from ..service import Service
from ..settings import Settings
from ..store import connect
from .planner import plan_handovers, plan_wakeups


@asynccontextmanager
async def _service() -> AsyncIterator[Service]:
    settings = Settings.from_env()
    redis = connect(settings.redis_url or "")
    try:
        yield Service(
            redis,
            read_policy(settings.schedules),
            prefix=settings.key_prefix,
            url=settings.redis_url or "",
        )
    finally:
        await redis.aclose()


def _when(at: str | None) -> datetime:
    return datetime.fromisoformat(at).astimezone(UTC) if at else datetime.now(UTC)


async def handover(team_id: str, at: str) -> dict[str, object]:
    """The shift of `team_id` ended at `at`: hand its open cases over."""
    async with _service() as svc:
        report = await handovers.hand_over(svc, team_id, _when(at))
        if report.waiting:  # wake them the moment their team comes on
            plan_wakeups(svc.keys.prefix, await _waiting_starts(svc), svc.url)
        return msgspec.to_builtins(report)


async def sweep(now: str | None = None) -> dict[str, int]:
    async with _service() as svc:
        when = _when(now)
        woken = await handovers.wake_waiting(svc, when)
        counts = await handovers.sweep(svc, when)
        plan_wakeups(svc.keys.prefix, await _waiting_starts(svc), svc.url)
        return {**counts, "woken": woken}


async def wake(now: str | None = None) -> int:
    async with _service() as svc:
        woken = await handovers.wake_waiting(svc, _when(now))
        plan_wakeups(svc.keys.prefix, await _waiting_starts(svc), svc.url)
        return woken


async def catch_up(now: str | None = None) -> int:
    async with _service() as svc:
        reports = await handovers.catch_up(svc, _when(now))
        return sum(sum(r.moved.values()) + r.waiting for r in reports)


async def plan(now: str | None = None) -> int:
    """Keep one handover job scheduled per shift end in the coming 48 hours."""
    async with _service() as svc:
        when = _when(now)
        schedules = await svc.schedules(when)
        return plan_handovers(svc.keys.prefix, schedules, when, svc.url)


@cache
def _catalogs() -> Catalogs:
    return Catalogs()


async def dispatch() -> int:
    """Render and hand the new outbox messages to the delivery jobs."""
    from ..runtime import ensure_secret

    settings = ensure_secret(Settings.from_env())
    async with _service() as svc:
        total = 0
        while n := await delivery.dispatch(svc, _catalogs(), settings):
            total += n
        return total


async def _waiting_starts(svc: Service) -> list[float]:
    return sorted({s for _, s in await svc.redis.zrange(svc.keys.waiting, 0, -1, withscores=True)})
