"""Soak: mixed traffic for minutes on end, with a shift end every minute; does anything grow?

`followsun up` runs as a newcomer runs it (its store, web process and worker), on a schedule
made for the run: two UTC teams, soak-a and soak-b, taking turns by the minute, so a shift
ends, and the worker hands the leaving team's open cases over, every minute. A load
generator offers a steady mix (intakes, acks, resolves, case reads and listings, customer
status pages) at a fixed rate, open loop (each request timed from the instant it was due,
so a stall shows up as latency rather than as fewer requests).

The web process's and the worker's memory (RSS; the worker with its cron process and work
horses) and the requests' p99 are taken over the first window after warm-up and over the
last one; each end/start ratio is printed, and the last line, `ratio: X`, is the largest of
them (1.0: nothing grew; a leak or a slowdown shows as more).

    .venv/bin/python bench/soak.py [--minutes 10] [--rate 40]

With REDIS_URL set the run uses that store under a key prefix of its own and deletes every
key it wrote at the end; without, `up` starts an embedded Valkey in a temporary directory.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, deque
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.cleanup import forget  # noqa: E402

TEAMS = ("soak-a", "soak-b")
# As many resolves as intakes, each of a case acknowledged HOLD seconds before: the open
# cases (what every shift end moves) level off at about HOLD seconds of intakes, so what
# grows from the first minutes to the last is the service, not the workload.
MIX = (("intake", 20), ("ack", 20), ("resolve", 20), ("read", 15), ("list", 10), ("status", 15))
HOLD = 45.0
WARMUP = 30.0  # seconds left out of the start window (the worker's start-up jobs run then)
LIMITS = ("RATE_LIMIT", "RATE_LIMIT_INTAKE", "RATE_LIMIT_ANONYMOUS")  # the load is ours


def schedules(directory: Path, start: datetime, minutes: int) -> None:
    """Two teams taking turns every minute from `start` for `minutes`, and the repository's
    policy with no minimum shift left (a one-minute shift must still take new cases)."""
    (directory / "teams").mkdir(parents=True)
    policy = (ROOT / "schedules" / "policy.toml").read_text()
    lines = [
        'min_shift_left = "PT0S"' if line.startswith("min_shift_left") else line
        for line in policy.splitlines()
    ]
    (directory / "policy.toml").write_text("\n".join(lines) + "\n")
    for n, team in enumerate(TEAMS):
        rules = []
        for m in range(n, minutes, 2):
            begin = start + timedelta(minutes=m)
            end = begin + timedelta(minutes=1)
            day = begin.strftime("%a").lower()
            rules.append(
                f'[[shifts]]\ndays = ["{day}"]\nstart = "{begin:%H:%M}"\n'
                f'end = "{end:%H:%M}"\nfrom = "{begin:%Y-%m-%d}"\n'
                f'until = "{(begin + timedelta(days=1)):%Y-%m-%d}"\n'
            )
        head = (
            f'name = "Soak {team[-1].upper()}"\nregion = "EMEA"\ntimezone = "UTC"\ntier = 1\n'
            f'languages = ["en"]\nskills = ["billing"]\n\n'
        )
        (directory / "teams" / f"{team}.toml").write_text(head + "\n".join(rules))


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024


def tree(pid: int) -> list[int]:
    """The process and everything under it."""
    found, todo = [pid], [pid]
    while todo:
        for task in Path(f"/proc/{todo.pop()}/task").glob("*"):
            with contextlib.suppress(OSError):
                kids = [int(k) for k in (task / "children").read_text().split()]
                found += kids
                todo += kids
    return found


def children_of(up: int) -> dict[str, int]:
    """`up`'s web and worker processes, by their command lines."""
    out = {}
    for pid in tree(up)[1:]:
        with contextlib.suppress(OSError):
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            if b"router.cli" in argv:
                out.setdefault(argv[argv.index(b"router.cli") + 1].decode(), pid)  # not a horse
    return out


class Traffic:
    """The load generator: what it knows of the cases, and each request's latency."""

    def __init__(self, client: httpx.AsyncClient, ops: str, intake: str) -> None:
        self.client = client
        self.as_ops = {"Authorization": f"Bearer {ops}"}
        self.as_intake = {"Authorization": f"Bearer {intake}"}
        self.assigned: deque[str] = deque(maxlen=5000)
        self.acked: deque[tuple[str, float]] = deque(maxlen=5000)  # (id, when acknowledged)
        self.known: deque[tuple[str, str]] = deque(maxlen=5000)  # (id, status page path)
        self.samples: list[tuple[float, float]] = []  # (due, latency ms)
        self.statuses: Counter[str] = Counter()
        self.serial = itertools.count()

    async def one(self, op: str, due: float, t0: float) -> None:
        try:
            status = await getattr(self, op)()
        except Exception as err:  # a transport error, or a body that was not a case
            status = type(err).__name__
        self.samples.append((due - t0, (time.monotonic() - due) * 1000))
        self.statuses[f"{op} {status}"] += 1

    def _keep(self, case: dict[str, object]) -> None:
        url = str(case.get("status_url") or "")
        self.known.append((str(case["id"]), "/status/" + url.rpartition("/status/")[2]))

    async def intake(self) -> int:
        n = next(self.serial)
        body = {
            "source": "soak",
            "external_id": f"s{n}",
            "impact": random.choice(("high", "medium", "low")),
            "urgency": random.choice(("high", "medium", "low")),
            "skill": "billing",
            "summary": f"soak case {n}",
            "customer": {"id": f"c{n % 500}", "locale": "en-GB", "timezone": "Europe/London"},
        }
        r = await self.client.post("/v1/escalations", json=body, headers=self.as_intake)
        if r.status_code == 201:
            case = r.json()
            self._keep(case)
            if case["status"] == "assigned":
                self.assigned.append(case["id"])
        return r.status_code

    async def ack(self) -> int | str:
        if not self.assigned:
            return "none"
        case_id = self.assigned.popleft()
        r = await self.client.post(f"/v1/cases/{case_id}/ack", json={}, headers=self.as_ops)
        if r.status_code == 200:
            self.acked.append((case_id, time.monotonic()))
        return r.status_code

    async def resolve(self) -> int | str:
        if not self.acked or self.acked[0][1] > time.monotonic() - HOLD:
            return "none"
        body = {"resolution": "a credit note was issued"}
        path = f"/v1/cases/{self.acked.popleft()[0]}/resolve"
        return (await self.client.post(path, json=body, headers=self.as_ops)).status_code

    async def read(self) -> int | str:
        if not self.known:
            return "none"
        case_id, _ = random.choice(self.known)
        return (await self.client.get(f"/v1/cases/{case_id}", headers=self.as_ops)).status_code

    async def list(self) -> int:
        params = {"team": random.choice(TEAMS), "limit": "20"}
        return (await self.client.get("/v1/cases", params=params, headers=self.as_ops)).status_code

    async def status(self) -> int | str:
        if not self.known:
            return "none"
        _, path = random.choice(self.known)
        return (await self.client.get(path)).status_code

    async def run(self, seconds: float, rate: float, on_tick: object) -> None:
        ops = [name for name, weight in MIX for _ in range(weight)]
        t0 = time.monotonic()
        pending: set[asyncio.Task[None]] = set()
        for i in itertools.count():
            due = t0 + i / rate
            if due - t0 >= seconds:
                break
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            task = asyncio.create_task(self.one(random.choice(ops), due, t0))
            pending.add(task)
            task.add_done_callback(pending.discard)
            if i % int(rate * 5) == 0:
                on_tick(time.monotonic() - t0)  # type: ignore[operator]
        await asyncio.gather(*pending)

    def p99(self, start: float, end: float) -> tuple[float, int]:
        window = [ms for at, ms in self.samples if start <= at < end]
        return statistics.quantiles(window, n=100)[98], len(window)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=40.0, help="requests per second")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    random.seed(args.seed)
    seconds = args.minutes * 60
    window = min(60.0, max(15.0, (seconds - WARMUP) / 4))

    tmp = Path(tempfile.mkdtemp(prefix="followsun-soak-"))
    prefix = f"soak{int(time.time())}"
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    schedules(tmp / "schedules", now - timedelta(minutes=2), int(args.minutes) + 8)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = os.environ.get("REDIS_URL", "")
    env = {
        **os.environ,
        "FOLLOWSUN_KEY_PREFIX": prefix,
        "FOLLOWSUN_SCHEDULES": str(tmp / "schedules"),
        "FOLLOWSUN_DATA": str(tmp / "var"),
        "FOLLOWSUN_SECRET": "soak-secret-" + "x" * 32,
        **{f"FOLLOWSUN_{name}": "1000000/minute" for name in LIMITS},
    }
    with (tmp / "up.log").open("wb") as log:
        up = subprocess.Popen(
            [sys.executable, "-m", "router.cli", "up", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
        )
    try:
        return asyncio.run(_soak(up, env, port, seconds, window, args.rate, tmp, prefix))
    finally:
        up.send_signal(signal.SIGTERM)
        try:
            up.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(up.pid, signal.SIGKILL)
        if url:  # a store this run did not start: leave nothing of the run in it
            forget(url, [prefix])
            _forget_members(url, prefix)
        shutil.rmtree(tmp, ignore_errors=True)


def _forget_members(url: str, prefix: str) -> None:
    """RQ's shared registries (queues, workers, cron jobs) name the run's own keys."""
    conn = redis.Redis.from_url(url)
    try:
        for key in ("rq:queues", "rq:workers", "rq:cron_jobs", "rq:cron_schedulers"):
            kind = conn.type(key)
            members = conn.smembers(key) if kind == b"set" else conn.zrange(key, 0, -1)
            ours = [m for m in members if prefix.encode() in m]
            if ours and kind == b"set":
                conn.srem(key, *ours)
            elif ours and kind == b"zset":
                conn.zrem(key, *ours)
    finally:
        conn.close()


def _token(env: dict[str, str], role: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "router.cli", "token", "--role", role, "--ttl", "2h"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.split()[0]


async def _soak(
    up: subprocess.Popen[bytes],
    env: dict[str, str],
    port: int,
    seconds: float,
    window: float,
    rate: float,
    tmp: Path,
    prefix: str,
) -> int:
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        for _ in range(600):
            assert up.poll() is None, (tmp / "up.log").read_text()
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get("/readyz")).status_code == 200:
                    break
            await asyncio.sleep(0.1)
        procs = children_of(up.pid)
        web, worker = procs["serve"], procs["worker"]
        store_env = {**env, "REDIS_URL": env.get("REDIS_URL") or _store_url(tmp)}
        traffic = Traffic(client, _token(store_env, "ops"), _token(store_env, "intake"))
        memory: list[tuple[float, float, float]] = []
        store = redis.Redis.from_url(store_env["REDIS_URL"])
        received = [f"{prefix}:team:{team}:received" for team in TEAMS]

        def tick(at: float) -> None:
            memory.append((at, rss_mb([web]), rss_mb(tree(worker))))
            if int(at) % 60 < 5 and at > 1:
                handed = sum(store.xlen(k) for k in received)
                p99, n = traffic.p99(max(0.0, at - 60), at)
                print(
                    f"{at / 60:4.1f} min: {n} requests in the last minute, p99 {p99:6.1f} ms, "
                    f"web {memory[-1][1]:5.1f} MB, worker {memory[-1][2]:5.1f} MB, "
                    f"{handed} cases handed over at shift ends so far",
                    flush=True,
                )

        print(f"soak: {seconds / 60:.1f} min at {rate:.0f} req/s; windows of {window:.0f} s")
        await traffic.run(seconds, rate, tick)
        handed = sum(store.xlen(k) for k in received)
        store.close()
    return _report(traffic, memory, seconds, window, handed)


def _store_url(tmp: Path) -> str:
    import json

    return str(json.loads((tmp / "var" / "valkey" / "server.json").read_text())["url"])


def _report(
    traffic: Traffic,
    memory: list[tuple[float, float, float]],
    seconds: float,
    window: float,
    handed: int,
) -> int:
    first, last = (WARMUP, WARMUP + window), (seconds - window, seconds + 1)
    ratios = {}
    for name, col in (("web RSS", 1), ("worker RSS", 2)):
        start = statistics.median(m[col] for m in memory if first[0] <= m[0] < first[1])
        end = statistics.median(m[col] for m in memory if last[0] <= m[0] < last[1])
        ratios[name] = end / start
        print(f"{name:<11} start {start:7.1f} MB  end {end:7.1f} MB  end/start {end / start:.2f}")
    (p_start, n_start), (p_end, n_end) = traffic.p99(*first), traffic.p99(*last)
    ratios["p99"] = p_end / p_start
    print(
        f"{'p99':<11} start {p_start:7.1f} ms  end {p_end:7.1f} ms  end/start {p_end / p_start:.2f}"
        f"  ({n_start} and {n_end} requests)"
    )
    print(f"cases handed over at shift ends: {handed}")
    fine = ("200", "201", "409", "none")  # 409: a handover or another request was first
    errors = {k: v for k, v in traffic.statuses.items() if k.split()[1] not in fine}
    print(f"answers: {dict(sorted(traffic.statuses.items()))}", file=sys.stderr)
    worst = max(ratios, key=ratios.__getitem__)
    print(f"largest end/start: {worst}; errors (5xx, 429, transport): {sum(errors.values())}")
    print(f"ratio: {ratios[worst]:.2f}")
    return 0 if not errors and handed else 1


if __name__ == "__main__":
    sys.exit(main())
