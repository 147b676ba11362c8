"""The case lifecycle: which transitions are legal, and the event each one writes.

    waiting ─(team starts)─▶ assigned ─ack─▶ acknowledged ─resolve─▶ resolved ─close─▶ closed
                                 ▲   ▲                 │
        handed_over / escalated / reassigned ──────────┘  (back to assigned, new team)
    unroutable ──(reassigned by ops or escalated)──▶ assigned

Every function takes the case and `now` and returns the next version plus its audit
event; nothing here writes anywhere. The store applies both atomically.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

from .errors import IllegalTransition
from .escalation import Escalation
from .followup import Feedback, Postmortem
from .model import Policy, Priority
from .routing import Decision

__all__ = [
    "OPEN",
    "Case",
    "CaseEvent",
    "IllegalTransition",
    "Note",
    "acknowledge",
    "add_note",
    "close",
    "move",
    "open_case",
    "resolve",
]

Status = Literal["waiting", "assigned", "acknowledged", "resolved", "closed", "unroutable"]
OPEN: frozenset[str] = frozenset({"waiting", "assigned", "acknowledged", "unroutable"})
MoveKind = Literal["handed_over", "escalated", "reassigned", "assigned", "rescheduled"]


class Note(msgspec.Struct, frozen=True, kw_only=True):
    at: datetime
    author: str
    text: str
    customer_visible: bool = False


class Case(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    version: int
    status: Status
    team: str | None
    tier: int
    priority: Priority
    language: str
    escalation: Escalation
    decision: Decision
    created_at: datetime
    updated_at: datetime
    ack_due: datetime | None
    update_due: datetime | None
    resolve_due: datetime
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    skill: str | None = None
    notes: list[Note] = []
    resolution: str = ""
    handovers: int = 0
    last_handover_at: datetime | None = None
    update_reminders: int = 0
    resolve_overdue_notified: bool = False
    feedback: Feedback | None = None  # the customer's, once resolved (domain/feedback.py)
    postmortem: Postmortem | None = None  # a P1's post-incident report (domain/postmortem.py)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    def next_deadline(self) -> datetime | None:
        """The earliest deadline still ahead of the case (for the deadline index)."""
        if not self.is_open:
            return None
        due = [] if self.resolve_overdue_notified else [self.resolve_due]
        if self.status == "assigned" and self.ack_due is not None:
            due.append(self.ack_due)
        if self.update_due is not None:
            due.append(self.update_due)
        return min(due) if due else None


class CaseEvent(msgspec.Struct, frozen=True, kw_only=True):
    """One audit entry: what happened to which case, when, by whom, from which state."""

    case: str
    type: str
    at: datetime
    actor: str
    status: str
    team: str | None = None
    from_team: str | None = None
    version: int = 0
    detail: dict[str, str] = {}


def _event(case: Case, type_: str, now: datetime, actor: str, **detail: str) -> CaseEvent:
    return CaseEvent(
        case=case.id,
        type=type_,
        at=now,
        actor=actor,
        status=case.status,
        team=case.team,
        version=case.version,
        detail={k: v for k, v in detail.items() if v},
    )


def _status_of(decision: Decision) -> Status:
    return {"assign": "assigned", "wait": "waiting", "unroutable": "unroutable"}[decision.action]  # type: ignore[return-value]


def open_case(
    case_id: str,
    esc: Escalation,
    decision: Decision,
    *,
    now: datetime,
    policy: Policy,
    actor: str = "intake",
) -> tuple[Case, CaseEvent]:
    """A new case from an escalation and its routing decision."""
    targets = policy.priorities[decision.priority]
    case = Case(
        id=case_id,
        version=1,
        status=_status_of(decision),
        team=decision.team,
        tier=decision.tier,
        priority=decision.priority,
        language=str(esc.wanted()),
        skill=esc.skill,
        escalation=esc,
        decision=decision,
        created_at=now,
        updated_at=now,
        ack_due=decision.ack_due or now + targets.acknowledge,
        update_due=now + targets.update,
        resolve_due=now + targets.resolve,
    )
    return case, _event(case, "received", now, actor, action=decision.action)


def acknowledge(case: Case, *, now: datetime, actor: str) -> tuple[Case, CaseEvent]:
    if case.status != "assigned":
        raise IllegalTransition("acknowledge", case.status)
    new = msgspec.structs.replace(
        case, status="acknowledged", version=case.version + 1, acknowledged_at=now, updated_at=now
    )
    return new, _event(new, "acknowledged", now, actor)


def add_note(
    case: Case,
    text: str,
    *,
    now: datetime,
    actor: str,
    customer_visible: bool = False,
    policy: Policy | None = None,
) -> tuple[Case, CaseEvent]:
    """A note; one meant for the customer also counts as the customer update."""
    if not case.is_open:
        raise IllegalTransition("add a note to", case.status)
    update_due = case.update_due
    if customer_visible and policy is not None:
        update_due = now + policy.priorities[case.priority].update
    new = msgspec.structs.replace(
        case,
        version=case.version + 1,
        updated_at=now,
        update_due=update_due,
        notes=[
            *case.notes,
            Note(at=now, author=actor, text=text, customer_visible=customer_visible),
        ],
    )
    return new, _event(
        new, "customer_update" if customer_visible else "note", now, actor, text=text
    )


def resolve(case: Case, summary: str, *, now: datetime, actor: str) -> tuple[Case, CaseEvent]:
    if case.status not in ("assigned", "acknowledged"):
        raise IllegalTransition("resolve", case.status)
    new = msgspec.structs.replace(
        case,
        status="resolved",
        version=case.version + 1,
        resolved_at=now,
        updated_at=now,
        resolution=summary,
    )
    return new, _event(new, "resolved", now, actor, resolution=summary)


def close(case: Case, *, now: datetime, actor: str) -> tuple[Case, CaseEvent]:
    if case.status != "resolved":
        raise IllegalTransition("close", case.status)
    new = msgspec.structs.replace(
        case, status="closed", version=case.version + 1, closed_at=now, updated_at=now
    )
    return new, _event(new, "closed", now, actor)


def move(
    case: Case,
    decision: Decision,
    kind: MoveKind,
    *,
    now: datetime,
    actor: str,
    policy: Policy,
    reason: str = "",
    skill: str | None = None,
) -> tuple[Case, CaseEvent]:
    """Give the case to the team a new decision names (handover, escalation, reassignment).

    The receiving team acknowledges again: the acknowledgement deadline restarts.
    """
    if not case.is_open:
        raise IllegalTransition(kind.replace("_", " "), case.status)
    targets = policy.priorities[case.priority]
    new = msgspec.structs.replace(
        case,
        status=_status_of(decision),
        team=decision.team,
        tier=decision.tier,
        decision=decision,
        version=case.version + 1,
        updated_at=now,
        ack_due=decision.ack_due or now + targets.acknowledge,
        acknowledged_at=None,
        skill=skill if skill is not None else case.skill,
    )
    event = _event(new, kind, now, actor, reason=reason, action=decision.action)
    return new, msgspec.structs.replace(event, from_team=case.team)
