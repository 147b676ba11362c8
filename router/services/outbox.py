"""From the outbox to the world: render, record, and hand to delivery jobs.

A dispatcher takes the outbox stream's new messages (and those a crashed worker held),
renders customer updates in the customer's language and zone, records them on the case as
sent, and asks each channel (webhooks, and whatever `router.wiring` adds) which delivery
jobs the message needs; each is enqueued once, under a deterministic id, and retried with
backoff until its last failure leaves a dead letter ops can replay.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import msgspec
from rq import Retry

from ..domain.case import Case
from ..domain.delivery import DeadLetter, Delivered, job_args
from ..domain.handover import Outbox
from ..i18n import Catalogs, render
from ..store import CaseStore, DeadLetters, OutboxStore
from .links import status_url

if TYPE_CHECKING:
    from ..jobs.queues import JobQueue
    from ..settings import Settings

__all__ = [
    "Channel",
    "Delivery",
    "OutboxService",
    "Refreshing",
    "WebhookChannel",
    "render_message",
]

DELIVER = "router.jobs.delivery.deliver"
DEAD_LETTER = "router.jobs.delivery.dead_letter"
RETRY = Retry(max=4, interval=[2, 10, 60, 300])


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


class Delivery(msgspec.Struct, frozen=True):
    """One job a channel wants run for one message: the job (dotted path), its arguments,
    and a name unique among that message's deliveries (it makes the job id); `target` is
    what a dead letter names (a URL, a mail address), `secrets` the positions in `args` of
    the webhook signing key, which a dead letter does not keep (replay puts it back)."""

    job: str
    args: tuple[Any, ...]
    name: str
    target: str = ""
    secrets: tuple[int, ...] = ()


class Channel(Protocol):
    """A way out of the outbox (webhooks, e-mail, chat): the deliveries a message needs.
    `case` is the message's case as stored now (None if it is gone)."""

    def deliveries(self, msg: Outbox, sent: Delivered, case: Case | None) -> list[Delivery]: ...


@runtime_checkable
class Refreshing(Protocol):
    """A channel that reads the store before each dispatch (the team channel: the teams
    and where they are told), so that `deliveries` itself stays synchronous."""

    async def refresh(self, now: datetime) -> None: ...


class WebhookChannel:
    """Every message to every `FOLLOWSUN_WEBHOOKS` URL, signed (`router.jobs.delivery`)."""

    def __init__(self, settings: Settings) -> None:
        self._urls = settings.webhook_urls()
        self._secret = settings.webhook_secret or settings.secret

    def deliveries(self, msg: Outbox, sent: Delivered, case: Case | None) -> list[Delivery]:
        if not self._urls:
            return []
        payload = msgspec.json.encode(sent)
        return [
            Delivery(DELIVER, (url, payload, sent.key, self._secret), str(i), url, (3,))
            for i, url in enumerate(self._urls)
        ]


class OutboxService:
    def __init__(
        self,
        store: OutboxStore,
        cases: CaseStore,
        catalogs: Catalogs,
        settings: Settings,
        jobs: JobQueue | None,
        channels: Sequence[Channel] = (),
    ) -> None:
        self.store = store
        self._cases = cases
        self._catalogs = catalogs
        self._settings = settings
        self._jobs = jobs
        self._channels = list(channels) or [WebhookChannel(settings)]

    def _link(self, msg: Outbox) -> str:
        if msg.audience != "customer":
            return ""
        return status_url(self._settings, msg.case, msg.locale, msg.at)

    def render(self, msg: Outbox, locale: str | None = None, link: str | None = None) -> Delivered:
        """The message for its reader (or in `locale`), with `link` or a fresh status link."""
        url = self._link(msg) if link is None else link
        return render_message(self._catalogs, msg, status_url=url, locale=locale)

    def translate(self, sent: Delivered, locale: str) -> Delivered:
        """A customer update as sent, rendered again in `locale` (for an agent who does not
        read the customer's language), with the same status link."""
        msg = Outbox(
            key=sent.key,
            audience="customer",
            event=sent.event,
            case=sent.case,
            at=sent.at,
            team=sent.team,
            locale=sent.locale,
            timezone=sent.timezone,
            params=sent.params,
        )
        return self.render(msg, locale=locale, link=sent.status_url)

    async def dispatch(self, *, count: int = 500, consumer: str | None = None) -> int:
        """Handle what is new in the outbox (and what a dead consumer left); returns how many."""
        entries = await self.store.take(consumer or str(os.getpid()), count)
        if not entries:
            return 0
        cases = {c.id: c for c in await self._cases.get_many(sorted({m.case for _, m in entries}))}
        for channel in self._channels:
            if isinstance(channel, Refreshing):
                await channel.refresh(max(m.at for _, m in entries))
        handled: list[tuple[str, Delivered | None]] = []
        for entry_id, msg in entries:
            sent = msgspec.structs.replace(self.render(msg), seq=entry_id)
            handled.append((entry_id, sent if msg.audience == "customer" else None))
            for channel in self._channels:
                self._enqueue(sent.key, channel.deliveries(msg, sent, cases.get(msg.case)))
        await self.store.done(handled)  # after the jobs: a crash before this re-sends, never loses
        return len(entries)

    def _enqueue(self, key: str, deliveries: list[Delivery]) -> None:
        """Each delivery once: its job id comes from the message key and the delivery name."""
        jobs = self._jobs
        if jobs is None or not deliveries:
            return
        digest = hashlib.sha256(key.encode()).hexdigest()[:20]
        for d in deliveries:
            job_id = jobs.job_id("deliver", digest, d.name)
            if not jobs.exists(job_id):
                jobs.enqueue(
                    d.job,
                    *d.args,
                    job_id=job_id,
                    retry=RETRY,
                    on_failure=DEAD_LETTER,
                    result_ttl=86400,
                    failure_ttl=86400 * 7,
                    meta=_letter(d.target, key, d.secrets),
                )

    async def dead_letters(self) -> list[DeadLetter]:
        return await self.store.dead_letters()

    def replay(self, letter_id: str) -> bool:
        """Deliver a dead letter again: its job with its arguments (and this deployment's
        webhook signing key where the letter left it out), a fresh job with fresh retries;
        False if unknown. Blocking (RQ's client): async callers run it in a thread."""
        assert self._jobs is not None, "replay needs the job queue"
        letters = DeadLetters(self._jobs.connection, self._jobs.prefix)
        letter = letters.get(letter_id)
        if letter is None:
            return False
        signing_key = self._settings.webhook_secret or self._settings.secret
        if letter.job:
            func = letter.job
            args, secrets = job_args(letter.args, signing_key)
        else:  # a webhook's letter kept before letters named their job
            func, secrets = DELIVER, [3]
            args = [letter.url, letter.payload.encode(), letter.key, signing_key]
        self._jobs.enqueue(
            func,
            *args,
            job_id=f"{letter.id}-replay-{int(time.time())}",
            retry=RETRY,
            on_failure=DEAD_LETTER,
            meta=_letter(letter.url, letter.key, secrets),
        )
        letters.remove(letter_id)
        return True


def _letter(target: str, key: str, secrets: Sequence[int]) -> dict[str, Any]:
    """A delivery job's `meta`: what its dead letter names (`router.jobs.delivery`)."""
    return {"letter": {"target": target, "key": key, "secrets": list(secrets)}}
