"""Who may call what: every endpoint against every kind of caller, over the real app.

Every request in the table is a valid one (an existing case in a state that allows the
action, a team body fetched with its ETag, a team nobody escalates to for DELETE), so
the only thing that changes from one column to the next is the caller.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from conftest import SECRET, token

from router.http.auth import make_token

# The case every row acts on is a Danish P3 billing case; at Monday 09:00 UTC only
# Copenhagen speaks Danish, so it lands on cph-l1: that agent owns it, Berlin's does not.
# cph-l1 is a tier-1 team nobody escalates to, so deleting it is a valid request too.
OWN_TEAM, OTHER_TEAM = "cph-l1", "ber-l1"

CALLERS = ("ops", "agent_own", "agent_other", "intake", "viewer", "no_token", "garbage")

# fmt: off
TABLE: dict[str, tuple[int, int, int, int, int, int, int]] = {
    #                                     ops  agent  agent  intake viewer  no    garbage
    #                                          own    other                 token token
    "POST /v1/escalations":              (201, 403,   403,   201,   403,   401,  401),
    "POST /v1/route":                    (200, 200,   200,   200,   200,   401,  401),
    "GET /v1/cases":                     (200, 200,   200,   403,   200,   401,  401),
    "GET /v1/cases/{id}":                (200, 200,   403,   200,   200,   401,  401),
    "GET /v1/cases/{id}/events":         (200, 200,   403,   403,   200,   401,  401),
    "POST /v1/cases/{id}/ack":           (200, 200,   403,   403,   403,   401,  401),
    "POST /v1/cases/{id}/notes":         (200, 200,   403,   403,   403,   401,  401),
    "POST /v1/cases/{id}/resolve":       (200, 200,   403,   403,   403,   401,  401),
    "POST /v1/cases/{id}/close":         (200, 200,   403,   403,   403,   401,  401),
    "POST /v1/cases/{id}/escalate":      (200, 200,   403,   403,   403,   401,  401),
    "POST /v1/cases/{id}/reassign":      (200, 403,   403,   403,   403,   401,  401),
    "GET /v1/teams":                     (200, 200,   200,   200,   200,   401,  401),
    "GET /v1/teams/{team}":              (200, 200,   200,   200,   200,   401,  401),
    "PUT /v1/teams/{team}":              (200, 403,   403,   403,   403,   401,  401),
    "DELETE /v1/teams/{team}":           (204, 403,   403,   403,   403,   401,  401),
    "GET /v1/teams/{team}/revisions":    (200, 403,   403,   403,   200,   401,  401),
    "GET /v1/teams/{team}/schedule.ics": (200, 200,   200,   200,   200,   401,  401),
    "GET /v1/oncall":                    (200, 200,   200,   200,   200,   401,  401),
    "GET /v1/coverage":                  (200, 200,   200,   200,   200,   401,  401),
    "GET /healthz":                      (200, 200,   200,   200,   200,   200,  200),
    "GET /readyz":                       (200, 200,   200,   200,   200,   200,  200),
    "GET /metrics":                      (200, 200,   200,   200,   200,   200,  200),
    "GET /schema":                       (200, 200,   200,   200,   200,   200,  200),
    "GET /schema/openapi.json":          (200, 200,   200,   200,   200,   200,  200),
}
# fmt: on

# Valid bodies for the endpoints that take one.
BODIES: dict[str, Any] = {
    "POST /v1/cases/{id}/notes": {"text": "called the customer back"},
    "POST /v1/cases/{id}/resolve": {"resolution": "refund issued"},
    "POST /v1/cases/{id}/escalate": {"kind": "hierarchical", "reason": "needs a specialist"},
    "POST /v1/cases/{id}/reassign": {"team": OTHER_TEAM, "reason": "Danish speaker in Berlin"},
}


def escalation(external_id: str) -> dict[str, Any]:
    return {
        "source": "zendesk",
        "external_id": external_id,
        "priority": "P3",
        "skill": "billing",
        "summary": "Invoice charged twice",
        "customer": {"id": "cust-7", "locale": "da-DK", "timezone": "Europe/Copenhagen"},
    }


def headers_for(caller: str) -> dict[str, str]:
    if caller == "agent_own":
        return token("agent", OWN_TEAM)
    if caller == "agent_other":
        return token("agent", OTHER_TEAM)
    if caller == "no_token":
        return {}
    if caller == "garbage":
        return {"Authorization": "Bearer this-is-not-a-jwt"}
    return token(caller)


ROWS = [
    pytest.param(endpoint, caller, expected, id=f"{endpoint} as {caller}")
    for endpoint, statuses in TABLE.items()
    for caller, expected in zip(CALLERS, statuses, strict=True)
]


async def _state(api: Any, endpoint: str, case_id: str | None) -> object:
    """What a write to this endpoint changes, read as ops (a refusal must leave it alone)."""
    ops = token("ops")
    if "{id}" in endpoint:
        case = (await api.get(f"/v1/cases/{case_id}", headers=ops)).json()
        return case["version"], case["status"], case["team"]
    if "{team}" in endpoint:
        got = await api.get(f"/v1/teams/{OWN_TEAM}", headers=ops)
        return got.status_code, got.headers.get("etag")
    if endpoint == "POST /v1/escalations":
        return (await api.get("/v1/cases", headers=ops)).json()["total"]
    return None


@pytest.mark.parametrize(("endpoint", "caller", "expected"), ROWS)
async def test_role_table(api, endpoint: str, caller: str, expected: int) -> None:
    """Each endpoint answers each kind of caller with the status the role table gives."""
    ops = token("ops")
    method, template = endpoint.split(" ", 1)
    case_id = None
    if "{id}" in template:
        created = await api.post(
            "/v1/escalations", json=escalation("role-table"), headers=token("intake")
        )
        assert created.status_code == 201, created.text
        assert created.json()["team"] == OWN_TEAM
        case_id = created.json()["id"]
        if endpoint.endswith("/close"):
            done = await api.post(
                f"/v1/cases/{case_id}/resolve",
                json=BODIES["POST /v1/cases/{id}/resolve"],
                headers=ops,
            )
            assert done.status_code == 200, done.text
    extra: dict[str, str] = {}
    body = BODIES.get(endpoint)
    if endpoint == "POST /v1/escalations" or endpoint == "POST /v1/route":
        body = escalation("role-table-new")
    if method in ("PUT", "DELETE"):
        current = await api.get(f"/v1/teams/{OWN_TEAM}", headers=ops)
        assert current.status_code == 200
        extra["If-Match"] = current.headers["etag"]
        if method == "PUT":
            body = current.json()
    url = template.replace("{id}", str(case_id)).replace("{team}", OWN_TEAM)
    before = await _state(api, endpoint, case_id)

    answer = await api.request(method, url, json=body, headers={**headers_for(caller), **extra})

    assert answer.status_code == expected, f"{endpoint} as {caller}: {answer.text[:300]}"
    if expected in (401, 403):
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["status"] == expected
    after = await _state(api, endpoint, case_id)
    if method != "GET" and endpoint != "POST /v1/route":
        if expected >= 400:
            assert after == before, f"a refused {endpoint} changed something"
        else:
            assert after != before, f"an accepted {endpoint} changed nothing"


async def test_agent_listing_is_scoped_to_their_team(api) -> None:
    """GET /v1/cases shows an agent only their own team's cases, and refuses another team."""
    created = await api.post("/v1/escalations", json=escalation("scope"), headers=token("intake"))
    assert created.status_code == 201
    own = await api.get("/v1/cases", headers=token("agent", OWN_TEAM))
    other = await api.get("/v1/cases", headers=token("agent", OTHER_TEAM))
    assert [c["id"] for c in own.json()["items"]] == [created.json()["id"]]
    assert other.json() == {"items": [], "total": 0, "next": None}
    asked = await api.get(f"/v1/cases?team={OWN_TEAM}", headers=token("agent", OTHER_TEAM))
    assert asked.status_code == 403


def _signed(secret: str = SECRET, expires_in: timedelta = timedelta(hours=1), **extras: str) -> str:
    """A JWT shaped like make_token's, with whatever claims a test needs (even wrong ones)."""
    issued = datetime.now(UTC) - timedelta(hours=2)
    claims = {
        "sub": "someone",
        "iat": issued,
        "exp": datetime.now(UTC) + expires_in,
        "jti": "hand-made",  # a key id: tokens without one are refused (tests/test_api_keys.py)
        **extras,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


@pytest.mark.parametrize(
    "bad_token",
    [
        pytest.param(make_token("another-secret-" + "y" * 32, "ops"), id="wrong secret"),
        pytest.param(_signed(role="ops", expires_in=timedelta(minutes=-1)), id="expired"),
        pytest.param(_signed(role="root"), id="unknown role"),
        pytest.param(_signed(role="agent"), id="agent without a team"),
    ],
)
async def test_tokens_that_do_not_verify_get_401(api, bad_token: str) -> None:
    """A token with another secret, expired, of no known role, or an agent without a team: 401."""
    control = await api.get("/v1/teams", headers={"Authorization": f"Bearer {_signed(role='ops')}"})
    assert control.status_code == 200, "the hand-made token shape itself must be accepted"
    answer = await api.get("/v1/teams", headers={"Authorization": f"Bearer {bad_token}"})
    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("application/problem+json")
