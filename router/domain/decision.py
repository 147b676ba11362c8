"""A routing decision: where a case goes, with the reasons in words an auditor reads.

Its own module so that the steps of routing (router.domain.routing_tier, one tier's
question; router.domain.routing_residency, the residency rules around it) and the
lifecycle can all build and read it without importing each other.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal

import msgspec

from .model import Policy, Priority, Team
from .residency import Crossing

__all__ = ["Action", "Decision", "MatchName", "assign_to"]

Action = Literal["assign", "wait", "unroutable"]
MatchName = Literal["exact", "base", "fallback"]


class Decision(msgspec.Struct, frozen=True, kw_only=True):
    action: Action
    priority: Priority
    tier: int
    team: str | None = None
    language: str | None = None
    language_match: MatchName | None = None
    shift_ends_at: datetime | None = None
    starts_at: datetime | None = None
    ack_due: datetime | None = None
    at: datetime | None = None
    reasons: list[str] = []
    # a P1 given outside its customer's allowed regions (policy allow_p1_crossing): the
    # move that applies this decision writes a `residency_crossed` audit event
    crossing: Crossing | None = None


def assign_to(
    team: Team,
    *,
    priority: Priority,
    at: datetime,
    policy: Policy,
    reasons: Iterable[str],
    language: str | None = None,
    language_match: MatchName | None = None,
    shift_ends_at: datetime | None = None,
    base: Decision | None = None,
) -> Decision:
    """A decision to give the work to `team` (at its tier) at `at`, acknowledgement due
    `priority`'s target later.

    With `base`, that decision becomes the assignment instead (an `unroutable` handover
    given to the leaving team's `escalates_to`): team, tier, deadline and reasons are
    replaced, the rest of `base` (its priority, language, `at` ...) is kept unless given
    here; `priority` and `at` then only set the deadline.
    """
    ack_due = at + policy.priorities[priority].acknowledge
    if base is None:
        return Decision(
            action="assign",
            priority=priority,
            tier=team.tier,
            team=team.id,
            language=language,
            language_match=language_match,
            shift_ends_at=shift_ends_at,
            ack_due=ack_due,
            at=at,
            reasons=list(reasons),
        )
    given = {"language": language, "language_match": language_match, "shift_ends_at": shift_ends_at}
    return msgspec.structs.replace(
        base,
        action="assign",
        team=team.id,
        tier=team.tier,
        ack_due=ack_due,
        reasons=list(reasons),
        **{k: v for k, v in given.items() if v is not None},
    )
