"""The store's atomicity and durability, against real Redis/Valkey servers."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import msgspec
import pytest
from conftest import API_NOW, SCHEDULES, token
from redis.asyncio import Redis

from router.domain import case as lifecycle
from router.domain.escalation import Customer, Escalation
from router.domain.routing import Decision
from router.schedule_files import read_policy, read_team_specs
from router.store import CaseStore, Keys, TeamStore, VersionConflict, new_case_id
from router.store.server import EmbeddedValkey

BODY = {
    "source": "zendesk",
    "external_id": "dup-1",
    "impact": "medium",
    "urgency": "high",
    "skill": "billing",
    "customer": {"id": "c9", "locale": "de-DE", "accepts": ["en"]},
}


def _case(policy, case_id: str | None = None) -> tuple[lifecycle.Case, lifecycle.CaseEvent]:
    esc = Escalation(
        customer=Customer(id="c1", locale="en"),
        priority="P3",
        source="s",
        external_id=case_id or "x",
    )
    decision = Decision(
        action="assign",
        priority="P3",
        tier=1,
        team="dub-l1",
        language="en",
        language_match="exact",
        ack_due=API_NOW + timedelta(hours=4),
        at=API_NOW,
    )
    return lifecycle.open_case(
        case_id or new_case_id(API_NOW), esc, decision, now=API_NOW, policy=policy
    )


async def test_fifty_concurrent_intakes_make_one_case(api, redis_url, key_prefix) -> None:
    """50 concurrent posts with the same (source, external_id) store exactly one case."""
    responses = await asyncio.gather(
        *(api.post("/v1/escalations", json=BODY, headers=token("intake")) for _ in range(50))
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] * 49 + [201]
    assert len({r.json()["id"] for r in responses}) == 1
    redis = Redis.from_url(redis_url)
    keys = Keys(key_prefix)
    assert await redis.zcard(keys.cases) == 1
    assert await redis.xlen(keys.events) == 1
    await redis.aclose()


async def test_twenty_concurrent_puts_one_wins(api) -> None:
    """20 PUTs with the same If-Match: one 200, nineteen 412, one new revision."""
    got = await api.get("/v1/teams/ams-l1", headers=token("ops"))
    etag = got.headers["etag"]
    doc = got.json()
    bodies = [{**doc, "capacity": 10 + i} for i in range(20)]
    responses = await asyncio.gather(
        *(
            api.put("/v1/teams/ams-l1", json=b, headers={**token("ops"), "If-Match": etag})
            for b in bodies
        )
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] + [412] * 19
    winner = next(r for r in responses if r.status_code == 200).json()
    after = await api.get("/v1/teams/ams-l1", headers=token("ops"))
    assert after.json()["capacity"] == winner["capacity"]
    revisions = (await api.get("/v1/teams/ams-l1/revisions", headers=token("ops"))).json()
    assert len(revisions) == 2


async def test_version_conflict_changes_nothing(redis_url, key_prefix) -> None:
    """Two writers start from one version: the second commit raises and leaves no trace."""
    redis = Redis.from_url(redis_url)
    store = CaseStore(redis, Keys(key_prefix))
    policy = read_policy(SCHEDULES)
    case, event = _case(policy)
    await store.create(case, event, source="s", external_id="x")
    acked, ev1 = lifecycle.acknowledge(case, now=API_NOW, actor="a")
    await store.commit(case, acked, [ev1])
    resolved, ev2 = lifecycle.resolve(case, "done", now=API_NOW, actor="b")
    with pytest.raises(VersionConflict):
        await store.commit(case, resolved, [ev2])
    stored = await store.get(case.id)
    assert stored == acked
    assert [e.type for e in await store.events(case.id)] == ["received", "acknowledged"]
    assert await store.open_ids("dub-l1") == [case.id]
    await redis.aclose()


async def test_moving_a_case_moves_its_indexes(redis_url, key_prefix) -> None:
    """A reassignment takes the case out of one team's open set and into the other's at once."""
    redis = Redis.from_url(redis_url)
    store = CaseStore(redis, Keys(key_prefix))
    policy = read_policy(SCHEDULES)
    case, event = _case(policy)
    await store.create(case, event, source="s", external_id="y")
    target = msgspec.structs.replace(case.decision, team="nyc-l1")
    moved, ev = lifecycle.move(case, target, "handed_over", now=API_NOW, actor="job", policy=policy)
    await store.commit(case, moved, [ev])
    assert await store.open_ids("dub-l1") == []
    assert await store.open_ids("nyc-l1") == [case.id]
    closed_case, _ = lifecycle.resolve(moved, "ok", now=API_NOW, actor="a")
    await store.commit(moved, closed_case, [])
    assert await store.open_ids("nyc-l1") == []
    assert await redis.zscore(Keys(key_prefix).deadlines, case.id) is None
    await redis.aclose()


async def test_embedded_server_keeps_data_across_a_crash(tmp_path: Path) -> None:
    """Data written to the embedded Valkey survives SIGKILL and a restart (append-only file)."""
    server = EmbeddedValkey(tmp_path / "valkey")
    url = server.start(announce=False)
    redis = Redis.from_url(url)
    keys = Keys("fs")
    teams = TeamStore(redis, keys)
    await teams.load(read_team_specs(SCHEDULES), by="test", at=API_NOW)
    store = CaseStore(redis, keys)
    case, event = _case(read_policy(SCHEDULES))
    await store.create(case, event, source="s", external_id="z")
    await redis.aclose()
    server.kill()

    again = EmbeddedValkey(tmp_path / "valkey")
    url = again.start(announce=False)
    redis = Redis.from_url(url)
    try:
        assert len(await TeamStore(redis, keys).all()) == len(read_team_specs(SCHEDULES))
        assert await CaseStore(redis, keys).get(case.id) == case
        assert await CaseStore(redis, keys).id_for("s", "z") == case.id
    finally:
        await redis.aclose()
        again.stop()


async def test_commits_survive_a_flushed_script_and_a_dropped_connection(tmp_path: Path) -> None:
    """The batcher keeps one connection for its script calls: a server that forgot the script
    gets it again, an error reply leaves the connection in use, and a connection the server
    dropped fails only the call in flight (which wrote nothing) before a new one is taken."""
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import ResponseError

    server = EmbeddedValkey(tmp_path / "valkey")
    redis = Redis.from_url(server.start(announce=False))
    store = CaseStore(redis, Keys("fs"))
    policy = read_policy(SCHEDULES)

    async def create(name: str) -> lifecycle.Case:
        case, event = _case(policy)
        await store.create(case, event, source="s", external_id=name)
        return case

    try:
        first = await create("a")
        await redis.script_flush()
        second = await create("b")
        kept = store._batched._conn
        with pytest.raises(ResponseError):
            await store._batched(b"not a change")
        assert store._batched._conn is kept
        third = await create("c")

        other = Redis.from_url(server.url)
        await other.client_kill_filter(_type="normal", skipme=True)
        lost, event = _case(policy)
        with pytest.raises(RedisConnectionError):
            await store.create(lost, event, source="s", external_id="d")
        fourth = await create("e")
        check = CaseStore(other, Keys("fs"))
        for case in (first, second, third, fourth):
            assert await check.get(case.id) == case
        assert await check.get(lost.id) is None
        assert await check.id_for("s", "d") is None
        await other.aclose()
    finally:
        await redis.aclose()
        server.stop()


async def test_commands_beyond_the_pool_wait_for_a_connection(redis_url, key_prefix) -> None:
    """More commands in flight than the pool has connections: the surplus waits its turn
    (redis-py's default pool fails them with "Too many connections")."""
    from router.store import connect

    redis = connect(redis_url, max_connections=10)
    store = CaseStore(redis, Keys(key_prefix))
    case, event = _case(read_policy(SCHEDULES))
    await store.create(case, event, source="s", external_id="crowd")
    try:
        got = await asyncio.gather(*(store.get(case.id) for _ in range(300)))
        assert got == [case] * 300
    finally:
        await redis.aclose()
