"""The job functions RQ runs. Module level, arguments are plain values (rq pickles them),
state is re-read inside: each job builds its own clients in the event loop it runs in.

The worker process reads its settings once and hands them to the jobs through
`configure` (RQ forks a work horse per job, which inherits them)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import ParamSpec, TypeVar

import msgspec

from ..i18n import Catalogs
from ..schedule_files import bootstrap_policy
from ..settings import Settings
from ..store import connect
from ..wiring import Services
from .queues import JobQueue

P = ParamSpec("P")
R = TypeVar("R")

_settings: Settings | None = None


def configure(settings: Settings) -> None:
    """The settings every job of this process uses (the worker calls this at start)."""
    global _settings
    _settings = settings


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


@functools.cache
def _catalogs() -> Catalogs:
    return Catalogs()


def _job_settings() -> Settings:
    return _settings or Settings.from_env()  # `followsun worker` configures; a bare RQ worker


@asynccontextmanager
async def _services(settings: Settings | None = None) -> AsyncIterator[Services]:
    settings = settings or _job_settings()
    redis = connect(settings.redis_url or "")
    jobs = JobQueue.connect(settings.redis_url or "", settings.key_prefix)
    try:
        # the job routes on the store's policy; the file's is the default until one is stored
        policy = bootstrap_policy(settings.schedules)
        yield Services(redis, settings, policy, jobs=jobs, catalogs=_catalogs())
    finally:
        jobs.close()
        await redis.aclose()


def _when(at: str | None) -> datetime:
    return datetime.fromisoformat(at).astimezone(UTC) if at else datetime.now(UTC)


@coroutine_job
async def handover(team_id: str, at: str) -> dict[str, object]:
    """The shift of `team_id` ended at `at`: hand its open cases over."""
    async with _services() as services:
        return msgspec.to_builtins(await services.handover.hand_over(team_id, _when(at)))


@coroutine_job
async def sweep(now: str | None = None) -> dict[str, int]:
    """Deadlines, and the waiting cases whose team came on (a backstop for the wake jobs)."""
    async with _services() as services:
        when = _when(now)
        woken = await services.handover.wake_waiting(when)
        counts = await services.deadlines.sweep(when)
        await services.handover.plan_wakeups()
        return {**counts, "woken": woken}


@coroutine_job
async def wake(now: str | None = None) -> int:
    async with _services() as services:
        woken = await services.handover.wake_waiting(_when(now))
        await services.handover.plan_wakeups()
        return woken


@coroutine_job
async def catch_up(now: str | None = None) -> int:
    async with _services() as services:
        reports = await services.handover.catch_up(_when(now))
        return sum(sum(r.moved.values()) + r.waiting for r in reports)


@coroutine_job
async def plan(now: str | None = None) -> int:
    """Keep one handover job scheduled per shift end in the coming 48 hours."""
    async with _services() as services:
        when = _when(now)
        schedules = await services.calendar.schedules(when)
        assert services.planner is not None
        return await asyncio.to_thread(services.planner.handovers, schedules, when)


@coroutine_job
async def dispatch() -> int:
    """Render and hand the new outbox messages to the delivery jobs."""
    from ..runtime import ensure_secret  # status links are signed

    async with _services(ensure_secret(_job_settings())) as services:
        total = 0
        while n := await services.outbox.dispatch():
            total += n
        return total


@coroutine_job
async def retention(now: str | None = None) -> int:
    """Closed cases past their region's `[retention]` days lose their customer's personal
    data (services.customers); hourly, a thousand cases a run, idempotent."""
    async with _services() as services:
        return await services.customers.sweep(_when(now))
