"""Retention (policy `[retention]`): closed cases past their customer region's days lose
the customer's personal data by the sweep job; statistics stay. Checked by reading the
whole keyspace of a real Redis after a real RQ run of the job."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import msgspec
import pytest
import redis as redis_sync
import test_erasure
from conftest import API_NOW, SCHEDULES, Clock
from keyspace import findings
from test_erasure import BJORN, OPS, ZOE, act, intake, needles, status_path, story, work

from router.domain.case import Case, Note
from router.domain.errors import ScheduleError
from router.domain.feedback import give_feedback
from router.domain.model import Retention
from router.domain.personal import (
    ERASED,
    Subject,
    anonymise_case,
    anonymise_event,
    retention_days,
    retention_due,
    scrub,
)
from router.domain.validation import decode_policy
from router.store.customers import Rewrite
from router.store.keys import Keys

receiver, settings, svc = test_erasure.receiver, test_erasure.settings, test_erasure.svc
forget_queue = test_erasure.forget_queue

DAY0 = API_NOW
EU_ZOE = {**ZOE, "id": "cust-7731-eu", "region": "EU"}  # 30 days in the repository's policy
US_BJORN = {**BJORN, "id": "cust-5512-us", "region": "US"}  # 365 days
EU_INGRID = {
    "id": "cust-4410-eu",
    "name": "Ingrid Øyå-Ström",
    "email": "ingrid.w3n@example.com",
    "region": "EU",
}
POLICY_TEXT = (SCHEDULES / "policy.toml").read_text()


# -- the rules, pure -------------------------------------------------------------------------


def test_days_per_region_with_a_default() -> None:
    """A region's own days, else `default`, else no limit; no `[retention]`: no limit."""
    ret = Retention(days={"EU": 30, "default": 365})
    assert retention_days(ret, "EU") == 30
    assert retention_days(ret, "US") == 365
    assert retention_days(ret, "") == 365
    assert retention_days(Retention(days={"EU": 30}), "US") is None
    assert retention_days(None, "EU") is None


def _case(status: str, closed: datetime | None, resolved: datetime | None = None) -> Case:
    policy = decode_policy(POLICY_TEXT)
    from router.domain.case import open_case
    from router.domain.escalation import Customer, Escalation
    from router.domain.routing import Decision

    esc = Escalation(
        customer=Customer(id="c-1", name="Zoë Ångström", email="zoe@example.org"),
        priority="P3",
        summary="Zoë Ångström cannot log in",
        steps_taken=["asked Zoë"],
        help_needed="call zoe@example.org",
    )
    decision = Decision(action="assign", priority="P3", tier=1, team="t1", reasons=["Zoë's team"])
    case, _ = open_case("C-1", esc, decision, now=DAY0, policy=policy)
    return msgspec.structs.replace(case, status=status, closed_at=closed, resolved_at=resolved)


def test_a_case_is_due_once_ended_for_its_days() -> None:
    """Resolved (closed or not) for `days` days: due, counted from the resolution; a day
    less, or still open, or no limit: not due."""
    closed = _case("closed", DAY0)
    assert retention_due(closed, 30, DAY0 + timedelta(days=30))
    assert not retention_due(closed, 30, DAY0 + timedelta(days=29, hours=23))
    assert not retention_due(closed, None, DAY0 + timedelta(days=3650))
    resolved = _case("resolved", None, DAY0)
    assert retention_due(resolved, 30, DAY0 + timedelta(days=30))
    assert not retention_due(resolved, 30, DAY0 + timedelta(days=29))
    closed_later = _case("closed", DAY0 + timedelta(days=20), DAY0)
    assert retention_due(closed_later, 30, DAY0 + timedelta(days=30))
    assert not retention_due(_case("acknowledged", None), 30, DAY0 + timedelta(days=300))


def test_anonymising_keeps_the_statistics_and_blots_out_the_name() -> None:
    """The name, address and free text go; priority, times, rating stay; retention keeps
    the customer's id, erasure drops it; text that stays has the name blotted out."""
    case = _case("resolved", None)
    case = msgspec.structs.replace(
        case, notes=[Note(at=DAY0, author="agent", text="called Zoë")], resolution="refunded Zoë"
    )
    case, event = give_feedback(case, 5, "Zoë says thanks", now=DAY0)
    subject = Subject.of(case)
    kept = anonymise_case(case, subject, "retention", now=DAY0)
    gone = anonymise_case(case, subject, "erasure", now=DAY0)
    for new in (kept, gone):
        esc = new.escalation
        assert (esc.customer.name, esc.customer.email, esc.summary, esc.help_needed) == ("",) * 4
        assert esc.steps_taken == []
        assert [n.text for n in new.notes] == [""]
        assert new.resolution == ""
        assert new.feedback is not None
        assert (new.feedback.rating, new.feedback.comment) == (5, "")
        assert (new.priority, new.created_at, new.version) == (
            case.priority,
            case.created_at,
            case.version + 1,
        )
        assert new.decision.reasons == [f"{ERASED}'s team"]
    assert kept.escalation.customer.id == "c-1"
    assert gone.escalation.customer.id == ""
    assert anonymise_event(event, subject).detail == {"rating": "5"}
    assert scrub("Mail ZOE@EXAMPLE.ORG or zoë ångström", subject) == f"Mail {ERASED} or {ERASED}"


@pytest.mark.parametrize(
    ("table", "path", "reason"),
    [
        ("days = { EU = 0 }", "retention.days.EU", "from 1 to 36500"),
        ("days = { MARS = 30 }", "retention.days.MARS", "not a region of residency.regions"),
        ("days = { EU = 30 }\nweeks = 3", "retention.weeks", "unknown field"),
    ],
)
def test_a_wrong_retention_names_its_field(table: str, path: str, reason: str) -> None:
    """policy.toml's `[retention]` errors are located by field."""
    text = POLICY_TEXT.split("[retention]")[0] + "[retention]\n" + table + "\n"
    with pytest.raises(ScheduleError) as caught:
        decode_policy(text)
    assert any(p.path == path and reason in p.message for p in caught.value.problems), [
        str(p) for p in caught.value.problems
    ]


async def test_retention_round_trips_through_the_policy_api(api) -> None:
    """GET /v1/policy shows `[retention]`; a PUT changes it; a wrong one is a 422 naming
    the field, and nothing is written."""
    answer = await api.get("/v1/policy", headers=OPS)
    assert answer.status_code == 200
    policy = answer.json()
    assert policy["retention"] == {"days": {"EU": 30, "US": 365, "default": 365}}
    etag = answer.headers["etag"]
    bad = {**policy, "retention": {"days": {"EU": -1}}}
    refused = await api.put("/v1/policy", json=bad, headers={**OPS, "If-Match": etag})
    assert refused.status_code == 422, refused.text
    assert "retention.days.EU" in refused.text
    good = {**policy, "retention": {"days": {"EU": 7}}}
    saved = await api.put("/v1/policy", json=good, headers={**OPS, "If-Match": etag})
    assert saved.status_code == 200, saved.text
    assert (await api.get("/v1/policy", headers=OPS)).json()["retention"] == {"days": {"EU": 7}}


# -- the sweep over a real Redis and real RQ jobs --------------------------------------------


async def closed_case(api: Any, person: dict[str, str], tag: str) -> dict[str, Any]:
    case = await intake(api, person, tag)
    await act(api, case["id"], "ack")
    await act(api, case["id"], "resolve", {"resolution": f"helped {person['name']}"})
    await act(api, case["id"], "close")
    return case


async def test_the_retention_job_removes_expired_personal_data_everywhere(
    api,
    svc,
    clock: Clock,
    redis_url,
    key_prefix,
) -> None:
    """The job (run by RQ) anonymises the EU case closed 31 days ago everywhere it is
    stored (dead letters and delivery jobs included); the US case (365 days), the EU case
    closed 10 days ago and an open case keep theirs. Statistics and the customer id stay,
    the status link answers 410, and a second run finds nothing to do."""
    zoe = await story(api, svc, EU_ZOE, "rz", redis_url)
    bjorn = await story(api, svc, US_BJORN, "rb", redis_url)
    still_open = await intake(api, EU_INGRID, "ri-open")
    clock.advance(days=21)  # a Monday again: Prague on shift
    ingrid = await closed_case(api, EU_INGRID, "ri")
    conn = redis_sync.Redis.from_url(redis_url)
    assert {n for _, n in findings(conn, key_prefix, needles(EU_ZOE))} == set(needles(EU_ZOE))
    facts_before = await svc.services.stores.facts.of(await svc.cases.get(zoe["id"]))

    now = DAY0 + timedelta(days=31)
    svc.services.jobs.enqueue(
        "router.jobs.tasks.retention", now.isoformat(), job_id=f"{key_prefix}-retention-test"
    )
    work(redis_url, key_prefix)
    job = svc.services.jobs.queue.fetch_job(f"{key_prefix}-retention-test")
    assert job is not None
    assert job.return_value() == 1

    assert findings(conn, key_prefix, needles(EU_ZOE)) == set()
    assert (Keys(key_prefix).case(zoe["id"]), EU_ZOE["id"]) in findings(
        conn, key_prefix, [EU_ZOE["id"]]
    )  # retention keeps who the customer was (an erasure would not)
    for person in (US_BJORN, EU_INGRID):
        assert {n for _, n in findings(conn, key_prefix, needles(person))} == set(needles(person))
    swept = await svc.cases.get(zoe["id"])
    assert swept is not None
    assert swept.escalation.customer == msgspec.structs.replace(
        swept.escalation.customer, name="", email="", id=EU_ZOE["id"]
    )
    assert (swept.status, swept.feedback.rating if swept.feedback else None) == ("closed", 4)
    facts = await svc.services.stores.facts.of(swept)
    assert facts is not None
    assert facts_before is not None
    assert (facts.rating, facts.handovers, facts.customer) == (
        facts_before.rating,
        facts_before.handovers,
        facts_before.customer,
    )
    assert (await api.get(status_path(zoe))).status_code == 410
    assert (await api.get(status_path(ingrid))).status_code == 200
    assert (await api.get(status_path(bjorn))).status_code == 200
    assert (await api.get(status_path(still_open))).status_code == 200
    assert await svc.services.customers.sweep(now) == 0
    # an erasure request later still finds the case by the id retention kept, and drops it
    erased = await api.delete(f"/v1/customers/{EU_ZOE['id']}", headers=OPS)
    assert erased.status_code == 200, erased.text
    assert erased.json()["cases"] == [zoe["id"]]
    assert findings(conn, key_prefix, [EU_ZOE["id"]]) == set()
    conn.close()


async def test_a_sweep_stopped_halfway_finishes_on_the_next_run(
    api,
    svc,
    redis_url,
    key_prefix,
) -> None:
    """A run that stops after one case (as if killed) leaves that case done and the other
    untouched; the next run does the other, the one after finds nothing."""
    first = await closed_case(api, EU_INGRID, "h-1")
    second = await closed_case(api, EU_ZOE, "h-2")
    now = DAY0 + timedelta(days=30)
    conn = redis_sync.Redis.from_url(redis_url)
    assert await svc.services.customers.sweep(now, limit=1) == 1
    done_first = await svc.services.customers.gone(first["id"])
    left = [p for p in (EU_INGRID, EU_ZOE) if findings(conn, key_prefix, [p["email"]])]
    assert len(left) == 1
    assert (done_first is None) == (left == [EU_INGRID])
    assert await svc.services.customers.sweep(now) == 1
    assert findings(conn, key_prefix, [*needles(EU_INGRID), *needles(EU_ZOE)]) == set()
    assert await svc.services.customers.gone(second["id"]) == "retention"
    assert await svc.services.customers.sweep(now) == 0
    conn.close()


async def test_a_resolved_case_nobody_closed_is_swept_too(api, svc, redis_url, key_prefix) -> None:
    """Closing is a manual step many teams skip: a case resolved 30 days ago loses its
    customer's data though nobody closed it; an acknowledged one as old keeps it."""
    resolved = await intake(api, EU_ZOE, "rs-1")
    await act(api, resolved["id"], "ack")
    await act(api, resolved["id"], "resolve", {"resolution": f"helped {EU_ZOE['name']}"})
    still_worked_on = await intake(api, EU_INGRID, "rs-2")
    await act(api, still_worked_on["id"], "ack")
    conn = redis_sync.Redis.from_url(redis_url)
    assert await svc.services.customers.sweep(DAY0 + timedelta(days=29)) == 0
    assert await svc.services.customers.sweep(DAY0 + timedelta(days=30)) == 1
    assert findings(conn, key_prefix, needles(EU_ZOE)) == set()
    kept = {n for _, n in findings(conn, key_prefix, needles(EU_INGRID))}
    assert kept == set(needles(EU_INGRID))
    assert await svc.services.customers.gone(resolved["id"]) == "retention"
    assert (await svc.cases.get(resolved["id"])).status == "resolved"
    conn.close()


async def test_a_case_that_changed_meanwhile_is_not_written(api, svc) -> None:
    """The store writes an anonymised case only over the version it was made from: after
    a note in between, nothing is written (document, events, mark); the service reads the
    case again and succeeds."""
    case = await intake(api, EU_INGRID, "c-1")
    store = svc.services.customers.store
    [held] = await store.holdings([case["id"]])
    subject = Subject.of(held.case)
    rewrite = Rewrite(
        old=held,
        case=anonymise_case(held.case, subject, "erasure", now=DAY0),
        events=[anonymise_event(e, subject) for _, e in held.events],
        packets=[],
        audit=[anonymise_event(e, subject) for _, e in held.audit],
        received=[],
        facts=None,
        mark="erasure 0",
    )
    await act(api, case["id"], "notes", {"text": "Ingrid called again"})
    assert not await store.anonymise(rewrite)
    stored = await svc.cases.get(case["id"])
    assert stored is not None
    assert stored.escalation.customer.name == EU_INGRID["name"]
    assert [e.type for e in await svc.cases.events(case["id"])] == ["received", "note"]
    assert await store.marked(case["id"]) is None
    erased = await api.delete(f"/v1/customers/{EU_INGRID['id']}", headers=OPS)
    assert erased.status_code == 200, erased.text
    assert await store.marked(case["id"]) == "erasure"
    notes = [e.detail for e in await svc.cases.events(case["id"]) if e.type == "note"]
    assert notes == [{}]
