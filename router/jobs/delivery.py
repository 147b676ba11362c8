"""The delivery jobs: one signed POST per message and webhook, and what happens after the
last failed attempt. Enqueued by `services.outbox` by dotted path."""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx

from ..domain.delivery import DeadLetter, kept_args
from ..domain.errors import DeliveryFailed
from ..services import outbox
from ..store import DeadLetters

if TYPE_CHECKING:
    import redis

__all__ = ["dead_letter", "deliver", "signature"]


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over `timestamp.body`, hex: what X-Followsun-Signature carries."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


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


def dead_letter(job: Any, connection: redis.Redis, exc_type: Any, exc: Any, tb: Any) -> None:
    """RQ failure callback of every delivery job (webhook, e-mail, chat): after the last
    attempt, keep the message where ops can see it, with the job and its arguments to
    replay it (`job.meta["letter"]`, set by `services.outbox`, names its target)."""
    if job.retries_left:
        return  # RQ will try again
    about = job.meta.get("letter") or _before_meta(job)
    letter = DeadLetter(
        id=job.id,
        url=about.get("target", ""),
        key=about.get("key", ""),
        error=str(exc),
        failed_at=datetime.now(UTC),
        attempts=outbox.RETRY.max + 1,
        payload=next((a.decode(errors="replace") for a in job.args if isinstance(a, bytes)), ""),
        job=job.func_name,
        args=kept_args(job.args, about.get("secrets", ())),
    )
    DeadLetters(connection, job.id.split("-deliver-")[0]).keep(letter)


def _before_meta(job: Any) -> dict[str, Any]:
    """A webhook job queued before delivery jobs carried `meta["letter"]`."""
    if job.func_name != outbox.DELIVER:
        return {}
    url, _payload, key, _secret = job.args
    return {"target": url, "key": key, "secrets": [3]}
