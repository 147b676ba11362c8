"""A case's life over HTTP: intake, listing, every transition and its audit trail."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from conftest import token

OPS = token("ops")
INTAKE = token("intake")


def escalation(external_id: str, locale: str = "nl-NL", **fields: Any) -> dict[str, Any]:
    customer = {"id": f"cust-{external_id}", "locale": locale}
    customer.update(fields.pop("customer", {}))
    body: dict[str, Any] = {
        "source": "zendesk",
        "external_id": external_id,
        "priority": "P3",
        "skill": "billing",
        "summary": "Invoice charged twice",
        "customer": customer,
    }
    body.update(fields)
    return body


async def intake(api: Any, external_id: str, locale: str = "nl-NL", **fields: Any) -> dict:
    answer = await api.post(
        "/v1/escalations", json=escalation(external_id, locale, **fields), headers=INTAKE
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


async def fetch(api: Any, case_id: str) -> dict:
    answer = await api.get(f"/v1/cases/{case_id}", headers=OPS)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def events(api: Any, case_id: str) -> list[dict]:
    answer = await api.get(f"/v1/cases/{case_id}/events", headers=OPS)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def total(api: Any) -> int:
    return (await api.get("/v1/cases", headers=OPS)).json()["total"]


def assert_conflict(answer: Any, status_was: str) -> None:
    assert answer.status_code == 409, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    problem = answer.json()
    assert problem["status"] == 409
    assert problem["title"]
    assert problem["status_was"] == status_was


# -- intake ------------------------------------------------------------------------------


async def test_intake_answers_201_with_the_routed_case_and_a_repeat_answers_200(api) -> None:
    """A new escalation is 201 with id, team, status and decision; its retry is 200, same case."""
    body = escalation("ZD-1", impact="high", urgency="medium")
    del body["priority"]
    first = await api.post("/v1/escalations", json=body, headers=INTAKE)
    assert first.status_code == 201, first.text
    case = first.json()
    assert case["id"].startswith("C-")
    assert case["team"] == "ams-l1"
    assert case["status"] == "assigned"
    assert case["version"] == 1
    assert case["priority"] == "P2"  # high impact x medium urgency
    decision = case["decision"]
    assert decision["action"] == "assign"
    assert decision["team"] == "ams-l1"
    assert decision["language_match"] == "base"
    assert decision["tier"] == 1
    assert decision["ack_due"] == "2026-11-23T10:00:00Z"  # P2: acknowledge within 1 h
    assert decision["reasons"]
    assert any("ams-l1" in reason for reason in decision["reasons"])

    again = await api.post("/v1/escalations", json=body, headers=INTAKE)
    assert again.status_code == 200, again.text
    assert again.json() == case
    assert await total(api) == 1
    assert len(await events(api, case["id"])) == 1


async def test_get_one_case_returns_what_intake_stored(api) -> None:
    """GET /v1/cases/{id} returns the very document intake answered with."""
    case = await intake(api, "ZD-2")
    assert await fetch(api, case["id"]) == case


# -- listing -----------------------------------------------------------------------------


async def test_listing_pages_through_every_case_exactly_once(api, clock) -> None:
    """limit=2 with `next` as the cursor visits every case once, oldest first, total stable."""
    created = []
    for i in range(7):
        created.append((await intake(api, f"page-{i}"))["id"])
        if i % 3 == 2:  # some cases share a creation instant, some do not
            clock.advance(minutes=5)
    seen: list[dict] = []
    cursor: str | None = None
    pages = 0
    while True:
        url = "/v1/cases?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = (await api.get(url, headers=OPS)).json()
        assert set(page) == {"items", "total", "next"}
        assert page["total"] == 7
        assert 1 <= len(page["items"]) <= 2
        seen += page["items"]
        pages += 1
        cursor = page["next"]
        if cursor is None:
            break
        assert pages < 10, "the cursor does not advance"
    ids = [c["id"] for c in seen]
    assert sorted(ids) == sorted(created)
    assert len(ids) == len(set(ids))
    assert pages == 4
    keys = [(c["created_at"], c["id"]) for c in seen]
    assert keys == sorted(keys)


async def test_listing_pages_through_many_cases_created_in_the_same_millisecond(api) -> None:
    """Paging visits every case even when more than limit + 100 of them share a creation time."""
    created = [(await intake(api, f"burst-{i}"))["id"] for i in range(104)]  # clock stands still
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(200):
        url = "/v1/cases?limit=1" + (f"&cursor={cursor}" if cursor else "")
        page = (await api.get(url, headers=OPS)).json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen))
    assert sorted(seen) == sorted(created), f"paging stopped after {len(seen)} of 104 cases"


async def test_listing_filters_by_team_status_and_language_and_pages_the_result(api) -> None:
    """team=, status= and language= filter alone and together, and the filtered list pages."""
    dutch = [(await intake(api, f"nl-{i}"))["id"] for i in range(3)]
    danish = [(await intake(api, f"da-{i}", "da-DK"))["id"] for i in range(2)]
    for case_id in dutch[:2]:
        acked = await api.post(f"/v1/cases/{case_id}/ack", headers=OPS)
        assert acked.status_code == 200

    async def ids(query: str) -> tuple[set[str], int]:
        page = (await api.get(f"/v1/cases?{query}", headers=OPS)).json()
        return {c["id"] for c in page["items"]}, page["total"]

    assert await ids("team=cph-l1") == (set(danish), 2)
    assert await ids("language=nl-NL") == (set(dutch), 3)
    assert await ids("status=assigned") == ({dutch[2], *danish}, 3)
    assert await ids("status=acknowledged") == (set(dutch[:2]), 2)
    assert await ids("team=ams-l1&status=acknowledged") == (set(dutch[:2]), 2)
    assert await ids("team=ams-l1&status=assigned&language=nl-NL") == ({dutch[2]}, 1)
    assert await ids("team=ams-l1&language=da-DK") == (set(), 0)

    seen: list[str] = []
    cursor = ""
    for _ in range(5):
        url = "/v1/cases?team=ams-l1&language=nl-NL&limit=1"
        url += f"&cursor={cursor}" if cursor else ""
        page = (await api.get(url, headers=OPS)).json()
        assert page["total"] == 3
        seen += [c["id"] for c in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(dutch)


# -- transitions -------------------------------------------------------------------------


async def test_ack_acknowledges_and_a_second_ack_is_409_changing_nothing(api, clock) -> None:
    """ack moves assigned -> acknowledged; acking again is a 409 problem and writes nothing."""
    case = await intake(api, "ack-1")
    clock.advance(minutes=10)
    agent = token("agent", "ams-l1")
    acked = await api.post(f"/v1/cases/{case['id']}/ack", headers=agent)
    assert acked.status_code == 200, acked.text
    body = acked.json()
    assert body["status"] == "acknowledged"
    assert body["version"] == 2
    assert body["acknowledged_at"] == "2026-11-23T09:10:00Z"
    before, trail = await fetch(api, case["id"]), await events(api, case["id"])

    clock.advance(minutes=1)
    again = await api.post(f"/v1/cases/{case['id']}/ack", headers=agent)
    assert_conflict(again, "acknowledged")
    assert await fetch(api, case["id"]) == before
    assert await events(api, case["id"]) == trail


async def test_notes_are_appended_and_a_customer_visible_one_resets_the_update_clock(
    api, clock
) -> None:
    """A note is kept with author and time; a customer-visible note restarts update_due."""
    case = await intake(api, "note-1")
    agent = token("agent", "ams-l1")
    clock.advance(hours=1)
    internal = await api.post(
        f"/v1/cases/{case['id']}/notes", json={"text": "checked the ledger"}, headers=agent
    )
    assert internal.status_code == 200, internal.text
    assert internal.json()["update_due"] == case["update_due"]
    clock.advance(hours=1)
    public = await api.post(
        f"/v1/cases/{case['id']}/notes",
        json={"text": "We are on it", "customer_visible": True},
        headers=agent,
    )
    assert public.status_code == 200, public.text
    body = public.json()
    assert body["version"] == 3
    assert [(n["text"], n["author"], n["at"], n["customer_visible"]) for n in body["notes"]] == [
        ("checked the ledger", "agent:ams-l1", "2026-11-23T10:00:00Z", False),
        ("We are on it", "agent:ams-l1", "2026-11-23T11:00:00Z", True),
    ]
    assert body["update_due"] == "2026-11-24T11:00:00Z"  # P3: update every day
    assert [e["type"] for e in await events(api, case["id"])] == [
        "received",
        "note",
        "customer_update",
    ]


async def test_resolve_then_close(api, clock) -> None:
    """resolve keeps the resolution and time; close then closes the resolved case."""
    case = await intake(api, "done-1")
    clock.advance(hours=2)
    resolved = await api.post(
        f"/v1/cases/{case['id']}/resolve", json={"resolution": "refund issued"}, headers=OPS
    )
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["status"] == "resolved"
    assert resolved.json()["resolution"] == "refund issued"
    assert resolved.json()["resolved_at"] == "2026-11-23T11:00:00Z"
    clock.advance(hours=1)
    closed = await api.post(f"/v1/cases/{case['id']}/close", headers=OPS)
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed"
    assert closed.json()["closed_at"] == "2026-11-23T12:00:00Z"
    assert (await fetch(api, case["id"]))["status"] == "closed"
    closed_list = (await api.get("/v1/cases?status=closed", headers=OPS)).json()
    assert [c["id"] for c in closed_list["items"]] == [case["id"]]


async def test_illegal_transitions_are_409_and_write_nothing(api) -> None:
    """Closing an unresolved case, and resolving or noting a closed one, are 409s."""
    case = await intake(api, "illegal-1")
    before = await fetch(api, case["id"])
    assert_conflict(await api.post(f"/v1/cases/{case['id']}/close", headers=OPS), "assigned")
    assert await fetch(api, case["id"]) == before
    assert len(await events(api, case["id"])) == 1

    resolve = {"resolution": "fixed"}
    assert (await api.post(f"/v1/cases/{case['id']}/resolve", json=resolve, headers=OPS)).is_success
    assert (await api.post(f"/v1/cases/{case['id']}/close", headers=OPS)).is_success
    closed, trail = await fetch(api, case["id"]), await events(api, case["id"])
    for action, body in [
        ("resolve", resolve),
        ("notes", {"text": "late"}),
        ("ack", None),
        ("escalate", {"kind": "hierarchical"}),
        ("reassign", {"team": "ber-l1"}),
    ]:
        answer = await api.post(f"/v1/cases/{case['id']}/{action}", json=body, headers=OPS)
        assert_conflict(answer, "closed")
    assert await fetch(api, case["id"]) == closed
    assert await events(api, case["id"]) == trail


async def test_hierarchical_escalation_moves_the_case_up_a_tier(api) -> None:
    """escalate hands the case to the team's escalates_to: next tier, assigned, from_team set."""
    case = await intake(api, "up-1")
    agent = token("agent", "ams-l1")
    assert (await api.post(f"/v1/cases/{case['id']}/ack", headers=agent)).is_success
    answer = await api.post(
        f"/v1/cases/{case['id']}/escalate",
        json={"kind": "hierarchical", "reason": "needs a specialist"},
        headers=agent,
    )
    assert answer.status_code == 200, answer.text
    moved = answer.json()
    assert moved["team"] == "emea-l2"
    assert moved["tier"] == 2
    assert moved["status"] == "assigned"
    assert moved["acknowledged_at"] is None
    assert moved["decision"]["team"] == "emea-l2"
    last = (await events(api, case["id"]))[-1]
    assert last["type"] == "escalated"
    assert last["from_team"] == "ams-l1"
    assert last["team"] == "emea-l2"
    assert last["actor"] == "agent:ams-l1"
    assert last["detail"]["reason"] == "needs a specialist"
    # the case left Amsterdam's queue: its agent can no longer act on it
    again = await api.post(f"/v1/cases/{case['id']}/ack", headers=agent)
    assert again.status_code == 403
    emea = await api.post(f"/v1/cases/{case['id']}/ack", headers=token("agent", "emea-l2"))
    assert emea.status_code == 200, emea.text


async def test_functional_escalation_reroutes_for_the_skill(api) -> None:
    """A functional escalation keeps the tier and routes to a team with the named skill."""
    case = await intake(api, "skill-1", customer={"accepts": ["en"]})
    assert case["team"] == "ams-l1"
    answer = await api.post(
        f"/v1/cases/{case['id']}/escalate",
        json={"kind": "functional", "skill": "security"},
        headers=token("agent", "ams-l1"),
    )
    assert answer.status_code == 200, answer.text
    moved = answer.json()
    # No Dutch-speaking tier-1 team has the security skill; Dublin (English, which the
    # customer accepts) is on shift longest.
    assert moved["team"] == "dub-l1"
    assert moved["tier"] == 1
    assert moved["skill"] == "security"
    assert moved["status"] == "assigned"
    assert moved["decision"]["language_match"] == "fallback"
    last = (await events(api, case["id"]))[-1]
    assert (last["type"], last["from_team"], last["team"]) == ("escalated", "ams-l1", "dub-l1")

    no_skill = await api.post(
        f"/v1/cases/{case['id']}/escalate", json={"kind": "functional"}, headers=OPS
    )
    assert no_skill.status_code == 400
    assert no_skill.json()["field"] == "skill"


async def test_ops_reassign_to_a_named_team(api) -> None:
    """Ops reassign a case to the team they name; the event records who and from where."""
    case = await intake(api, "move-1")
    answer = await api.post(
        f"/v1/cases/{case['id']}/reassign",
        json={"team": "ber-l1", "reason": "Dutch speaker in Berlin today"},
        headers=OPS,
    )
    assert answer.status_code == 200, answer.text
    moved = answer.json()
    assert (moved["team"], moved["tier"], moved["status"]) == ("ber-l1", 1, "assigned")
    last = (await events(api, case["id"]))[-1]
    assert last["type"] == "reassigned"
    assert (last["from_team"], last["team"], last["actor"]) == ("ams-l1", "ber-l1", "ops")
    berlin = (await api.get("/v1/cases", headers=token("agent", "ber-l1"))).json()
    assert [c["id"] for c in berlin["items"]] == [case["id"]]


async def test_events_list_every_transition_in_order_with_its_actor(api, clock) -> None:
    """The audit trail has one event per transition, in order, with actor, status and team."""
    case = await intake(api, "trail-1")
    cid = case["id"]
    ams, emea = token("agent", "ams-l1"), token("agent", "emea-l2")
    steps = [
        ("ack", None, ams),
        ("notes", {"text": "looked at it"}, ams),
        ("escalate", {"kind": "hierarchical"}, ams),
        ("ack", None, emea),
        ("reassign", {"team": "ber-l1"}, OPS),
        ("resolve", {"resolution": "done"}, token("agent", "ber-l1")),
        ("close", None, OPS),
    ]
    for action, body, who in steps:
        clock.advance(minutes=15)
        answer = await api.post(f"/v1/cases/{cid}/{action}", json=body, headers=who)
        assert answer.status_code == 200, f"{action}: {answer.text}"
    trail = await events(api, cid)
    assert [(e["type"], e["actor"], e["status"], e["team"]) for e in trail] == [
        ("received", "intake", "assigned", "ams-l1"),
        ("acknowledged", "agent:ams-l1", "acknowledged", "ams-l1"),
        ("note", "agent:ams-l1", "acknowledged", "ams-l1"),
        ("escalated", "agent:ams-l1", "assigned", "emea-l2"),
        ("acknowledged", "agent:emea-l2", "acknowledged", "emea-l2"),
        ("reassigned", "ops", "assigned", "ber-l1"),
        ("resolved", "agent:ber-l1", "resolved", "ber-l1"),
        ("closed", "ops", "closed", "ber-l1"),
    ]
    assert [e["version"] for e in trail] == list(range(1, 9))
    assert all(e["case"] == cid for e in trail)
    times = [datetime.fromisoformat(e["at"]) for e in trail]
    assert times == sorted(times)
    assert times[-1] == datetime(2026, 11, 23, 10, 45, tzinfo=UTC)


async def test_concurrent_retries_of_one_escalation_make_one_case(api) -> None:
    """Five simultaneous posts of one (source, external_id): one 201, four 200, one case."""
    body = escalation("race-1")
    answers = await asyncio.gather(
        *(api.post("/v1/escalations", json=body, headers=INTAKE) for _ in range(5))
    )
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 200, 201]
    assert len({a.json()["id"] for a in answers}) == 1
    assert await total(api) == 1


async def test_the_same_external_id_from_another_source_is_another_case(api) -> None:
    """Idempotency is per (source, external_id): another source with the same id is new."""
    first = await intake(api, "shared-7")
    other = await api.post(
        "/v1/escalations", json=escalation("shared-7", source="freshdesk"), headers=INTAKE
    )
    assert other.status_code == 201
    assert other.json()["id"] != first["id"]
    assert await total(api) == 2


async def test_concurrent_acks_let_exactly_one_win(api) -> None:
    """Of several simultaneous acks one succeeds; the others are 409 and write nothing."""
    case = await intake(api, "race-ack")
    agent = token("agent", "ams-l1")
    answers = await asyncio.gather(
        *(api.post(f"/v1/cases/{case['id']}/ack", headers=agent) for _ in range(4))
    )
    assert sorted(a.status_code for a in answers) == [200, 409, 409, 409]
    assert (await fetch(api, case["id"]))["version"] == 2
    assert [e["type"] for e in await events(api, case["id"])] == ["received", "acknowledged"]


# -- routing outcomes --------------------------------------------------------------------


async def test_route_dry_run_decides_but_stores_nothing(api) -> None:
    """POST /v1/route answers the decision intake would make, and writes no case."""
    body = escalation("dry-1")
    answer = await api.post("/v1/route", json=body, headers=token("viewer"))
    assert answer.status_code == 200, answer.text
    decision = answer.json()
    assert (decision["action"], decision["team"], decision["tier"]) == ("assign", "ams-l1", 1)
    assert await total(api) == 0
    # the idempotency key was not claimed either: the real intake creates the case
    created = await api.post("/v1/escalations", json=body, headers=INTAKE)
    assert created.status_code == 201
    assert created.json()["decision"] == decision


async def test_a_japanese_p4_on_a_tokyo_holiday_waits_for_tokyo(api, clock) -> None:
    """A ja-JP P4 with no fallback language, on Tokyo's holiday, waits for Tuesday's shift."""
    # Monday 2026-11-23 is Labour Thanksgiving Day: 10:00 JST, and Tokyo is closed.
    clock.now = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    case = await intake(api, "ja-1", "ja-JP", priority="P4", customer={"timezone": "Asia/Tokyo"})
    assert case["status"] == "waiting"
    decision = case["decision"]
    assert decision["action"] == "wait"
    assert decision["team"] == "tyo-l1"
    assert decision["starts_at"] == "2026-11-24T00:00:00Z"  # Tuesday 09:00 JST
    assert decision["ack_due"] == "2026-11-24T08:00:00Z"  # P4: 8 h after the shift starts
    waiting = (await api.get("/v1/cases?status=waiting", headers=OPS)).json()
    assert [c["id"] for c in waiting["items"]] == [case["id"]]
    assert_conflict(await api.post(f"/v1/cases/{case['id']}/ack", headers=OPS), "waiting")


async def test_a_security_flag_starts_the_case_at_tier_2(api) -> None:
    """flags ["security"] skip the front line: the case starts with a tier-2 team."""
    case = await intake(api, "sec-1", "en-GB", skill=None, flags=["security"])
    assert case["tier"] == 2
    assert case["decision"]["tier"] == 2
    assert case["status"] == "assigned"
    team = (await api.get(f"/v1/teams/{case['team']}", headers=OPS)).json()
    assert team["tier"] == 2
    assert any("security" in reason for reason in case["decision"]["reasons"])
    plain = await intake(api, "sec-2", "en-GB", skill=None)
    assert plain["tier"] == 1
