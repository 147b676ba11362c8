"""Time-based escalation: the deadline sweep the worker runs every minute."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import msgspec

from ..domain.case import Case, IllegalTransition
from ..domain.handover import Outbox, ops_alert, team_message
from ..domain.schedules import Schedules
from ..store import CaseQueues, Change
from .cases import CaseService
from .handover import change_for

__all__ = ["DeadlineService"]


class DeadlineService:
    def __init__(self, cases: CaseService, queues: CaseQueues) -> None:
        self._cases = cases
        self._queues = queues

    async def sweep(self, now: datetime) -> dict[str, int]:
        """Deadlines: escalate unacknowledged cases, remind about customer updates, flag
        overdue resolutions. Each step moves the case's next deadline forward, so the next
        sweep does not repeat it."""
        counts: Counter[str] = Counter()
        store = self._cases.store
        schedules = await self._cases.calendar.schedules(now)
        for case in await store.get_many(await self._queues.due(now)):
            if not case.is_open or case.status in ("waiting", "unroutable"):
                continue
            escalation = await self._escalation(case, now)
            if escalation is not None:
                counts["escalated"] += sum(await store.commit_many([escalation]))
                continue
            change = self._reminders(case, now, schedules, counts)
            if change is not None:
                await store.commit_many([change])
        return dict(counts)

    async def _escalation(self, case: Case, now: datetime) -> Change | None:
        """An assigned case nobody acknowledged in time goes up the chain, if there is one."""
        if not (case.status == "assigned" and case.ack_due and case.ack_due <= now):
            return None
        try:
            d = await self._cases.escalation_decision(case, now)
        except IllegalTransition:  # top tier: nobody above; ops hear of it in the reminders
            return None
        if not d.team:
            return None
        why = f"not acknowledged by {case.ack_due:%H:%MZ}"
        return change_for(self._cases.calendar, case, d, "escalated", now, why)

    def _reminders(
        self, case: Case, now: datetime, schedules: Schedules, counts: Counter[str]
    ) -> Change | None:
        """Overdue customer updates and resolutions, and an unacknowledged case with nobody
        above: the messages they call for, with the case's next deadline moved on."""
        targets = self._cases.policy.priorities[case.priority]
        outbox: list[Outbox] = []
        new = case
        if case.update_due and case.update_due <= now:
            n = case.update_reminders
            chain = schedules.chain(case.team) if case.team else []
            team = case.team if n == 0 else (chain[1] if len(chain) > 1 else None)
            told = {"reminder": str(n + 1), "due": case.update_due.isoformat()}
            outbox.append(team_message(case, "update_overdue", team or case.team, now, **told))
            if n >= 1:
                outbox.append(ops_alert(case, "update_overdue", now, **told))
            new = msgspec.structs.replace(
                new, update_reminders=n + 1, update_due=now + targets.update
            )
            counts["update_reminders"] += 1
        if case.resolve_due <= now and not case.resolve_overdue_notified:
            top = schedules.top_of_chain(case.team)
            due = case.resolve_due.isoformat()
            outbox.append(team_message(case, "resolve_overdue", top, now, due=due))
            new = msgspec.structs.replace(new, resolve_overdue_notified=True)
            counts["resolve_overdue"] += 1
        if case.status == "assigned" and case.ack_due and case.ack_due <= now and new is case:
            due = case.ack_due.isoformat()
            outbox.append(ops_alert(case, "ack_overdue_no_higher_tier", now, due=due))
            new = msgspec.structs.replace(new, ack_due=now + targets.acknowledge)
        if new is case:
            return None
        new = msgspec.structs.replace(new, version=case.version + 1)
        return Change(old=case, new=new, events=[], outbox=outbox)
