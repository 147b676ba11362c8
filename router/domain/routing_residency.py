"""Routing a case whose customer region has residency rules (policy `[residency]`).

Only teams whose region may hold the customer's data are candidates, at every step.
When none of them can take the case at its tier:

1. it goes up the allowed chain: the first higher tier with an allowed team on shift
   that can take it;
2. a P1, when the policy's `allow_p1_crossing` says so, goes to the best team of its
   tier anywhere, and the decision carries the `Crossing` (written as an audit event);
   without the flag a P1, which never waits, is unroutable and operations decide;
3. P2-P4 wait for the first allowed team of the tier to come on shift;
4. else it is unroutable, saying why.

Each step's words go into `Decision.reasons`, so an auditor reads which rule kept the
case where it is.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

import msgspec

from .decision import Decision
from .escalation import Escalation
from .index import ShiftIndex
from .model import Policy, Roster, Team
from .residency import Crossing, Residence
from .routing_tier import route_tier, wait_for_first

__all__ = ["route_resident"]


class _Question(msgspec.Struct, frozen=True, kw_only=True):
    """What every step asks with: one escalation at one instant on one calendar."""

    esc: Escalation
    now: datetime
    teams: Mapping[str, Team]
    index: ShiftIndex
    policy: Policy
    loads: Mapping[str, int]
    exclude: Collection[str]

    def at_tier(self, tier: int, where: Residence, reasons: list[str]) -> Decision:
        return route_tier(
            self.esc,
            now=self.now,
            teams=self.teams,
            index=self.index,
            policy=self.policy,
            loads=self.loads,
            exclude=self.exclude,
            tier=tier,
            where=where,
            reasons=reasons,
        )


def route_resident(
    esc: Escalation,
    *,
    now: datetime,
    teams: Mapping[str, Team],
    index: ShiftIndex,
    policy: Policy,
    loads: Mapping[str, int],
    exclude: Collection[str],
    tier: int,
    where: Residence,
    reasons: list[str],
) -> Decision:
    """Decide for a customer whose region has rules (`where.restricted`)."""
    q = _Question(
        esc=esc, now=now, teams=teams, index=index, policy=policy, loads=loads, exclude=exclude
    )
    reasons.append(where.rule_text() + _left_out(q, tier, where))
    decided = q.at_tier(tier, where, reasons)
    if decided.action != "unroutable":
        return decided
    up = _up_the_allowed_chain(q, tier, where, decided)
    if up is not None:
        return up
    if decided.priority == "P1":
        return _p1(q, tier, where, decided)
    waits = wait_for_first(
        esc,
        now=now,
        teams=teams,
        index=index,
        policy=policy,
        exclude=exclude,
        tier=tier,
        where=where,
        reasons=[*decided.reasons, f"no team in {where.allowed_text()} can take it now"],
    )
    return waits or decided


def _left_out(q: _Question, tier: int, where: Residence) -> str:
    """`; not considered: nyc-l1 (AMER), sin-l1 (APAC)`: the teams of the tier (with the
    skill) that the rule leaves out, so the reader sees what residency changed. It
    depends on the calendar alone, so a Roster remembers it."""
    skill = q.esc.skill
    memo = q.teams.memo if isinstance(q.teams, Roster) else {}
    key = ("left out", tier, skill, frozenset(q.exclude), where.allowed)
    if (known := memo.get(key)) is not None:
        return known  # type: ignore[return-value]
    out = sorted(
        f"{t.id} ({t.region or 'no region'})"
        for t in q.teams.values()
        if t.tier == tier
        and (skill is None or skill in t.skills)
        and t.id not in q.exclude
        and not where.may_hold(t)
    )
    more = f" and {len(out) - 4} more" if len(out) > 4 else ""
    text = f"; not considered: {', '.join(out[:4])}{more}" if out else ""
    if len(memo) < 4096:  # the pool's memo clears itself when full
        memo[key] = text
    return text


def _up_the_allowed_chain(
    q: _Question, tier: int, where: Residence, decided: Decision
) -> Decision | None:
    """The first higher tier where an allowed team on shift takes it, or None."""
    higher = sorted({t.tier for t in q.teams.values() if t.tier > tier and where.may_hold(t)})
    for above in higher:
        why = (
            f"no team in {where.allowed_text()} can take it at tier {tier}: "
            f"it goes up the allowed chain to tier {above}"
        )
        found = q.at_tier(above, where, [*decided.reasons, why])
        if found.action == "assign":
            return found
    return None


def _p1(q: _Question, tier: int, where: Residence, decided: Decision) -> Decision:
    """A P1 nobody allowed can take: it crosses when the policy allows, else ops decide."""
    allowed = where.allowed_text()
    if not where.p1_crossing:
        why = (
            f"P1 does not wait, and the policy does not allow a P1 to leave {allowed}: "
            "operations decide"
        )
        return msgspec.structs.replace(decided, reasons=[*decided.reasons, why])
    anywhere = q.at_tier(tier, Residence(region=where.region), [*decided.reasons])
    team = q.teams.get(anywhere.team or "")
    if anywhere.action != "assign" or team is None:
        return decided
    if where.may_hold(team):  # cannot happen (it would have been found), but never lie
        return anywhere
    crossing = Crossing(
        region=where.region,
        allowed=sorted(where.allowed or ()),
        team=team.id,
        team_region=team.region,
    )
    why = (
        f"P1 crosses the residency rule, as the policy allows (allow_p1_crossing): no team "
        f"in {allowed} can take it, so {team.id} in {team.region or 'no region'} holds "
        f"customer region {where.region}'s data; an audit event records the crossing"
    )
    return msgspec.structs.replace(anywhere, crossing=crossing, reasons=[*anywhere.reasons, why])
