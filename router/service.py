"""The application service: the domain core over the store, shared by API, jobs and CLI.

It keeps the validated calendar in memory and reloads it when the store's team revision
counter moves, so every process (web workers, RQ workers) routes on the same schedules.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta

import msgspec
from redis.asyncio import Redis

from .domain.case import Case, CaseEvent, IllegalTransition, move, open_case
from .domain.errors import InputError, Problem, ScheduleError
from .domain.escalation import Escalation
from .domain.handover import messages_for
from .domain.index import ShiftIndex
from .domain.model import Policy, TeamSpec
from .domain.routing import Decision, route
from .domain.schedules import Schedules, validate_specs
from .store import CaseStore, Created, Keys, TeamStore, VersionConflict, new_case_id

__all__ = ["Service"]

_BEFORE, _AFTER = timedelta(days=2), timedelta(days=9)
RECHECK = 0.5


class Service:
    def __init__(self, redis: Redis, policy: Policy, *, prefix: str = "fs", url: str = "") -> None:
        self.redis = redis
        self.url = url  # for the synchronous clients RQ needs
        self.status_link: Callable[[Case], str] = lambda case: ""  # set by the web app
        self.policy = policy
        self.keys = Keys(prefix)
        self.cases = CaseStore(redis, self.keys)
        self.teams = TeamStore(redis, self.keys)
        self._rev = -1
        self._schedules: Schedules | None = None
        self._index: ShiftIndex | None = None
        self._checked = float("-inf")
        self._checking = False
        self._loads: dict[str, int] = {}
        self._loads_at = float("-inf")

    def forget_schedules(self) -> None:
        """Re-read the teams on the next question (after this process changed one)."""
        self._checked = float("-inf")

    async def schedules(self, now: datetime) -> Schedules:
        """The validated calendar; the store's revision counter is checked at most every
        RECHECK seconds (another process's edit shows within that), and at once after an
        edit made through this process."""
        tick = time.monotonic()
        if self._schedules is not None and (tick - self._checked < RECHECK or self._checking):
            return self._schedules  # fresh, or another request is checking it right now
        self._checking = True
        try:
            rev = await self.teams.revision_counter()
            if self._schedules is None or rev != self._rev:
                stored = await self.teams.all()
                specs = {tid: (t.spec, f"teams/{tid}") for tid, t in stored.items()}
                self._schedules = validate_specs(specs, self.policy, now=now, warnings=False)
                self._rev, self._index = rev, None
            self._checked = tick
        finally:
            self._checking = False
        return self._schedules

    def region_of(self, team_id: str | None) -> str:
        """The region of a team, from the calendar last loaded (for customer messages)."""
        team = self._schedules.teams.get(team_id or "") if self._schedules else None
        return team.region if team else ""

    async def index(self, now: datetime) -> ShiftIndex:
        """An index covering `now` with days of margin either side (rebuilt as time moves)."""
        return self._index_of(await self.schedules(now), now)

    def _index_of(self, schedules: Schedules, now: datetime) -> ShiftIndex:
        idx = self._index
        if idx is None or not (idx.start + _BEFORE / 2 <= now <= idx.end - _AFTER / 2):
            idx = self._index = schedules.index(now - _BEFORE, now + _AFTER)
        return idx

    async def loads(self, now: datetime) -> dict[str, int]:
        """Open cases per team, at most RECHECK seconds old: load only breaks near-ties in
        routing, so intake need not pay a round trip for it."""
        tick = time.monotonic()
        if tick - self._loads_at >= RECHECK:
            self._loads_at = tick  # one request refreshes; the others route on the last counts
            try:
                schedules = await self.schedules(now)
                self._loads = await self.cases.team_loads(list(schedules.teams))
            except BaseException:
                self._loads_at = float("-inf")
                raise
        return self._loads

    async def route(
        self, esc: Escalation, now: datetime, loads: dict[str, int] | None = None, **kw: object
    ) -> Decision:
        esc.check()
        schedules = await self.schedules(now)
        index = self._index_of(schedules, now)
        if loads is None:
            loads = await self.loads(now)
        return route(
            esc, now=now, teams=schedules.teams, index=index, policy=self.policy, loads=loads, **kw
        )  # type: ignore[arg-type]

    async def intake(self, esc: Escalation, now: datetime, actor: str) -> tuple[Case, bool]:
        """Store a routed case; a repeat of (source, external_id) returns the first one."""
        if not esc.source:
            raise InputError("source", "required at intake (it makes retries safe)")
        if not esc.external_id:
            raise InputError("external_id", "required at intake (it makes retries safe)")
        decision = await self.route(esc, now)
        for _ in range(3):  # a fresh id on the (astronomically rare) clash with an existing one
            case, event = open_case(
                new_case_id(now), esc, decision, now=now, policy=self.policy, actor=actor
            )
            outbox = messages_for(None, case, "received", now, self.region_of(case.team))
            try:
                result = await self.cases.create(
                    case, event, source=esc.source, external_id=esc.external_id, outbox=outbox
                )
            except VersionConflict:
                continue
            break
        else:
            raise VersionConflict(case.id, 0, 1)
        if isinstance(result, Created):
            return result.case, True
        first = await self.cases.get(result.case_id)
        assert first is not None
        return first, False

    async def escalation_decision(self, case: Case, now: datetime) -> Decision:
        """Where a hierarchical escalation goes: the team's `escalates_to` when it is on shift,
        otherwise the best on-shift team of that tier (or the next tier up)."""
        schedules = await self.schedules(now)
        current = schedules.teams.get(case.team or "")
        target = schedules.teams.get(current.escalates_to or "") if current else None
        higher = sorted({t.tier for t in schedules.teams.values() if t.tier > case.tier})
        if target is None and not higher:
            raise IllegalTransition("escalate (there is no higher tier)", case.status)
        tier = target.tier if target else higher[0]
        index = await self.index(now)
        if target is not None and any(s.team == target.id for s in index.at(now)):
            ack = self.policy.priorities[case.priority].acknowledge
            return Decision(
                action="assign",
                priority=case.priority,
                tier=tier,
                team=target.id,
                language=case.language,
                at=now,
                ack_due=now + ack,
                reasons=[f"{case.team} escalates to {target.id}, which is on shift"],
            )
        decision = await self.route(case.escalation, now, tier=tier)
        note = (
            f"{target.id} ({case.team}'s escalates_to) is off shift"
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
            decision = await self.route(esc, now, tier=case.tier)
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

    async def change(self, case: Case, step: Callable[[Case], tuple[Case, CaseEvent]]) -> Case:
        """Apply one lifecycle step atomically, with the messages it owes the customer and
        the team (VersionConflict if someone else was faster; then nothing is written)."""
        new, event = step(case)
        params = {k: v for k, v in event.detail.items() if k == "resolution"}
        if event.type == "customer_update":
            params["note"] = event.detail.get("text", "")
        outbox = messages_for(case, new, event.type, event.at, self.region_of(new.team), **params)
        return await self.cases.commit(case, new, [event], outbox=outbox)

    async def check_team(self, team_id: str, spec: TeamSpec | None, now: datetime) -> None:
        """Validate a team change against all the others, exactly as `followsun check` does."""
        stored = await self.teams.all()
        specs = {tid: (t.spec, f"teams/{tid}") for tid, t in stored.items()}
        if spec is None:
            specs.pop(team_id, None)
            users = [tid for tid, (s, _) in specs.items() if s.escalates_to == team_id]
            if users:
                raise ScheduleError(
                    [
                        Problem(
                            source=f"teams/{team_id}",
                            path="",
                            message=f"cannot delete: {', '.join(users)} escalate to it",
                        )
                    ]
                )
        else:
            specs[team_id] = (spec, f"teams/{team_id}")
        validate_specs(specs, self.policy, now=now, warnings=False)
