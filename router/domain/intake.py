"""Helpdesk tickets into escalations: the policy's `[intake.<source>]` mapping applied.

Zendesk, Freshdesk and Jira Service Management post one shape (README "Helpdesk
intake"); `escalation_of` reads it with the source's mapping: the helpdesk's priority to
impact × urgency, tags to a skill and to flags, the requester to the customer (their
zone through `zones.helpdesk_zone`: a name we cannot place is UTC, with the reason kept
in `intake_notes`, as is a locale that is no language tag: English). A value that cannot
be used raises InputError naming the body's field (`ticket.priority`), so the helpdesk's
webhook log says what to fix.
"""

from __future__ import annotations

import msgspec

from .errors import InputError, UnknownLanguage
from .escalation import Customer, Escalation
from .language import parse_lang
from .model import Grade, IntakeMapping, IntakeSource, Policy
from .zones import helpdesk_zone

__all__ = ["DEFAULT_INTAKE", "Requester", "Ticket", "TicketBody", "escalation_of", "mapping_for"]

_MAX_TEXT = 20_000


def _grades(**names: tuple[str, str]) -> dict[str, Grade]:
    return {n: Grade(impact=i, urgency=u) for n, (i, u) in names.items()}  # type: ignore[arg-type]


# What a policy without `[intake.<source>]` uses: each helpdesk's own priority names, the
# most pressing P1 and the least P4 through the repository's matrix; no tags mapped.
DEFAULT_INTAKE: dict[IntakeSource, IntakeMapping] = {
    "zendesk": IntakeMapping(
        priorities=_grades(
            urgent=("high", "high"),
            high=("high", "medium"),
            normal=("medium", "medium"),
            low=("low", "medium"),
        ),
        default_priority="normal",
    ),
    "freshdesk": IntakeMapping(
        priorities=_grades(
            urgent=("high", "high"),
            high=("high", "medium"),
            medium=("medium", "medium"),
            low=("low", "medium"),
        ),
        default_priority="low",
    ),
    "jsm": IntakeMapping(
        priorities=_grades(
            highest=("high", "high"),
            high=("high", "medium"),
            medium=("medium", "medium"),
            low=("low", "medium"),
            lowest=("low", "low"),
        ),
        default_priority="medium",
    ),
}


def mapping_for(policy: Policy, source: IntakeSource) -> IntakeMapping:
    """The policy's mapping for `source`, else the default one."""
    return policy.intake.get(source) or DEFAULT_INTAKE[source]


class Requester(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    id: str | int = ""
    name: str = ""
    email: str = ""
    locale: str = ""
    time_zone: str = ""


class Ticket(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A ticket as the helpdesk's trigger renders it. Every value is the text its
    placeholder renders (a number is taken too); `tags` is one string (Zendesk: space
    separated, Freshdesk: comma separated) or a JSON list (JSM's labels)."""

    id: str | int
    priority: str = ""
    subject: str = ""
    description: str = ""
    tags: str | list[str] = ""
    url: str = ""
    requester: Requester = Requester()


class TicketBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The body every helpdesk trigger sends: `{"ticket": {...}}`."""

    ticket: Ticket


def escalation_of(source: IntakeSource, ticket: Ticket, mapping: IntakeMapping) -> Escalation:
    """The escalation a ticket asks for (source and external id make retries safe)."""
    ticket_id = str(ticket.id).strip()
    if not ticket_id:
        raise InputError("ticket.id", "required (it makes the helpdesk's retries safe)")
    grade = _grade(ticket.priority, mapping)
    tags = _tags(ticket.tags, source)
    skill = next((s for tag, s in mapping.skills.items() if tag in tags), mapping.default_skill)
    flags = sorted({f for tag, f in mapping.flags.items() if tag in tags})
    customer, notes = _customer(source, ticket.requester)
    return Escalation(
        customer=customer,
        skill=skill,
        impact=grade.impact,
        urgency=grade.urgency,
        flags=flags,  # type: ignore[arg-type]
        summary=_summary(ticket),
        source=source,
        external_id=ticket_id[:200],
        intake_notes=notes,
    )


def _grade(priority: str, mapping: IntakeMapping) -> Grade:
    name = priority.strip().lower() or mapping.default_priority
    if not name:
        raise InputError("ticket.priority", "required (the policy names no default_priority)")
    grade = mapping.priorities.get(name)
    if grade is None:
        known = ", ".join(mapping.priorities)
        raise InputError("ticket.priority", f'"{priority}" is not one of {known}')
    return grade


def _tags(tags: str | list[str], source: IntakeSource) -> set[str]:
    if isinstance(tags, list):
        words = tags
    elif source == "freshdesk":
        words = tags.split(",")
    else:
        words = tags.split()
    return {w.strip().lower() for w in words if w.strip()}


def _customer(source: IntakeSource, who: Requester) -> tuple[Customer, list[str]]:
    ident = str(who.id).strip() or who.email.strip()
    if not ident:
        raise InputError("ticket.requester.id", "required (or the requester's email)")
    notes: list[str] = []
    locale = who.locale.strip().replace("_", "-") or "en"  # Jira says en_US
    try:
        locale = parse_lang(locale, "ticket.requester.locale").tag
    except UnknownLanguage:
        notes.append(
            f'locale "{who.locale.strip()[:60]}" is not a language tag; the customer is '
            "served in English until someone sets it"
        )
        locale = "en"
    zone, why = helpdesk_zone(who.time_zone)
    customer = Customer(
        id=f"{source}:{ident}"[:200],
        locale=locale,
        timezone=zone,
        name=who.name.strip()[:200],
        email=who.email.strip()[:200],
    )
    return customer, [n[:200] for n in [*notes, *([why] if why else [])]]


def _summary(ticket: Ticket) -> str:
    parts = [ticket.subject.strip(), ticket.description.strip(), ticket.url.strip()]
    text = "\n\n".join(p for p in parts if p)
    return text[:_MAX_TEXT]
