"""One deployment's services as the tests drive and inspect them: the use cases, and the
stores and raw client the tests read to check what was written."""

from __future__ import annotations

from pathlib import Path

from redis.asyncio import Redis

from router.domain.model import Policy
from router.i18n import Catalogs
from router.jobs.queues import JobQueue
from router.settings import Settings
from router.store import Keys
from router.wiring import Services

SECRET = "test-secret-" + "x" * 32


class Harness:
    def __init__(
        self,
        redis: Redis,
        policy: Policy,
        *,
        prefix: str,
        url: str | None = None,
        settings: Settings | None = None,
        catalogs: Catalogs | None = None,
    ) -> None:
        settings = settings or Settings(
            redis_url=url, key_prefix=prefix, secret=SECRET, schedules=Path("schedules")
        )
        jobs = JobQueue.connect(url, prefix) if url else None
        self.services = services = Services(redis, settings, policy, jobs=jobs, catalogs=catalogs)
        self.redis = redis
        self.keys = Keys(prefix)
        self.policy = policy
        # the stores, as the tests read them
        self.cases = services.stores.cases
        self.teams = services.stores.teams
        # the use cases
        self.handover = services.handover
        self.deadlines = services.deadlines
        self.outbox = services.outbox
        self.calendar = services.calendar
        self.change = services.cases.change
        self.intake = services.cases.intake
        self.schedules = services.calendar.schedules
        self.index = services.calendar.index
        self.forget_schedules = services.calendar.forget

    def close(self) -> None:
        self.services.close()
