"""Signed, expiring links to a case's status page: the customer's only credential."""

from __future__ import annotations

from datetime import datetime, timedelta

import jwt

from .domain.errors import FollowsunError
from .settings import Settings

__all__ = ["BadLink", "make_status_token", "read_status_token", "status_url"]

_AUDIENCE = "followsun-status"


class BadLink(FollowsunError):
    """The link was tampered with, is incomplete, or has expired; `locale` says in which
    language to apologise when the link itself still tells (an expired but genuine link)."""

    def __init__(self, reason: str, locale: str | None = None) -> None:
        super().__init__(reason)
        self.locale = locale


def make_status_token(
    secret: str, case_id: str, locale: str, *, now: datetime, days: int = 30
) -> str:
    payload = {
        "case": case_id,
        "loc": locale,
        "aud": _AUDIENCE,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(days=days)).timestamp()),
    }
    return jwt.encode(payload, secret, algorithm="HS256")


def status_url(settings: Settings, case_id: str, locale: str, issued: datetime) -> str:
    """The customer's link to the status page of a case, valid `status_link_days`."""
    token = make_status_token(
        settings.secret, case_id, locale, now=issued, days=settings.status_link_days
    )
    return f"{settings.public_url.rstrip('/')}/status/{token}"


def read_status_token(secret: str, token: str, *, now: datetime) -> str:
    """The case id a token grants, or BadLink."""
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            audience=_AUDIENCE,
            options={"verify_exp": False, "verify_iat": False},
        )
    except jwt.PyJWTError:
        raise BadLink("invalid") from None
    if payload.get("exp", 0) <= now.timestamp():
        raise BadLink("expired", payload.get("loc"))
    return str(payload["case"])
