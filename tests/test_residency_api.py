"""Data residency end to end, against a real Redis: intake over HTTP keeps an EU case in
EMEA (or makes it wait for an EMEA team), the handover job at a shift end does the same,
a P1 crossing writes its audit event, the deadline sweep and a handover with nobody left
go up the *allowed* chain, ops cannot reassign outside it, and a bad policy or a bad
`customer.region` is a problem naming the field (422 for the policy document, 400 for a
request field, as every other field) with nothing written.

The repository's schedules and policy.toml (`EU = ["EMEA"]`, `US = ["AMER", "EMEA"]`,
`allow_p1_crossing = true`); Monday 2026-11-23: at 16:00Z ams-l1 leaves, at 22:00Z no
EMEA team of any tier is on shift while nyc-l1 (AMER) and syd-l1 (APAC) are.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest
import redis as redis_sync
from conftest import SCHEDULES, SECRET, Clock, token
from harness import Harness
from redis.asyncio import Redis

from router.domain.escalation import Customer, Escalation
from router.domain.model import Policy, TeamSpec
from router.jobs import tasks
from router.schedule_files import read_policy
from router.settings import Settings
from router.store import Keys

OPS, INTAKE = token("ops"), token("intake")
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
MON = datetime(2026, 11, 23, tzinfo=UTC)
H, M = timedelta(hours=1), timedelta(minutes=1)
EMEA = {"ams-l1", "ber-l1", "cph-l1", "dub-l1", "dxb-l1", "mad-l1", "par-l1", "prg-l1"}
EMEA |= {"sto-l1", "emea-l2", "sec-l2", "eng-emea-l3"}
RULE = "customer region EU: only teams in EMEA may hold its data"


def body(external_id: str, region: str = "", **fields: Any) -> dict[str, Any]:
    customer = {"id": f"cust-{external_id}", "locale": "en-GB", "region": region}
    customer |= fields.pop("customer", {})
    return {
        "source": "api",
        "external_id": external_id,
        "priority": "P3",
        "skill": "billing",
        "summary": "Invoice charged twice",
        "customer": customer,
    } | fields


async def intake(api: Any, external_id: str, region: str = "", **fields: Any) -> dict[str, Any]:
    answer = await api.post(
        "/v1/escalations", json=body(external_id, region, **fields), headers=INTAKE
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


async def fetch(api: Any, case_id: str, what: str = "") -> Any:
    answer = await api.get(f"/v1/cases/{case_id}{what}", headers=OPS)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def total(api: Any) -> int:
    return (await api.get("/v1/cases", headers=OPS)).json()["total"]


# -- intake -------------------------------------------------------------------------------


async def test_intake_gives_an_eu_case_to_an_emea_team_and_says_why(api, clock: Clock) -> None:
    clock.now = MON + 16 * H
    eu = await intake(api, "eu-1", "EU", priority="P2")
    anywhere = await intake(api, "any-1", priority="P2")
    assert anywhere["team"] == "nyc-l1"  # the most shift left, in AMER
    assert eu["status"] == "assigned"
    assert eu["team"] in EMEA
    reasons = (await fetch(api, eu["id"]))["decision"]["reasons"]
    assert any(r.startswith(RULE + "; not considered: ") and "nyc-l1 (AMER)" in r for r in reasons)
    assert not any("customer region" in r for r in anywhere["decision"]["reasons"])


async def test_the_console_case_page_shows_the_residency_reasons(api, clock: Clock) -> None:
    from router.http.auth import make_token

    clock.now = MON + 16 * H
    case = await intake(api, "eu-page", "EU", priority="P2")
    api.cookies.set("fs_token", make_token(SECRET, "ops"), path="/console")
    page = await api.get(f"/console/cases/{case['id']}")
    assert page.status_code == 200, page.text
    reasons = page.text.split('<ul id="reasons"', 1)[1].split("</ul>", 1)[0]
    assert f"<li>{RULE}; not considered: " in reasons
    assert "region EU" in page.text


async def test_intake_at_night_makes_an_eu_case_wait_for_an_emea_team(api, clock: Clock) -> None:
    clock.now = MON + 22 * H
    eu = await intake(api, "eu-2", "EU")
    assert (eu["status"], eu["decision"]["action"]) == ("waiting", "wait")
    assert eu["team"] in EMEA
    assert datetime.fromisoformat(eu["decision"]["starts_at"]) > clock.now
    assert RULE in " ".join(eu["decision"]["reasons"])
    assert (await intake(api, "any-2"))["status"] == "assigned"  # elsewhere someone is on
    dry = await api.post("/v1/route", json=body("eu-3", "EU"), headers=OPS)
    assert dry.json()["action"] == "wait"  # the dry run answers the same


async def test_a_p1_crossing_records_an_audit_event_naming_it(api, clock: Clock) -> None:
    clock.now = MON + 22 * H
    case = await intake(api, "eu-p1", "EU", priority="P1")
    assert case["status"] == "assigned"
    assert case["team"] not in EMEA
    crossing = case["decision"]["crossing"]
    assert (crossing["region"], crossing["allowed"]) == ("EU", ["EMEA"])
    [event] = [
        e for e in await fetch(api, case["id"], "/events") if e["type"] == "residency_crossed"
    ]
    region = (await api.get(f"/v1/teams/{case['team']}", headers=OPS)).json()["region"]
    assert event["detail"] == {
        "customer_region": "EU",
        "allowed_regions": "EMEA",
        "team": case["team"],
        "team_region": region,
    }
    assert region in ("AMER", "APAC")
    assert any("P1 crosses the residency rule" in r for r in case["decision"]["reasons"])


async def test_without_the_flag_a_p1_does_not_cross(api, clock: Clock) -> None:
    policy = (await api.get("/v1/policy", headers=OPS)).json()
    policy["residency"]["allow_p1_crossing"] = False
    put = await api.put("/v1/policy", json=policy, headers={**OPS, "If-Match": '"0"'})
    assert put.status_code == 200, put.text
    clock.now = MON + 22 * H
    case = await intake(api, "eu-p1-held", "EU", priority="P1")
    assert (case["status"], case["team"]) == ("unroutable", None)
    assert "operations decide" in case["decision"]["reasons"][-1]
    types = [e["type"] for e in await fetch(api, case["id"], "/events")]
    assert "residency_crossed" not in types


async def test_ops_cannot_reassign_an_eu_case_outside_emea(api, clock: Clock) -> None:
    case = await intake(api, "eu-4", "EU")
    moved = await api.post(f"/v1/cases/{case['id']}/reassign", json={"team": "nyc-l1"}, headers=OPS)
    assert moved.status_code == 400, moved.text  # a bad field of the request, as ever
    assert moved.json()["field"] == "team"
    assert RULE in moved.json()["detail"]
    assert (await fetch(api, case["id"]))["team"] == case["team"]
    fine = await api.post(f"/v1/cases/{case['id']}/reassign", json={"team": "dub-l1"}, headers=OPS)
    assert fine.status_code in (200, 201), fine.text


# -- bad input: problem+json naming the field, nothing written ------------------------


async def test_an_unknown_customer_region_is_400_naming_it_and_writes_nothing(api) -> None:
    answer = await api.post("/v1/escalations", json=body("mars", "MARS"), headers=INTAKE)
    assert answer.status_code == 400, answer.text  # as a bad customer.locale is
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["field"] == "customer.region"
    assert "EU, US" in answer.json()["detail"]
    assert await total(api) == 0
    again = await api.post("/v1/escalations", json=body("mars", "EU"), headers=INTAKE)
    assert again.status_code == 201  # the key was not taken by the refused one


async def test_a_bad_residency_table_is_422_naming_the_field_and_writes_nothing(api) -> None:
    policy = (await api.get("/v1/policy", headers=OPS)).json()
    assert policy["residency"]["regions"] == {"EU": ["EMEA"], "US": ["AMER", "EMEA"]}
    bad = copy.deepcopy(policy)
    bad["residency"]["default"] = "MARS"
    answer = await api.put("/v1/policy", json=bad, headers={**OPS, "If-Match": '"0"'})
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["field"] == "residency.default"
    worse = copy.deepcopy(policy)
    worse["residency"]["regions"]["EU"] = []
    answer = await api.put("/v1/policy", json=worse, headers={**OPS, "If-Match": '"0"'})
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["field"] == "residency.regions.EU"
    now = await api.get("/v1/policy", headers=OPS)
    assert (now.headers["etag"], now.json()) == ('"0"', policy)  # nothing stored
    same = await api.put("/v1/policy", json=policy, headers={**OPS, "If-Match": '"0"'})
    assert same.status_code == 200, same.text
    assert (await api.get("/v1/policy", headers=OPS)).json()["residency"] == policy["residency"]


# -- the handover job -----------------------------------------------------------------------


@pytest.fixture
def job_settings(
    redis_url: str, key_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    settings = Settings(
        redis_url=redis_url, key_prefix=key_prefix, secret=SECRET, schedules=SCHEDULES
    )
    monkeypatch.setattr(tasks, "_settings", settings)  # what `followsun worker` configures
    yield
    conn = redis_sync.Redis.from_url(redis_url)  # rq's registry of queues is not prefixed
    conn.srem("rq:queues", f"rq:queue:{Keys(key_prefix).queue}")
    conn.close()


async def test_the_handover_job_keeps_an_eu_case_inside_emea(
    api, clock: Clock, job_settings
) -> None:
    """At ams-l1's 16:00Z end, a case without a region goes to nyc-l1 (AMER, most shift
    left); the same case of an EU customer goes to a team in EMEA."""
    clock.now = MON + 9 * H
    nl = {"customer": {"locale": "nl-NL", "accepts": ["en"]}, "priority": "P2"}
    eu = await intake(api, "eu-5", "EU", **copy.deepcopy(nl))
    anywhere = await intake(api, "any-5", **copy.deepcopy(nl))
    assert eu["team"] == anywhere["team"] == "ams-l1"
    report = tasks.handover("ams-l1", (MON + 16 * H).isoformat())
    assert sum(report["moved"].values()) == 2
    assert (await fetch(api, anywhere["id"]))["team"] == "nyc-l1"
    moved = await fetch(api, eu["id"])
    assert moved["team"] in EMEA - {"ams-l1"}
    assert RULE in " ".join(moved["decision"]["reasons"])
    [event] = [e for e in await fetch(api, eu["id"], "/events") if e["type"] == "handed_over"]
    assert (event["from_team"], event["team"]) == ("ams-l1", moved["team"])


# -- up the allowed chain (service level, teams of the test's own) ---------------------------


def spec(
    region: str, tier: int, hours: tuple[tuple[str, str], ...], escalates_to: str | None = None
) -> TeamSpec:
    """A UTC team on shift every day in the given (start, end) slots."""
    data: dict[str, Any] = {
        "name": "test team",
        "region": region,
        "timezone": "UTC",
        "tier": tier,
        "languages": ["en"],
        "skills": ["billing"],
        "shifts": [{"days": DAYS, "start": start, "end": end} for start, end in hours],
    }
    if escalates_to:
        data["escalates_to"] = escalates_to
    return msgspec.convert(data, TeamSpec)


ALWAYS = (("00:00", "12:00"), ("12:00", "00:00"))
MORNINGS = (("00:00", "12:00"),)


def p1_may_not_cross() -> Policy:
    policy = read_policy(SCHEDULES)
    assert policy.residency is not None
    rules = msgspec.structs.replace(policy.residency, allow_p1_crossing=False)
    return msgspec.structs.replace(policy, residency=rules)


@pytest.fixture(params=["file", "no-crossing"])
async def svc(request, redis_url: str, key_prefix: str) -> AsyncIterator[Harness]:
    policy = read_policy(SCHEDULES) if request.param == "file" else p1_may_not_cross()
    redis = Redis.from_url(redis_url)
    harness = Harness(redis, policy, prefix=key_prefix)
    yield harness
    harness.close()
    await redis.aclose()


def eu_case(n: int, priority: str) -> Escalation:
    return Escalation(
        customer=Customer(id=f"cust-{n}", name=f"Customer {n}", region="EU"),
        priority=priority,  # type: ignore[arg-type]
        skill="billing",
        source="test",
        external_id=f"x{n}",
    )


async def test_the_deadline_sweep_escalates_only_to_a_team_that_may_hold_the_data(svc) -> None:
    """eu-l1's escalates_to is us-l2 (AMER): the unacknowledged case goes to eu-l3."""
    teams = {
        "eu-l1": spec("EMEA", 1, ALWAYS, "us-l2"),
        "us-l2": spec("AMER", 2, ALWAYS, "eu-l3"),
        "eu-l3": spec("EMEA", 3, ALWAYS),
    }
    await svc.teams.load(teams, by="test", at=MON)
    svc.forget_schedules()
    case, _ = await svc.intake(eu_case(1, "P2"), MON + 9 * H, actor="test")
    assert case.team == "eu-l1"
    assert case.ack_due is not None
    assert await svc.deadlines.sweep(case.ack_due + M) == {"escalated": 1}
    after = await svc.cases.get(case.id)
    assert after is not None
    assert after.team == "eu-l3", after.decision.reasons
    assert after.decision.reasons[0] == "us-l2 (eu-l1's escalates_to) may not hold its data"
    assert "it goes up the allowed chain to tier 3" in " ".join(after.decision.reasons)


async def test_a_handover_nobody_allowed_can_take_waits_crosses_or_goes_up_the_allowed_chain(
    svc,
) -> None:
    """eu-a leaves at 12:00 and no EMEA team is on: a P2 waits for eu-b (18:00); a P1
    crosses to us-a when the policy allows, else goes up eu-a's chain to eu-l3, skipping
    us-l2 (AMER)."""
    teams = {
        "eu-a": spec("EMEA", 1, MORNINGS, "us-l2"),
        "eu-b": spec("EMEA", 1, (("18:00", "23:00"),), "us-l2"),
        "us-a": spec("AMER", 1, ALWAYS),
        "us-l2": spec("AMER", 2, ALWAYS, "eu-l3"),
        "eu-l3": spec("EMEA", 3, MORNINGS),
    }
    await svc.teams.load(teams, by="test", at=MON)
    svc.forget_schedules()
    p2, _ = await svc.intake(eu_case(2, "P2"), MON + 9 * H, actor="test")
    p1, _ = await svc.intake(eu_case(3, "P1"), MON + 9 * H, actor="test")
    assert p2.team == p1.team == "eu-a"
    await svc.handover.hand_over("eu-a", MON + 12 * H)
    waiting = await svc.cases.get(p2.id)
    assert waiting is not None
    assert (waiting.status, waiting.team, waiting.decision.starts_at) == (
        "waiting",
        "eu-b",
        MON + 18 * H,
    )
    assert "it waits for eu-b, the first team in EMEA to come on shift" in " ".join(
        waiting.decision.reasons
    )
    moved = await svc.cases.get(p1.id)
    assert moved is not None
    events = await svc.cases.events(p1.id)
    if svc.policy.residency and svc.policy.residency.allow_p1_crossing:
        assert (moved.team, events[-1].type) == ("us-a", "residency_crossed")
        assert (events[-1].from_team, events[-1].detail["team_region"]) == ("eu-a", "AMER")
    else:
        assert (moved.team, moved.status) == ("eu-l3", "assigned")
        assert "skipping us-l2 (AMER): " + RULE in moved.decision.reasons[-1]
        assert "residency_crossed" not in [e.type for e in events]
