"""Scheduling the follow-the-sun jobs: one handover per (team, shift end) in the next 48
hours, a wake job per instant waiting cases expect their team, a re-plan after an edit.

Job ids are deterministic (`<prefix>-handover-<team>-<epoch>`), so planning again never
duplicates a job, and a planned job whose shift end no longer exists (the schedule
changed) is cancelled.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from rq import Retry

from ..domain.schedules import Schedules
from .queues import JobQueue

__all__ = ["HORIZON", "Planner", "handover_job_id"]

HORIZON = timedelta(hours=48)
RETRY = Retry(max=5, interval=[5, 15, 60, 120, 300])
_TASKS = "router.jobs.tasks"


def handover_job_id(prefix: str, team: str, end: datetime) -> str:
    return f"{prefix}-handover-{team}-{int(end.timestamp())}"


class Planner:
    def __init__(self, jobs: JobQueue) -> None:
        self.jobs = jobs

    def handovers(self, schedules: Schedules, now: datetime) -> int:
        """Schedule every shift end in (now, now + 48 h]; cancel planned ends that vanished."""
        prefix = self.jobs.prefix
        index = schedules.index(now - timedelta(days=1), now + HORIZON + timedelta(days=1))
        wanted = {
            handover_job_id(prefix, s.team, s.end): s for s in index.ends_in(now, now + HORIZON)
        }
        planned = self.jobs.scheduled(f"{prefix}-handover-")
        for job_id in planned - wanted.keys():
            self.jobs.cancel(job_id)
        for job_id, shift in wanted.items():
            if job_id not in planned:
                self.jobs.enqueue(
                    f"{_TASKS}.handover",
                    shift.team,
                    shift.end.isoformat(),
                    job_id=job_id,
                    at=shift.end,
                    retry=RETRY,
                    job_timeout=600,
                    result_ttl=86400,
                )
        return len(wanted)

    def wakeups(self, starts: Iterable[float]) -> None:
        """A wake job at each instant a waiting case's team comes on shift."""
        for ts in starts:  # a start already past runs at once: the wake job is idempotent
            job_id = self.jobs.job_id("wake", int(ts))
            if not self.jobs.exists(job_id):
                at = datetime.fromtimestamp(ts, UTC)
                self.jobs.enqueue(
                    f"{_TASKS}.wake", at.isoformat(), job_id=job_id, at=at, retry=RETRY
                )

    def replan(self, now: datetime) -> None:
        """After a schedule edit: re-plan now, in a job (the edit's request stays fast)."""
        self.jobs.enqueue(f"{_TASKS}.plan", job_id=self.jobs.job_id("plan", int(now.timestamp())))

    async def wakeups_soon(self, starts: Iterable[float]) -> None:
        """`wakeups` from async code: RQ's client blocks, so it runs in a thread."""
        await asyncio.to_thread(self.wakeups, list(starts))

    async def replan_soon(self, now: datetime) -> None:
        await asyncio.to_thread(self.replan, now)
