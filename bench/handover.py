"""Shift-end handover throughput: the RQ `handover` job vs pipelined raw Redis writes.

Monday 2026-11-23 16:00Z (17:00 in Amsterdam and Stockholm) ams-l1 and sto-l1 go off
shift while ber-l1, dub-l1, mad-l1, par-l1, nyc-l1, mex-l1 and sao-l1 are on. Cases are
opened on the leaving team (07:00-15:00Z, customers speaking en, de, es, fr, pt-BR and
accepting en, P1-P4, skills billing/platform), written with the store's own create script
in pipelines (not measured). Then:

1. one worker: one `router.jobs.tasks.handover` job for ams-l1 holding all N cases, run by
   one real `followsun worker --no-cron` process, already running (a deployment's workers
   are long-lived); wall time from enqueue until the team's open set is empty (polled);
2. baseline: the documents that handover wrote (each case's hash {v, doc} and its packet),
   read back and written again to keys of their own with HSET + RPUSH in pipelines of 500;
3. two workers: one handover job is one unit of work (it walks one team's open set), so two
   workers help only when two teams leave at once. ams-l1 and sto-l1 get N/2 cases each
   and both jobs run, first with one worker (the control), then with two.

Every run is verified: each case has exactly one packet, two events (received, then
handed_over from the leaving team), version 2 and a new team; the exit code is 1 if not.
Last line: `ratio: X` (handover cases/s with one worker / raw documents written per s).

    .venv/bin/python bench/handover.py [--cases 10000] [--profile]

Without REDIS_URL it runs a private embedded Valkey (append-only file, fsync always).
`--profile` also runs `hand_over` in-process under cProfile on the same kind of data.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402
from redis.asyncio import Redis  # noqa: E402
from rq import Queue, Worker  # noqa: E402
from rq.job import Job  # noqa: E402
from rq.registry import StartedJobRegistry  # noqa: E402

from bench.cleanup import forget  # noqa: E402
from router.domain.case import Case, CaseEvent, open_case  # noqa: E402
from router.domain.escalation import Customer, Escalation  # noqa: E402
from router.domain.routing import route  # noqa: E402
from router.jobs import tasks  # noqa: E402
from router.schedule_files import read_policy, read_team_specs  # noqa: E402
from router.services.handover import HandoverReport  # noqa: E402
from router.settings import Settings  # noqa: E402
from router.store import Keys, TeamStore, new_case_id  # noqa: E402
from router.store.codec import decode  # noqa: E402
from router.wiring import Services  # noqa: E402

SCHEDULES = ROOT / "schedules"
END = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)  # ams-l1 and sto-l1 go off shift
OPENED = (datetime(2026, 11, 23, 7, 0, tzinfo=UTC), datetime(2026, 11, 23, 15, 0, tzinfo=UTC))
LOCALES = [
    ("en-GB", "Europe/London"),
    ("de-DE", "Europe/Berlin"),
    ("es-ES", "Europe/Madrid"),
    ("fr-FR", "Europe/Paris"),
    ("pt-BR", "America/Sao_Paulo"),
    ("en-US", "America/New_York"),
    ("de-AT", "Europe/Vienna"),
    ("es-MX", "America/Mexico_City"),
    ("fr-BE", "Europe/Brussels"),
    ("en-IE", "Europe/Dublin"),
]
LEVELS = [("medium", "medium"), ("high", "medium"), ("medium", "low"), ("low", "low")]
CREATE_BATCH = 1000
RAW_BATCH = 500
POLL = 0.005
TARGET_SECONDS, TARGET_RATIO = 5.0, 0.25


def escalation(n: int, run: str) -> Escalation:
    locale, tz = LOCALES[n % len(LOCALES)]
    impact, urgency = ("high", "high") if n % 97 == 0 else LEVELS[n % len(LEVELS)]
    return Escalation(
        customer=Customer(
            id=f"cust-{n}", locale=locale, timezone=tz, accepts=["en"], name=f"Customer {n}"
        ),
        impact=impact,  # type: ignore[arg-type]
        urgency=urgency,  # type: ignore[arg-type]
        skill="billing" if n % 3 else "platform",
        summary=f"Invoice {n} totals do not match the order",
        steps_taken=["checked the order", "re-sent the invoice"],
        impact_assessment="one customer cannot close their month",
        help_needed="find why the totals differ",
        source="bench",
        external_id=f"{run}-{n}",
    )


class Deployment:
    """One deployment's services, with the raw client and key names the seeding writes by."""

    def __init__(self, redis_client: Redis, prefix: str) -> None:
        settings = Settings(key_prefix=prefix, secret="bench", schedules=SCHEDULES)
        self.services = Services(redis_client, settings, read_policy(SCHEDULES))
        self.redis = redis_client
        self.keys = Keys(prefix)
        self.cases = self.services.stores.cases
        self.policy = self.services.calendar.policy
        self.schedules = self.services.calendar.schedules
        self.index = self.services.calendar.index


async def seed(svc: Deployment, plan: list[tuple[str, int]], run: str) -> dict[str, list[str]]:
    """Open the cases on their teams with the store's create script, pipelined."""
    schedules = await svc.schedules(END)
    index = await svc.index(END)
    out: dict[str, list[str]] = {}
    pipe = svc.redis.pipeline(transaction=False)
    queued = 0
    n = 0
    for team_id, count in plan:
        only = {team_id: schedules.teams[team_id]}
        ids = out.setdefault(team_id, [])
        for i in range(count):
            opened = OPENED[0] + (OPENED[1] - OPENED[0]) * i / count
            esc = escalation(n, run)
            d = route(esc, now=opened, teams=only, index=index, policy=svc.policy)
            if d.action != "assign" or d.team != team_id:
                raise SystemExit(f"seeding: case {n} routes to {d.action} {d.team}: {d.reasons}")
            case, event = open_case(new_case_id(opened), esc, d, now=opened, policy=svc.policy)
            idem = svc.keys.idempotency("bench", esc.external_id)
            blob = svc.cases._blob(None, case, [event], idem=idem)
            await svc.cases._commit(keys=[], args=[blob], client=pipe)
            ids.append(case.id)
            queued += 1
            n += 1
            if queued == CREATE_BATCH:
                await _created(pipe)
                queued = 0
    if queued:
        await _created(pipe)
    return out


async def _created(pipe: object) -> None:
    results = await pipe.execute()  # type: ignore[attr-defined]
    if any(r[0] != 1 for r in results):
        raise SystemExit("seeding: a create script did not win")


async def verify(redis_: Redis, keys: Keys, ids: dict[str, list[str]]) -> list[str]:
    """Every case moved exactly once: one packet, events [received, handed_over], version 2,
    a new team; the leaving teams hold nothing and no handover is left pending."""
    problems: list[str] = []
    for team, team_ids in ids.items():
        for start in range(0, len(team_ids), 1000):
            chunk = team_ids[start : start + 1000]
            pipe = redis_.pipeline(transaction=False)
            for cid in chunk:
                pipe.hget(keys.case(cid), "doc")
                pipe.llen(keys.case_handovers(cid))
                pipe.xlen(keys.case_events(cid))
                pipe.xrevrange(keys.case_events(cid), count=1)
            res = await pipe.execute()
            for j, cid in enumerate(chunk):
                doc, packets, events, last = res[4 * j : 4 * j + 4]
                case = decode(doc, Case) if doc else None
                event = decode(last[0][1][b"e"], CaseEvent) if last else None
                if (
                    case is None
                    or case.team == team
                    or case.version != 2
                    or case.handovers != 1
                    or packets != 1
                    or events != 2
                    or event is None
                    or event.type != "handed_over"
                    or event.from_team != team
                ):
                    problems.append(
                        f"{cid}: team {case and case.team} v{case and case.version} "
                        f"packets {packets} events {events} last {event and event.type}"
                    )
        left = await redis_.scard(keys.team_open(team))
        if left:
            problems.append(f"{team} still holds {left} open cases")
    pending = await redis_.smembers(keys.pending_handovers)
    if pending:
        problems.append(f"handovers left pending: {sorted(pending)}")
    return problems


def run_workers(
    url: str, prefix: str, teams: list[str], workers: int, env: dict[str, str], log: Path
) -> dict[str, object]:
    """Start `workers` workers and let them settle, enqueue one handover job per team, poll
    until the teams' open sets are empty; then stop the workers and read the jobs."""
    keys = Keys(prefix)
    conn = redis.Redis.from_url(url)
    q = Queue(keys.queue, connection=conn)
    # the deployment is up to date: the start-up catch-up finds no missed shift end
    conn.set(keys.handover_mark, f"{time.time():.3f}")
    wenv = {**env, "FOLLOWSUN_KEY_PREFIX": prefix}
    cmd = [sys.executable, "-m", "router.cli", "worker", "--no-cron"]
    with log.open("ab") as out:
        procs = [
            subprocess.Popen(cmd, env=wenv, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
            for _ in range(workers)
        ]
    settle = time.perf_counter() + 60
    while time.perf_counter() < settle:  # registered, and their start-up jobs done
        busy = StartedJobRegistry(queue=q).get_job_ids()
        if len(Worker.all(queue=q)) >= workers and q.count == 0 and not busy:
            break
        time.sleep(POLL)
    t0 = time.perf_counter()
    wall0 = time.time()
    jobs = [
        q.enqueue(
            tasks.handover,
            team,
            END.isoformat(),
            job_id=f"{prefix}-bench-handover-{team}",
            job_timeout=600,
            result_ttl=3600,
        )
        for team in teams
    ]
    moved_at = None
    try:
        while time.perf_counter() - t0 < 120:
            pipe = conn.pipeline(transaction=False)
            for team in teams:
                pipe.scard(keys.team_open(team))
            if sum(pipe.execute()) == 0:
                moved_at = time.perf_counter()
                break
            if all(p.poll() is not None for p in procs):
                break
            time.sleep(POLL)
        while (
            any(
                Job.fetch(j.id, connection=conn).get_status() not in ("finished", "failed")
                for j in jobs
            )
            and time.perf_counter() - t0 < 120
        ):
            time.sleep(POLL)
        for p in procs:
            p.terminate()  # warm shutdown: rq finishes the job in hand first
        for p in procs:
            p.wait(timeout=120)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    results = []
    for job in jobs:
        job = Job.fetch(job.id, connection=conn)
        status = job.get_status()
        if status != "finished" or job.started_at is None or job.ended_at is None:
            raise SystemExit(f"job {job.id} is {status}: {job.exc_info or ''}\n(worker log: {log})")
        results.append(
            {
                "team": job.args[0],
                "report": job.return_value(),
                "start": job.started_at.timestamp() - wall0,
                "end": job.ended_at.timestamp() - wall0,
            }
        )
    conn.close()
    if moved_at is None:
        raise SystemExit(f"the cases were not all moved (worker log: {log})")
    return {"seconds": moved_at - t0, "jobs": results}


async def raw_baseline(redis_: Redis, keys: Keys, ids: list[str], prefix: str) -> float:
    """The documents the handover wrote, written again (HSET v/doc + RPUSH packet) to keys
    of their own in pipelines of RAW_BATCH; returns seconds for the writes alone."""
    docs: list[tuple[str, bytes, bytes, bytes]] = []
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        pipe = redis_.pipeline(transaction=False)
        for cid in chunk:
            pipe.hmget(keys.case(cid), ["v", "doc"])
            pipe.lindex(keys.case_handovers(cid), 0)
        res = await pipe.execute()
        for j, cid in enumerate(chunk):
            (v, doc), packet = res[2 * j], res[2 * j + 1]
            docs.append((cid, v, doc, packet))
    raw = Keys(prefix)
    t0 = time.perf_counter()
    for start in range(0, len(docs), RAW_BATCH):
        pipe = redis_.pipeline(transaction=False)
        for cid, v, doc, packet in docs[start : start + RAW_BATCH]:
            pipe.hset(raw.case(cid), mapping={"v": v, "doc": doc})
            pipe.rpush(raw.case_handovers(cid), packet)
        await pipe.execute()
    seconds = time.perf_counter() - t0
    check = redis_.pipeline(transaction=False)
    for cid, *_ in docs:
        check.llen(raw.case_handovers(cid))
    if sum(await check.execute()) != len(docs):
        raise SystemExit("baseline: not every packet was written")
    return seconds


async def prepare(url: str, prefix: str, plan: list[tuple[str, int]]) -> dict[str, list[str]]:
    r = Redis.from_url(url)
    try:
        await TeamStore(r, Keys(prefix)).load(read_team_specs(SCHEDULES), by="bench", at=END)
        return await seed(Deployment(r, prefix), plan, prefix)
    finally:
        await r.aclose()


async def check(url: str, prefix: str, ids: dict[str, list[str]]) -> list[str]:
    r = Redis.from_url(url)
    try:
        return await verify(r, Keys(prefix), ids)
    finally:
        await r.aclose()


async def baseline(url: str, prefix: str, ids: list[str], raw_prefix: str) -> float:
    r = Redis.from_url(url)
    try:
        return await raw_baseline(r, Keys(prefix), ids, raw_prefix)
    finally:
        await r.aclose()


def profile(url: str, prefix: str, n: int) -> str:
    """hand_over in-process under cProfile on the same kind of data; the top of the profile."""
    ids = asyncio.run(prepare(url, prefix, [("ams-l1", n)]))

    async def go() -> HandoverReport:
        r = Redis.from_url(url)
        try:
            return await Deployment(r, prefix).services.handover.hand_over("ams-l1", END)
        finally:
            await r.aclose()

    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    asyncio.run(go())
    prof.disable()
    seconds = time.perf_counter() - t0
    problems = asyncio.run(check(url, prefix, ids))
    text = io.StringIO()
    stats = pstats.Stats(prof, stream=text).strip_dirs()
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(40)
    verdict = "verified" if not problems else f"{len(problems)} PROBLEMS"
    return f"in-process hand_over under cProfile: {n} cases in {seconds:.2f} s ({verdict})\n" + (
        text.getvalue()
    )


def describe(label: str, n: int, run: dict[str, object]) -> str:
    seconds = float(run["seconds"])  # type: ignore[arg-type]
    parts = []
    for job in run["jobs"]:  # type: ignore[attr-defined]
        report = job["report"]
        moved = sum(report["moved"].values())
        parts.append(
            f"{job['team']}: job ran {job['start']:.2f}-{job['end']:.2f} s "
            f"({job['end'] - job['start']:.2f} s), moved {moved}, waiting {report['waiting']}, "
            f"escalated {report['escalated']}, skipped {report['skipped']}"
        )
    head = f"{label:<34} {n} cases in {seconds:6.2f} s = {n / seconds:7.0f} cases/s"
    return "\n".join([head, *(f"    {p}" for p in parts)])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--profile", action="store_true", help="also profile hand_over")
    parser.add_argument("--rounds", type=int, default=3, help="repeats of the 1-worker run")
    args = parser.parse_args()
    n = args.cases
    half = n // 2

    tmp = Path(tempfile.mkdtemp(prefix="followsun-bench-handover-"))
    server = None
    url = os.environ.get("REDIS_URL") or ""
    if not url:
        from router.store.server import EmbeddedValkey

        server = EmbeddedValkey(tmp / "valkey")
        url = server.start(announce=False)
    run = f"benchho-{uuid.uuid4().hex[:8]}"
    prefixes = [f"{run}-one", f"{run}-raw", f"{run}-two1", f"{run}-two2", f"{run}-prof"]
    env = {
        **os.environ,
        "REDIS_URL": url,
        "FOLLOWSUN_SCHEDULES": str(SCHEDULES),
        "FOLLOWSUN_SECRET": "bench-secret-" + "x" * 32,
        "FOLLOWSUN_DATA": str(tmp / "data"),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    log = tmp / "workers.log"
    failures: list[str] = []
    lines: list[str] = []
    try:
        store = "REDIS_URL" if server is None else "embedded Valkey, AOF fsync always"
        print(f"store: {store}; shift end {END:%Y-%m-%d %H:%MZ}; {n} cases; prefix {run}")

        # 1 and 2, `rounds` times (the machine is shared; the medians are reported):
        # one worker, one job, all cases on ams-l1; then the same documents written raw
        one_rates: list[float] = []
        raw_rates: list[float] = []
        for r in range(args.rounds):
            one_prefix, raw_prefix = f"{prefixes[0]}{r}", f"{prefixes[1]}{r}"
            t = time.perf_counter()
            ids = asyncio.run(prepare(url, one_prefix, [("ams-l1", n)]))
            print(f"seeded {n} cases on ams-l1 in {time.perf_counter() - t:.1f} s (not measured)")
            one = run_workers(url, one_prefix, ["ams-l1"], 1, env, log)
            problems = asyncio.run(check(url, one_prefix, ids))
            failures += problems
            one_rates.append(n / float(one["seconds"]))  # type: ignore[arg-type]
            lines.append(describe(f"handover, 1 worker, 1 job (round {r + 1}):", n, one))
            lines.append(f"    verified: {'ok' if not problems else f'{len(problems)} PROBLEMS'}")
            moved = Counter(one["jobs"][0]["report"]["moved"])  # type: ignore[index]
            lines.append(f"    went to: {', '.join(f'{t} {c}' for t, c in moved.most_common())}")
            print(lines[-3], lines[-2], lines[-1], sep="\n")
            raw_s = asyncio.run(baseline(url, one_prefix, ids["ams-l1"], raw_prefix))
            raw_rates.append(n / raw_s)
            lines.append(
                f"{'raw HSET+RPUSH, pipelines of 500:':<34} {n} docs  in {raw_s:6.2f} s = "
                f"{raw_rates[-1]:7.0f} docs/s"
            )
            print(lines[-1])
        one_rate = statistics.median(one_rates)
        raw_rate = statistics.median(raw_rates)

        # 3. two teams leaving at once, N/2 each: one worker (control), then two workers
        two: dict[int, dict[str, object]] = {}
        for workers, prefix in ((1, prefixes[2]), (2, prefixes[3])):
            ids2 = asyncio.run(prepare(url, prefix, [("ams-l1", half), ("sto-l1", half)]))
            two[workers] = run_workers(url, prefix, ["ams-l1", "sto-l1"], workers, env, log)
            problems = asyncio.run(check(url, prefix, ids2))
            failures += problems
            label = f"handover, {workers} worker{'s' if workers > 1 else ''}, 2 jobs:"
            lines.append(describe(label, 2 * half, two[workers]))
            lines.append(f"    verified: {'ok' if not problems else f'{len(problems)} PROBLEMS'}")
            print(lines[-2], lines[-1], sep="\n")
        speedup = float(two[1]["seconds"]) / float(two[2]["seconds"])  # type: ignore[arg-type]

        if args.profile:
            print(profile(url, prefixes[4], n))

        ratio = one_rate / raw_rate
        print()
        print(
            f"handover with 1 worker: {one_rate:.0f} cases/s, median of {args.rounds} (wall "
            f"from enqueue to the last case moved, worker already running); raw writes: "
            f"{raw_rate:.0f} docs/s (median)"
        )
        print(
            f"2 workers on 2 simultaneous handovers (2 teams x {half}): {speedup:.2f}x as fast as "
            f"1 worker on the same 2 jobs; one team's handover is one job, not split"
        )
        seconds = float(one["seconds"])  # type: ignore[arg-type]
        print(
            f"target {n} cases < {TARGET_SECONDS:.0f} s with 1 worker: "
            f"{'met' if seconds < TARGET_SECONDS else 'MISSED'} ({seconds:.2f} s); "
            f"target ratio >= {TARGET_RATIO}: {'met' if ratio >= TARGET_RATIO else 'MISSED'}"
        )
        if failures:
            print(f"VERIFICATION FAILED: {len(failures)} problems, e.g. {failures[:3]}")
        print(f"ratio: {ratio:.2f}")
        return 1 if failures else 0
    finally:
        if server is not None:
            server.stop()
        else:
            forget(url, prefixes)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
