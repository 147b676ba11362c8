"""The audit event of a residency crossing: a P1 given to a team outside its customer's
allowed regions because the policy's `allow_p1_crossing` lets it (router.domain.residency).

Whatever applies a decision (intake, handover, wake, escalation, reassignment) writes
these events with its own, in the same commit, so the trail can never show the case in
another region without saying so.
"""

from __future__ import annotations

from datetime import datetime

from .case import Case, CaseEvent
from .residency import CROSSED

__all__ = ["CROSSED", "crossing_events"]


def crossing_events(old: Case | None, new: Case, at: datetime, actor: str) -> list[CaseEvent]:
    """`residency_crossed` when `new` applies a decision that crosses (and `old`, if any,
    held another decision); none otherwise."""
    crossing = new.decision.crossing
    if crossing is None or (old is not None and old.decision == new.decision):
        return []
    event = CaseEvent(
        case=new.id,
        type=CROSSED,
        at=at,
        actor=actor,
        status=new.status,
        team=new.team,
        from_team=old.team if old is not None else None,
        version=new.version,
        detail=crossing.detail(),
    )
    return [event]
