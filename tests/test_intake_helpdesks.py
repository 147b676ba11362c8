"""Helpdesk intake: Zendesk's signed webhooks, Freshdesk's and JSM's shared secret, the
policy's `[intake.<helpdesk>]` mapping, over the real app and a real Redis. Nothing that
fails verification or cannot be read writes anything."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from conftest import API_NOW, SCHEDULES, Clock, token
from litestar.testing import AsyncTestClient
from receivers import deployment
from redis.asyncio import Redis

from router.app import create_app
from router.domain.errors import ScheduleError
from router.domain.validation import decode_policy
from router.domain.zones import helpdesk_zone
from router.http.signatures import zendesk_signature
from router.schedule_files import read_policy, read_team_specs, write_policy
from router.store import CaseStore, Keys, TeamStore

ZENDESK, FRESHDESK, JSM = "zd-signing-secret", "fd-shared-secret", "jsm-shared-secret"
OPS = token("ops")


@pytest.fixture
async def helpdesks(redis_url: str, key_prefix: str, clock: Clock) -> AsyncIterator[Any]:
    """The api of conftest, with a secret configured for every helpdesk."""
    settings = deployment(
        redis_url, key_prefix, zendesk_secret=ZENDESK, freshdesk_secret=FRESHDESK, jsm_secret=JSM
    )
    seed = Redis.from_url(redis_url)
    await TeamStore(seed, Keys(key_prefix)).load(read_team_specs(SCHEDULES), by="test", at=API_NOW)
    await seed.aclose()
    async with AsyncTestClient(app=create_app(settings, clock=clock)) as client:
        yield client


@pytest.fixture
async def cases(redis_url: str, key_prefix: str) -> AsyncIterator[CaseStore]:
    redis = Redis.from_url(redis_url)
    yield CaseStore(redis, Keys(key_prefix))
    await redis.aclose()


def zendesk_ticket(ticket_id: str = "4711", **fields: Any) -> dict[str, Any]:
    """What the README's Zendesk trigger body renders to: a Dutch customer in Amsterdam
    (Zendesk's Rails zone name), a billing question from a VIP."""
    ticket = {
        "id": ticket_id,
        "priority": "high",
        "subject": "Invoice charged twice",
        "description": "The customer paid invoice 2026-118 twice.",
        "tags": "vip billing enterprise",
        "url": f"https://example.zendesk.com/agent/tickets/{ticket_id}",
        "requester": {
            "id": "900",
            "name": "Anna de Vries",
            "email": "anna@example.nl",
            "locale": "nl-NL",
            "time_zone": "Amsterdam",
        },
    }
    ticket.update(fields)
    return {"ticket": ticket}


def signed(body: bytes, at: datetime, secret: str = ZENDESK) -> dict[str, str]:
    stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "X-Zendesk-Webhook-Signature": zendesk_signature(secret, stamp, body),
        "X-Zendesk-Webhook-Signature-Timestamp": stamp,
        "Content-Type": "application/json",
    }


async def post_zendesk(api: Any, body: dict[str, Any], at: datetime = API_NOW) -> Any:
    raw = json.dumps(body).encode()
    return await api.post("/v1/intake/zendesk", content=raw, headers=signed(raw, at))


async def assert_nothing_written(cases: CaseStore, source: str, ticket_id: str) -> None:
    assert await cases.id_for(source, ticket_id) is None  # no idempotency key
    items, total, _ = await cases.page(limit=5)
    assert (items, total) == ([], 0)


def assert_unauthorized(answer: Any) -> None:
    assert answer.status_code == 401, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["status"] == 401


# -- Zendesk ----------------------------------------------------------------------------


async def test_a_signed_zendesk_ticket_opens_a_case_mapped_by_the_policy(helpdesks, cases) -> None:
    """Priority, skill and flags come from [intake.zendesk]; locale and zone from the
    requester, the Rails zone name "Amsterdam" as Europe/Amsterdam."""
    answer = await post_zendesk(helpdesks, zendesk_ticket())
    assert answer.status_code == 201, answer.text
    case = answer.json()
    esc = case["escalation"]
    assert (esc["impact"], esc["urgency"], case["priority"]) == ("high", "medium", "P2")
    assert case["skill"] == esc["skill"] == "billing"  # tag billing; enterprise maps nothing
    assert esc["flags"] == ["vip"]
    assert esc["customer"] == {
        "id": "zendesk:900",
        "locale": "nl-NL",
        "timezone": "Europe/Amsterdam",
        "accepts": [],
        "vip": False,
        "name": "Anna de Vries",
        "email": "anna@example.nl",
        "region": "",  # the policy's [residency] gives none by source or default
    }
    assert (esc["source"], esc["external_id"], esc["intake_notes"]) == ("zendesk", "4711", [])
    assert esc["summary"].startswith("Invoice charged twice\n\nThe customer paid")
    assert case["status_url"]
    assert await cases.id_for("zendesk", "4711") == case["id"]


async def test_a_replayed_zendesk_ticket_answers_200_with_the_same_case(helpdesks, cases) -> None:
    """Zendesk retries (a new timestamp, a new signature) are idempotent on the ticket id."""
    first = await post_zendesk(helpdesks, zendesk_ticket())
    again = await post_zendesk(helpdesks, zendesk_ticket(), at=API_NOW + timedelta(seconds=30))
    assert (first.status_code, again.status_code) == (201, 200), again.text
    assert again.json()["id"] == first.json()["id"]
    _, total, _ = await cases.page(limit=5)
    assert total == 1


async def test_rails_eastern_time_opens_the_case_in_new_york(helpdesks) -> None:
    """Zendesk's most common zone name, through CLDR's metazone and Windows zone data."""
    body = zendesk_ticket(requester={"id": "6", "time_zone": "Eastern Time (US & Canada)"})
    answer = await post_zendesk(helpdesks, body)
    assert answer.status_code == 201, answer.text
    esc = answer.json()["escalation"]
    assert esc["customer"]["timezone"] == "America/New_York"
    assert not esc.get("intake_notes")


async def test_a_zone_name_we_cannot_place_is_utc_with_the_reason_kept(helpdesks) -> None:
    """Rails' "Edinburgh" is no CLDR name of a zone: the case opens (201), the customer's
    zone is UTC and the escalation says why."""
    body = zendesk_ticket(requester={"id": "7", "time_zone": "Edinburgh"})
    answer = await post_zendesk(helpdesks, body)
    assert answer.status_code == 201, answer.text
    esc = answer.json()["escalation"]
    assert esc["customer"]["timezone"] == "UTC"
    assert esc["customer"]["locale"] == "en"
    [note] = esc["intake_notes"]
    assert '"Edinburgh"' in note
    assert "UTC" in note


async def test_a_locale_that_is_no_language_tag_is_english_with_the_reason_kept(
    helpdesks,
) -> None:
    """A helpdesk that renders "Nederlands" for the locale still opens the case."""
    body = zendesk_ticket(requester={"id": "8", "locale": "Nederlands", "time_zone": "Berlin"})
    answer = await post_zendesk(helpdesks, body)
    assert answer.status_code == 201, answer.text
    esc = answer.json()["escalation"]
    assert (esc["customer"]["locale"], esc["customer"]["timezone"]) == ("en", "Europe/Berlin")
    [note] = esc["intake_notes"]
    assert '"Nederlands"' in note


async def test_a_ticket_without_priority_gets_the_default_one(helpdesks) -> None:
    answer = await post_zendesk(helpdesks, zendesk_ticket(priority="", tags=""))
    assert answer.status_code == 201, answer.text
    case = answer.json()
    assert case["priority"] == "P3"  # default_priority "normal": medium × medium
    assert case["skill"] == "platform"  # no tag names a skill: default_skill
    assert case["escalation"]["flags"] == []


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda h: h | {"X-Zendesk-Webhook-Signature": "AAAA"}, id="wrong-signature"),
        pytest.param(
            lambda h: {k: v for k, v in h.items() if k != "X-Zendesk-Webhook-Signature"},
            id="no-signature",
        ),
        pytest.param(
            lambda h: {k: v for k, v in h.items() if "Timestamp" not in k}, id="no-timestamp"
        ),
    ],
)
async def test_a_bad_zendesk_signature_is_401_and_writes_nothing(helpdesks, cases, tamper) -> None:
    raw = json.dumps(zendesk_ticket()).encode()
    answer = await helpdesks.post(
        "/v1/intake/zendesk", content=raw, headers=tamper(signed(raw, API_NOW))
    )
    assert_unauthorized(answer)
    await assert_nothing_written(cases, "zendesk", "4711")


async def test_a_body_changed_after_signing_is_401(helpdesks, cases) -> None:
    raw = json.dumps(zendesk_ticket()).encode()
    headers = signed(raw, API_NOW)
    forged = raw.replace(b'"high"', b'"urgent"')
    assert_unauthorized(await helpdesks.post("/v1/intake/zendesk", content=forged, headers=headers))
    await assert_nothing_written(cases, "zendesk", "4711")


async def test_a_stale_or_future_zendesk_timestamp_is_401(helpdesks, cases, clock) -> None:
    """Signed correctly, but more than 5 minutes old by the app's clock, or ahead of it."""
    body = zendesk_ticket()
    clock.advance(minutes=5, seconds=1)
    assert_unauthorized(await post_zendesk(helpdesks, body, at=API_NOW))
    assert_unauthorized(await post_zendesk(helpdesks, body, at=clock.now + timedelta(minutes=2)))
    await assert_nothing_written(cases, "zendesk", "4711")
    fresh = await post_zendesk(helpdesks, body, at=clock.now - timedelta(minutes=4))
    assert fresh.status_code == 201, fresh.text


async def test_without_a_configured_secret_every_helpdesk_is_refused(api, cases) -> None:
    """conftest's app sets no helpdesk secret: a request signed with any is 401."""
    assert_unauthorized(await post_zendesk(api, zendesk_ticket()))
    for source in ("freshdesk", "jsm"):
        answer = await api.post(
            f"/v1/intake/{source}",
            json=zendesk_ticket(),
            headers={"X-Followsun-Intake-Secret": ""},
        )
        assert_unauthorized(answer)
    await assert_nothing_written(cases, "zendesk", "4711")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        pytest.param(lambda t: t["ticket"].pop("id"), "ticket.id", id="no-id"),
        pytest.param(lambda t: t["ticket"].update(id=None), "ticket.id", id="null-id"),
        pytest.param(lambda t: t["ticket"].update(priority="asap"), "ticket.priority", id="prio"),
        pytest.param(lambda t: t["ticket"].update(prority="high"), "ticket.prority", id="typo"),
        pytest.param(
            lambda t: t["ticket"]["requester"].update(id="", email=""),
            "ticket.requester.id",
            id="nobody",
        ),
        pytest.param(lambda t: t.pop("ticket"), "ticket", id="no-ticket"),
    ],
)
async def test_a_malformed_ticket_is_422_naming_the_field(helpdesks, cases, change, field) -> None:
    body = zendesk_ticket()
    change(body)
    answer = await post_zendesk(helpdesks, body)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["field"] == field
    await assert_nothing_written(cases, "zendesk", "4711")


async def test_a_body_that_is_not_json_is_422_on_the_body(helpdesks, cases) -> None:
    raw = b"ticket=4711"
    answer = await helpdesks.post("/v1/intake/zendesk", content=raw, headers=signed(raw, API_NOW))
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == "body"
    await assert_nothing_written(cases, "zendesk", "4711")


# -- Freshdesk and JSM ------------------------------------------------------------------


async def test_freshdesk_with_the_shared_secret_opens_then_finds_the_case(helpdesks) -> None:
    """Freshdesk renders priority as "Urgent" and tags comma separated."""
    body = {
        "ticket": {
            "id": "310",
            "priority": "Urgent",
            "subject": "Payments fail at checkout",
            "description": "Every card payment is declined since 08:40.",
            "tags": "Payment, security incident",
            "url": "https://example.freshdesk.com/a/tickets/310",
            "requester": {
                "id": "55",
                "name": "Jonas Berg",
                "email": "jonas@example.se",
                "locale": "sv",
                "time_zone": "Stockholm",
            },
        }
    }
    headers = {"X-Followsun-Intake-Secret": FRESHDESK}
    first = await helpdesks.post("/v1/intake/freshdesk", json=body, headers=headers)
    assert first.status_code == 201, first.text
    case = first.json()
    assert case["priority"] == "P1"
    assert case["skill"] == "billing"  # tag "payment"
    assert case["escalation"]["flags"] == ["security"]  # tag "security incident"
    assert case["escalation"]["customer"]["id"] == "freshdesk:55"
    assert case["escalation"]["customer"]["timezone"] == "Europe/Stockholm"
    again = await helpdesks.post("/v1/intake/freshdesk", json=body, headers=headers)
    assert (again.status_code, again.json()["id"]) == (200, case["id"])


async def test_jsm_with_the_shared_secret_takes_labels_and_a_java_locale(helpdesks) -> None:
    """JSM sends labels as a JSON list and the reporter's locale as en_US."""
    body = {
        "ticket": {
            "id": "SUP-1042",
            "priority": "Highest",
            "subject": "Webhooks not delivered",
            "tags": ["api", "vip"],
            "requester": {
                "id": "5b10ac8d82e05b22cc7d4ef5",
                "email": "ops@example.com",
                "locale": "en_US",
                "time_zone": "America/New_York",
            },
        }
    }
    answer = await helpdesks.post(
        "/v1/intake/jsm", json=body, headers={"X-Followsun-Intake-Secret": JSM}
    )
    assert answer.status_code == 201, answer.text
    case = answer.json()
    assert (case["priority"], case["skill"]) == ("P1", "integrations")
    assert case["escalation"]["flags"] == ["vip"]
    assert case["escalation"]["customer"]["locale"] == "en-US"
    assert case["escalation"]["customer"]["timezone"] == "America/New_York"
    assert case["escalation"]["external_id"] == "SUP-1042"


@pytest.mark.parametrize("source", ["freshdesk", "jsm"])
@pytest.mark.parametrize(
    "headers",
    [
        {"X-Followsun-Intake-Secret": "not-the-secret"},
        {"X-Followsun-Intake-Secret": ""},
        {},
        {"X-Followsun-Intake-Secret": ZENDESK},  # another helpdesk's secret
    ],
    ids=["wrong", "empty", "missing", "other-helpdesks"],
)
async def test_a_wrong_shared_secret_is_401(helpdesks, cases, source, headers) -> None:
    answer = await helpdesks.post(f"/v1/intake/{source}", json=zendesk_ticket(), headers=headers)
    assert_unauthorized(answer)
    await assert_nothing_written(cases, source, "4711")


# -- authentication by signature, not token ---------------------------------------------


async def test_only_the_helpdesk_endpoints_go_without_a_bearer_token(helpdesks) -> None:
    """Every other /v1 route still answers 401 to a request without a token."""
    app = helpdesks.app
    checked = []
    for route in app.routes:
        if not route.path.startswith("/v1/") or route.path.startswith("/v1/intake/"):
            continue
        path = route.path.replace("{", "").replace("}", "")
        path = "/".join(p.split(":")[0] for p in path.split("/"))
        for method in sorted(getattr(route, "methods", ()) - {"OPTIONS", "HEAD"}):
            answer = await helpdesks.request(method, path)
            assert answer.status_code == 401, (method, route.path, answer.text)
            checked.append(f"{method} {route.path}")
    assert len(checked) > 20
    intake = sorted(r.path for r in app.routes if r.path.startswith("/v1/intake/"))
    assert intake == ["/v1/intake/freshdesk", "/v1/intake/jsm", "/v1/intake/zendesk"]


# -- the mapping in the policy ----------------------------------------------------------


async def test_a_stored_policy_mapping_is_used_and_round_trips(helpdesks, redis_url) -> None:
    """PUT /v1/policy with another zendesk mapping: GET answers it, intake applies it."""
    policy = (await helpdesks.get("/v1/policy", headers=OPS)).json()
    assert policy["intake"]["zendesk"]["priorities"]["urgent"] == {
        "impact": "high",
        "urgency": "high",
    }
    edited = copy.deepcopy(policy)
    edited["intake"]["zendesk"]["priorities"]["high"] = {"impact": "low", "urgency": "low"}
    edited["intake"]["zendesk"]["skills"] = {"enterprise": "security", "billing": "billing"}
    put = await helpdesks.put("/v1/policy", json=edited, headers=OPS | {"If-Match": '"0"'})
    assert put.status_code == 200, put.text
    assert (await helpdesks.get("/v1/policy", headers=OPS)).json()["intake"] == edited["intake"]
    answer = await post_zendesk(helpdesks, zendesk_ticket())
    assert answer.status_code == 201, answer.text
    assert (answer.json()["priority"], answer.json()["skill"]) == ("P4", "security")


async def test_put_policy_refuses_a_broken_mapping_with_located_errors(helpdesks) -> None:
    policy = (await helpdesks.get("/v1/policy", headers=OPS)).json()
    policy["intake"]["zendesk"]["default_priority"] = "nromal"
    policy["intake"]["jsm"]["flags"]["Legal"] = "legal"
    answer = await helpdesks.put("/v1/policy", json=policy, headers=OPS | {"If-Match": '"0"'})
    assert answer.status_code == 422, answer.text
    errors = {e["field"]: e["reason"] for e in answer.json()["errors"]}
    assert 'did you mean "normal"' in errors["intake.zendesk.default_priority"]
    assert "lower case" in errors["intake.jsm.flags.Legal"]


def test_the_repository_policy_maps_every_helpdesk_and_exports_back_equal(tmp_path) -> None:
    """`followsun schedules export` writes [intake.*] so that it reads back the same."""
    policy = read_policy(SCHEDULES)
    assert set(policy.intake) == {"zendesk", "freshdesk", "jsm"}
    write_policy(tmp_path, policy)
    assert read_policy(tmp_path) == policy


# the repository's policy.toml without its [intake.*] tables
WITHOUT_INTAKE = (SCHEDULES / "policy.toml").read_text().split("\n# Helpdesk intake")[0]


@pytest.mark.parametrize(
    ("toml", "path", "says"),
    [
        ("[intake.zendsk]\npriorities = {}", "intake.zendsk", 'did you mean "zendesk"'),
        (
            '[intake.jsm.priorities]\nhighest = { impact = "hgh", urgency = "high" }',
            "intake.jsm.priorities.highest.impact",
            "hgh",
        ),
        ('[intake.jsm.flags]\nvip = "celebrity"', "intake.jsm.flags.vip", "celebrity"),
        ("[intake.jsm]\npriorities = {}", "intake.jsm.priorities", "at least one"),
        (
            '[intake.zendesk]\ndefault_priority = "p1"\npriorities = { urgent = '
            '{ impact = "high", urgency = "high" } }',
            "intake.zendesk.default_priority",
            "not one of the priorities",
        ),
        (
            '[intake.zendesk]\npriorities = { urgent = { impact = "high", urgency = "high" } }'
            '\nskills = { "two words" = "billing" }',
            "intake.zendesk.skills.two words",
            "space",
        ),
        (
            '[intake.freshdesk]\npriorities = { low = { impact = "low", urgency = "low" } }'
            '\nflags = { "vip,gold" = "vip" }',
            "intake.freshdesk.flags.vip,gold",
            "comma",
        ),
        (
            '[intake.jsm]\npriorities = { low = { impact = "low", urgency = "low" } }'
            '\nskils = { api = "integrations" }',
            "intake.jsm.skils",
            "unknown field",
        ),
    ],
)
def test_the_intake_mapping_is_validated_with_located_errors(toml, path, says) -> None:
    with pytest.raises(ScheduleError) as caught:
        decode_policy(f"{WITHOUT_INTAKE}\n\n{toml}\n")
    problems = {p.path: p.message for p in caught.value.problems}
    assert path in problems, problems
    assert says in problems[path]


def test_a_policy_without_intake_is_valid() -> None:
    """The section is optional: each helpdesk then gets its own priority names."""
    assert decode_policy(WITHOUT_INTAKE).intake == {}


# -- zone names -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "zone"),
    [
        ("Europe/Amsterdam", "Europe/Amsterdam"),
        ("UTC", "UTC"),
        ("Amsterdam", "Europe/Amsterdam"),
        ("Kyiv", "Europe/Kyiv"),
        ("Bogota", "America/Bogota"),  # CLDR says Bogotá
        ("Mexico City", "America/Mexico_City"),
        ("Buenos Aires", "America/Argentina/Buenos_Aires"),
        ("Fiji", "Pacific/Fiji"),  # a country with one zone
        ("American Samoa", "Pacific/Pago_Pago"),
        ("  tokyo ", "Asia/Tokyo"),
        ("", "UTC"),
        # Rails' names through CLDR metazones, Windows zones and aliases
        ("Eastern Time (US & Canada)", "America/New_York"),
        ("Central Time (US & Canada)", "America/Chicago"),
        ("Mountain Time (US & Canada)", "America/Denver"),
        ("Pacific Time (US & Canada)", "America/Los_Angeles"),
        ("Atlantic Time (Canada)", "America/Halifax"),
        ("Newfoundland", "America/St_Johns"),  # Windows "Newfoundland Standard Time"
        ("Greenland", "America/Nuuk"),  # Windows "Greenland Standard Time"
        ("Hawaii", "Pacific/Honolulu"),  # metazone "Hawaii Time", one zone
        ("Central America", "America/Guatemala"),
        ("Ekaterinburg", "Asia/Yekaterinburg"),
        ("Rangoon", "Asia/Yangon"),  # alias Asia/Rangoon
        ("Cape Verde Is.", "Atlantic/Cape_Verde"),
        ("Solomon Is.", "Pacific/Guadalcanal"),
        ("Chatham Is.", "Pacific/Chatham"),
        ("Eastern Standard Time", "America/New_York"),  # a Windows id as it is
        ("Amsterdam (Netherlands)", "Europe/Amsterdam"),
    ],
)
def test_helpdesk_zone_names_resolve_through_iana_and_cldr(name, zone) -> None:
    found, why = helpdesk_zone(name)
    assert (found, why) == (zone, None)


@pytest.mark.parametrize(
    "name",
    [
        "Edinburgh",  # no zone's CLDR city
        "Arizona",
        "Marshall Is.",  # two zones in CLDR
        "Alaska",  # CLDR's "Alaska Time" is six zones, none of them Windows'
        "Arabian Standard Time",  # Windows: Dubai (+4); CLDR: Riyadh, Baghdad (+3)
        "Eastern Time (Canada)",  # America/New_York is in the US
        "Eastern Time (Atlantis)",  # no territory
        "Mars",
    ],
)
def test_helpdesk_zone_names_nobody_can_place_are_utc_with_a_reason(name) -> None:
    """Not guessed: a name CLDR does not give exactly one zone, or a zone outside the
    territories the name's parenthesis lists, is UTC with the reason."""
    found, why = helpdesk_zone(name)
    assert found == "UTC"
    assert why
    assert f'"{name}"' in why
