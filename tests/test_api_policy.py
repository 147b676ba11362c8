"""The policy over HTTP: read with an ETag, replaced with If-Match, audited, and in force
for the next intake in this process and (after a recheck) in every other one."""

from __future__ import annotations

import asyncio
import copy
from datetime import timedelta
from typing import Any

import pytest
from conftest import API_NOW, SCHEDULES, SECRET, token
from harness import Harness
from redis.asyncio import Redis

from router.http.auth import make_token
from router.schedule_files import read_policy
from router.services.calendar import RECHECK
from router.store import Keys, PolicyStore

OPS = token("ops")
VIEWER = token("viewer")
AGENT = token("agent", "ams-l1")
INTAKE = token("intake")


@pytest.fixture
async def stored(api: Any, redis_url: str, key_prefix: str) -> Any:
    """The api with the repository's policy stored (version 1), as `schedules load` does."""
    redis = Redis.from_url(redis_url)
    await PolicyStore(redis, Keys(key_prefix)).load(read_policy(SCHEDULES), by="test", at=API_NOW)
    await redis.aclose()
    return api


async def get_policy(api: Any) -> tuple[dict[str, Any], str]:
    answer = await api.get("/v1/policy", headers=OPS)
    assert answer.status_code == 200, answer.text
    return answer.json(), answer.headers["etag"]


async def revisions(api: Any) -> list[dict[str, Any]]:
    answer = await api.get("/v1/policy/revisions", headers=VIEWER)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def new_case(api: Any, external_id: str) -> dict[str, Any]:
    """A P3 billing case from a Dutch customer at Monday 09:00Z: ams-l1 takes it at once."""
    body = {
        "source": "zendesk",
        "external_id": external_id,
        "priority": "P3",
        "skill": "billing",
        "summary": "Invoice charged twice",
        "customer": {"id": f"cust-{external_id}", "locale": "nl-NL"},
    }
    answer = await api.post("/v1/escalations", json=body, headers=INTAKE)
    assert answer.status_code == 201, answer.text
    return answer.json()


# -- reading ----------------------------------------------------------------------------


async def test_before_any_is_stored_get_answers_the_files_policy_with_etag_0(api) -> None:
    """Every role reads the policy in force; with none stored it is policy.toml, ETag "0"."""
    for role in (OPS, VIEWER, AGENT, INTAKE):
        answer = await api.get("/v1/policy", headers=role)
        assert answer.status_code == 200, answer.text
        assert answer.headers["etag"] == '"0"'
    policy = answer.json()
    assert policy["priorities"]["P1"]["acknowledge"] == "PT900S"  # PT15M, as msgspec writes it
    assert policy["matrix"]["high"]["medium"] == "P2"
    assert await revisions(api) == []


async def test_get_has_the_stored_version_as_etag(stored) -> None:
    policy, tag = await get_policy(stored)
    assert tag == '"1"'
    assert policy["min_shift_left"] == "PT2700S"
    assert [(r["version"], r["by"], r["note"]) for r in await revisions(stored)] == [
        (1, "test", "schedules load")
    ]


async def test_the_first_put_on_etag_0_stores_version_1(api) -> None:
    """GET, edit, PUT with the ETag it gave ("0"): stored as version 1; "0" is stale after."""
    policy, tag = await get_policy(api)
    policy["priorities"]["P4"]["acknowledge"] = "PT6H"
    put = await api.put("/v1/policy", json=policy, headers={**OPS, "If-Match": tag})
    assert put.status_code == 200, put.text
    assert put.headers["etag"] == '"1"'
    again = await api.put("/v1/policy", json=policy, headers={**OPS, "If-Match": '"0"'})
    assert again.status_code == 412, again.text
    assert again.json()["current_version"] == 1
    assert [r["version"] for r in await revisions(api)] == [1]


async def test_if_none_match_star_stores_only_the_first_version(api) -> None:
    policy, _ = await get_policy(api)
    first = await api.put("/v1/policy", json=policy, headers={**OPS, "If-None-Match": "*"})
    assert first.status_code == 200, first.text
    assert first.headers["etag"] == '"1"'
    second = await api.put("/v1/policy", json=policy, headers={**OPS, "If-None-Match": "*"})
    assert second.status_code == 412, second.text


# -- writing ----------------------------------------------------------------------------


async def test_put_without_if_match_is_428_and_writes_nothing(stored) -> None:
    policy, tag = await get_policy(stored)
    answer = await stored.put("/v1/policy", json=policy, headers=OPS)
    assert answer.status_code == 428, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert "If-Match" in answer.json()["detail"]
    assert (await get_policy(stored))[1] == tag


async def test_a_stale_put_is_412_and_writes_nothing(stored) -> None:
    """Two editors start from version 1: the second to save is refused, the first stands."""
    policy, tag = await get_policy(stored)
    mine, theirs = copy.deepcopy(policy), copy.deepcopy(policy)
    theirs["min_shift_left"] = "PT30M"
    mine["min_shift_left"] = "PT1H"
    first = await stored.put("/v1/policy", json=theirs, headers={**OPS, "If-Match": tag})
    assert first.status_code == 200, first.text
    late = await stored.put("/v1/policy", json=mine, headers={**OPS, "If-Match": tag})
    assert late.status_code == 412, late.text
    assert late.json()["current_version"] == 2
    assert "policy is at version 2, not 1" in late.json()["detail"]
    now, etag = await get_policy(stored)
    assert (now["min_shift_left"], etag) == ("PT1800S", '"2"')
    for nonsense in ('"abc"', '"-1"', "*"):
        refused = await stored.put("/v1/policy", json=mine, headers={**OPS, "If-Match": nonsense})
        assert refused.status_code == 412, nonsense
    assert [r["version"] for r in await revisions(stored)] == [1, 2]


async def test_a_good_put_is_200_with_a_new_etag_and_a_revision(stored, clock) -> None:
    policy, tag = await get_policy(stored)
    policy["priorities"]["P3"]["acknowledge"] = "PT10M"
    policy["escalate_flags"] = ["safety", "security"]
    clock.advance(minutes=5)
    alice = {"Authorization": f"Bearer {make_token(SECRET, 'ops', subject='alice@ops')}"}
    put = await stored.put("/v1/policy", json=policy, headers={**alice, "If-Match": tag})
    assert put.status_code == 200, put.text
    assert put.headers["etag"] == '"2"'
    expected = {**policy, "priorities": {**policy["priorities"]}}
    expected["priorities"]["P3"] = {**policy["priorities"]["P3"], "acknowledge": "PT600S"}
    assert put.json() == expected
    assert await get_policy(stored) == (expected, '"2"')
    last = (await revisions(stored))[-1]
    assert (last["version"], last["by"], last["at"]) == (2, "alice@ops", "2026-11-23T09:05:00Z")
    assert last["policy"] == expected


async def test_a_put_sets_the_deadlines_of_the_next_intake(stored) -> None:
    """P3 acknowledge PT4H -> PT10M: a case opened before keeps 13:00, the next gets 09:10."""
    before = await new_case(stored, "before-edit")
    assert before["decision"]["ack_due"] == "2026-11-23T13:00:00Z"
    policy, tag = await get_policy(stored)
    policy["priorities"]["P3"]["acknowledge"] = "PT10M"
    put = await stored.put("/v1/policy", json=policy, headers={**OPS, "If-Match": tag})
    assert put.status_code == 200, put.text
    after = await new_case(stored, "after-edit")
    assert after["team"] == "ams-l1"
    assert after["decision"]["ack_due"] == "2026-11-23T09:10:00Z"
    kept = (await stored.get(f"/v1/cases/{before['id']}", headers=OPS)).json()
    assert kept["decision"]["ack_due"] == "2026-11-23T13:00:00Z"


async def test_another_process_sees_the_new_policy(stored, redis_url, key_prefix) -> None:
    """A second process's calendar (a worker's, say) routes on the stored policy: at once
    after forget(), and on its own within RECHECK seconds. Its policy.toml is not read."""
    redis = Redis.from_url(redis_url)
    other = Harness(redis, read_policy(SCHEDULES), prefix=key_prefix)
    watcher = Harness(redis, None, prefix=key_prefix)  # a process without any policy.toml
    try:
        for process in (other, watcher):
            await process.schedules(API_NOW)
            assert process.calendar.policy.priorities["P3"].acknowledge == timedelta(hours=4)
        policy, tag = await get_policy(stored)
        policy["priorities"]["P3"]["acknowledge"] = "PT10M"
        put = await stored.put("/v1/policy", json=policy, headers={**OPS, "If-Match": tag})
        assert put.status_code == 200, put.text

        other.forget_schedules()
        assert (await other.schedules(API_NOW)).policy.priorities["P3"].acknowledge == timedelta(
            minutes=10
        )
        assert other.calendar.policy.priorities["P3"].acknowledge == timedelta(minutes=10)
        await asyncio.sleep(RECHECK + 0.1)
        await watcher.schedules(API_NOW)
        assert watcher.calendar.policy.priorities["P3"].acknowledge == timedelta(minutes=10)
    finally:
        other.close()
        watcher.close()
        await redis.aclose()


# -- bad bodies and roles ---------------------------------------------------------------


def _unknown_field(p: dict[str, Any]) -> None:
    p["priorities"]["P3"]["acknowlege"] = p["priorities"]["P3"].pop("acknowledge")


def _bad_duration(p: dict[str, Any]) -> None:
    p["priorities"]["P3"]["acknowledge"] = "10 minutes"


def _missing_cell(p: dict[str, Any]) -> None:
    del p["matrix"]["low"]["low"]


def _negative(p: dict[str, Any]) -> None:
    p["priorities"]["P2"]["resolve"] = "-PT1H"


def _missing_priority(p: dict[str, Any]) -> None:
    del p["priorities"]["P4"]


def _bad_level(p: dict[str, Any]) -> None:
    p["matrix"]["huge"] = p["matrix"]["high"]


# msgspec names a dict's key `[...]` in a structural error (the priority is not named);
# the checks of the whole document (422) name it.
@pytest.mark.parametrize(
    ("edit", "status", "field", "reason"),
    [
        (_unknown_field, 400, "priorities[...].acknowlege", "unknown field"),
        (_bad_duration, 400, "priorities[...].acknowledge", "Invalid ISO8601 duration"),
        (_bad_level, 400, "matrix", "Invalid enum value 'huge'"),
        (_missing_cell, 422, "matrix.low.low", "missing"),
        (_negative, 422, "priorities.P2.resolve", "must be a positive duration"),
        (_missing_priority, 422, "priorities.P4", "missing"),
    ],
)
async def test_a_bad_body_names_the_field_and_writes_nothing(
    stored, edit, status, field, reason
) -> None:
    policy, tag = await get_policy(stored)
    edit(policy)
    answer = await stored.put("/v1/policy", json=policy, headers={**OPS, "If-Match": tag})
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    problem = answer.json()
    assert problem["field"] == field, problem
    assert problem["errors"][0]["reason"].startswith(reason), problem
    assert (await get_policy(stored))[1] == tag
    assert [r["version"] for r in await revisions(stored)] == [1]


async def test_only_ops_write_and_agents_do_not_read_revisions(stored) -> None:
    policy, tag = await get_policy(stored)
    for role in (AGENT, VIEWER, INTAKE):
        answer = await stored.put("/v1/policy", json=policy, headers={**role, "If-Match": tag})
        assert answer.status_code == 403, answer.text
    assert (await stored.get("/v1/policy/revisions", headers=AGENT)).status_code == 403
    assert (await stored.get("/v1/policy", headers={})).status_code == 401
    assert (await get_policy(stored))[1] == tag
