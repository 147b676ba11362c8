"""Messages as they leave: rendered for their reader, and the ones no receiver took."""

from __future__ import annotations

from datetime import datetime

import msgspec

__all__ = ["DeadLetter", "Delivered"]


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

    def order(self) -> tuple[datetime, int, int]:
        """Sent order: time, then the outbox entry id (two updates in one instant)."""
        ms, _, n = self.seq.partition("-")
        return (self.at, int(ms or 0), int(n or 0))


class DeadLetter(msgspec.Struct, frozen=True, kw_only=True):
    """A message whose last delivery attempt failed; operations can replay it."""

    id: str
    url: str
    key: str
    error: str
    failed_at: datetime
    attempts: int
    payload: str
