"""Crashes with real processes: a worker SIGKILLed in the middle of a shift-end handover, and
the store SIGKILLed under intake. Nothing is mocked; the instants are injected."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import redis as redis_sync
from conftest import API_NOW, ROOT, SCHEDULES, SECRET, Clock, token
from harness import Harness
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis
from rq import Queue
from rq.job import Job

from router.app import create_app
from router.domain.case import Case, CaseEvent, open_case
from router.domain.escalation import Customer, Escalation
from router.domain.handover import Packet
from router.domain.routing import Decision, route
from router.jobs import tasks
from router.schedule_files import read_policy, read_team_specs
from router.settings import Settings
from router.store import Keys, TeamStore
from router.store.codec import decode
from router.store.server import EmbeddedValkey

CASES = 5_000
LEAVING = "ams-l1"
AT = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)  # ams-l1's shift ends (17:00 in Amsterdam)
OPENED = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
KILL_AFTER = CASES // 5  # SIGKILL once at least this many cases have left the team
WORKER = [sys.executable, "-m", "router.cli", "worker", "--burst", "--no-cron"]

# (locale, timezone, priority, accepts): what happens to it at 16:00Z once ams-l1 has gone
GROUPS = {
    "en": ("en-GB", "Europe/London", "P3", []),  # an English team on shift takes it
    "de": ("de-DE", "Europe/Berlin", "P2", []),  # a German team on shift takes it
    "ja": ("ja-JP", "Asia/Tokyo", "P4", []),  # waits for tyo-l1 (00:00Z, within 8 h)
    "nl": ("nl-NL", "Europe/Amsterdam", "P2", []),  # nobody: to ams-l1's escalates_to, emea-l2
}
MIX = ["en"] * 6 + ["de"] * 2 + ["ja", "nl"]


def group_of(n: int) -> str:
    return MIX[n % len(MIX)]


def escalation(n: int) -> Escalation:
    locale, zone, priority, accepts = GROUPS[group_of(n)]
    return Escalation(
        customer=Customer(
            id=f"cust-{n}", name=f"Customer {n}", locale=locale, timezone=zone, accepts=accepts
        ),
        priority=priority,  # type: ignore[arg-type]
        skill="billing",
        summary=f"invoice {n} does not add up",
        steps_taken=["re-sent the invoice"],
        source="crash",
        external_id=str(n),
    )


async def seed(svc: Harness) -> list[str]:
    """CASES open cases on the leaving team, written with the store's create script (50 at
    a time: the client's connection pool is bounded)."""
    ids = []
    for start in range(0, CASES, 50):
        batch = []
        for n in range(start, min(start + 50, CASES)):
            esc = escalation(n)
            priority = esc.priority or "P3"
            decision = Decision(
                action="assign",
                priority=priority,
                tier=1,
                team=LEAVING,
                language=esc.customer.locale,
                language_match="exact",
                at=OPENED,
                ack_due=OPENED + svc.policy.priorities[priority].acknowledge,
                reasons=["seeded by the crash test"],
            )
            case, event = open_case(
                f"C-CRASH-{n:05d}", esc, decision, now=OPENED, policy=svc.policy
            )
            batch.append(svc.cases.create(case, event, source="crash", external_id=str(n)))
            ids.append(case.id)
        await asyncio.gather(*batch)
    return ids


def descendants(pid: int) -> list[int]:
    """The process's children, grandchildren ... (RQ's work horse is a forked child)."""
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            children = task / "children"
            if children.exists():
                kids = [int(c) for c in children.read_text().split()]
                found += kids
                todo += kids
    return found


def kill_hard(proc: subprocess.Popen[bytes]) -> list[int]:
    """SIGKILL the worker and everything it forked, as a machine dying would; returns the
    pids of what it had forked."""
    forked = descendants(proc.pid)
    for pid in [proc.pid, *forked]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    proc.wait(timeout=10)
    return forked


def gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")


async def read_all(redis: Redis, keys: Keys, ids: list[str]) -> dict[str, tuple]:
    """Each case's document, packets and events, in pipelines."""
    out = {}
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        pipe = redis.pipeline(transaction=False)
        for cid in chunk:
            pipe.hget(keys.case(cid), "doc")
            pipe.lrange(keys.case_handovers(cid), 0, -1)
            pipe.xrange(keys.case_events(cid))
        res = await pipe.execute()
        for j, cid in enumerate(chunk):
            doc, packets, events = res[3 * j : 3 * j + 3]
            out[cid] = (
                decode(doc, Case),
                [decode(p, Packet) for p in packets],
                [decode(f[b"e"], CaseEvent) for _, f in events],
            )
    return out


async def test_worker_killed_mid_handover_then_restarted_moves_every_case_once(
    redis_url, key_prefix, policy, tmp_path
) -> None:
    """A worker SIGKILLed mid-handover and a fresh one leave every case moved exactly once."""
    t_start = time.perf_counter()
    keys = Keys(key_prefix)
    redis = Redis.from_url(redis_url)
    conn = redis_sync.Redis.from_url(redis_url)
    q = Queue(keys.queue, connection=conn)
    svc = Harness(redis, policy, prefix=key_prefix)
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "FOLLOWSUN_KEY_PREFIX": key_prefix,
        "FOLLOWSUN_SCHEDULES": str(SCHEDULES),
        "FOLLOWSUN_SECRET": SECRET,
    }
    procs: list[subprocess.Popen[bytes]] = []
    try:
        await svc.teams.load(read_team_specs(SCHEDULES), by="test", at=OPENED)
        ids = await seed(svc)
        assert await redis.scard(keys.team_open(LEAVING)) == CASES
        schedules = await svc.schedules(AT)
        index = await svc.index(AT)
        on_shift = {s.team for s in index.at(AT)} - {LEAVING}
        expected = {
            g: route(
                escalation(MIX.index(g)),
                now=AT,
                teams=schedules.teams,
                index=index,
                policy=policy,
                exclude={LEAVING},
                tier=1,
            )
            for g in GROUPS
        }
        assert [expected[g].action for g in GROUPS] == ["assign", "assign", "wait", "unroutable"]
        assert {expected["en"].team, expected["de"].team} <= on_shift
        # the deployment is up to date: the start-up catch-up finds no missed shift end in
        # real time (it would move these cases again at real instants)
        await redis.set(keys.handover_mark, f"{time.time() + 86400:.3f}")
        t_seeded = time.perf_counter()

        q.enqueue(tasks.handover, LEAVING, AT.isoformat(), job_id=f"{key_prefix}-crash-handover")
        with (tmp_path / "worker1.log").open("wb") as log:
            first = subprocess.Popen(WORKER, env=env, cwd=ROOT, stdout=log, stderr=log)
        procs.append(first)
        deadline = time.monotonic() + 30
        while (left := conn.scard(keys.team_open(LEAVING))) > CASES - KILL_AFTER:
            assert first.poll() is None, (tmp_path / "worker1.log").read_text()
            assert time.monotonic() < deadline, "the first worker never started the handover"
            time.sleep(0.002)
        t_kill = time.perf_counter()
        horses = kill_hard(first)
        assert horses, "the worker had no work horse running the job"
        time.sleep(0.3)  # let the server finish what it had already received
        assert all(gone(pid) for pid in horses)
        left = conn.scard(keys.team_open(LEAVING))
        time.sleep(0.3)
        assert conn.scard(keys.team_open(LEAVING)) == left, "something still moves cases"
        moved_before_kill = CASES - left
        print(f"\nmoved before SIGKILL: {moved_before_kill} of {CASES}")
        assert 0 < moved_before_kill < CASES, "the kill did not land mid-handover"
        assert conn.sismember(keys.pending_handovers, f"{LEAVING}|{int(AT.timestamp())}")

        # the dead worker's own start-up jobs are stale: the next worker enqueues its own
        for job_id in q.job_ids:
            if job_id.endswith(f"-start-{first.pid}"):
                Job.fetch(job_id, connection=conn).delete()
        await redis.set(keys.handover_mark, f"{time.time() + 86400:.3f}")
        with (tmp_path / "worker2.log").open("wb") as log:
            second = subprocess.Popen(WORKER, env=env, cwd=ROOT, stdout=log, stderr=log)
        procs.append(second)
        assert second.wait(timeout=60) == 0, (tmp_path / "worker2.log").read_text()
        t_done = time.perf_counter()
        print(
            f"seed {t_seeded - t_start:.1f} s, first worker to kill {t_kill - t_seeded:.1f} s, "
            f"restart to done {t_done - t_kill:.1f} s"
        )

        assert conn.scard(keys.team_open(LEAVING)) == 0
        assert conn.smembers(keys.pending_handovers) == set()
        cases = await read_all(redis, keys, ids)
        groups: Counter[str] = Counter()
        for n, cid in enumerate(ids):
            case, packets, events = cases[cid]
            want = expected[group_of(n)]
            groups[group_of(n)] += 1
            assert [e.type for e in events] == ["received", "handed_over"], cid
            assert (events[1].from_team, events[1].at) == (LEAVING, AT)
            assert [(p.from_team, p.to_team, p.at) for p in packets] == [(LEAVING, case.team, AT)]
            assert (case.version, case.handovers) == (2, 1)
            if want.action == "assign":
                assert (case.status, case.team) == ("assigned", want.team), cid
                assert case.team in on_shift
            elif want.action == "wait":
                assert (case.status, case.team) == ("waiting", want.team), cid
                assert case.decision.starts_at == want.starts_at
            else:  # nobody can: ams-l1 escalates to emea-l2 (on shift too) and ops hear of it
                assert (case.status, case.team, case.tier) == ("assigned", "emea-l2", 2), cid
        assert groups == {"en": 3000, "de": 1000, "ja": 500, "nl": 500}

        outbox = await svc.cases.outbox(count=10 * CASES)
        assert len({m.key for m in outbox}) == len(outbox), "an outbox message was duplicated"
        per_case: Counter[tuple[str, str]] = Counter((m.case, m.audience) for m in outbox)
        for n, cid in enumerate(ids):
            assert per_case[cid, "team"] == 1, cid
            assert per_case[cid, "customer"] == 1, cid
            assert per_case[cid, "ops"] == (group_of(n) == "nl"), cid
        alerts = await redis.xrange(keys.alerts, count=10 * CASES)
        assert len(alerts) == groups["nl"]
        handed_over = [
            e
            for _, f in await redis.xrange(keys.events, count=10 * CASES)
            if (e := decode(f[b"e"], CaseEvent)).type == "handed_over"
        ]
        assert len(handed_over) == len({e.case for e in handed_over}) == CASES
        assigned = sum(1 for case, _, _ in cases.values() if case.status == "assigned")
        loads = await svc.cases.team_loads(list(schedules.teams))
        assert sum(loads.values()) == assigned == CASES - groups["ja"]
        assert loads[LEAVING] == 0
        print(
            f"moved {CASES} cases ({moved_before_kill} before the kill) in "
            f"{t_done - t_seeded:.1f} s; total {time.perf_counter() - t_start:.1f} s"
        )
    finally:
        for proc in procs:
            if proc.poll() is None:
                kill_hard(proc)
        for proc in procs:  # a killed worker never unregistered itself
            conn.srem("rq:workers", f"rq:worker:{key_prefix}-{proc.pid}")
        conn.close()
        await redis.aclose()


def intake_body(n: int) -> dict[str, object]:
    return {
        "source": "crm",
        "external_id": f"restart-{n}",
        "priority": "P3",
        "skill": "billing",
        "summary": f"problem {n}",
        "customer": {"id": f"c{n}", "locale": "nl-NL", "accepts": ["en"]},
    }


def app_for(url: str, prefix: str):
    settings = Settings(redis_url=url, key_prefix=prefix, secret=SECRET, schedules=SCHEDULES)
    return create_app(settings, clock=Clock(API_NOW))


async def test_every_acknowledged_intake_survives_a_store_crash_and_is_handed_over(
    tmp_path,
) -> None:
    """Intakes answered 201 before the store is SIGKILLed are all there after it restarts."""
    prefix = "restart"
    server = EmbeddedValkey(tmp_path / "valkey")
    url = server.start(announce=False)
    admin = Redis.from_url(url)
    await TeamStore(admin, Keys(prefix)).load(read_team_specs(SCHEDULES), by="t", at=API_NOW)
    await admin.aclose()

    acknowledged: dict[str, str] = {}
    answers: Counter[str] = Counter()

    def kill_when_enough() -> None:  # another thread: SIGKILL lands while a request runs
        deadline = time.monotonic() + 30
        while len(acknowledged) < 40 and time.monotonic() < deadline:
            time.sleep(0.001)
        server.kill()

    killer = threading.Thread(target=kill_when_enough)
    async with AsyncTestClient(app=app_for(url, prefix), raise_server_exceptions=False) as client:
        killer.start()
        for n in range(10_000):
            try:
                r = await client.post(
                    "/v1/escalations", json=intake_body(n), headers=token("intake")
                )
            except Exception as err:  # the store went away under the request
                answers[type(err).__name__] += 1
                break
            answers[str(r.status_code)] += 1
            if r.status_code != 201:
                break
            acknowledged[f"restart-{n}"] = r.json()["id"]
    killer.join()
    print(f"\nanswers before and after the kill: {dict(answers)}")
    assert len(acknowledged) >= 40
    assert sum(answers.values()) == len(acknowledged) + 1  # the first failure ended it

    again = EmbeddedValkey(tmp_path / "valkey")
    url = again.start(announce=False)
    redis = Redis.from_url(url)
    try:
        svc = Harness(redis, read_policy(SCHEDULES), prefix=prefix)
        for cid in acknowledged.values():
            case = await svc.cases.get(cid)
            assert case is not None, f"{cid} was acknowledged with 201 and then lost"
            assert case.team == LEAVING
        report = await svc.handover.hand_over(LEAVING, AT)
        assert sum(report.moved.values()) + report.waiting >= len(acknowledged)
        async with AsyncTestClient(app=app_for(url, prefix)) as client:
            for external_id, cid in acknowledged.items():
                got = await client.get(f"/v1/cases/{cid}", headers=token("ops"))
                assert got.status_code == 200
                assert got.json()["team"] not in (None, LEAVING)
                packets = await client.get(f"/v1/cases/{cid}/handovers", headers=token("ops"))
                assert [(p["from_team"], p["at"]) for p in packets.json()] == [
                    (LEAVING, AT.isoformat().replace("+00:00", "Z"))
                ]
                body = intake_body(int(external_id.split("-")[1]))
                repeat = await client.post("/v1/escalations", json=body, headers=token("intake"))
                assert (repeat.status_code, repeat.json()["id"]) == (200, cid)
    finally:
        await redis.aclose()
        again.stop()
