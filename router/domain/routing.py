"""Routing: which team takes an escalation at an instant, and why.

`route` works out the question (priority, starting tier, flags that escalate at once,
the customer's residency) and asks it of one tier (router.domain.routing_tier: the
candidates, their ranking, waiting for a native team). A customer whose region has
residency rules goes through router.domain.routing_residency instead, which only ever
considers teams allowed to hold the data and says so in the reasons. The decision's
shape lives in router.domain.decision; it is re-exported here.

    routing              the question and its answer (this module)
    routing_tier         one tier: candidates, ranking, assign / wait / unroutable
    routing_residency    residency rules: allowed teams only, up the allowed chain, P1
                         crossing, waiting for an allowed team
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

from .decision import Action, Decision, MatchName, assign_to
from .escalation import Escalation
from .index import ShiftIndex
from .model import Policy, Team
from .residency import residence
from .routing_residency import route_resident
from .routing_tier import route_tier

__all__ = ["Action", "Decision", "MatchName", "assign_to", "route"]


def route(
    esc: Escalation,
    *,
    now: datetime,
    teams: Mapping[str, Team],
    index: ShiftIndex,
    policy: Policy,
    loads: Mapping[str, int] | None = None,
    exclude: Collection[str] = (),
    tier: int | None = None,
) -> Decision:
    """Decide where `esc` goes at `now`. `exclude` removes teams (the one going off shift);
    `tier` overrides the starting tier (hierarchical escalation)."""
    priority = esc.priority_for(policy)
    reasons: list[str] = []
    if tier is None:
        tier = _flagged_tier(esc, teams, policy, policy.priorities[priority].tier, reasons)
    skill = f", skill {esc.skill}" if esc.skill else ""
    reasons.insert(0, f"{priority}; needs tier {tier}{skill}, language {esc.wanted()}")
    where = residence(esc, policy)
    decide = route_resident if where.restricted else route_tier
    return decide(
        esc,
        now=now,
        teams=teams,
        index=index,
        policy=policy,
        loads=loads or {},
        exclude=exclude,
        tier=tier,
        where=where,
        reasons=reasons,
    )


def _flagged_tier(
    esc: Escalation, teams: Mapping[str, Team], policy: Policy, tier: int, reasons: list[str]
) -> int:
    """The priority's tier, or the next tier up when a flag calls for immediate escalation."""
    triggers = esc.triggers(policy)
    if not triggers:
        return tier
    flags = ", ".join(triggers)
    higher = sorted({t.tier for t in teams.values() if t.tier > tier})
    if not higher:
        reasons.append(f"flags {flags} ask for a higher tier; none exists")
        return tier
    reasons.append(f"flags {flags} escalate immediately to tier {higher[0]}")
    return higher[0]
