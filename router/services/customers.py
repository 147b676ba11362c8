"""A customer's personal data as a use case: export it, erase it, let it expire.

    export   GET /v1/customers/{id}/export: every case of the customer with all that is
             stored about it (router.store.customers lists the places)
    erase    DELETE /v1/customers/{id}: every case anonymised (router.domain.personal),
             the pending and finished delivery jobs of their customer updates deleted,
             the customer index entry dropped, one audit event without the data
    sweep    the retention job: cases resolved (or closed) longer ago than their region's
             `[retention]` days anonymised, a batch at a time

Each case is anonymised in one atomic step; one that changed while it was read is read
again and retried. The delivery jobs go first: a run killed halfway leaves a case either
untouched (a rerun does it all) or done (a rerun skips it).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import msgspec
from rq.exceptions import NoSuchJobError
from rq.job import Job

from ..domain.case import Case, CaseEvent
from ..domain.delivery import DeadLetter, Delivered
from ..domain.errors import NotFound, VersionConflict
from ..domain.facts import Facts
from ..domain.handover import Outbox, Packet
from ..domain.personal import (
    ENDED,
    Subject,
    Why,
    anonymise_case,
    anonymise_event,
    anonymise_facts,
    anonymise_packet,
    retention_days,
    retention_due,
)
from ..domain.residency import customer_region
from ..store import CaseStore
from ..store.customers import CustomerStore, Holdings, Rewrite
from .calendar import Calendar

if TYPE_CHECKING:
    from ..domain.model import Policy
    from ..jobs.queues import JobQueue

__all__ = ["CaseExport", "CustomerExport", "CustomerService", "Erasure"]

_ATTEMPTS = 5
_BATCH = 200


class CaseExport(msgspec.Struct, frozen=True, kw_only=True):
    """One case as stored: the document, its audit trail, packets, messages and facts."""

    case: Case
    events: list[CaseEvent]
    handovers: list[Packet]
    messages: list[Outbox]  # customer updates and team messages as written, before sending
    updates: list[Delivered]  # customer updates as sent
    dead_letters: list[DeadLetter]
    facts: Facts | None


class CustomerExport(msgspec.Struct, frozen=True, kw_only=True):
    customer: str
    exported_at: datetime
    cases: list[CaseExport]


class Erasure(msgspec.Struct, frozen=True, kw_only=True):
    """What an erasure did: the cases whose customer data is gone, the jobs deleted."""

    cases: list[str]
    jobs_deleted: int
    at: datetime


def _rewrite(h: Holdings, why: Why, now: datetime) -> Rewrite:
    subject = Subject.of(h.case)
    return Rewrite(
        old=h,
        case=anonymise_case(h.case, subject, why, now=now),
        events=[anonymise_event(e, subject) for _, e in h.events],
        packets=[anonymise_packet(p, subject, why) for p in h.packets],
        audit=[anonymise_event(e, subject) for _, e in h.audit],
        received=[anonymise_packet(p, subject, why) for _, _, p in h.received],
        facts=anonymise_facts(h.facts, subject, why) if h.facts else None,
        mark=f"{why} {int(now.timestamp())}",
    )


class CustomerService:
    def __init__(
        self,
        store: CustomerStore,
        cases: CaseStore,
        calendar: Calendar,
        jobs: JobQueue | None,
    ) -> None:
        self.store = store
        self._cases = cases
        self._calendar = calendar
        self._jobs = jobs

    async def _held(self, customer_id: str) -> list[Holdings]:
        ids = await self.store.case_ids(customer_id)
        held = await self.store.holdings(ids)
        return [h for h in held if h.case.escalation.customer.id == customer_id]

    async def export(self, customer_id: str, *, now: datetime) -> CustomerExport:
        """All that is stored about the customer; NotFound when nothing is."""
        held = await self._held(customer_id)
        if not held:
            raise NotFound("customer", customer_id)
        cases = [
            CaseExport(
                case=h.case,
                events=[e for _, e in h.events],
                handovers=h.packets,
                messages=[m for _, m in h.outbox],
                updates=h.updates,
                dead_letters=h.letters,
                facts=h.facts,
            )
            for h in held
        ]
        return CustomerExport(customer=customer_id, exported_at=now, cases=cases)

    async def erase(self, customer_id: str, *, now: datetime, actor: str) -> Erasure:
        """Remove the customer's personal data from every case and everything beside it;
        NotFound when nothing is held about them (erased already, or never seen)."""
        held = await self._held(customer_id)
        if not held:
            raise NotFound("customer", customer_id)
        deleted = await self._delete_jobs(held)
        for h in held:
            await self._anonymise(h, "erasure", now)
        ids = [h.case.id for h in held]
        audit = CaseEvent(
            case="",
            type="customer_erased",
            at=now,
            actor=actor,
            status="",
            detail={"cases": " ".join(ids), "count": str(len(ids))},
        )
        await self.store.forget(customer_id, audit)
        return Erasure(cases=ids, jobs_deleted=deleted, at=now)

    async def gone(self, case_id: str) -> str | None:
        """Why the case's personal data went ("retention", "erasure"), or None."""
        return await self.store.marked(case_id)

    async def sweep(self, now: datetime, *, limit: int = 1000) -> int:
        """Anonymise up to `limit` ended (resolved or closed) cases past their region's
        retention; how many."""
        await self._calendar.schedules(now)
        policy = self._calendar.policy
        if policy.retention is None or not policy.retention.days:
            return 0
        done = 0
        for status in ENDED:
            done += await self._sweep(status, policy, now, limit - done)
        return done

    async def _sweep(self, status: str, policy: Policy, now: datetime, limit: int) -> int:
        """`sweep` over the cases in one status, oldest first."""
        retention = policy.retention
        assert retention is not None
        before = now - timedelta(days=min(retention.days.values()))
        done, offset = 0, 0
        while done < limit:
            ids = await self.store.created_before(status, before, offset, _BATCH)
            if not ids:
                break
            offset += len(ids)
            cases = await self._cases.get_many(await self.store.unmarked(ids))
            due = [
                c.id
                for c in cases
                if retention_due(
                    c, retention_days(retention, customer_region(c.escalation, policy)), now
                )
            ][: limit - done]
            held = await self.store.holdings(due)
            await self._delete_jobs(held)
            for h in held:
                await self._anonymise(h, "retention", now)
            done += len(held)
        return done

    async def _anonymise(self, h: Holdings, why: Why, now: datetime) -> None:
        """One case, retried from a fresh read while someone else keeps changing it."""
        for _ in range(_ATTEMPTS):
            if await self.store.anonymise(_rewrite(h, why, now)):
                return
            [h] = await self.store.holdings([h.case.id]) or [h]
        raise VersionConflict(h.case.id, h.case.version, h.case.version + 1)

    async def _delete_jobs(self, held: Sequence[Holdings]) -> int:
        """The RQ jobs delivering the cases' customer updates (queued, scheduled for a
        retry, running, finished or failed: their arguments are the update as sent)."""
        keys = {k for h in held for k in h.message_keys()}
        if self._jobs is None or not keys:
            return 0
        return await asyncio.to_thread(_delete_delivery_jobs, self._jobs, keys)


def _delete_delivery_jobs(jobs: JobQueue, message_keys: set[str]) -> int:
    """Delete every job of the queue whose id `services.outbox` derived from one of
    `message_keys` (`<prefix>-deliver-<digest>-<name>`, and its replays)."""
    heads = tuple(
        jobs.job_id("deliver", hashlib.sha256(k.encode()).hexdigest()[:20]) + "-"
        for k in message_keys
    )
    queue = jobs.queue
    registries = (
        queue.started_job_registry,
        queue.finished_job_registry,
        queue.failed_job_registry,
        queue.deferred_job_registry,
        queue.scheduled_job_registry,
        queue.canceled_job_registry,
    )
    ids = set(queue.get_job_ids())
    for registry in registries:
        ids.update(registry.get_job_ids())
    deleted = 0
    for job_id in sorted(i for i in ids if i.startswith(heads)):
        try:
            Job.fetch(job_id, connection=jobs.connection).delete()
        except NoSuchJobError:
            continue
        deleted += 1
    return deleted
