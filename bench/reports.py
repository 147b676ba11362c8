"""Escalation report over 100,000 cases: read from the summary index vs replayed from every
case's events, in the same run.

Seeding (not measured): N cases opened over 28 days on the repository's teams, each taken
through its life with the domain's own transitions and written with the store's commit
script, many commits per call (the batch commit a busy intake or a handover uses): opened
(3 % unroutable, 5 % waiting for their team), acknowledged (90 %), handed over at a shift
end (20 %), escalated up a tier (8 %), resolved (85 %), rated by the customer (a third of
the resolved). Customers and summaries repeat, so the report has repeats to find. Every
commit keeps the case's summary record as it goes (router/store/facts.py).

Then the report of the whole window (grouped by team; targets, ratings, repeats over the
window and the 30 days before, the weekly and hourly charts):

1. indexed (`--rounds` times, median): `ReportService.report`, one call per day of the
   window reading its records from the summary index;
2. baseline (`--baseline-rounds` times, median): `ReportService.recompute`, every case's
   events (XRANGE) and document read back and folded, the same aggregation after.

The two answers must be identical (exit 1 if not). Last line: `ratio: X` (median baseline
seconds / median indexed seconds; target >= 5).

    .venv/bin/python bench/reports.py [--cases 100000] [--rounds 5] [--baseline-rounds 1]

Without REDIS_URL it runs the data directory's embedded Valkey (router.runtime.with_store)
in a temporary directory: append-only file, fsync always. With REDIS_URL (a store it did not
start, shared with CI) it deletes every key of its run at the end (bench/cleanup.py).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import msgspec  # noqa: E402
from redis.asyncio import Redis  # noqa: E402

from bench.cleanup import forget  # noqa: E402
from router.domain import case as lifecycle  # noqa: E402
from router.domain.case import Case, CaseEvent  # noqa: E402
from router.domain.escalation import Customer, Escalation  # noqa: E402
from router.domain.feedback import give_feedback  # noqa: E402
from router.domain.model import Policy  # noqa: E402
from router.domain.routing import Decision  # noqa: E402
from router.runtime import with_store  # noqa: E402
from router.schedule_files import read_policy, read_team_specs  # noqa: E402
from router.settings import Settings  # noqa: E402
from router.store import Keys, TeamStore, new_case_id  # noqa: E402
from router.wiring import Services  # noqa: E402

SCHEDULES = ROOT / "schedules"
END = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
DAYS = 28
START = END - timedelta(days=DAYS)
NOW = END + timedelta(hours=6)
# language tag -> (tier-1 team, its tier-2 team): teams of schedules/
TEAMS = {
    "en-GB": ("dub-l1", "emea-l2"),
    "de-DE": ("ber-l1", "emea-l2"),
    "nl-NL": ("ams-l1", "emea-l2"),
    "fr-FR": ("par-l1", "emea-l2"),
    "es-ES": ("mad-l1", "emea-l2"),
    "sv-SE": ("sto-l1", "emea-l2"),
    "en-US": ("nyc-l1", "amer-l2"),
    "pt-BR": ("sao-l1", "amer-l2"),
    "ja-JP": ("tyo-l1", "apac-l2"),
    "zh-CN": ("sin-l1", "apac-l2"),
}
OTHER = {"dub-l1": "ber-l1", "ber-l1": "ams-l1", "ams-l1": "dub-l1", "par-l1": "dub-l1"}
TOPICS = [
    "invoice charged twice",
    "cannot log in after password reset",
    "refund has not arrived",
    "export to CSV times out",
    "webhook deliveries fail with 401",
    "order stuck in processing",
    "wrong VAT on the invoice",
    "two-factor codes not received",
]
PRIORITIES = ["P1", "P2", "P2", "P3", "P3", "P3", "P4", "P4"]
BATCH = 2000  # commits per script call while seeding


def escalation(rng: random.Random, n: int, language: str) -> Escalation:
    return Escalation(
        customer=Customer(id=f"cust-{rng.randrange(60_000)}", locale=language),
        priority=rng.choice(PRIORITIES),  # type: ignore[arg-type]
        skill=rng.choice(["billing", "platform"]),
        summary=f"{rng.choice(TOPICS).capitalize()} (ticket {n})",
        source="bench",
        external_id=f"r-{n}",
    )


def life(
    rng: random.Random, n: int, policy: Policy
) -> Iterator[tuple[Case | None, Case, CaseEvent]]:
    """One case's commits, in order: (old, new, event)."""
    language = rng.choice(list(TEAMS))
    team, higher = TEAMS[language]
    opened = START + timedelta(seconds=rng.randrange(DAYS * 86_400))
    esc = escalation(rng, n, language)
    roll = rng.random()
    action = "unroutable" if roll < 0.03 else "wait" if roll < 0.08 else "assign"
    decision = Decision(
        action=action,  # type: ignore[arg-type]
        priority=esc.priority,  # type: ignore[arg-type]
        tier=1,
        team=None if action == "unroutable" else team,
        starts_at=opened + timedelta(hours=2) if action == "wait" else None,
    )
    case, event = lifecycle.open_case(new_case_id(opened), esc, decision, now=opened, policy=policy)
    yield None, case, event
    at = opened
    if action != "assign":
        at += timedelta(minutes=rng.randrange(5, 240))
        kind = "assigned" if action == "wait" else "reassigned"
        assign = Decision(action="assign", priority=case.priority, tier=1, team=team)
        new, event = lifecycle.move(case, assign, kind, now=at, actor="bench", policy=policy)  # type: ignore[arg-type]
        yield case, new, event
        case = new
    steps = []
    if rng.random() < 0.9:
        steps.append("ack")
    if rng.random() < 0.2:
        steps += ["handed_over", "ack"]
    if rng.random() < 0.08:
        steps += ["escalated", "ack"]
    if rng.random() < 0.85:
        steps.append("resolve")
    for step in steps:
        at += timedelta(minutes=rng.randrange(1, 600))
        if step == "ack":
            if case.status != "assigned":
                continue
            new, event = lifecycle.acknowledge(case, now=at, actor="bench")
        elif step == "resolve":
            new, event = lifecycle.resolve(case, "fixed", now=at, actor="bench")
        else:
            target = OTHER.get(case.team or "", team) if step == "handed_over" else higher
            tier = 2 if step == "escalated" else case.tier
            to = Decision(action="assign", priority=case.priority, tier=tier, team=target)
            new, event = lifecycle.move(case, to, step, now=at, actor="bench", policy=policy)  # type: ignore[arg-type]
        yield case, new, event
        case = new
    if case.status == "resolved" and rng.random() < 0.33:
        at += timedelta(hours=rng.randrange(1, 48))
        new, event = give_feedback(case, rng.randint(1, 5), "", now=at, locale=language[:2])
        yield case, new, event


async def seed(services: Services, n: int, policy: Policy) -> tuple[int, int]:
    """Write N cases' lives with the store's commit script, BATCH commits per call."""
    store = services.stores.cases
    rng = random.Random(16)
    blobs: list[bytes] = []
    commits = 0
    for i in range(n):
        for old, new, event in life(rng, i, policy):
            blobs.append(store._blob(old, new, [event]))
        if len(blobs) >= BATCH:
            commits += await _send(store, blobs)
            blobs = []
    if blobs:
        commits += await _send(store, blobs)
    return commits, n


async def _send(store, blobs: list[bytes]) -> int:
    results = await store._commit(keys=[], args=blobs)
    if any(r != 1 for r in results):
        raise SystemExit(f"seeding: {sum(r != 1 for r in results)} commits refused")
    return len(blobs)


async def timed(label: str, run, rounds: int) -> tuple[float, object]:
    seconds = []
    answer = None
    for r in range(rounds):
        t = time.perf_counter()
        answer = await run()
        seconds.append(time.perf_counter() - t)
        print(f"  {label} round {r + 1}: {seconds[-1]:.3f} s")
    return statistics.median(seconds), answer


async def bench(url: str, prefix: str, n: int, rounds: tuple[int, int]) -> int:
    redis = Redis.from_url(url)
    policy = read_policy(SCHEDULES)
    settings = Settings(key_prefix=prefix, secret="bench", schedules=SCHEDULES, redis_url=url)
    services = Services(redis, settings, policy)
    keys = Keys(prefix)
    try:
        await TeamStore(redis, keys).load(read_team_specs(SCHEDULES), by="bench", at=START)
        t = time.perf_counter()
        commits, cases = await seed(services, n, policy)
        seeded = time.perf_counter() - t
        index_bytes = 0
        day = START - timedelta(days=1)
        while day < END + timedelta(days=1):
            index_bytes += await redis.memory_usage(keys.facts(f"{day:%Y%m%d}")) or 0
            day += timedelta(days=1)
        print(
            f"seeded {cases} cases ({commits} commits, {commits / cases:.2f} per case) in "
            f"{seeded:.1f} s (not measured); summary index {index_bytes / 1e6:.1f} MB "
            f"({index_bytes / cases:.0f} bytes per case)"
        )
        reports = services.reports
        print(f"report: cases opened {START:%Y-%m-%d} to {END:%Y-%m-%d}, grouped by team")
        fast_s, fast = await timed(
            "indexed ", lambda: reports.report(START, END, "team", NOW), rounds[0]
        )
        slow_s, slow = await timed(
            "baseline", lambda: reports.recompute(START, END, "team", NOW), rounds[1]
        )
        t = time.perf_counter()
        read = await services.stores.facts.window(START - timedelta(days=30), END)
        read_s = time.perf_counter() - t
        t = time.perf_counter()
        replayed = await services.stores.facts.replay(START - timedelta(days=30), END)
        replay_s = time.perf_counter() - t
        print(
            f"reading alone: the index {read_s:.3f} s ({len(read)} records), the events and "
            f"documents {replay_s:.3f} s ({len(replayed)} cases); the rest is the aggregation"
        )
        same = msgspec.json.encode(fast) == msgspec.json.encode(slow)
        total = fast.total  # type: ignore[attr-defined]
        print(
            f"answer: {total.cases} cases, {len(fast.groups)} teams, "  # type: ignore[attr-defined]
            f"{total.acknowledge.count} acknowledged (p50 {total.acknowledge.p50:.0f} s), "
            f"{total.resolve.count} resolved (p50 {total.resolve.p50:.0f} s), "
            f"{total.handovers} handovers, {total.escalations} escalations, "
            f"{total.unroutable} unroutable, {total.ratings} ratings, "
            f"{len(fast.repeats)} repeats listed"  # type: ignore[attr-defined]
        )
        print(f"indexed and replayed answers identical: {'yes' if same else 'NO'}")
        print(
            f"indexed: {fast_s:.3f} s ({cases / fast_s:,.0f} cases/s); "
            f"baseline (replay every event): {slow_s:.3f} s ({cases / slow_s:,.0f} cases/s); "
            f"medians of {rounds[0]} and {rounds[1]} rounds"
        )
        ratio = slow_s / fast_s
        print(f"target ratio >= 5: {'met' if ratio >= 5 else 'MISSED'}")
        print(f"ratio: {ratio:.2f}")
        return 0 if same else 1
    finally:
        services.close()
        await redis.aclose()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5, help="indexed reports timed")
    parser.add_argument("--baseline-rounds", type=int, default=1, help="replays timed")
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="followsun-bench-reports-"))
    base = msgspec.structs.replace(Settings.from_env(), data=data, secret="bench")
    with with_store(base, announce=False) as settings:
        store = "REDIS_URL" if base.redis_url else "embedded Valkey, AOF fsync always"
        prefix = f"benchrep-{uuid.uuid4().hex[:8]}"
        print(f"store: {store}; {args.cases} cases; prefix {prefix}")
        try:
            url = settings.redis_url or ""
            return asyncio.run(bench(url, prefix, args.cases, (args.rounds, args.baseline_rounds)))
        finally:
            if base.redis_url:  # a store this run did not start: leave nothing of the run
                gone = forget(base.redis_url, [prefix])
                print(f"deleted the run's {gone} keys", file=sys.stderr)  # `ratio:` stays last
            shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
