"""Helpdesk webhooks prove who sent them by signature or shared secret, not bearer token.

Zendesk signs each request: `X-Zendesk-Webhook-Signature` is the base64 HMAC-SHA256,
keyed with the webhook's signing secret, of `X-Zendesk-Webhook-Signature-Timestamp`
followed by the raw body. A timestamp more than FRESHNESS old (or more than SKEW ahead
of our clock) is refused, so a captured request cannot be replayed later.

Freshdesk and Jira Service Management cannot sign; their automation sends a header we
choose, `X-Followsun-Intake-Secret`, holding a secret both sides know.

Every comparison is constant-time. Any failure, including a server with no secret
configured for that helpdesk, raises BadSignature (401) before the body is read as a
ticket, so nothing is written.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta

from ..domain.errors import BadSignature

__all__ = [
    "FRESHNESS",
    "SECRET_HEADER",
    "SKEW",
    "ZENDESK_SIGNATURE",
    "ZENDESK_TIMESTAMP",
    "check_shared_secret",
    "check_zendesk",
    "zendesk_signature",
]

ZENDESK_SIGNATURE = "X-Zendesk-Webhook-Signature"
ZENDESK_TIMESTAMP = "X-Zendesk-Webhook-Signature-Timestamp"
SECRET_HEADER = "X-Followsun-Intake-Secret"
FRESHNESS = timedelta(minutes=5)
SKEW = timedelta(minutes=1)


def zendesk_signature(secret: str, timestamp: str, body: bytes) -> str:
    """What Zendesk sends in X-Zendesk-Webhook-Signature for this timestamp and body."""
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def check_zendesk(
    secret: str, signature: str | None, timestamp: str | None, body: bytes, now: datetime
) -> None:
    """Raise BadSignature unless the signature verifies and the timestamp is fresh."""
    if not secret:
        raise BadSignature("no secret is configured for zendesk intake")
    if not signature or not timestamp:
        raise BadSignature(f"{ZENDESK_SIGNATURE} and {ZENDESK_TIMESTAMP} are required")
    expected = zendesk_signature(secret, timestamp, body)
    if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
        raise BadSignature("the signature does not match the body")
    try:
        sent = datetime.fromisoformat(timestamp.strip())
    except ValueError:
        raise BadSignature(f"{ZENDESK_TIMESTAMP} is not an ISO 8601 instant") from None
    if sent.tzinfo is None:
        raise BadSignature(f"{ZENDESK_TIMESTAMP} has no UTC offset")
    if sent < now - FRESHNESS:
        raise BadSignature("the timestamp is more than 5 minutes old")
    if sent > now + SKEW:
        raise BadSignature("the timestamp is in the future")


def check_shared_secret(helpdesk: str, secret: str, given: str | None) -> None:
    """Raise BadSignature unless `given` is the configured secret."""
    if not secret:
        raise BadSignature(f"no secret is configured for {helpdesk} intake")
    if not given or not hmac.compare_digest(secret.encode(), given.strip().encode()):
        raise BadSignature(f"{SECRET_HEADER} is missing or wrong")
