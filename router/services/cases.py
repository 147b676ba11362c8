"""Case use cases: intake, the lifecycle steps agents and ops take, escalation. The API and
the console call these same methods, so a button and an endpoint can never disagree."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Literal

import msgspec

from ..domain import case as lifecycle
from ..domain.case import Case, CaseEvent, IllegalTransition, move, open_case
from ..domain.crossing import crossing_events
from ..domain.errors import Forbidden, InputError, NotFound
from ..domain.escalation import Escalation
from ..domain.handover import messages_for
from ..domain.model import Team
from ..domain.residency import residence
from ..domain.routing import Decision, assign_to, route
from ..store import CaseStore, Created, VersionConflict, new_case_id
from .calendar import Calendar

if TYPE_CHECKING:
    from ..jobs.planner import Planner

__all__ = ["Action", "CaseService"]

Action = Literal["ack", "note", "resolve", "close"]


class CaseService:
    def __init__(self, store: CaseStore, calendar: Calendar, planner: Planner | None) -> None:
        self.store = store
        self.calendar = calendar
        self._planner = planner

    @property
    def policy(self) -> lifecycle.Policy:
        return self.calendar.policy

    async def visible(self, case_id: str, role: str, team: str | None) -> Case:
        """The case, if it exists and the caller may see it (agents: their team's only)."""
        case = await self.store.get(case_id)
        if case is None:
            raise NotFound("case", case_id)
        if team is not None and case.team != team:  # a key limited to a team (agents)
            raise Forbidden(f"case {case_id} belongs to another team")
        return case

    async def route(
        self,
        esc: Escalation,
        now: datetime,
        loads: dict[str, int] | None = None,
        *,
        stored: bool = False,
        **kw: object,
    ) -> Decision:
        """`stored`: the escalation of a stored case, whose `customer.region` the policy
        may no longer name (it then routes without residency rules) rather than a new one."""
        schedules = await self.calendar.schedules(now)
        esc.check(None if stored else self.policy)
        index = self.calendar.index_of(schedules, now)
        if loads is None:
            loads = await self.calendar.loads(now)
        return route(
            esc, now=now, teams=schedules.teams, index=index, policy=self.policy, loads=loads, **kw
        )  # type: ignore[arg-type]

    async def intake(self, esc: Escalation, now: datetime, actor: str) -> tuple[Case, bool]:
        """Store a routed case; a repeat of (source, external_id) returns the first one. A
        case that waits gets its wake job at once (the sweep is the backstop)."""
        if not esc.source:
            raise InputError("source", "required at intake (it makes retries safe)")
        if not esc.external_id:
            raise InputError("external_id", "required at intake (it makes retries safe)")
        decision = await self.route(esc, now)
        for _ in range(3):  # a fresh id on the (astronomically rare) clash with an existing one
            case, event = open_case(
                new_case_id(now), esc, decision, now=now, policy=self.policy, actor=actor
            )
            outbox = messages_for(None, case, "received", now, self.calendar.region_of(case.team))
            crossed = crossing_events(None, case, now, actor)
            try:
                result = await self.store.create(
                    case,
                    event,
                    source=esc.source,
                    external_id=esc.external_id,
                    outbox=outbox,
                    more_events=crossed,
                )
            except VersionConflict:
                continue
            break
        else:
            raise VersionConflict(case.id, 0, 1)
        if not isinstance(result, Created):
            first = await self.store.get(result.case_id)
            assert first is not None
            return first, False
        if case.status == "waiting" and case.decision.starts_at and self._planner:
            await self._planner.wakeups_soon([case.decision.starts_at.timestamp()])
        return result.case, True

    async def change(self, case: Case, step: Callable[[Case], tuple[Case, CaseEvent]]) -> Case:
        """Apply one lifecycle step atomically, with the messages it owes the customer and
        the team (VersionConflict if someone else was faster; then nothing is written)."""
        new, event = step(case)
        params = {k: v for k, v in event.detail.items() if k == "resolution"}
        if event.type == "customer_update":
            params["note"] = event.detail.get("text", "")
        region = self.calendar.region_of(new.team)
        outbox = messages_for(case, new, event.type, event.at, region, **params)
        events = [event, *crossing_events(case, new, event.at, event.actor)]
        return await self.store.commit(case, new, events, outbox=outbox)

    async def act(
        self,
        case: Case,
        action: Action,
        *,
        now: datetime,
        actor: str,
        text: str = "",
        customer_visible: bool = False,
    ) -> Case:
        """An agent's step on a case: acknowledge, note, resolve or close."""
        if action == "ack":
            return await self.change(case, lambda c: lifecycle.acknowledge(c, now=now, actor=actor))
        if action == "note":
            if not text:
                raise InputError("text", "a note needs text")
            policy = (await self.calendar.schedules(now)).policy  # the update interval
            return await self.change(
                case,
                lambda c: lifecycle.add_note(
                    c, text, now=now, actor=actor, customer_visible=customer_visible, policy=policy
                ),
            )
        if action == "resolve":
            if not text:
                raise InputError("text", "say how it was resolved")
            return await self.change(
                case, lambda c: lifecycle.resolve(c, text, now=now, actor=actor)
            )
        if action == "close":
            return await self.change(case, lambda c: lifecycle.close(c, now=now, actor=actor))
        raise InputError("action", f"unknown action {action}")

    async def reassign(
        self, case: Case, team_id: str, *, now: datetime, actor: str, reason: str = ""
    ) -> Case:
        """Ops hand a case to a team of their choosing."""
        schedules = await self.calendar.schedules(now)
        team = schedules.teams.get(team_id)
        if team is None:
            raise InputError("team", f'unknown team "{team_id}"')
        where = residence(case.escalation, self.policy)
        if not where.may_hold(team):
            held = f"{team_id} ({team.region or 'no region'})"
            raise InputError("team", f"{held} may not hold its data: {where.rule_text()}")
        why = f"reassigned by {actor}" + (f": {reason}" if reason else "")
        decision = self._assign(case, team, now, why)
        return await self.change(
            case,
            lambda c: move(
                c, decision, "reassigned", now=now, actor=actor, policy=self.policy, reason=reason
            ),
        )

    def _assign(self, case: Case, team: Team, now: datetime, why: str) -> Decision:
        return assign_to(
            team,
            priority=case.priority,
            language=case.language,
            at=now,
            policy=self.policy,
            reasons=[why],
        )

    async def escalation_decision(self, case: Case, now: datetime) -> Decision:
        """Where a hierarchical escalation goes: the team's `escalates_to` when it is on shift,
        otherwise the best on-shift team of that tier (or the next tier up)."""
        schedules = await self.calendar.schedules(now)
        current = schedules.teams.get(case.team or "")
        target = schedules.teams.get(current.escalates_to or "") if current else None
        higher = sorted({t.tier for t in schedules.teams.values() if t.tier > case.tier})
        if target is None and not higher:
            raise IllegalTransition("escalate (there is no higher tier)", case.status)
        index = await self.calendar.index(now)
        where = residence(case.escalation, self.policy)
        allowed = target is None or where.may_hold(target)
        if target is not None and allowed and any(s.team == target.id for s in index.at(now)):
            why = f"{case.team} escalates to {target.id}, which is on shift"
            return self._assign(case, target, now, why)
        tier = target.tier if target else higher[0]
        decision = await self.route(case.escalation, now, tier=tier, stored=True)
        note = (
            f"{target.id} ({case.team}'s escalates_to) is off shift"
            if target and allowed
            else f"{target.id} ({case.team}'s escalates_to) may not hold its data"
            if target
            else f"{case.team} names no escalates_to"
        )
        return msgspec.structs.replace(decision, reasons=[note, *decision.reasons])

    async def escalate(
        self,
        case: Case,
        now: datetime,
        *,
        actor: str,
        kind: str = "hierarchical",
        skill: str | None = None,
        reason: str = "",
    ) -> Case:
        """Functional (another skill, same tier) or hierarchical (up the chain) escalation,
        the same from the API, the console and the deadline sweep."""
        if not case.is_open:
            raise IllegalTransition("escalate", case.status)
        if kind == "functional":
            if not skill:
                raise InputError("skill", "a functional escalation names the skill it needs")
            esc = msgspec.structs.replace(case.escalation, skill=skill)
            decision = await self.route(esc, now, tier=case.tier, stored=True)
        else:
            decision = await self.escalation_decision(case, now)
        return await self.change(
            case,
            lambda c: move(
                c,
                decision,
                "escalated",
                now=now,
                actor=actor,
                policy=self.policy,
                reason=reason or kind,
                skill=skill,
            ),
        )
