"""Every refusal is an RFC 9457 problem naming what was wrong, and writes nothing."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from conftest import token

OPS = token("ops")
INTAKE = token("intake")
PROBLEM = "application/problem+json"


def escalation() -> dict[str, Any]:
    return {
        "source": "zendesk",
        "external_id": "ZD-500",
        "priority": "P3",
        "skill": "billing",
        "customer": {"id": "cust-1", "locale": "nl-NL", "timezone": "Europe/Amsterdam"},
    }


def assert_problem(answer: Any, status: int) -> dict[str, Any]:
    """The answer is a problem+json document with this status and a title."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].split(";")[0].strip() == PROBLEM
    problem = answer.json()
    assert problem["status"] == status
    assert isinstance(problem["title"], str)
    assert problem["title"]
    return problem


def assert_bad_input(answer: Any, field: str | tuple[str, ...], status: int = 400) -> dict:
    """A problem whose `field` names the offending field, with a reason for it."""
    problem = assert_problem(answer, status)
    fields = (field,) if isinstance(field, str) else field
    assert problem.get("field") in fields, f"field {problem.get('field')!r}, wanted {fields}"
    reasons = [e["reason"] for e in problem.get("errors", []) if e["field"] == problem["field"]]
    assert reasons, "no reason given for the field"
    assert all(isinstance(r, str) and r for r in reasons)
    return problem


async def case_total(api: Any) -> int:
    answer = await api.get("/v1/cases", headers=OPS)
    assert answer.status_code == 200
    return answer.json()["total"]


async def assert_no_case_written(api: Any) -> None:
    """No case exists, and the escalation's idempotency key is still free."""
    assert await case_total(api) == 0
    created = await api.post("/v1/escalations", json=escalation(), headers=INTAKE)
    assert created.status_code == 201, "a refused request claimed the idempotency key"


# -- the escalation body -----------------------------------------------------------------


def _set(path: str, value: Any) -> Callable[[dict], None]:
    def change(body: dict) -> None:
        *parents, last = path.split(".")
        for key in parents:
            body = body[key]
        body[last] = value

    return change


def _drop(path: str) -> Callable[[dict], None]:
    def change(body: dict) -> None:
        *parents, last = path.split(".")
        for key in parents:
            body = body[key]
        del body[last]

    return change


def _no_priority(body: dict) -> None:
    del body["priority"]


def _impact_alone(body: dict) -> None:
    del body["priority"]
    body["impact"] = "high"


BAD_BODIES = [
    pytest.param(_set("custmer", {"id": "x"}), "custmer", id="unknown field"),
    pytest.param(_set("customer.nmae", "Ann"), "customer.nmae", id="unknown nested field"),
    pytest.param(_set("customer.timezone", "Mars/Olympus"), "customer.timezone", id="timezone"),
    pytest.param(_set("customer.locale", "xx_YY"), "customer.locale", id="locale malformed"),
    pytest.param(_set("customer.locale", "zz"), "customer.locale", id="locale unknown"),
    pytest.param(_set("customer.accepts", ["en", "??"]), "customer.accepts[1]", id="accepts"),
    pytest.param(_set("language", "klingon"), "language", id="language"),
    pytest.param(_no_priority, ("priority", "impact"), id="no priority, impact or urgency"),
    pytest.param(_impact_alone, "urgency", id="impact alone"),
    pytest.param(_drop("source"), "source", id="missing source"),
    pytest.param(_drop("external_id"), "external_id", id="missing external_id"),
    pytest.param(_set("source", ""), "source", id="empty source"),
    pytest.param(_drop("customer"), "customer", id="missing customer"),
    pytest.param(_drop("customer.id"), "customer.id", id="missing nested field"),
    pytest.param(_set("priority", 3), "priority", id="priority wrong type"),
    pytest.param(_set("priority", "P9"), "priority", id="priority not an enum value"),
    pytest.param(_set("customer.vip", "yes"), "customer.vip", id="vip wrong type"),
    pytest.param(_set("flags", "security"), "flags", id="flags not a list"),
    pytest.param(_set("flags", ["spam"]), "flags[0]", id="unknown flag"),
    pytest.param(_set("impact", "huge"), "impact", id="impact not a level"),
]


@pytest.mark.parametrize(("change", "field"), BAD_BODIES)
async def test_a_bad_escalation_is_400_naming_the_field(api, change, field) -> None:
    """A malformed or invalid escalation is a 400 problem naming the field; no case is stored."""
    body = copy.deepcopy(escalation())
    change(body)
    answer = await api.post("/v1/escalations", json=body, headers=INTAKE)
    assert_bad_input(answer, field)
    await assert_no_case_written(api)


INTAKE_ONLY = {"missing source", "missing external_id", "empty source"}


@pytest.mark.parametrize(("change", "field"), [p for p in BAD_BODIES if p.id not in INTAKE_ONLY])
async def test_a_bad_dry_run_is_400_naming_the_same_field(api, change, field) -> None:
    """POST /v1/route checks the escalation exactly as intake does."""
    body = copy.deepcopy(escalation())
    change(body)
    answer = await api.post("/v1/route", json=body, headers=INTAKE)
    assert_bad_input(answer, field)


async def test_a_body_over_256_kib_is_413(api) -> None:
    """A request body over 256 KiB is refused with 413 before anything is stored."""
    body = escalation()
    body["steps_taken"] = ["x" * 10_000] * 27  # every item is legal; the whole is too big
    answer = await api.post("/v1/escalations", json=body, headers=INTAKE)
    assert_problem(answer, 413)
    await assert_no_case_written(api)


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b'{"source": "zendesk", ', id="truncated JSON"),
        pytest.param(b"", id="empty"),
    ],
)
async def test_a_body_that_is_not_json_is_400_naming_the_body(api, content) -> None:
    """A body that is not a JSON document is a 400 problem about the body; nothing is stored."""
    answer = await api.post(
        "/v1/escalations", content=content, headers={**INTAKE, "Content-Type": "application/json"}
    )
    assert_bad_input(answer, "body")
    await assert_no_case_written(api)


# -- cases -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("GET", "", None),
        ("GET", "/events", None),
        ("POST", "/ack", None),
        ("POST", "/notes", {"text": "hello"}),
        ("POST", "/resolve", {"resolution": "done"}),
        ("POST", "/close", None),
        ("POST", "/escalate", {"kind": "hierarchical"}),
        ("POST", "/reassign", {"team": "ber-l1"}),
    ],
)
async def test_an_unknown_case_is_404(api, method, suffix, body) -> None:
    """Every case endpoint answers 404 for a case id that does not exist, creating nothing."""
    answer = await api.request(method, f"/v1/cases/C-NOSUCH-CASE{suffix}", json=body, headers=OPS)
    problem = assert_problem(answer, 404)
    assert "C-NOSUCH-CASE" in problem["detail"]
    assert await case_total(api) == 0
    assert (await api.get("/v1/cases/C-NOSUCH-CASE", headers=OPS)).status_code == 404


async def test_reassign_to_an_unknown_team_is_400_and_moves_nothing(api) -> None:
    """Reassigning to a team that does not exist names the field `team`; the case stays."""
    created = await api.post("/v1/escalations", json=escalation(), headers=INTAKE)
    case = created.json()
    answer = await api.post(
        f"/v1/cases/{case['id']}/reassign", json={"team": "atlantis-l1"}, headers=OPS
    )
    assert_bad_input(answer, "team")
    after = await api.get(f"/v1/cases/{case['id']}", headers=OPS)
    assert after.json() == case
    assert len((await api.get(f"/v1/cases/{case['id']}/events", headers=OPS)).json()) == 1


@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        ("notes", {}, "text"),
        ("notes", {"text": ""}, "text"),
        ("notes", {"text": "hi", "visible": True}, "visible"),
        ("resolve", {}, "resolution"),
        ("escalate", {"kind": "sideways"}, "kind"),
        ("escalate", {"kind": "functional"}, "skill"),
        ("reassign", {}, "team"),
        ("ack", {"force": True}, "force"),
    ],
)
async def test_a_bad_transition_body_is_400_and_changes_nothing(api, action, body, field) -> None:
    """A transition with a bad body names the field and leaves the case as it was."""
    created = await api.post("/v1/escalations", json=escalation(), headers=INTAKE)
    case = created.json()
    answer = await api.post(f"/v1/cases/{case['id']}/{action}", json=body, headers=OPS)
    assert_bad_input(answer, field)
    assert (await api.get(f"/v1/cases/{case['id']}", headers=OPS)).json() == case


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=bogus", "status"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=ten", "limit"),
        ("cursor=not-a-cursor", "cursor"),
        ("language=xx_YY", "language"),
    ],
)
async def test_a_bad_listing_query_is_400_naming_the_parameter(api, query, field) -> None:
    """GET /v1/cases with a malformed filter or paging parameter is a 400 naming it."""
    assert_bad_input(await api.get(f"/v1/cases?{query}", headers=OPS), field)


# -- calendar questions ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("at=tomorrow", "at"),
        ("at=2026-11-23T09:00:00", "at"),  # no offset: which zone?
        ("at=2026-13-01T00:00:00Z", "at"),
        ("language=xx_YY", "language"),
        ("language=klingon", "language"),
        ("tier=0", "tier"),
    ],
)
async def test_a_bad_oncall_query_is_400_naming_the_parameter(api, query, field) -> None:
    """GET /v1/oncall with a bad instant, language or tier is a 400 naming the parameter."""
    assert_bad_input(await api.get(f"/v1/oncall?{query}", headers=OPS), field)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2026-11-24T00:00:00Z&to=2026-11-23T00:00:00Z", "to"),
        ("from=2026-11-24T00:00:00Z&to=2026-11-24T00:00:00Z", "to"),
        ("from=2026-11-24T00:00:00Z&to=2027-11-24T00:00:00Z", "to"),
        ("from=yesterday", "from"),
        ("to=2026-11-30", "to"),
        ("language=xx_YY", "language"),
    ],
)
async def test_a_bad_coverage_query_is_400_naming_the_parameter(api, query, field) -> None:
    """GET /v1/coverage refuses an empty, reversed or too long horizon, or a bad language."""
    assert_bad_input(await api.get(f"/v1/coverage?{query}", headers=OPS), field)


# -- teams -------------------------------------------------------------------------------


async def team_state(api: Any, team_id: str) -> tuple[Any, ...]:
    """Everything a team write could change: status, ETag, document, revision count."""
    got = await api.get(f"/v1/teams/{team_id}", headers=OPS)
    revisions = await api.get(f"/v1/teams/{team_id}/revisions", headers=OPS)
    listing = await api.get("/v1/teams", headers=OPS)
    return (
        got.status_code,
        got.headers.get("etag"),
        got.text,
        len(revisions.json()) if revisions.status_code == 200 else None,
        listing.text,
    )


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/teams/atlantis-l1"),
        ("GET", "/v1/teams/atlantis-l1/revisions"),
        ("GET", "/v1/teams/atlantis-l1/schedule.ics"),
        ("DELETE", "/v1/teams/atlantis-l1"),
    ],
)
async def test_an_unknown_team_is_404(api, method, path) -> None:
    """Team endpoints answer 404 for a team id that does not exist."""
    before = await team_state(api, "atlantis-l1")
    answer = await api.request(method, path, headers={**OPS, "If-Match": '"1"'})
    assert_problem(answer, 404)
    assert await team_state(api, "atlantis-l1") == before


@pytest.mark.parametrize(
    ("method", "headers", "status"),
    [
        pytest.param("PUT", {}, 428, id="PUT without If-Match"),
        pytest.param("PUT", {"If-Match": '"7"'}, 412, id="PUT with a stale ETag"),
        pytest.param("PUT", {"If-Match": '"0"'}, 412, id="PUT with ETag 0"),
        pytest.param("PUT", {"If-Match": "not-an-etag"}, 412, id="PUT with a garbage ETag"),
        pytest.param("PUT", {"If-None-Match": "*"}, 412, id="PUT create over an existing team"),
        pytest.param("DELETE", {}, 428, id="DELETE without If-Match"),
        pytest.param("DELETE", {"If-Match": '"7"'}, 412, id="DELETE with a stale ETag"),
        pytest.param("DELETE", {"If-Match": "not-an-etag"}, 412, id="DELETE with a garbage ETag"),
    ],
)
async def test_team_writes_need_the_current_etag(api, method, headers, status) -> None:
    """A team write without If-Match is 428; one whose If-Match is not current is 412."""
    current = await api.get("/v1/teams/cph-l1", headers=OPS)
    body = current.json()
    body["name"] = "Copenhagen (edited)"
    before = await team_state(api, "cph-l1")
    answer = await api.request(
        method,
        "/v1/teams/cph-l1",
        json=body if method == "PUT" else None,
        headers={**OPS, **headers},
    )
    problem = assert_problem(answer, status)
    if status == 412:
        assert problem["current_version"] == 1
    assert await team_state(api, "cph-l1") == before


def _shift_start(spec: dict) -> None:
    spec["shifts"][0]["start"] = "25:00"


def _timezone(spec: dict) -> None:
    spec["timezone"] = "Europe/Atlantis"


def _escalates_to_unknown(spec: dict) -> None:
    spec["escalates_to"] = "atlantis-l2"


def _escalates_to_same_tier(spec: dict) -> None:
    spec["escalates_to"] = "ber-l1"


def _overlap(spec: dict) -> None:
    spec["shifts"].append({"days": ["mon"], "start": "12:00", "end": "20:00"})


def _bad_language(spec: dict) -> None:
    spec["languages"] = ["nl", "xx_YY"]


def _bad_override(spec: dict) -> None:
    spec["overrides"][1]["end"] = "8pm"


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        pytest.param(_shift_start, "shifts[0].start", "25:00", id="start 25:00"),
        pytest.param(_timezone, "timezone", "Europe/Atlantis", id="unknown timezone"),
        pytest.param(_escalates_to_unknown, "escalates_to", "atlantis-l2", id="unknown target"),
        pytest.param(_escalates_to_same_tier, "escalates_to", "tier", id="target not higher"),
        pytest.param(_overlap, "shifts[3]", "overlaps", id="overlapping shifts"),
        pytest.param(_bad_language, "languages[1]", "xx_YY", id="bad language"),
        pytest.param(_bad_override, "overrides[1].end", "8pm", id="bad override time"),
    ],
)
async def test_an_invalid_schedule_is_422_naming_the_field_path(api, change, field, reason):
    """PUT of a schedule that fails validation is 422 with errors naming each field path."""
    current = await api.get("/v1/teams/ams-l1", headers=OPS)
    spec = current.json()
    change(spec)
    before = await team_state(api, "ams-l1")
    oncall_before = (await api.get("/v1/oncall", headers=OPS)).json()
    answer = await api.put(
        "/v1/teams/ams-l1", json=spec, headers={**OPS, "If-Match": current.headers["etag"]}
    )
    problem = assert_problem(answer, 422)
    matching = [e for e in problem["errors"] if e["field"] == field]
    assert matching, f"no error names {field}: {problem['errors']}"
    assert any(reason in e["reason"] for e in matching)
    assert problem["field"] == problem["errors"][0]["field"]
    assert await team_state(api, "ams-l1") == before
    assert (await api.get("/v1/oncall", headers=OPS)).json() == oncall_before


async def test_an_unknown_key_in_a_shift_is_refused_naming_its_path(api) -> None:
    """A misspelt key inside shifts[0] is refused with the whole path, and nothing changes."""
    current = await api.get("/v1/teams/ams-l1", headers=OPS)
    spec = current.json()
    spec["shifts"][0]["dayz"] = spec["shifts"][0].pop("days")
    before = await team_state(api, "ams-l1")
    answer = await api.put(
        "/v1/teams/ams-l1", json=spec, headers={**OPS, "If-Match": current.headers["etag"]}
    )
    assert answer.status_code in (400, 422)
    assert_bad_input(answer, "shifts[0].dayz", status=answer.status_code)
    assert await team_state(api, "ams-l1") == before


async def test_deleting_a_team_others_escalate_to_is_422(api) -> None:
    """DELETE of a team that others escalate to is refused, naming them; the team stays."""
    current = await api.get("/v1/teams/emea-l2", headers=OPS)
    before = await team_state(api, "emea-l2")
    answer = await api.delete(
        "/v1/teams/emea-l2", headers={**OPS, "If-Match": current.headers["etag"]}
    )
    problem = assert_problem(answer, 422)
    assert "ams-l1" in problem["errors"][0]["reason"]
    assert await team_state(api, "emea-l2") == before
