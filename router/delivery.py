"""From the outbox to the world: render, record, and deliver to webhooks with a signature.

A dispatcher reads the outbox stream in a consumer group (so each message is handled
once even with several workers, and one a crashed worker held is claimed again), renders
customer updates in the customer's language and zone, records them on the case as sent,
and enqueues one delivery job per webhook with a deterministic id. A delivery job signs
`timestamp.body` with HMAC-SHA256 and POSTs; failures retry with backoff (RQ's Retry);
after the last attempt the message lands in the dead-letter hash, which ops can replay.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import msgspec
import redis
from redis.asyncio import Redis
from rq import Callback, Queue, Retry

from .domain.handover import Outbox
from .i18n import Catalogs, render
from .service import Service
from .settings import Settings
from .status_links import status_url
from .store.codec import decode, encode
from .store.keys import Keys

__all__ = ["Delivered", "deliver", "dispatch", "signature"]

GROUP = "dispatch"
RETRY = Retry(max=4, interval=[2, 10, 60, 300])


class Delivered(msgspec.Struct, frozen=True, kw_only=True):
    """A message as sent: what the webhook received (and the case's update history shows)."""

    key: str
    event: str
    audience: str
    case: str
    team: str | None
    locale: str
    timezone: str
    subject: str
    body: str
    at: datetime
    status_url: str = ""
    params: dict[str, str] = {}
    seq: str = ""  # the outbox entry id: the order the messages were written in


async def sent_updates(redis_client: Redis, keys: Keys, case_id: str) -> list[Delivered]:
    """A case's customer updates as sent, in the order they were written."""
    raw = await redis_client.hgetall(keys.case_updates(case_id))

    def order(d: Delivered) -> tuple[datetime, int, int]:
        ms, _, n = d.seq.partition("-")
        return (d.at, int(ms or 0), int(n or 0))

    return sorted((decode(v, Delivered) for v in raw.values()), key=order)


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over `timestamp.body`, hex: what X-Followsun-Signature carries."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def _params(msg: Outbox) -> dict[str, Any]:
    out: dict[str, Any] = dict(msg.params)
    for name in ("due", "next_update", "start"):
        out[name] = datetime.fromisoformat(out[name]) if out.get(name) else None
    return out


def render_message(
    catalogs: Catalogs, msg: Outbox, *, status_url: str, locale: str | None = None
) -> Delivered:
    """A customer update in their language (or `locale`); team and ops notes in English."""
    if msg.audience == "customer":
        params = {**_params(msg), "status_url": status_url}
        update = render(
            catalogs,
            msg.event,
            tag=locale or msg.locale,
            timezone=msg.timezone,
            now=msg.at,
            params=params,
        )
        subject, body, code = update.subject, update.body, update.locale
    else:
        subject = f"[{msg.audience}] case {msg.case}: {msg.event.replace('_', ' ')}"
        body = "\n".join(f"{k}: {v}" for k, v in sorted(msg.params.items())) or msg.event
        code = "en"
    return Delivered(
        key=msg.key,
        event=msg.event,
        audience=msg.audience,
        case=msg.case,
        team=msg.team,
        locale=code,
        timezone=msg.timezone,
        subject=subject,
        body=body,
        at=msg.at,
        status_url=status_url if msg.audience == "customer" else "",
        params=msg.params,
    )


async def dispatch(
    svc: Service,
    catalogs: Catalogs,
    settings: Settings,
    *,
    count: int = 500,
    consumer: str | None = None,
) -> int:
    """Handle what is new in the outbox (and what a dead consumer left); returns how many."""
    k = svc.keys
    consumer = consumer or f"{os.getpid()}"
    try:
        await svc.redis.xgroup_create(k.outbox, GROUP, id="0", mkstream=True)
    except redis.ResponseError as err:  # BUSYGROUP: it exists
        if "BUSYGROUP" not in str(err):
            raise
    claimed = await svc.redis.xautoclaim(
        k.outbox, GROUP, consumer, min_idle_time=60_000, start_id="0-0", count=count
    )
    entries = list(claimed[1])
    fresh = await svc.redis.xreadgroup(GROUP, consumer, {k.outbox: ">"}, count=count)
    for _, items in fresh:
        entries += items
    if not entries:
        return 0
    urls = settings.webhook_urls()
    queue = Queue(k.queue, connection=redis.Redis.from_url(svc.url)) if urls else None
    secret = settings.webhook_secret or settings.secret
    pipe = svc.redis.pipeline(transaction=False)
    jobs = []
    for entry_id, fields in entries:
        msg = decode(fields[b"e"], Outbox)
        url = (
            status_url(settings, msg.case, msg.locale, msg.at) if msg.audience == "customer" else ""
        )
        sent = msgspec.structs.replace(
            render_message(catalogs, msg, status_url=url),
            seq=entry_id.decode() if isinstance(entry_id, bytes) else entry_id,
        )
        if msg.audience == "customer":
            pipe.hsetnx(k.case_updates(msg.case), msg.key, encode(sent))
        pipe.xack(k.outbox, GROUP, entry_id)
        payload = msgspec.json.encode(sent)
        for i, hook in enumerate(urls):
            digest = hashlib.sha256(msg.key.encode()).hexdigest()[:20]
            jobs.append((f"{k.prefix}-deliver-{digest}-{i}", hook, payload, msg.key))
    for job_id, hook, payload, key in jobs:
        assert queue is not None
        if not queue.connection.exists(f"rq:job:{job_id}"):
            queue.enqueue(
                deliver,
                hook,
                payload,
                key,
                secret,
                job_id=job_id,
                retry=RETRY,
                on_failure=Callback(dead_letter),
                result_ttl=86400,
                failure_ttl=86400 * 7,
            )
    await pipe.execute()
    return len(entries)


class DeliveryFailed(Exception):
    """The receiver did not take the message (status or network); RQ retries."""


def deliver(url: str, payload: bytes, key: str, secret: str) -> int:
    """POST one message, signed. Raises (and so retries) unless the receiver answers 2xx."""
    stamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": key,
        "X-Followsun-Timestamp": stamp,
        "X-Followsun-Signature": signature(secret, stamp, payload),
    }
    try:
        response = httpx.post(url, content=payload, headers=headers, timeout=10.0)
    except httpx.HTTPError as err:
        raise DeliveryFailed(f"{url}: {type(err).__name__}: {err}") from err
    if not 200 <= response.status_code < 300:
        raise DeliveryFailed(f"{url} answered {response.status_code}")
    return response.status_code


class DeadLetter(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    url: str
    key: str
    error: str
    failed_at: datetime
    attempts: int
    payload: str


def dead_letter(job: Any, connection: redis.Redis, exc_type: Any, exc: Any, tb: Any) -> None:
    """RQ failure callback: after the last attempt, keep the message where ops can see it."""
    if job.retries_left:
        return  # RQ will try again
    url, payload, key, _secret = job.args
    prefix = job.id.split("-deliver-")[0]
    letter = DeadLetter(
        id=job.id,
        url=url,
        key=key,
        error=str(exc),
        failed_at=datetime.now(UTC),
        attempts=(RETRY.max + 1),
        payload=payload.decode(),
    )
    connection.hset(Keys(prefix).dead_letters, job.id, encode(letter))


async def dead_letters(redis_client: Redis, keys: Keys) -> list[DeadLetter]:
    raw = await redis_client.hgetall(keys.dead_letters)
    return sorted((decode(v, DeadLetter) for v in raw.values()), key=lambda d: d.failed_at)


def replay(keys: Keys, url: str, letter_id: str, secret: str) -> bool:
    """Deliver a dead letter again (a fresh job with fresh retries); False if unknown."""
    conn = redis.Redis.from_url(url)
    raw = conn.hget(keys.dead_letters, letter_id)
    if raw is None:
        return False
    letter = decode(raw, DeadLetter)
    Queue(keys.queue, connection=conn).enqueue(
        deliver,
        letter.url,
        letter.payload.encode(),
        letter.key,
        secret,
        job_id=f"{letter.id}-replay-{int(time.time())}",
        retry=RETRY,
        on_failure=Callback(dead_letter),
    )
    conn.hdel(keys.dead_letters, letter_id)
    return True
