"""Where every RQ queue comes from: one deployment's queue, jobs named by dotted path.

Naming a job by its path ("router.jobs.tasks.handover") instead of importing it keeps
the modules that enqueue (the planner, the outbox, the API through them) free of the job
modules, which import the services: no cycle.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from rq import Callback, Queue, Retry
from rq.job import Job

from ..store import connect_sync

if TYPE_CHECKING:
    import redis

__all__ = ["JobQueue"]


class JobQueue:
    """A deployment's RQ queue (the key prefix keeps deployments and test runs apart)."""

    def __init__(self, connection: redis.Redis, prefix: str) -> None:
        self.prefix = prefix
        self.queue = Queue(f"{prefix}-jobs", connection=connection)

    @classmethod
    def connect(cls, url: str, prefix: str) -> JobQueue:
        return cls(connect_sync(url), prefix)

    @property
    def connection(self) -> redis.Redis:
        return self.queue.connection

    def close(self) -> None:
        self.connection.close()

    def job_id(self, *parts: object) -> str:
        """A deterministic id, so enqueuing the same work twice finds the first job."""
        return "-".join((self.prefix, *map(str, parts)))

    def exists(self, job_id: str) -> bool:
        return Job.exists(job_id, connection=self.connection)

    def enqueue(
        self,
        func: str,
        *args: Any,
        job_id: str,
        at: datetime | None = None,
        retry: Retry | None = None,
        on_failure: str | None = None,
        **options: Any,
    ) -> None:
        """Run `func(*args)` now, or at `at` (RQ's scheduler moves it to the queue then)."""
        if on_failure is not None:
            options["on_failure"] = Callback(on_failure)
        if at is None:
            self.queue.enqueue(func, *args, job_id=job_id, retry=retry, **options)
        else:
            self.queue.enqueue_at(at, func, *args, job_id=job_id, retry=retry, **options)

    def scheduled(self, prefix: str) -> set[str]:
        """Ids of the scheduled (not yet due) jobs whose id starts with `prefix`."""
        return {j for j in self.queue.scheduled_job_registry.get_job_ids() if j.startswith(prefix)}

    def cancel(self, job_id: str) -> None:
        self.queue.scheduled_job_registry.remove(job_id, delete_job=True)
