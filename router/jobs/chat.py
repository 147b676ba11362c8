"""The chat delivery job: one team notice POSTed to a Slack or Microsoft Teams webhook.
Enqueued by `services.notify` by dotted path; retried, then a dead letter, like every
delivery (`services.outbox`)."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from ..domain.errors import DeliveryFailed

__all__ = ["post"]


def post(url: str, payload: bytes, key: str, channel: str) -> int:
    """POST the JSON `payload` to a `channel` ("slack", "teams") webhook. Raises (and so
    retries) unless the receiver answers 2xx. The URL is a credential: errors name only
    its host."""
    where = f"{channel} webhook at {urlsplit(url).hostname or '?'}"
    headers = {"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": key}
    try:
        response = httpx.post(url, content=payload, headers=headers, timeout=10.0)
    except httpx.HTTPError as err:
        raise DeliveryFailed(f"{where}: {type(err).__name__}") from None
    if not 200 <= response.status_code < 300:
        raise DeliveryFailed(f"{where} answered {response.status_code}")
    return response.status_code
