"""`followsun worker`: an RQ worker with its scheduler, plus RQ's cron scheduler for the
periodic jobs. On start it plans the coming shift ends and catches up on missed ones."""

from __future__ import annotations

import multiprocessing as mp
import os
from datetime import UTC, datetime

from rq import Worker
from rq.cron import CronScheduler

from ..settings import Settings
from . import tasks
from .queues import JobQueue

_TASKS = "router.jobs.tasks"
PERIODIC = (  # (job, seconds)
    ("sweep", 60),
    ("dispatch", 5),
    ("plan", 600),
    ("catch_up", 300),
)


def _cron(settings: Settings) -> None:
    jobs = JobQueue.connect(settings.redis_url or "", settings.key_prefix)
    scheduler = CronScheduler(
        connection=jobs.connection,
        name=f"{settings.key_prefix}-cron-{os.getpid()}",
        logging_level="WARNING",
    )
    for name, seconds in PERIODIC:
        scheduler.register(getattr(tasks, name), jobs.queue.name, interval=seconds)
    scheduler.start()


def run(settings: Settings, *, burst: bool = False, cron: bool = True) -> None:
    tasks.configure(settings)
    jobs = JobQueue.connect(settings.redis_url or "", settings.key_prefix)
    now = datetime.now(UTC).isoformat()
    for name in ("catch_up", "plan"):
        jobs.enqueue(f"{_TASKS}.{name}", now, job_id=jobs.job_id(name, "start", os.getpid()))
    child = None
    if cron and not burst:
        child = mp.get_context("spawn").Process(target=_cron, args=(settings,), daemon=True)
        child.start()
    try:
        Worker([jobs.queue], connection=jobs.connection, name=f"{jobs.prefix}-{os.getpid()}").work(
            with_scheduler=True, burst=burst, logging_level="WARNING"
        )
    finally:
        if child is not None:
            child.terminate()
            child.join(5)
