"""Outbox delivery over real HTTP: rendering, signed webhooks, retries, dead letters, replay."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import warnings
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
import receivers
from conftest import SECRET, token
from harness import Harness
from receivers import WebhookReceiver, deployment, fast_retries, harness, post_escalation, work

from router.domain.delivery import Delivered
from router.jobs.delivery import signature
from router.settings import Settings
from router.store.codec import decode

receiver, forget_queue = receivers.receiver, receivers.forget_queue

OPS = token("ops")


def signed(request: dict[str, Any]) -> bool:
    """The request carries our HMAC signature of its timestamp and body."""
    headers = request["headers"]
    expected = signature(SECRET, headers.get("x-followsun-timestamp", ""), request["body"])
    return hmac.compare_digest(headers.get("x-followsun-signature", ""), expected)


@pytest.fixture
def settings(
    redis_url: str, key_prefix: str, receiver: WebhookReceiver, forget_queue: None
) -> Settings:
    return deployment(redis_url, key_prefix, webhooks=receiver.url)


@pytest.fixture
async def svc(api: Any, settings: Settings) -> AsyncIterator[Harness]:
    """A service of the test's own over the api fixture's store (teams already loaded)."""
    async with harness(settings) as h:
        yield h


@pytest.fixture(autouse=True)
def fast_retry(monkeypatch: pytest.MonkeyPatch) -> None:
    fast_retries(monkeypatch)


async def intake(
    api: Any, external_id: str, locale: str, timezone: str, **fields: Any
) -> dict[str, Any]:
    return await post_escalation(api, external_id, locale, timezone, **fields)


async def recorded(svc: Harness, case_id: str) -> list[Delivered]:
    raw = await svc.redis.hgetall(svc.keys.case_updates(case_id))
    return sorted((decode(v, Delivered) for v in raw.values()), key=lambda d: (d.at, d.event))


async def test_dispatch_records_customer_updates_in_their_language(api, svc, settings) -> None:
    """Dispatch records each customer update on its case, rendered in the customer's language."""
    cs = await intake(api, "d-cs", "cs-CZ", "Europe/Prague")
    ja = await intake(api, "d-ja", "ja-JP", "Asia/Tokyo")
    assert (cs["team"], ja["status"]) == ("prg-l1", "waiting")
    pending = await svc.redis.xlen(svc.keys.outbox)

    assert await svc.outbox.dispatch() == pending
    assert await svc.outbox.dispatch() == 0

    [received] = await recorded(svc, cs["id"])
    assert received.event == "received"
    assert received.audience == "customer"
    assert received.locale == "cs"
    assert received.timezone == "Europe/Prague"
    assert received.subject == f"Váš požadavek {cs['id']} jsme přijali"
    assert received.body.startswith("Dobrý den, Alex,")
    assert "do 4 hodin, nejpozději 23. 11. 2026 14:00" in received.body  # 13:00Z in Prague
    assert received.status_url == cs["status_url"]
    assert cs["status_url"] in received.body

    updates = await recorded(svc, ja["id"])
    assert [u.event for u in updates] == ["received", "waiting"]
    assert {u.locale for u in updates} == {"ja"}
    assert updates[0].subject == f"【{ja['id']}】お問い合わせを受け付けました"
    assert "2026/11/24 13:00" in updates[0].body  # ack due 04:00Z, Tokyo time


async def test_team_and_ops_messages_are_english(
    api, svc, settings, receiver, redis_url, key_prefix
) -> None:
    """Team and operations messages reach the webhook in English; the customer's in theirs."""
    cs = await intake(api, "e-cs", "cs-CZ", "Europe/Prague")
    lost = await intake(api, "e-lost", "de-DE", "Europe/Berlin", skill="telepathy")
    assert lost["status"] == "unroutable"
    end = datetime(2026, 11, 23, 15, 30, tzinfo=UTC)  # prg-l1's 16:30 Prague shift end
    report = await svc.handover.hand_over("prg-l1", end)
    assert sum(report.moved.values()) + report.waiting == 1

    await svc.outbox.dispatch()
    work(redis_url, key_prefix)

    by_audience: dict[str, list[dict[str, Any]]] = {}
    for payload in receiver.payloads():
        by_audience.setdefault(payload["audience"], []).append(payload)
    assigned, team = sorted(by_audience["team"], key=lambda p: p["event"])
    assert (assigned["event"], assigned["team"]) == ("assigned", "prg-l1")  # at intake
    assert assigned["case"] == cs["id"]
    assert team["case"] == cs["id"]
    assert team["team"] in report.moved
    assert team["locale"] == "en"
    assert team["subject"] == f"[team] case {cs['id']}: handed over"
    assert "from_team: prg-l1" in team["body"]
    ops = {p["case"]: p for p in by_audience["ops"]}
    assert ops[lost["id"]]["subject"] == f"[ops] case {lost['id']}: unroutable"
    assert "no tier-1 team has skill telepathy" in ops[lost["id"]]["body"]
    for message in by_audience["ops"] + by_audience["team"]:
        assert message["locale"] == "en"
        assert message["subject"].startswith(f"[{message['audience']}] case {message['case']}: ")
        assert message["status_url"] == ""
    customer = {(p["case"], p["event"]): p for p in by_audience["customer"]}
    assert customer[(cs["id"], "received")]["locale"] == "cs"
    moved = [p for (case, event), p in customer.items() if case == cs["id"] and event != "received"]
    assert len(moved) == 1
    assert moved[0]["locale"] == "cs"


async def test_case_updates_endpoint_and_rerender(api, svc, settings) -> None:
    """GET /v1/cases/{id}/updates lists the updates as sent; ?locale=de renders them in German."""
    cs = await intake(api, "u-cs", "cs-CZ", "Europe/Prague")
    await svc.outbox.dispatch()

    sent = await api.get(f"/v1/cases/{cs['id']}/updates", headers=OPS)
    assert sent.status_code == 200, sent.text
    [update] = sent.json()
    assert update["locale"] == "cs"
    assert update["subject"] == f"Váš požadavek {cs['id']} jsme přijali"

    german = await api.get(f"/v1/cases/{cs['id']}/updates?locale=de", headers=OPS)
    assert german.status_code == 200, german.text
    [de] = german.json()
    assert de["locale"] == "de"
    assert de["key"] == update["key"]
    assert de["subject"] == f"Wir haben Ihre Anfrage {cs['id']} erhalten"
    assert de["body"].startswith("Hallo Alex,")
    assert "innerhalb von 4 Stunden" in de["body"]
    assert "23.11.2026, 14:00" in de["body"]  # still the customer's (Prague) wall clock

    viewer = await api.get(f"/v1/cases/{cs['id']}/updates", headers=token("viewer"))
    assert viewer.status_code == 200
    other = await api.get(f"/v1/cases/{cs['id']}/updates", headers=token("agent", "tyo-l1"))
    assert other.status_code == 403


async def test_webhook_is_signed_and_carries_the_idempotency_key(
    api, svc, settings, receiver, redis_url, key_prefix
) -> None:
    """Each POST is HMAC-SHA256 signed over timestamp.body and keyed by the message key."""
    await intake(api, "s-ja", "ja-JP", "Asia/Tokyo")
    await svc.outbox.dispatch()
    work(redis_url, key_prefix)

    assert len(receiver.requests) == 2  # received + waiting
    for request in receiver.requests:
        headers, body = request["headers"], request["body"]
        assert request["path"] == "/hook"
        assert headers["content-type"] == "application/json"
        stamp = headers["x-followsun-timestamp"]
        assert abs(int(stamp) - time.time()) < 120
        assert signed(request)
        mac = hmac.new(SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256)
        assert headers["x-followsun-signature"] == "sha256=" + mac.hexdigest()
        assert headers["x-followsun-signature"] != signature(SECRET, stamp, body + b" ")
        assert headers["x-followsun-signature"] != signature("other-secret", stamp, body)
        payload = json.loads(body)
        assert headers["idempotency-key"] == payload["key"]
        assert payload["locale"] == "ja"
    keys = {r["headers"]["idempotency-key"] for r in receiver.requests}
    assert len(keys) == 2


async def test_failed_deliveries_retry_until_accepted_once(
    api, svc, settings, receiver, redis_url, key_prefix
) -> None:
    """A receiver answering 500, 500, 200 gets the message three times and accepts it once."""
    receiver.answer(500, 500, 200)
    # one message: an unroutable case's ops alert (an assigned one also tells its team)
    await intake(api, "r-cs", "cs-CZ", "Europe/Prague", skill="telepathy")
    await svc.outbox.dispatch()
    work(redis_url, key_prefix)

    assert [r["status"] for r in receiver.requests] == [500, 500, 200]
    assert len(receiver.accepted()) == 1
    assert len({r["headers"]["idempotency-key"] for r in receiver.requests}) == 1
    assert len({r["body"] for r in receiver.requests}) == 1
    assert all(signed(r) for r in receiver.requests)
    assert await svc.redis.hlen(svc.keys.dead_letters) == 0
    work(redis_url, key_prefix)
    assert len(receiver.requests) == 3  # nothing left to retry


async def test_dead_letter_and_replay(api, svc, settings, receiver, redis_url, key_prefix) -> None:
    """A receiver that always fails leaves a dead letter; ops replay delivers it once healed."""
    receiver.answer(503)
    # one message: an unroutable case's ops alert (an assigned one also tells its team)
    case = await intake(api, "x-cs", "cs-CZ", "Europe/Prague", skill="telepathy")
    await svc.outbox.dispatch()
    work(redis_url, key_prefix)

    assert [r["status"] for r in receiver.requests] == [503] * 4  # first try + 3 retries
    assert receiver.accepted() == []
    dead = await api.get("/v1/outbox/dead", headers=OPS)
    assert dead.status_code == 200, dead.text
    [letter] = dead.json()
    assert letter["url"] == receiver.url
    assert letter["key"] == f"{case['id']}:1:ops:unroutable"
    assert letter["key"] == receiver.requests[0]["headers"]["idempotency-key"]
    assert "503" in letter["error"]
    assert letter["attempts"] == 4
    assert json.loads(letter["payload"])["case"] == case["id"]
    forbidden = await api.get("/v1/outbox/dead", headers=token("viewer"))
    assert forbidden.status_code == 403
    refused = await api.post(f"/v1/outbox/{letter['id']}/replay", headers=token("viewer"))
    assert refused.status_code == 403
    unknown = await api.post("/v1/outbox/no-such-letter/replay", headers=OPS)
    assert unknown.status_code == 404

    receiver.answer(200)
    replayed = await api.post(f"/v1/outbox/{letter['id']}/replay", headers=OPS)
    assert replayed.status_code == 202, replayed.text
    assert replayed.json() == {"status": "queued", "id": letter["id"]}
    work(redis_url, key_prefix)

    [delivered] = receiver.accepted()
    assert delivered["headers"]["idempotency-key"] == letter["key"]
    assert delivered["body"] == letter["payload"].encode()
    assert signed(delivered)
    assert (await api.get("/v1/outbox/dead", headers=OPS)).json() == []
    assert len(receiver.requests) == 5


async def test_api_transitions_queue_customer_updates(api, svc, settings) -> None:
    """Resolving a case through the API queues a 'resolved' update in the customer's language."""
    cs = await intake(api, "t-cs", "cs-CZ", "Europe/Prague")
    answer = await api.post(
        f"/v1/cases/{cs['id']}/resolve",
        json={"resolution": "refundace byla provedena"},
        headers=OPS,
    )
    assert answer.status_code == 200, answer.text
    await svc.outbox.dispatch()

    updates = {u.event: u for u in await recorded(svc, cs["id"])}
    assert set(updates) == {"received", "resolved"}
    assert updates["resolved"].locale == "cs"
    assert updates["resolved"].subject == f"Váš požadavek {cs['id']} byl vyřešen"
    assert "refundace byla provedena" in updates["resolved"].body


async def test_enqueueing_uses_no_deprecated_rq_api(api, svc, settings) -> None:
    """Dispatch enqueues delivery jobs without rq deprecation warnings."""
    await intake(api, "w-cs", "cs-CZ", "Europe/Prague")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        await svc.outbox.dispatch()
    assert [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)] == []
