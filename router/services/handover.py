"""Follow-the-sun at shift end: the work the handover, wake and catch-up jobs do.

Each method takes the instant it acts at (the shift end, the wake time), so a job that
runs late, twice, or after a crash does exactly what it would have done on time. Every
case moves in its own atomic commit with its packet, events and messages; a case that
already moved (version changed, or no longer with the leaving team) is left alone, so a
second run moves nothing twice.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import msgspec

from ..domain.case import Case, MoveKind, move
from ..domain.crossing import crossing_events
from ..domain.handover import messages_for, ops_alert, packet_for
from ..domain.model import Policy, escalation_chain
from ..domain.residency import residence
from ..domain.routing import Decision, assign_to, route
from ..domain.schedules import Schedules
from ..store import CaseQueues, CaseStore, Change, HandoverMarks
from .calendar import Calendar
from .cases import CaseService

if TYPE_CHECKING:
    from ..jobs.planner import Planner

__all__ = ["HandoverReport", "HandoverService", "change_for"]

_HELD = ("assigned", "acknowledged")
_BATCH = 500


class HandoverReport(msgspec.Struct, kw_only=True):
    team: str
    at: datetime
    moved: dict[str, int] = {}
    waiting: int = 0
    escalated: int = 0
    skipped: int = 0
    still_on_shift: bool = False

    def tally(self, changes: list[Change], results: list[bool], moved: Counter[str]) -> None:
        for change, won in zip(changes, results, strict=True):
            if not won:
                self.skipped += 1
            elif change.new.status == "waiting":
                self.waiting += 1
            elif change.new.team is None:  # unroutable, nobody to escalate to: ops alerted
                self.escalated += 1
            else:
                moved[change.new.team] += 1
                if any(m.audience == "ops" for m in change.outbox):
                    self.escalated += 1


def change_for(
    calendar: Calendar,
    case: Case,
    decision: Decision,
    kind: MoveKind,
    at: datetime,
    reason: str,
    alert: bool = False,
) -> Change:
    """One case moved by followsun itself, with its packet and the messages it owes."""
    new, event = move(
        case, decision, kind, now=at, actor="followsun", policy=calendar.policy, reason=reason
    )
    new = msgspec.structs.replace(new, handovers=case.handovers + 1, last_handover_at=at)
    packet = packet_for(case, new, kind=kind, at=at, last_handover=case.last_handover_at)
    outbox = messages_for(case, new, kind, at, calendar.region_of(new.team))
    if alert and new.status != "unroutable":  # an unroutable case already alerts (messages_for)
        reasons = "; ".join(decision.reasons)
        outbox.append(ops_alert(new, "unroutable", at, from_team=case.team or "", reasons=reasons))
    events = [event, *crossing_events(case, new, at, "followsun")]
    return Change(old=case, new=new, events=events, packets=[packet], outbox=outbox)


def _up_the_chain(
    d: Decision, case: Case, leaving: str, schedules: Schedules, policy: Policy, at: datetime
) -> Decision:
    """Nobody can carry on at the case's tier: the leaving team's `escalates_to` takes it,
    or, for a customer with residency rules, the first team up that chain allowed to hold
    the data (the others are named as skipped)."""
    where = residence(case.escalation, policy)
    chain = [
        schedules.teams[t]
        for t in escalation_chain(schedules.teams, leaving)[1:]
        if t in schedules.teams
    ]
    allowed = [t for t in chain if where.may_hold(t)]
    if not allowed:
        if chain:  # there is a chain, but nobody on it may hold the data: ops decide
            why = f"nobody up {leaving}'s chain may hold its data ({where.rule_text()})"
            return msgspec.structs.replace(d, reasons=[*d.reasons, why])
        return d
    target = allowed[0]
    why = f"nobody can carry on at tier {case.tier}: {leaving} escalates to {target.id}"
    skipped = [f"{t.id} ({t.region or 'no region'})" for t in chain[: chain.index(target)]]
    if skipped:
        why += f", skipping {', '.join(skipped)}: {where.rule_text()}"
    return assign_to(
        target,
        priority=case.priority,
        at=at,
        policy=policy,
        reasons=[*d.reasons, why],
        base=d,
    )


class HandoverService:
    def __init__(
        self,
        cases: CaseService,
        queues: CaseQueues,
        marks: HandoverMarks,
        planner: Planner | None,
    ) -> None:
        self._cases = cases
        self._store: CaseStore = cases.store
        self._calendar: Calendar = cases.calendar
        self._queues = queues
        self._marks = marks
        self._planner = planner

    async def hand_over(self, team_id: str, at: datetime) -> HandoverReport:
        """Move every open case of `team_id` at its shift end `at` to whoever should carry on."""
        report = HandoverReport(team=team_id, at=at)
        await self._marks.begin(team_id, at)
        schedules = await self._calendar.schedules(at)
        index = await self._calendar.index(at)
        if any(s.team == team_id for s in index.at(at)):
            report.still_on_shift = True  # back-to-back shifts: nothing to hand over
            await self._marks.done(team_id, at)
            return report
        loads = await self._store.team_loads(list(schedules.teams))
        moved: Counter[str] = Counter()
        ids = await self._store.open_ids(team_id)
        pending: asyncio.Task[list[bool]] | None = None
        in_flight: list[Change] = []
        for start in range(0, len(ids), _BATCH):
            # the previous batch's commit runs on the server while this one is read and routed
            cases = await self._store.get_many(ids[start : start + _BATCH])
            changes = [
                self._reroute(case, team_id, at, schedules, index, loads)
                for case in cases
                if self._still_held(case, team_id, at, report)
            ]
            if pending is not None:
                report.tally(in_flight, await pending, moved)
            in_flight, pending = changes, asyncio.create_task(self._store.commit_many(changes))
        if pending is not None:
            report.tally(in_flight, await pending, moved)
        report.moved = dict(moved)
        await self._marks.done(team_id, at)
        if report.waiting:  # wake them the moment their team comes on
            await self.plan_wakeups()
        return report

    @staticmethod
    def _still_held(case: Case, team_id: str, at: datetime, report: HandoverReport) -> bool:
        """Moved already, or given to this team after `at` (a later shift's case): skip."""
        held = (
            case.team == team_id
            and case.status in _HELD
            and not (case.decision.at is not None and case.decision.at >= at)
        )
        if not held:
            report.skipped += 1
        return held

    def _reroute(
        self,
        case: Case,
        team_id: str,
        at: datetime,
        schedules: Schedules,
        index: object,
        loads: dict[str, int],
    ) -> Change:
        policy = self._calendar.policy
        d = route(
            case.escalation,
            now=at,
            teams=schedules.teams,
            index=index,  # type: ignore[arg-type]
            policy=policy,
            loads=loads,
            exclude={team_id},
            tier=case.tier,
        )
        alert = d.action == "unroutable"
        if alert:
            d = _up_the_chain(d, case, team_id, schedules, policy, at)
        if d.action == "assign" and d.team:
            loads[d.team] = loads.get(d.team, 0) + 1
        why = f"{team_id} went off shift"
        return change_for(self._calendar, case, d, "handed_over", at, why, alert=alert)

    async def wake_waiting(self, now: datetime) -> int:
        """Assign the waiting cases whose team has come on shift."""
        changes = []
        for case in await self._store.get_many(await self._queues.waiting_until(now)):
            if case.status != "waiting":
                continue
            d = await self._cases.route(case.escalation, now, tier=case.tier, stored=True)
            if d.action == "wait" and d.starts_at and d.starts_at > now:
                # still nobody (a schedule changed): it waits on, and the customer hears the
                # new time; its wake job is planned below
                why = "the team it waited for is not on shift after all"
                changes.append(change_for(self._calendar, case, d, "rescheduled", now, why))
                continue
            why = "the team it waited for is on shift"
            alert = d.action == "unroutable"
            changes.append(change_for(self._calendar, case, d, "assigned", now, why, alert=alert))
        won = await self._store.commit_many(changes)
        return sum(w for ch, w in zip(changes, won, strict=True) if ch.new.status != "waiting")

    async def plan_wakeups(self) -> None:
        """A wake job for every instant a waiting case expects its team."""
        if self._planner is not None:
            await self._planner.wakeups_soon(await self._queues.waiting_starts())

    async def catch_up(
        self, now: datetime, *, lookback: timedelta = timedelta(days=2)
    ) -> list[HandoverReport]:
        """Every handover that should have happened and did not, in time order: the ones a
        crash left half done, then every shift end since the last mark."""
        reports = [await self.hand_over(team, at) for team, at in await self._marks.unfinished()]
        since = max(await self._marks.handed_over_until() or now - lookback, now - lookback)
        schedules = await self._calendar.schedules(now)
        index = schedules.index(since - timedelta(days=1), now + timedelta(days=1))
        for shift in index.ends_in(since, now):
            reports.append(await self.hand_over(shift.team, shift.end))
        await self._marks.mark(now)
        return reports
