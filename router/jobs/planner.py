"""Scheduling the handover jobs: one per (team, shift end) in the next 48 hours.

Job ids are deterministic (`<prefix>-handover-<team>-<epoch>`), so planning again never
duplicates a job, and a planned job whose shift end no longer exists (the schedule
changed) is cancelled.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import redis
from rq import Queue, Retry
from rq.job import Job

from ..domain.schedules import Schedules
from ..settings import Settings
from ..store.keys import Keys

HORIZON = timedelta(hours=48)
RETRY = Retry(max=5, interval=[5, 15, 60, 120, 300])


def connection(url: str | None = None) -> redis.Redis:
    """A synchronous client (RQ's kind) for `url`, by default the environment's REDIS_URL."""
    return redis.Redis.from_url(url or Settings.from_env().redis_url or "")


def queue(prefix: str, conn: redis.Redis | None = None, url: str | None = None) -> Queue:
    return Queue(Keys(prefix).queue, connection=conn or connection(url))


def handover_job_id(prefix: str, team: str, end: datetime) -> str:
    return f"{prefix}-handover-{team}-{int(end.timestamp())}"


def plan_handovers(prefix: str, schedules: Schedules, now: datetime, url: str | None = None) -> int:
    """Schedule every shift end in (now, now + 48 h]; cancel planned ends that vanished."""
    from .tasks import handover

    q = queue(prefix, url=url)
    index = schedules.index(now - timedelta(days=1), now + HORIZON + timedelta(days=1))
    wanted: dict[str, tuple[str, datetime]] = {}
    for shift in index.between(now, now + HORIZON):
        if now < shift.end <= now + HORIZON:
            wanted[handover_job_id(prefix, shift.team, shift.end)] = (shift.team, shift.end)
    registry = q.scheduled_job_registry
    planned = set(registry.get_job_ids())
    mine = f"{prefix}-handover-"
    for job_id in planned:
        if job_id.startswith(mine) and job_id not in wanted:
            registry.remove(job_id, delete_job=True)
    for job_id, (team, end) in wanted.items():
        if job_id not in planned:
            q.enqueue_at(
                end,
                handover,
                team,
                end.isoformat(),
                job_id=job_id,
                retry=RETRY,
                job_timeout=600,
                result_ttl=86400,
            )
    return len(wanted)


def plan_wakeups(prefix: str, starts: list[float], url: str | None = None) -> None:
    """A wake job at each instant a waiting case's team comes on shift."""
    from .tasks import wake

    q = queue(prefix, url=url)
    for ts in starts:  # a start already past runs at once: the wake job is idempotent
        job_id = f"{prefix}-wake-{int(ts)}"
        if not Job.exists(job_id, connection=q.connection):
            at = datetime.fromtimestamp(ts, UTC)
            q.enqueue_at(at, wake, at.isoformat(), job_id=job_id, retry=RETRY)


def plan_after_edit(prefix: str, url: str) -> None:
    """After a schedule edit through the API: re-plan now (a job, so the API stays fast)."""
    from .tasks import plan

    with redis.Redis.from_url(url) as conn:
        queue(prefix, conn).enqueue(
            plan, job_id=f"{prefix}-plan-{int(datetime.now(UTC).timestamp())}"
        )
