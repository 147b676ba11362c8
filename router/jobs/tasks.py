"""The job functions RQ runs. Module level, arguments are plain values (rq pickles them),
state is re-read inside: each job builds its own clients in the event loop it runs in."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import ParamSpec, TypeVar

import msgspec

from .. import delivery, handovers
from ..i18n import Catalogs
from ..schedule_files import read_policy
from ..service import Service
from ..settings import Settings
from ..store import connect
from .planner import plan_handovers, plan_wakeups

P = ParamSpec("P")
R = TypeVar("R")


def coroutine_job(func: Callable[P, Coroutine[object, object, R]]) -> Callable[P, R]:
    """A plain function RQ can run in any thread. RQ hands a coroutine result to
    `asyncio.run`, which refuses when the calling thread already runs a loop (a worker
    embedded in an async program, or a test); then the job gets a loop of its own in a
    thread of its own, and the caller blocks until it is done, as it would for any job."""

    @functools.wraps(func)
    def job(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(func(*args, **kwargs))
        with ThreadPoolExecutor(1, thread_name_prefix="followsun-job") as pool:
            return pool.submit(asyncio.run, func(*args, **kwargs)).result()

    return job


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


@coroutine_job
async def handover(team_id: str, at: str) -> dict[str, object]:
    """The shift of `team_id` ended at `at`: hand its open cases over."""
    async with _service() as svc:
        report = await handovers.hand_over(svc, team_id, _when(at))
        if report.waiting:  # wake them the moment their team comes on
            plan_wakeups(svc.keys.prefix, await _waiting_starts(svc), svc.url)
        return msgspec.to_builtins(report)


@coroutine_job
async def sweep(now: str | None = None) -> dict[str, int]:
    async with _service() as svc:
        when = _when(now)
        woken = await handovers.wake_waiting(svc, when)
        counts = await handovers.sweep(svc, when)
        plan_wakeups(svc.keys.prefix, await _waiting_starts(svc), svc.url)
        return {**counts, "woken": woken}


@coroutine_job
async def wake(now: str | None = None) -> int:
    async with _service() as svc:
        woken = await handovers.wake_waiting(svc, _when(now))
        plan_wakeups(svc.keys.prefix, await _waiting_starts(svc), svc.url)
        return woken


@coroutine_job
async def catch_up(now: str | None = None) -> int:
    async with _service() as svc:
        reports = await handovers.catch_up(svc, _when(now))
        return sum(sum(r.moved.values()) + r.waiting for r in reports)


@coroutine_job
async def plan(now: str | None = None) -> int:
    """Keep one handover job scheduled per shift end in the coming 48 hours."""
    async with _service() as svc:
        when = _when(now)
        schedules = await svc.schedules(when)
        return plan_handovers(svc.keys.prefix, schedules, when, svc.url)


@functools.cache
def _catalogs() -> Catalogs:
    return Catalogs()


@coroutine_job
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
