"""Messages as they leave: rendered for their reader, and the ones no receiver took."""

from __future__ import annotations

import base64
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import msgspec

__all__ = ["SIGNING_KEY", "DeadLetter", "Delivered", "job_args", "kept_args"]

# what a dead letter keeps instead of the webhook signing key a job was given
SIGNING_KEY = {"secret": "webhook signing key"}


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
    """A message whose last delivery attempt failed; operations can replay it: `job` (a
    dotted path) runs again with `args` (as `kept_args` keeps them)."""

    id: str
    url: str  # the target: a webhook URL or a mail address
    key: str
    error: str
    failed_at: datetime
    attempts: int
    payload: str  # what was sent: the webhook's JSON, the e-mail's MIME text
    job: str = ""  # empty: a webhook's letter kept before letters named their job
    args: list[Any] = []


def kept_args(args: Sequence[Any], secrets: Collection[int] = ()) -> list[Any]:
    """A job's arguments as a dead letter keeps them, safe in JSON and MessagePack: bytes
    as `{"base64": ...}`, and `SIGNING_KEY` at the positions in `secrets` (dead letters are
    shown to operations; a replay puts the deployment's key back)."""
    out: list[Any] = []
    for i, arg in enumerate(args):
        if i in secrets:
            out.append(dict(SIGNING_KEY))
        elif isinstance(arg, bytes | bytearray):
            out.append({"base64": base64.b64encode(arg).decode()})
        else:
            out.append(arg)
    return out


def job_args(kept: Sequence[Any], signing_key: str) -> tuple[list[Any], list[int]]:
    """The arguments to run a dead letter's job with again (the inverse of `kept_args`,
    with `signing_key` where the letter left it out), and the positions it went to."""
    args: list[Any] = []
    secrets: list[int] = []
    for i, arg in enumerate(kept):
        if arg == SIGNING_KEY:
            args.append(signing_key)
            secrets.append(i)
        elif isinstance(arg, dict) and arg.keys() == {"base64"}:
            args.append(base64.b64decode(arg["base64"]))
        else:
            args.append(arg)
    return args, secrets
