"""Handover packets and outbox messages: what a receiving team, a customer or operations
is told when a case moves. Pure values; the store writes them with the move itself."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

from .case import Case, Note

__all__ = [
    "Outbox",
    "Packet",
    "customer_update",
    "messages_for",
    "ops_alert",
    "packet_for",
    "team_message",
]


class CustomerInfo(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    locale: str
    timezone: str
    vip: bool


class Deadlines(msgspec.Struct, frozen=True, kw_only=True):
    acknowledge: datetime | None
    next_update: datetime | None
    resolve: datetime


class Packet(msgspec.Struct, frozen=True, kw_only=True):
    """What the escalation literature asks a handover to carry, so the next team can act
    without reading the whole history."""

    case: str
    at: datetime
    kind: str
    from_team: str | None
    to_team: str | None
    priority: str
    problem_summary: str
    steps_taken: list[str]
    impact_assessment: str
    customer: CustomerInfo
    deadlines: Deadlines
    help_needed: str
    notes_since_last_handover: list[Note]
    reasons: list[str]


class Outbox(msgspec.Struct, frozen=True, kw_only=True):
    """A message to deliver: to the customer (rendered in their language later), to a team,
    or to operations. `key` is unique per message, so a redelivery can be recognised."""

    key: str
    audience: Literal["customer", "team", "ops"]
    event: str
    case: str
    at: datetime
    team: str | None = None
    locale: str = "en"
    timezone: str = "UTC"
    params: dict[str, str] = {}


def packet_for(
    before: Case, after: Case, *, kind: str, at: datetime, last_handover: datetime | None
) -> Packet:
    esc = before.escalation
    cust = esc.customer
    notes = [n for n in before.notes if last_handover is None or n.at > last_handover]
    return Packet(
        case=before.id,
        at=at,
        kind=kind,
        from_team=before.team,
        to_team=after.team,
        priority=before.priority,
        problem_summary=esc.summary,
        steps_taken=list(esc.steps_taken)
        + [n.text for n in before.notes if not n.customer_visible],
        impact_assessment=esc.impact_assessment,
        customer=CustomerInfo(
            id=cust.id, name=cust.name, locale=cust.locale, timezone=cust.timezone, vip=cust.vip
        ),
        deadlines=Deadlines(
            acknowledge=after.ack_due, next_update=after.update_due, resolve=after.resolve_due
        ),
        help_needed=esc.help_needed,
        notes_since_last_handover=notes,
        reasons=list(after.decision.reasons),
    )


def team_message(case: Case, event: str, team: str | None, at: datetime, **params: str) -> Outbox:
    return Outbox(
        key=f"{case.id}:{case.version}:team:{event}:{team}",
        audience="team",
        event=event,
        case=case.id,
        at=at,
        team=team,
        params=params,
    )


def customer_update(case: Case, event: str, at: datetime, **params: str) -> Outbox:
    """An update for the customer, with what rendering needs as of this version of the case
    (so a later change to the case cannot alter what this update says)."""
    cust = case.escalation.customer
    base = {
        "ref": case.id,
        "priority": case.priority,
        "name": cust.name,
        "due": case.ack_due.isoformat() if case.ack_due else "",
        "next_update": case.update_due.isoformat() if case.update_due else "",
    }
    return Outbox(
        key=f"{case.id}:{case.version}:customer:{event}",
        audience="customer",
        event=event,
        case=case.id,
        at=at,
        team=case.team,
        locale=cust.locale,
        timezone=cust.timezone,
        params={**base, **params},
    )


def ops_alert(case: Case, event: str, at: datetime, **params: str) -> Outbox:
    return Outbox(
        key=f"{case.id}:{case.version}:ops:{event}",
        audience="ops",
        event=event,
        case=case.id,
        at=at,
        team=case.team,
        params=params,
    )


_CUSTOMER_EVENT = {  # case event -> customer update it produces
    "received": "received",
    "customer_update": "update",
    "resolved": "resolved",
    "closed": "closed",
    "escalated": "escalated",
    "reassigned": "assigned",
    "assigned": "assigned",
    "handed_over": "handed_over",
}
_TEAM_EVENT = frozenset({"handed_over", "escalated", "reassigned", "assigned"})


def messages_for(
    before: Case | None, after: Case, event: str, at: datetime, region: str = "", **params: str
) -> list[Outbox]:
    """Who hears about a case event: the team that now holds it (a case assigned at
    intake is an "assigned" message to its team), the customer (in their language,
    rendered at delivery), and operations when nobody could take it (naming the team
    the case left, if any)."""
    out: list[Outbox] = []
    team_event = "assigned" if event == "received" and after.status == "assigned" else event
    if team_event in _TEAM_EVENT and after.team:
        out.append(
            team_message(
                after,
                team_event,
                after.team,
                at,
                from_team=before.team or "" if before else "",
                priority=after.priority,
                due=after.ack_due.isoformat() if after.ack_due else "",
            )
        )
    if after.status == "waiting" and after.decision.starts_at:
        if event == "received":
            out.append(customer_update(after, "received", at, **params))
        out.append(
            customer_update(after, "waiting", at, start=after.decision.starts_at.isoformat())
        )
    elif event in _CUSTOMER_EVENT and after.status != "unroutable":
        out.append(customer_update(after, _CUSTOMER_EVENT[event], at, region=region, **params))
    if after.status == "unroutable":
        left = {"from_team": before.team} if before and before.team else {}
        reasons = "; ".join(after.decision.reasons)
        out.append(ops_alert(after, "unroutable", at, reasons=reasons, **left))
    return out
