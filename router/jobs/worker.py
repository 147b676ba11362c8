"""`followsun worker`: an RQ worker with its scheduler, plus RQ's cron scheduler for the
periodic jobs. On start it plans the coming shift ends and catches up on missed ones."""

from __future__ import annotations

import multiprocessing as mp
import os
from datetime import UTC, datetime

from rq import Worker
from rq.cron import CronScheduler

from ..settings import Settings
from ..store.keys import Keys
from . import tasks
from .planner import connection, queue

PERIODIC = (  # (job, seconds)
    (tasks.sweep, 60),
    (tasks.dispatch, 5),
    (tasks.plan, 600),
    (tasks.catch_up, 300),
)


def _cron(prefix: str) -> None:
    scheduler = CronScheduler(
        connection=connection(), name=f"{prefix}-cron-{os.getpid()}", logging_level="WARNING"
    )
    for func, seconds in PERIODIC:
        scheduler.register(func, Keys(prefix).queue, interval=seconds)
    scheduler.start()


def run(*, burst: bool = False, cron: bool = True) -> None:
    settings = Settings.from_env()
    prefix = settings.key_prefix
    conn = connection()
    q = queue(prefix, conn)
    now = datetime.now(UTC).isoformat()
    q.enqueue(tasks.catch_up, now, job_id=f"{prefix}-catchup-start-{os.getpid()}")
    q.enqueue(tasks.plan, now, job_id=f"{prefix}-plan-start-{os.getpid()}")
    child = None
    if cron and not burst:
        child = mp.get_context("spawn").Process(target=_cron, args=(prefix,), daemon=True)
        child.start()
    try:
        Worker([q], connection=conn, name=f"{prefix}-{os.getpid()}").work(
            with_scheduler=True, burst=burst, logging_level="WARNING"
        )
    finally:
        if child is not None:
            child.terminate()
            child.join(5)
