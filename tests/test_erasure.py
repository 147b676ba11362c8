"""A customer's erasure and export (DELETE/GET /v1/customers/{id}) over a real Redis and
real RQ jobs, checked by reading the whole keyspace; logs and team notices name cases only."""

from __future__ import annotations

import logging
import re
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import receivers
import redis as redis_sync
from conftest import SECRET, token
from harness import Harness
from keyspace import findings, variants
from receivers import WebhookReceiver, deployment, fast_retries, harness
from rq import Queue, SimpleWorker

from router.http.auth import make_token
from router.i18n import Catalogs
from router.i18n.team_messages import team_notice
from router.jobs.worker import _Worker
from router.services.notify import notice_of
from router.services.notify_formats import email_message, slack_payload, teams_payload
from router.settings import Settings
from router.store.keys import Keys

forget_queue = receivers.forget_queue

OPS = token("ops")
INTAKE = token("intake")
CATALOGS = Catalogs()

ZOE = {
    "id": "cust-zoë-7731",
    "name": "Zoë Ångström-Łukasz",
    "email": "zoe.q7x-angstrom@example.org",
}
BJORN = {"id": "cust-bjørn-5512", "name": "Bjørn Ærø-Kvist", "email": "bjorn.k5z-aero@example.net"}


def needles(person: dict[str, str]) -> list[str]:
    """What must not survive an erasure: the name, its parts, the address, its local part."""
    first, _, last = person["name"].partition(" ")
    return [person["name"], first, last, person["email"], person["email"].split("@")[0]]


def traces(person: dict[str, str]) -> list[str]:
    """The needles and the customer's id."""
    return [*needles(person), person["id"]]


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    """A webhook that never accepts: every delivery ends as a dead letter."""
    r = WebhookReceiver()
    r.answer(500)
    r.thread.start()
    yield r
    r.server.shutdown()
    r.server.server_close()
    r.thread.join(timeout=5)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def settings(
    redis_url: str, key_prefix: str, receiver: WebhookReceiver, forget_queue: None
) -> Settings:
    return deployment(
        redis_url,
        key_prefix,
        webhooks=receiver.url,
        smtp_url=f"smtp://127.0.0.1:{closed_port()}",  # nobody listens: e-mail dead-letters
        mail_from="Support <help@followsun.example>",
    )


@pytest.fixture
async def svc(
    api: Any, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Harness]:
    """The deployment's worker side (dispatch, jobs) over the api fixture's store, with
    one retry per delivery."""
    fast_retries(monkeypatch, retries=1)
    async with harness(settings, monkeypatch) as h:
        yield h


class InlineWorker(_Worker, SimpleWorker):
    """`followsun worker`'s worker (what it logs, what it leaves out), running each job in
    this process instead of a forked one, so the test sees its log records."""


def work(redis_url: str, key_prefix: str) -> None:
    """Run the deployment's queue to empty, as `followsun worker` would."""
    receivers.work(redis_url, key_prefix, InlineWorker)


async def intake(api: Any, person: dict[str, str], external_id: str) -> dict[str, Any]:
    first = person["name"].split()[0]
    body = {
        "source": "test",
        "external_id": external_id,
        "priority": "P3",
        "skill": "billing",
        "summary": f"{person['name']} was charged twice; write to {person['email']}",
        "steps_taken": [f"asked {first} for the invoice"],
        "impact_assessment": f"{first} cannot pay suppliers",
        "help_needed": f"refund {person['name']}",
        "customer": {**person, "locale": "cs-CZ", "timezone": "Europe/Prague"},
    }
    answer = await api.post("/v1/escalations", json=body, headers=INTAKE)
    assert answer.status_code == 201, answer.text
    return answer.json()


async def act(api: Any, case_id: str, step: str, body: dict[str, Any] | None = None) -> None:
    answer = await api.post(f"/v1/cases/{case_id}/{step}", json=body, headers=OPS)
    assert answer.status_code == 200, answer.text


def status_path(case: dict[str, Any]) -> str:
    return "/status/" + case["status_url"].rsplit("/status/", 1)[1]


async def story(
    api: Any, svc: Harness, person: dict[str, str], tag: str, url: str
) -> dict[str, Any]:
    """A case that has been everywhere personal data goes: notes (one to the customer), a
    handover packet, rendered updates, deliveries that dead-lettered (the webhook, the
    e-mail), a resolution, feedback on the status page, closing; then updates dispatched
    and not yet sent (their e-mail jobs wait in the queue)."""
    case = await intake(api, person, f"{tag}-1")
    first = person["name"].split()[0]
    await act(api, case["id"], "notes", {"text": f"called {first} at home"})
    visible = {"text": f"Dear {first}, we are on it", "customer_visible": True}
    await act(api, case["id"], "notes", visible)
    report = await svc.handover.hand_over("prg-l1", datetime(2026, 11, 23, 15, 30, tzinfo=UTC))
    assert sum(report.moved.values()) >= 1
    await svc.outbox.dispatch()
    work(url, svc.keys.prefix)
    await act(api, case["id"], "ack")
    await act(api, case["id"], "resolve", {"resolution": f"refunded {person['name']}"})
    form = {"rating": "4", "comment": f"thanks, {first} here"}
    rated = await api.post(status_path(case), data=form, follow_redirects=False)
    assert rated.status_code == 303, rated.text
    await act(api, case["id"], "close")
    await svc.outbox.dispatch()  # the resolved/closed updates: jobs queued, not run
    return case


async def test_erasure_leaves_no_byte_of_the_customer_anywhere(
    api, svc, redis_url, key_prefix
) -> None:
    """After DELETE /v1/customers/{id} no key of the deployment (documents, streams, dead
    letters, RQ job data and results, decompressed and decoded) holds the customer's name,
    e-mail or id, while another customer's data is intact; their status links answer 410,
    the cases keep their statistics, and one audit event records the erasure."""
    zoe = await story(api, svc, ZOE, "z", redis_url)
    zoe_open = await intake(api, ZOE, "z-2")  # a second case, still open
    bjorn = await story(api, svc, BJORN, "b", redis_url)
    conn = redis_sync.Redis.from_url(redis_url)
    before = findings(conn, key_prefix, [*needles(ZOE), ZOE["id"]])
    where = {key for key, _ in before}
    # the scan sees the data where it is: dead letters, RQ jobs (e-mail and webhook), ...
    assert Keys(key_prefix).dead_letters in where
    assert any(k.startswith("rq:job:") for k in where)
    assert {n for _, n in before} == set([*needles(ZOE), ZOE["id"]])
    jobs = Queue(Keys(key_prefix).queue, connection=conn)
    queued_mail = [j for j in jobs.get_jobs() if j.func_name == "router.jobs.mail.send"]
    assert queued_mail, "an e-mail job waits in the queue"

    exported = await api.get(f"/v1/customers/{ZOE['id']}/export", headers=OPS)
    assert exported.status_code == 200, exported.text
    data = exported.json()
    assert data["customer"] == ZOE["id"]
    assert sorted(c["case"]["id"] for c in data["cases"]) == sorted([zoe["id"], zoe_open["id"]])
    [full] = [c for c in data["cases"] if c["case"]["id"] == zoe["id"]]
    assert full["case"]["escalation"]["customer"]["email"] == ZOE["email"]
    assert full["case"]["feedback"]["comment"] == "thanks, Zoë here"
    assert full["handovers"]
    assert full["updates"]
    assert full["dead_letters"]
    assert full["facts"]
    assert [e["type"] for e in full["events"]][:2] == ["received", "note"]

    erased = await api.delete(f"/v1/customers/{ZOE['id']}", headers=OPS)
    assert erased.status_code == 200, erased.text
    assert sorted(erased.json()["cases"]) == sorted([zoe["id"], zoe_open["id"]])
    assert erased.json()["jobs_deleted"] >= 1

    assert findings(conn, key_prefix, [*needles(ZOE), ZOE["id"]]) == set()
    kept = findings(conn, key_prefix, [*needles(BJORN), BJORN["id"]])
    kept_where = {key for key, _ in kept}
    assert {n for _, n in kept} == set([*needles(BJORN), BJORN["id"]])
    assert Keys(key_prefix).dead_letters in kept_where
    assert Keys(key_prefix).case(bjorn["id"]) in kept_where
    assert any(k.startswith("rq:job:") for k in kept_where)

    gone = await api.get(status_path(zoe))
    assert gone.status_code == 410
    assert gone.headers["content-type"].startswith("application/problem+json")
    assert gone.json()["status"] == 410
    assert (await api.get(status_path(bjorn))).status_code == 200

    stats = (await api.get(f"/v1/cases/{zoe['id']}", headers=OPS)).json()
    assert (stats["status"], stats["priority"]) == ("closed", "P3")
    events = (await api.get(f"/v1/cases/{zoe['id']}/events", headers=OPS)).json()
    assert [e["type"] for e in events][:3] == ["received", "note", "customer_update"]
    audit = [f for _, f in conn.xrange(Keys(key_prefix).events) if f[b"case"] == b""]
    assert len(audit) == 1
    assert b"customer_erased" in audit[0][b"e"]

    again = await api.delete(f"/v1/customers/{ZOE['id']}", headers=OPS)
    assert again.status_code == 404
    assert (await api.get(f"/v1/customers/{ZOE['id']}/export", headers=OPS)).status_code == 404
    conn.close()


async def test_only_operations_may_export_or_erase(api) -> None:
    """Agents, viewers and intake get 403; nothing is erased."""
    case = await intake(api, BJORN, "r-1")
    for role in ("viewer", "intake"):
        answer = await api.delete(f"/v1/customers/{BJORN['id']}", headers=token(role))
        assert answer.status_code == 403
    agent = token("agent", "prg-l1")
    assert (await api.get(f"/v1/customers/{BJORN['id']}/export", headers=agent)).status_code == 403
    stored = (await api.get(f"/v1/cases/{case['id']}", headers=OPS)).json()
    assert stored["escalation"]["customer"]["name"] == BJORN["name"]


async def test_cases_from_before_the_index_are_found(api, redis_url, key_prefix) -> None:
    """A customer's case written before the customer index existed is found (the index is
    filled in from the cases on first use) and erased."""
    case = await intake(api, ZOE, "old-1")
    conn = redis_sync.Redis.from_url(redis_url)
    keys = Keys(key_prefix)
    conn.delete(keys.customer_cases(ZOE["id"]), keys.customers_indexed)  # as before the index
    answer = await api.get(f"/v1/customers/{ZOE['id']}/export", headers=OPS)
    assert answer.status_code == 200, answer.text
    assert [c["case"]["id"] for c in answer.json()["cases"]] == [case["id"]]
    assert conn.get(keys.customers_indexed) == b"1"
    assert (await api.delete(f"/v1/customers/{ZOE['id']}", headers=OPS)).status_code == 200
    assert findings(conn, key_prefix, needles(ZOE)) == set()
    conn.close()


async def test_logs_and_team_notices_name_cases_not_people(
    api, svc, redis_url, key_prefix, caplog
) -> None:
    """An intake, handover and delivery run (deliveries failing to their last attempt)
    logs no name or address, not even in a record's extra attributes; the team and
    operations messages of the case, as webhooks and as team notices on every channel,
    carry neither."""
    caplog.set_level(logging.DEBUG)
    case = await story(api, svc, ZOE, "log", redis_url)
    work(redis_url, key_prefix)
    assert any(r.name.startswith("rq.") for r in caplog.records)
    assert any("deliver" in r.getMessage() for r in caplog.records)
    for record in caplog.records:
        text = record.getMessage() + repr(vars(record))
        for needle in needles(ZOE):
            assert needle not in text, (record.name, record.getMessage()[:200])

    messages = [m for m in await svc.cases.outbox() if m.case == case["id"]]
    told = [m for m in messages if m.audience != "customer"]
    assert told
    for msg in told:
        sent = svc.outbox.render(msg)
        shown = [sent.subject, sent.body, repr(msg.params)]
        found = notice_of(msg)
        if found is not None:
            notice = team_notice(
                CATALOGS,
                found[0],
                case=msg.case,
                priority=msg.params.get("priority", "P3"),
                due=datetime(2026, 11, 24, 9, 0, tzinfo=UTC),
                tag="de-DE",
                timezone="Europe/Berlin",
                link=f"https://followsun.example/console/cases/{msg.case}",
                from_team=msg.params.get("from_team", ""),
                reasons=msg.params.get("reasons", ""),
            )
            shown += [repr(slack_payload(notice)), repr(teams_payload(notice))]
            mail = email_message(
                notice,
                ["team@followsun.example"],
                sender="Support <help@followsun.example>",
                at=msg.at,
                key=msg.key,
                domain="followsun.example",
            )
            shown += [form.decode(errors="replace") for form in variants(mail)]
        for needle in needles(ZOE):
            assert all(needle not in text for text in shown), (msg.key, needle)
    assert any(notice_of(m) for m in told)


def csrf_field(page: str) -> dict[str, str]:
    """The console form's CSRF field, as the page rendered it (none without the check)."""
    found = re.search(r'name="_csrf_token" value="([^"]+)"', page)
    return {"_csrf_token": found.group(1)} if found else {}


async def test_the_console_looks_up_exports_and_erases(api) -> None:
    """Ops look a customer up, download the JSON, and erase only after typing the id again;
    other roles are not let in."""
    case = await intake(api, ZOE, "con-1")
    api.cookies.set("fs_token", make_token(SECRET, "ops", subject="ops-ana"))
    try:
        start = await api.get("/console/customers")
        assert start.status_code == 200
        assert 'id="customer-lookup"' in start.text
        found = await api.get("/console/customers", params={"id": ZOE["id"]})
        assert case["id"] in found.text
        assert 'id="customer-erase"' in found.text
        download = await api.get("/console/customers/export", params={"id": ZOE["id"]})
        assert download.status_code == 200
        assert download.headers["content-disposition"].startswith("attachment")
        assert download.json()["cases"][0]["case"]["escalation"]["customer"]["name"] == ZOE["name"]
        form = {"id": ZOE["id"], "confirm": "cust-zoe", **csrf_field(found.text)}
        refused = await api.post("/console/customers/erase", data=form, follow_redirects=False)
        assert refused.status_code == 400
        assert 'id="customer-error"' in refused.text
        form["confirm"] = ZOE["id"]
        erased = await api.post("/console/customers/erase", data=form, follow_redirects=False)
        assert erased.status_code == 303, erased.text
        done = await api.get(erased.headers["location"])
        assert 'id="customer-done"' in done.text
        assert "1 case(s) anonymised" in done.text
        again = await api.get("/console/customers", params={"id": ZOE["id"]})
        assert 'id="customer-none"' in again.text
        stored = (await api.get(f"/v1/cases/{case['id']}", headers=OPS)).json()
        assert stored["escalation"]["customer"]["name"] == ""
        api.cookies.set("fs_token", make_token(SECRET, "viewer"))
        assert (await api.get("/console/customers")).status_code == 403
    finally:
        api.cookies.clear()


async def test_an_update_rendered_during_an_erasure_is_not_kept(api, svc) -> None:
    """A dispatcher that took a customer update before the erasure and records it after
    finds the case anonymised and keeps nothing on it."""
    case = await intake(api, BJORN, "race-1")
    [(entry, msg)] = [
        (e, m) for e, m in await svc.outbox.store.take("racer", 100) if m.audience == "customer"
    ][:1]
    sent = svc.outbox.render(msg)
    assert (await api.delete(f"/v1/customers/{BJORN['id']}", headers=OPS)).status_code == 200
    await svc.outbox.store.done([(entry, sent)])
    assert await svc.outbox.store.sent_updates(case["id"]) == []
