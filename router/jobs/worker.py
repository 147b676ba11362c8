"""`followsun worker`: an RQ worker with its scheduler, plus RQ's cron scheduler for the
periodic jobs. On start it plans the coming shift ends and catches up on missed ones.

Any number of workers may run, on any number of machines. Each runs jobs from the one
queue; the periodic jobs are enqueued by one of them only, the holder of the cron lease
(`store.leader.Lease`): the others wait in turn and take over within the lease's time to
live (FOLLOWSUN_LEADER_TTL) once the leader dies. A new leader enqueues every periodic job
at once, so a takeover also runs the catch-up. Every job is idempotent, so one enqueued
twice (a start-up beside a leader's round, an overlap during a takeover) does no harm.
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing as mp
import os
import signal
import socket
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from rq import Worker
from rq.cron import CronScheduler

from ..settings import Settings
from ..store import UNREACHABLE
from ..store.leader import Lease
from . import tasks
from .queues import JobQueue

_TASKS = "router.jobs.tasks"
PERIODIC = (  # (job, seconds)
    ("sweep", 60),
    ("dispatch", 5),
    ("plan", 600),
    ("catch_up", 300),
    ("retention", 3600),
)


def _say(text: str) -> None:
    print(f"followsun: {text}", file=sys.stderr, flush=True)


def _stop(*_: object) -> None:
    raise SystemExit(0)


def _cron(settings: Settings, parent: int) -> None:
    """The cron process of the worker `parent`: lead when the lease is free, enqueue the
    periodic jobs while leading, renew the lease three times per time to live; on SIGTERM,
    or once `parent` is gone (killed, its cron child orphaned), give the lease up."""
    signal.signal(signal.SIGTERM, _stop)
    jobs = JobQueue.connect(settings.redis_url or "", settings.key_prefix)
    holder = f"{socket.gethostname()}:{parent}:{uuid.uuid4().hex[:8]}"
    lease = Lease(jobs.connection, settings.key_prefix, settings.leader_ttl, holder=holder)
    scheduler = CronScheduler(
        connection=jobs.connection,
        name=f"{settings.key_prefix}-cron-{os.getpid()}",
        logging_level="WARNING",
    )
    for name, seconds in PERIODIC:
        job = getattr(tasks, name)  # named by prefix: RQ's cron history keys are not
        scheduler.register(job, jobs.queue.name, interval=seconds, name=jobs.job_id(name))
    beat = settings.leader_ttl / 3
    leading = False
    try:
        while os.getppid() == parent:
            held = lease.hold()
            if held != leading:
                _say(f"worker {parent} {'leads' if held else 'no longer leads'} the periodic jobs")
            leading = held
            pause = beat
            if leading:
                try:
                    if scheduler.enqueue_jobs():
                        scheduler.save()
                    pause = min(scheduler.calculate_sleep_interval(), beat)
                except Exception as err:  # the store failing over: try again next beat
                    _say(f"periodic jobs not enqueued: {type(err).__name__}: {err}")
            time.sleep(pause)
    finally:
        if leading and lease.release():
            _say(f"worker {parent} gave up the lead of the periodic jobs")
        jobs.close()


class _NoArguments(logging.Filter):
    """RQ attaches a failed job's arguments to its log record (`extra`), which a structured
    handler would print: a delivery's arguments are a customer's update and address."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name in ("arguments", "kwargs"):
            if hasattr(record, name):
                setattr(record, name, "(not logged)")
        return True


class _Worker(Worker):
    """RQ's worker, remembering whether it was told to stop (SIGTERM, Ctrl-C). It logs
    job ids, never a job's description or arguments (personal data, README "Personal
    data")."""

    stop_signalled = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("log_job_description", False)
        super().__init__(*args, **kwargs)
        if not any(isinstance(f, _NoArguments) for f in self.log.filters):
            self.log.addFilter(_NoArguments())

    def request_stop(self, signum: int, frame: Any) -> None:
        self.stop_signalled = True
        super().request_stop(signum, frame)


def _work(jobs: JobQueue, burst: bool) -> None:
    """RQ's worker loop, started again after it gives up for anything but a stop request:
    RQ quits on a store error that reaches its loop (one while it watches a running job,
    say), and a failover means a few seconds of those."""
    for attempt in itertools.count():
        name = f"{jobs.prefix}-{os.getpid()}" + (f"-{attempt}" if attempt else "")
        worker = _Worker([jobs.queue], connection=jobs.connection, name=name)
        try:
            worker.work(with_scheduler=True, burst=burst, logging_level="WARNING")
        except UNREACHABLE as err:  # its teardown could not reach the store either
            _say(f"the worker lost the store: {type(err).__name__}: {err}")
        if burst or worker.stop_signalled:
            return
        _say("the worker stopped without being asked to; it starts again in a second")
        time.sleep(1)
        if worker.stop_signalled:
            return


def run(settings: Settings, *, burst: bool = False, cron: bool = True) -> None:
    tasks.configure(settings)
    jobs = JobQueue.connect(settings.redis_url or "", settings.key_prefix)
    now = datetime.now(UTC).isoformat()
    for name in ("catch_up", "plan"):
        jobs.enqueue(f"{_TASKS}.{name}", now, job_id=jobs.job_id(name, "start", os.getpid()))
    child = None
    if cron and not burst:
        child = mp.get_context("spawn").Process(
            target=_cron, args=(settings, os.getpid()), daemon=True
        )
        child.start()
    try:
        _work(jobs, burst)
    finally:
        if child is not None:
            child.terminate()  # SIGTERM: it releases the lease, the next worker leads at once
            child.join(5)
