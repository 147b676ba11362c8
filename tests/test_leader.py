"""Several workers at once: one cron leader by a lease in Redis, taken over when the leader
dies; and every job safe to run twice or at the same time (two workers, an overlap during
a takeover, a start-up beside a leader's round).

The lease is tested on its own, then with real `followsun worker` processes killed with
SIGKILL; the jobs' idempotence with the services of two "workers" (each its own Redis
client) running the same job concurrently against a real Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis as redis_sync
from conftest import ROOT, SCHEDULES
from harness import SECRET, Harness
from redis.asyncio import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from rq import Queue
from rq.job import Job
from test_handover import (  # the handover tests' teams, escalations and helpers
    CHAIN,
    DAY1,
    MORNING,
    THREE_SHIFTS,
    H,
    M,
    esc,
    event_types,
    load,
    open_case_for,
)

from router.domain.case import acknowledge
from router.domain.model import Policy
from router.jobs.planner import Planner
from router.jobs.queues import JobQueue
from router.schedule_files import read_schedules, read_team_specs
from router.settings import Settings
from router.store import Keys
from router.store.leader import Lease

AMS_END = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)  # ams-l1 leaves (17:00 in Amsterdam)


# -- the lease -------------------------------------------------------------------------------


@pytest.fixture
def conn(redis_url: str) -> Iterator[redis_sync.Redis]:
    client = redis_sync.Redis.from_url(redis_url)
    yield client
    client.close()


def wait_for(predicate, timeout: float, step: float = 0.02) -> float:  # type: ignore[no-untyped-def]
    """Seconds until `predicate()` held; fails the test after `timeout` seconds."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            pytest.fail(f"not within {timeout} s: {predicate.__doc__ or predicate}")
        time.sleep(step)
    return time.monotonic() - start


def test_one_holder_at_a_time_and_only_the_holder_renews_or_releases(conn, key_prefix) -> None:
    a = Lease(conn, key_prefix, ttl=30, holder="a")
    b = Lease(conn, key_prefix, ttl=30, holder="b")

    assert a.hold()
    assert not b.hold()
    assert a.hold()  # renewing
    assert a.holder() == b.holder() == "a"
    assert not b.release()  # not b's to give up
    assert a.holder() == "a"
    assert 0 < conn.pttl(a.key) <= 30_000

    assert a.release()
    assert a.holder() is None
    assert b.hold()
    assert not a.hold()
    assert b.holder() == "b"


def test_a_lease_its_holder_stops_renewing_expires_and_another_takes_it(conn, key_prefix) -> None:
    a = Lease(conn, key_prefix, ttl=0.3, holder="a")
    b = Lease(conn, key_prefix, ttl=0.3, holder="b")
    assert a.hold()
    assert not b.hold()

    wait_for(b.hold, timeout=10)  # a died: nothing renews it

    assert b.holder() == "b"
    assert not a.hold()  # a, back from a pause, finds it gone and does not lead


def test_a_holder_that_cannot_reach_redis_does_not_lead(key_prefix) -> None:
    """Nothing listens on port 1: `hold` answers False rather than raising."""
    unreachable = redis_sync.Redis(host="127.0.0.1", port=1, retry=Retry(NoBackoff(), 0))
    lease = Lease(unreachable, key_prefix, ttl=1, holder="x")
    assert not lease.hold()
    assert not lease.release()
    unreachable.close()


# -- real workers ----------------------------------------------------------------------------

LEADER_TTL = 1.5


def start_worker(redis_url: str, prefix: str, tmp: Path, n: int) -> tuple[subprocess.Popen, Path]:
    log = tmp / f"worker{n}.log"
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "FOLLOWSUN_KEY_PREFIX": prefix,
        "FOLLOWSUN_SECRET": SECRET,
        "FOLLOWSUN_SCHEDULES": str(SCHEDULES),
        "FOLLOWSUN_DATA": str(tmp / "var"),
        "FOLLOWSUN_LEADER_TTL": str(LEADER_TTL),
    }
    env.pop("REDIS_SENTINELS", None)
    with log.open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "router.cli", "worker"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,  # its own process group: the worker, its cron child, horses
        )
    return proc, log


def enqueued(queue: Queue, func: str) -> set[str]:
    """Every job of `func` the queue has seen (waiting, running, finished or failed)."""
    ids = set(queue.get_job_ids())
    for registry in (
        queue.started_job_registry,
        queue.finished_job_registry,
        queue.failed_job_registry,
    ):
        ids |= set(registry.get_job_ids())
    jobs = Job.fetch_many(sorted(ids), connection=queue.connection)
    return {j.id for j in jobs if j is not None and j.func_name == func}


@pytest.fixture
def workers(redis_url: str, key_prefix: str, tmp_path: Path) -> Iterator[list]:
    started: list = []
    yield started
    for proc, _ in started:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def test_two_workers_one_leader_and_a_takeover_when_the_leader_is_killed(
    redis_url, key_prefix, tmp_path, conn, workers
) -> None:
    """Two workers: one leads (one round of periodic jobs, not two); SIGKILL its whole
    process group, as a lost machine would, and the other leads once the lease expires."""
    workers += [start_worker(redis_url, key_prefix, tmp_path, n) for n in (1, 2)]
    pids = {proc.pid: (proc, log) for proc, log in workers}
    lease = Lease(conn, key_prefix, ttl=LEADER_TTL)
    queue = Queue(Keys(key_prefix).queue, connection=conn)
    sweeps = "router.jobs.tasks.sweep"

    def leader() -> int | None:
        holder = lease.holder()
        return int(holder.split(":")[1]) if holder else None

    wait_for(lambda: leader() in pids and len(enqueued(queue, sweeps)) == 1, timeout=60)
    first = leader()
    time.sleep(3 * LEADER_TTL)  # both ask for the lease every half second or so meanwhile
    assert leader() == first
    assert len(enqueued(queue, sweeps)) == 1  # the periodic jobs enqueued once, not twice

    dead, dead_log = pids.pop(first)  # type: ignore[arg-type]
    os.killpg(dead.pid, signal.SIGKILL)
    dead.wait(timeout=10)
    assert lease.holder() is not None  # nobody gave it up: it has to expire
    took = wait_for(lambda: leader() is not None and leader() != first, timeout=10 * LEADER_TTL)

    [(survivor, log)] = pids.values()
    assert leader() == survivor.pid
    # the new leader enqueues every periodic job at once (its catch-up runs at the takeover)
    wait_for(lambda: len(enqueued(queue, sweeps)) == 2, timeout=30)
    assert "leads the periodic jobs" in dead_log.read_text()
    assert f"worker {survivor.pid} leads the periodic jobs" in log.read_text()
    print(f"takeover {took:.2f} s after the SIGKILL (lease {LEADER_TTL} s)")

    survivor.send_signal(signal.SIGTERM)  # stopping on purpose gives the lease up at once
    survivor.wait(timeout=30)
    assert lease.holder() is None
    assert "gave up the lead" in log.read_text()


# -- every job, twice at once ----------------------------------------------------------------


@pytest.fixture
async def two(redis_url: str, key_prefix: str, policy: Policy) -> AsyncIterator[list[Harness]]:
    """Two workers' services on one deployment, each with its own clients (as two
    processes would be), sending webhooks to a receiver that is never called (the
    delivery jobs are only enqueued here)."""
    settings = Settings(
        redis_url=redis_url,
        key_prefix=key_prefix,
        secret=SECRET,
        schedules=SCHEDULES,
        webhooks="http://127.0.0.1:9/never-called",
    )
    clients = [Redis.from_url(redis_url) for _ in range(2)]
    harnesses = [
        Harness(c, policy, prefix=key_prefix, url=redis_url, settings=settings) for c in clients
    ]
    yield harnesses
    for harness, client in zip(harnesses, clients, strict=True):
        harness.close()
        await client.aclose()


async def test_the_same_handover_run_by_two_workers_at_once_moves_each_case_once(two) -> None:
    a, b = two
    await load(a, read_team_specs(SCHEDULES))
    b.forget_schedules()
    ids = [
        (await open_case_for(a, esc(n, locale="nl-NL", accepts=["en"]), MORNING, "ams-l1")).id
        for n in range(12)
    ]

    reports = await asyncio.gather(
        a.handover.hand_over("ams-l1", AMS_END), b.handover.hand_over("ams-l1", AMS_END)
    )

    assert sum(sum(r.moved.values()) for r in reports) == len(ids)
    for cid in ids:
        assert len(await a.cases.handovers(cid)) == 1
        assert (await event_types(a, cid)).count("handed_over") == 1
        assert (await a.cases.get(cid)).team != "ams-l1"
    assert await a.cases.open_ids("ams-l1") == []


async def test_two_deadline_sweeps_at_once_escalate_a_case_once(two) -> None:
    a, b = two
    await load(a, CHAIN)
    b.forget_schedules()
    t0 = DAY1 + 9 * H
    case = await open_case_for(a, esc(1), t0, "l1")
    held = await open_case_for(a, esc(2), t0, "l1")
    await a.change(held, lambda c: acknowledge(c, now=t0 + M, actor="ag"))  # reminded only

    late = t0 + 5 * H
    counts = await asyncio.gather(a.deadlines.sweep(late), b.deadlines.sweep(late))

    assert sum(c.get("escalated", 0) for c in counts) == 1
    assert (await a.cases.get(case.id)).team == "l2"
    assert (await event_types(a, case.id)).count("escalated") == 1
    assert len(await a.cases.handovers(case.id)) == 1
    reminded = [m for m in await a.cases.outbox(1000) if m.event == "update_overdue"]
    assert [m.case for m in reminded].count(held.id) == 1  # its reminder, sent once
    assert len(reminded) == len({m.case for m in reminded})  # and no case's twice
    assert (await a.cases.get(held.id)).update_reminders == 1


async def test_two_catch_ups_at_once_hand_each_missed_shift_end_over_once(two) -> None:
    a, b = two
    await load(a, THREE_SHIFTS)
    b.forget_schedules()
    ids = [(await open_case_for(a, esc(n), DAY1 + 7 * H, "a")).id for n in range(5)]
    await a.redis.set(a.keys.handover_mark, f"{(DAY1 + 7.5 * H).timestamp():.3f}")
    now = DAY1 + 17 * H

    await asyncio.gather(a.handover.catch_up(now), b.handover.catch_up(now))

    for cid in ids:
        packets = await a.cases.handovers(cid)
        assert [(p.from_team, p.to_team) for p in packets] == [("a", "b"), ("b", "c")]
        assert (await a.cases.get(cid)).team == "c"
    assert await a.redis.smembers(a.keys.pending_handovers) == set()
    assert await a.handover.catch_up(now) == []


def test_two_planners_at_once_schedule_each_shift_end_once(redis_url, key_prefix) -> None:
    schedules = read_schedules(SCHEDULES, now=MORNING)
    queues = [JobQueue.connect(redis_url, key_prefix) for _ in range(2)]
    counts: list[int] = []
    threads = [
        threading.Thread(target=lambda q=q: counts.append(Planner(q).handovers(schedules, MORNING)))
        for q in queues
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    planned = queues[0].scheduled(f"{key_prefix}-handover-")
    assert counts[0] == counts[1] == len(planned) > 0
    index = schedules.index(MORNING - timedelta(days=1), MORNING + timedelta(days=3))
    ends = index.ends_in(MORNING, MORNING + timedelta(hours=48))
    assert len(planned) == len({(s.team, s.end) for s in ends})
    for q in queues:
        q.close()


async def test_two_dispatchers_at_once_hand_each_message_to_one_delivery_job(
    two, redis_url, key_prefix
) -> None:
    a, b = two
    await load(a, read_team_specs(SCHEDULES))
    b.forget_schedules()
    for n in range(20):
        await a.intake(esc(n, locale="en-GB"), MORNING, actor="test")
    messages = await a.cases.outbox(10_000)
    customer = [m for m in messages if m.audience == "customer"]
    assert customer

    handled = await asyncio.gather(
        a.outbox.dispatch(consumer="a", count=7), b.outbox.dispatch(consumer="b", count=7)
    )
    handled += await asyncio.gather(
        a.outbox.dispatch(consumer="a"), b.outbox.dispatch(consumer="b")
    )

    assert sum(handled) == len(messages)  # each message taken by one dispatcher
    assert await asyncio.gather(a.outbox.dispatch(consumer="a"), b.outbox.dispatch()) == [0, 0]
    queue = Queue(Keys(key_prefix).queue, connection=redis_sync.Redis.from_url(redis_url))
    deliveries = [j for j in queue.get_job_ids() if "-deliver-" in j]
    assert len(deliveries) == len(set(deliveries)) == len(messages)  # one webhook each
    for m in customer:
        assert len(await a.outbox.store.sent_updates(m.case)) >= 1
    sent = [u for m in {m.case for m in customer} for u in await a.outbox.store.sent_updates(m)]
    assert len(sent) == len(customer)  # each customer update recorded as sent once
    queue.connection.close()
