"""Signed, expiring links to a case's status page: the customer's only credential."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta
from functools import lru_cache

from ..domain.case import Case
from ..domain.errors import BadLink
from ..settings import Settings

__all__ = ["StatusLinks", "make_status_token", "read_status_token", "status_url"]


@lru_cache(maxsize=8)
def _keyed(secret: str) -> hmac.HMAC:
    """An HMAC keyed for status links only, with a key derived from the secret (bearer
    tokens use another). Each link signs with a copy: keying costs more than signing."""
    key = hmac.new(secret.encode(), b"followsun status links", hashlib.sha256).digest()
    return hmac.new(key, digestmod=hashlib.sha256)


def _sign(secret: str, body: str) -> str:
    mac = _keyed(secret).copy()
    mac.update(body.encode())
    return base64.urlsafe_b64encode(mac.digest()[:24]).decode()


def make_status_token(
    secret: str, case_id: str, locale: str, *, now: datetime, days: int = 30
) -> str:
    """`v1.<case>.<locale>.<expiry>.<mac>`: short, readable in a log, forgery-proof (HMAC
    over the rest); the locale lets an expired link still apologise in the right language."""
    expires = int((now + timedelta(days=days)).timestamp())
    body = f"v1.{case_id}.{locale}.{expires}"
    return f"{body}.{_sign(secret, body)}"


def status_url(settings: Settings, case_id: str, locale: str, issued: datetime) -> str:
    """The customer's link to the status page of a case, valid `status_link_days`."""
    token = make_status_token(
        settings.secret, case_id, locale, now=issued, days=settings.status_link_days
    )
    return f"{settings.link_base()}/status/{token}"


def read_status_token(secret: str, token: str, *, now: datetime) -> str:
    """The case id a token grants, or BadLink."""
    body, _, mac = token.rpartition(".")
    parts = body.split(".")
    if len(parts) != 4 or parts[0] != "v1" or not parts[3].isdigit():
        raise BadLink("invalid")
    if not hmac.compare_digest(mac.encode(), _sign(secret, body).encode()):
        raise BadLink("invalid")
    _, case_id, locale, expires = parts
    if int(expires) <= now.timestamp():
        raise BadLink("expired", locale)
    return case_id


class StatusLinks:
    """The status links of one deployment: its secret, base URL and link lifetime."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def for_case(self, case: Case) -> str:
        """The link a case's customer gets, signed at the case's creation."""
        return status_url(self._settings, case.id, case.escalation.customer.locale, case.created_at)

    def read(self, token: str, *, now: datetime) -> str:
        """The case id a token grants, or BadLink."""
        return read_status_token(self._settings.secret, token, now=now)
