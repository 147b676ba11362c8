"""Follow-the-sun at shift end, and time-based escalation: the work the RQ jobs do.

Each function takes the instant it acts at (the shift end, the sweep time), so a job that
runs late, twice, or after a crash does exactly what it would have done on time. Every
case moves in its own atomic commit with its packet, events and messages; a case that
already moved (version changed, or no longer with the leaving team) is left alone, so a
second run moves nothing twice.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timedelta

import msgspec

from .domain.case import Case, IllegalTransition, MoveKind, move
from .domain.handover import Outbox, messages_for, ops_alert, packet_for, team_message
from .domain.routing import Decision, route
from .domain.schedules import Schedules
from .service import Service
from .store import Change

__all__ = ["HandoverReport", "catch_up", "hand_over", "sweep", "wake_waiting"]

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


def _change(
    svc: Service,
    case: Case,
    decision: Decision,
    kind: MoveKind,
    at: datetime,
    reason: str,
    alert: bool = False,
) -> Change:
    new, event = move(
        case, decision, kind, now=at, actor="followsun", policy=svc.policy, reason=reason
    )
    new = msgspec.structs.replace(new, handovers=case.handovers + 1, last_handover_at=at)
    packet = packet_for(case, new, kind=kind, at=at, last_handover=case.last_handover_at)
    outbox = messages_for(case, new, kind, at, svc.region_of(new.team))
    if alert and new.status != "unroutable":  # an unroutable case already alerts (messages_for)
        outbox.append(
            ops_alert(
                new,
                "unroutable",
                at,
                from_team=case.team or "",
                reasons="; ".join(decision.reasons),
            )
        )
    return Change(old=case, new=new, events=[event], packets=[packet], outbox=outbox)


async def hand_over(svc: Service, team_id: str, at: datetime) -> HandoverReport:
    """Move every open case of `team_id` at its shift end `at` to whoever should carry on."""
    report = HandoverReport(team=team_id, at=at)
    member = f"{team_id}|{int(at.timestamp())}"
    await svc.redis.sadd(svc.keys.pending_handovers, member)
    schedules = await svc.schedules(at)
    index = await svc.index(at)
    if any(s.team == team_id for s in index.at(at)):
        report.still_on_shift = True  # back-to-back shifts: nothing to hand over
        await svc.redis.srem(svc.keys.pending_handovers, member)
        return report
    leaving = schedules.teams.get(team_id)
    loads = await svc.cases.team_loads(list(schedules.teams))
    moved: Counter[str] = Counter()
    ids = await svc.cases.open_ids(team_id)
    pending: asyncio.Task[list[bool]] | None = None
    in_flight: list[Change] = []

    def tally(changes: list[Change], results: list[bool]) -> None:
        for change, won in zip(changes, results, strict=True):
            if not won:
                report.skipped += 1
            elif change.new.status == "waiting":
                report.waiting += 1
            elif change.new.team is None:  # unroutable, nobody to escalate to: ops alerted
                report.escalated += 1
            else:
                moved[change.new.team] += 1
                if any(m.audience == "ops" for m in change.outbox):
                    report.escalated += 1

    for start in range(0, len(ids), _BATCH):
        # the previous batch's commit runs on the server while this one is read and routed
        cases = await svc.cases.get_many(ids[start : start + _BATCH])
        changes = []
        for case in cases:
            if (
                case.team != team_id
                or case.status not in _HELD
                or (case.decision.at is not None and case.decision.at >= at)
            ):
                # moved already, or given to this team after `at` (a later shift's case)
                report.skipped += 1
                continue
            d = route(
                case.escalation,
                now=at,
                teams=schedules.teams,
                index=index,
                policy=svc.policy,
                loads=loads,
                exclude={team_id},
                tier=case.tier,
            )
            alert = False
            if d.action == "unroutable":
                target = leaving.escalates_to if leaving else None
                alert = True
                if target and target in schedules.teams:
                    d = msgspec.structs.replace(
                        d,
                        action="assign",
                        team=target,
                        tier=schedules.teams[target].tier,
                        ack_due=at + svc.policy.priorities[case.priority].acknowledge,
                        reasons=[
                            *d.reasons,
                            f"nobody can carry on at tier {case.tier}: "
                            f"{team_id} escalates to {target}",
                        ],
                    )
            if d.action == "assign" and d.team:
                loads[d.team] = loads.get(d.team, 0) + 1
            changes.append(
                _change(svc, case, d, "handed_over", at, f"{team_id} went off shift", alert=alert)
            )
        if pending is not None:
            tally(in_flight, await pending)
        in_flight, pending = changes, asyncio.create_task(svc.cases.commit_many(changes))
    if pending is not None:
        tally(in_flight, await pending)
    report.moved = dict(moved)
    await svc.redis.srem(svc.keys.pending_handovers, member)
    return report


async def wake_waiting(svc: Service, now: datetime) -> int:
    """Assign the waiting cases whose team has come on shift."""
    ids = [
        m.decode() for m in await svc.redis.zrangebyscore(svc.keys.waiting, "-inf", now.timestamp())
    ]
    changes = []
    for case in await svc.cases.get_many(ids):
        if case.status != "waiting":
            continue
        d = await svc.route(case.escalation, now, tier=case.tier)
        if d.action == "wait" and d.starts_at and d.starts_at > now:
            # still nobody (a schedule changed): it waits on, and the customer hears the
            # new time; the caller plans the wake job for it
            changes.append(
                _change(
                    svc,
                    case,
                    d,
                    "rescheduled",
                    now,
                    "the team it waited for is not on shift after all",
                )
            )
            continue
        changes.append(
            _change(
                svc,
                case,
                d,
                "assigned",
                now,
                "the team it waited for is on shift",
                alert=d.action == "unroutable",
            )
        )
    won = await svc.cases.commit_many(changes)
    return sum(w for ch, w in zip(changes, won, strict=True) if ch.new.status != "waiting")


async def sweep(svc: Service, now: datetime) -> dict[str, int]:
    """Deadlines: escalate unacknowledged cases, remind about customer updates, flag
    overdue resolutions. Each step moves the case's next deadline forward, so the next
    sweep does not repeat it."""
    counts: Counter[str] = Counter()
    ids = [
        m.decode()
        for m in await svc.redis.zrangebyscore(svc.keys.deadlines, "-inf", now.timestamp())
    ]
    schedules = await svc.schedules(now)
    for case in await svc.cases.get_many(ids):
        if not case.is_open or case.status in ("waiting", "unroutable"):
            continue
        targets = svc.policy.priorities[case.priority]
        if case.status == "assigned" and case.ack_due and case.ack_due <= now:
            try:
                d = await svc.escalation_decision(case, now)
            except IllegalTransition:  # top tier: nobody above; ops hear of it below
                d = None
            if d is not None and d.team:
                change = _change(
                    svc, case, d, "escalated", now, f"not acknowledged by {case.ack_due:%H:%MZ}"
                )
                counts["escalated"] += sum(await svc.cases.commit_many([change]))
                continue
        outbox: list[Outbox] = []
        new = case
        if case.update_due and case.update_due <= now:
            n = case.update_reminders
            team = (
                case.team
                if n == 0
                else (
                    schedules.teams[case.team].escalates_to
                    if case.team in schedules.teams
                    else None
                )
            )
            outbox.append(
                team_message(case, "update_overdue", team or case.team, now, reminder=str(n + 1))
            )
            if n >= 1:
                outbox.append(ops_alert(case, "update_overdue", now, reminder=str(n + 1)))
            new = msgspec.structs.replace(
                new, update_reminders=n + 1, update_due=now + targets.update
            )
            counts["update_reminders"] += 1
        if case.resolve_due <= now and not case.resolve_overdue_notified:
            top = _top_of_chain(schedules, case.team)
            outbox.append(team_message(case, "resolve_overdue", top, now))
            new = msgspec.structs.replace(new, resolve_overdue_notified=True)
            counts["resolve_overdue"] += 1
        if case.status == "assigned" and case.ack_due and case.ack_due <= now and new is case:
            outbox.append(ops_alert(case, "ack_overdue_no_higher_tier", now))
            new = msgspec.structs.replace(new, ack_due=now + targets.acknowledge)
        if new is not case:
            new = msgspec.structs.replace(new, version=case.version + 1)
            await svc.cases.commit_many([Change(old=case, new=new, events=[], outbox=outbox)])
    return dict(counts)


def _top_of_chain(schedules: Schedules, team_id: str | None) -> str | None:
    seen = set()
    cur = team_id
    while cur in schedules.teams and schedules.teams[cur].escalates_to and cur not in seen:
        seen.add(cur)
        cur = schedules.teams[cur].escalates_to
    return cur


async def catch_up(
    svc: Service, now: datetime, *, lookback: timedelta = timedelta(days=2)
) -> list[HandoverReport]:
    """Every handover that should have happened and did not, in time order: the ones a
    crash left half done, then every shift end since the last mark."""
    reports = []
    for member in sorted(
        await svc.redis.smembers(svc.keys.pending_handovers), key=lambda m: int(m.split(b"|")[1])
    ):
        team, ts = member.decode().split("|")
        reports.append(await hand_over(svc, team, datetime.fromtimestamp(int(ts), now.tzinfo)))
    raw = await svc.redis.get(svc.keys.handover_mark)
    since = datetime.fromtimestamp(float(raw), now.tzinfo) if raw else now - lookback
    since = max(since, now - lookback)
    schedules = await svc.schedules(now)
    index = schedules.index(since - timedelta(days=1), now + timedelta(days=1))
    ends = sorted({(s.end, s.team) for s in index.between(since, now) if since < s.end <= now})
    for end, team in ends:
        reports.append(await hand_over(svc, team, end))
    await svc.redis.set(svc.keys.handover_mark, f"{now.timestamp():.3f}")
    return reports
