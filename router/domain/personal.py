"""A customer's personal data, and what is left of a case once it must go.

Two reasons take a customer's data out of a case, and they differ only in how much goes:

    retention  a case resolved (or closed) longer ago than its region's `[retention]` days:
               the name, the
               e-mail address and every free text (summary, steps taken, impact
               assessment, help needed, notes, resolution, feedback comment) are removed;
               the customer's id stays, so a later erasure or export still finds the case
    erasure    `DELETE /v1/customers/{id}`: all of the above and the customer's id and the
               helpdesk's ticket id too

Statistics stay either way: status, team, tier, priority, language, every instant, the
rating, the counts, the report facts. Text written by operations about the case (a
post-incident report, a reassignment's reason, the routing reasons) is kept with the
customer's name and address blotted out (`scrub`). The functions here are pure: the store
(`router.store.customers`) writes what they return, one case per atomic step.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Literal

import msgspec

from .case import Case, CaseEvent
from .facts import Facts
from .handover import CustomerInfo, Packet
from .model import Retention

# the statuses of a case whose work is done; retention counts from its resolution
ENDED = ("resolved", "closed")

__all__ = [
    "ENDED",
    "ERASED",
    "Subject",
    "Why",
    "anonymise_case",
    "anonymise_event",
    "anonymise_facts",
    "anonymise_packet",
    "customer_message",
    "retention_days",
    "retention_due",
    "scrub",
]

Why = Literal["retention", "erasure"]
ERASED = "[erased]"  # what stands where a name or address was, in text that stays
# event detail that is free text from or about the customer: removed, not scrubbed
_FREE_DETAIL = frozenset({"text", "resolution", "comment"})
_MIN_PART = 3  # name parts shorter than this ("Li", "de") are not blotted out alone


class Subject(msgspec.Struct, frozen=True, kw_only=True):
    """Who the data is about: what `scrub` looks for in text that stays."""

    name: str = ""
    email: str = ""

    @classmethod
    def of(cls, case: Case) -> Subject:
        cust = case.escalation.customer
        return cls(name=cust.name, email=cust.email)

    def needles(self) -> list[str]:
        """The strings to blot out, longest first (the whole name before its parts)."""
        found = {self.name.strip(), self.email.strip()}
        found |= {p for p in re.split(r"[\s,]+", self.name) if len(p) >= _MIN_PART}
        local = self.email.partition("@")[0]
        if len(local) >= _MIN_PART:
            found.add(local)
        return sorted((n for n in found if n), key=lambda n: (-len(n), n))


def scrub(text: str, subject: Subject) -> str:
    """`text` with every occurrence of the subject's name, its parts and address replaced
    by `ERASED` (case-insensitive)."""
    needles = subject.needles()
    if not text or not needles:
        return text
    pattern = "|".join(re.escape(n) for n in needles)
    return re.sub(pattern, ERASED, text, flags=re.IGNORECASE)


def anonymise_case(case: Case, subject: Subject, why: Why, *, now: datetime) -> Case:
    """The case without its customer's personal data (see the module docstring), one version
    on, so a writer holding the old version loses its race rather than writing it back."""
    esc = case.escalation
    cust = esc.customer
    erase = why == "erasure"
    customer = msgspec.structs.replace(cust, name="", email="", id="" if erase else cust.id)
    escalation = msgspec.structs.replace(
        esc,
        customer=customer,
        summary="",
        steps_taken=[],
        impact_assessment="",
        help_needed="",
        intake_notes=[],
        external_id="" if erase else esc.external_id,
    )
    feedback = case.feedback and msgspec.structs.replace(case.feedback, comment="")
    postmortem = case.postmortem and msgspec.structs.replace(
        case.postmortem,
        root_cause=scrub(case.postmortem.root_cause, subject),
        steps=[scrub(s, subject) for s in case.postmortem.steps],
        prevention=scrub(case.postmortem.prevention, subject),
    )
    decision = msgspec.structs.replace(
        case.decision, reasons=[scrub(r, subject) for r in case.decision.reasons]
    )
    return msgspec.structs.replace(
        case,
        version=case.version + 1,
        updated_at=max(now, case.updated_at),
        escalation=escalation,
        decision=decision,
        notes=[msgspec.structs.replace(n, text="") for n in case.notes],
        resolution="",
        feedback=feedback,
        postmortem=postmortem,
    )


def anonymise_event(event: CaseEvent, subject: Subject) -> CaseEvent:
    """The audit entry without free text (notes, resolution, comment); other detail (a
    report's text, a reason) with the name and address blotted out."""
    detail = {k: scrub(v, subject) for k, v in event.detail.items() if k not in _FREE_DETAIL}
    if detail == event.detail:
        return event
    return msgspec.structs.replace(event, detail=detail)


def anonymise_packet(packet: Packet, subject: Subject, why: Why) -> Packet:
    """A handover packet without the problem as the customer told it, their name or notes."""
    cust = packet.customer
    customer = CustomerInfo(
        id="" if why == "erasure" else cust.id,
        name="",
        locale=cust.locale,
        timezone=cust.timezone,
        vip=cust.vip,
    )
    return msgspec.structs.replace(
        packet,
        problem_summary="",
        steps_taken=[],
        impact_assessment="",
        help_needed="",
        customer=customer,
        notes_since_last_handover=[
            msgspec.structs.replace(n, text="") for n in packet.notes_since_last_handover
        ],
        reasons=[scrub(r, subject) for r in packet.reasons],
    )


def customer_message(key: str) -> bool:
    """Whether an outbox key (`<case>:<version>:<audience>:<event>...`) is a customer
    update: the only messages that carry the customer's name, and whose deliveries carry
    their address (team and operations messages name the case only)."""
    return key.split(":")[2:3] == ["customer"]


def anonymise_facts(facts: Facts, subject: Subject, why: Why) -> Facts:
    """Report facts keep every number; an erasure drops who asked and the topic words (from
    their summary), retention only the words that are the customer's name or address."""
    if why == "erasure":
        return msgspec.structs.replace(facts, customer="", words="")
    blotted = {w.casefold() for n in subject.needles() for w in re.findall(r"[^\W\d_]+", n)}
    words = " ".join(w for w in facts.words.split() if w not in blotted)
    return msgspec.structs.replace(facts, words=words)


def retention_days(retention: Retention | None, region: str) -> int | None:
    """How many days an ended case of a customer in `region` keeps their data (None:
    no limit: no `[retention]`, or no entry for the region and no `default`)."""
    if retention is None:
        return None
    days = retention.days
    return days.get(region, days.get("default")) if region else days.get("default")


def retention_due(case: Case, days: int | None, now: datetime) -> bool:
    """Whether a case's personal data must go now: ended (resolved, or closed) at least
    `days` days ago. Counted from the resolution, because closing is a manual step that
    many teams never take, and a resolved case left open must not keep its data forever."""
    ended = case.resolved_at or case.closed_at
    if days is None or case.status not in ENDED or ended is None:
        return False
    return ended + timedelta(days=days) <= now
