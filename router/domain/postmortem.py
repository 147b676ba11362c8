"""The post-incident report of a P1: written by ops once the case is resolved, kept in the
case's document (`Case.postmortem`), its timeline generated from the case's events, and
exported as Markdown.

Saving it again replaces it (the revision counts up); every save is a `postmortem` event
carrying the text, so the audit trail keeps each version.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated

import msgspec

from .case import Case, CaseEvent
from .errors import Conflict, IllegalTransition, InputError
from .followup import Postmortem

__all__ = [
    "Draft",
    "IncompleteReport",
    "NotP1",
    "check_report",
    "markdown",
    "timeline",
    "write_postmortem",
]

MAX_TEXT, MAX_STEPS = 20_000, 100
_DONE = ("resolved", "closed")


Text = Annotated[str, msgspec.Meta(max_length=MAX_TEXT)]


class Draft(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """The report as ops typed it (the API's body, the console's form), before
    `check_report`. A missing field is left empty so the answer names every one at once."""

    root_cause: Text = ""
    steps: Annotated[list[Text], msgspec.Meta(max_length=MAX_STEPS)] = []
    prevention: Text = ""


class IncompleteReport(InputError):
    """Fields of the report are missing or wrong; `errors` names every one."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__(*errors[0])
        self.errors = errors


class NotP1(Conflict):
    """Post-incident reports are written for P1 cases only."""

    def __init__(self, case: Case) -> None:
        super().__init__(f"post-incident reports are for P1 cases; {case.id} is {case.priority}")


def check_report(draft: Draft) -> Draft:
    """The fields trimmed, or IncompleteReport naming each one that is missing or too long."""
    errors: list[tuple[str, str]] = []
    root_cause, prevention = draft.root_cause.strip(), draft.prevention.strip()
    cleaned = [s.strip() for s in draft.steps]
    for name, text, what in (
        ("root_cause", root_cause, "what caused the incident"),
        ("prevention", prevention, "what will keep it from happening again"),
    ):
        if not text:
            errors.append((name, f"required: {what}"))
        elif len(text) > MAX_TEXT:
            errors.append((name, f"at most {MAX_TEXT} characters"))
    if not cleaned:
        errors.append(("steps", "list at least one step that resolved the incident"))
    elif len(cleaned) > MAX_STEPS:
        errors.append(("steps", f"at most {MAX_STEPS} steps"))
    for n, step in enumerate(cleaned):
        if not step:
            errors.append((f"steps[{n}]", "an empty step"))
        elif len(step) > MAX_TEXT:
            errors.append((f"steps[{n}]", f"at most {MAX_TEXT} characters"))
    if errors:
        errors.sort(key=lambda e: ("root_cause", "steps", "prevention").index(e[0].split("[")[0]))
        raise IncompleteReport(errors)
    return Draft(root_cause=root_cause, steps=cleaned, prevention=prevention)


def write_postmortem(
    case: Case, draft: Draft, *, now: datetime, actor: str
) -> tuple[Case, CaseEvent]:
    """The case with its (new or revised) report, and the `postmortem` event."""
    if case.priority != "P1":
        raise NotP1(case)
    if case.status not in _DONE:
        raise IllegalTransition("write the post-incident report of", case.status)
    checked = check_report(draft)
    report = Postmortem(
        root_cause=checked.root_cause,
        steps=checked.steps,
        prevention=checked.prevention,
        written_by=actor,
        written_at=now,
        revision=case.postmortem.revision + 1 if case.postmortem else 1,
    )
    new = msgspec.structs.replace(case, version=case.version + 1, updated_at=now, postmortem=report)
    event = CaseEvent(
        case=case.id,
        type="postmortem",
        at=now,
        actor=actor,
        status=new.status,
        team=new.team,
        version=new.version,
        detail={
            "revision": str(report.revision),
            "root_cause": checked.root_cause,
            "steps": "\n".join(checked.steps),
            "prevention": checked.prevention,
        },
    )
    return new, event


class Line(msgspec.Struct, frozen=True, kw_only=True):
    """One line of a report's timeline."""

    at: datetime
    what: str
    actor: str
    team: str


def _what(e: CaseEvent) -> str:
    d = e.detail
    moved = f"from {e.from_team or 'nobody'} to {e.team or 'nobody'}"
    why = f" ({d['reason']})" if d.get("reason") else ""
    opened = {
        "assign": f"assigned to {e.team}",
        "wait": f"waiting for {e.team or 'a team'}",
        "unroutable": "no team could take it",
    }
    phrases = {
        "received": f"Opened, {opened.get(d.get('action', ''), e.status)}",
        "acknowledged": "Acknowledged",
        "note": f"Note: {d.get('text', '')}",
        "customer_update": f"Update to the customer: {d.get('text', '')}",
        "handed_over": f"Handed over {moved}{why}",
        "escalated": f"Escalated {moved}{why}",
        "reassigned": f"Reassigned {moved}{why}",
        "assigned": f"Assigned {moved}{why}",
        "rescheduled": f"Rescheduled{why}",
        "resolved": f"Resolved: {d.get('resolution', '')}",
        "closed": "Closed",
        "feedback": f"Customer rated {d.get('rating', '?')} of 5",
        "postmortem": f"Post-incident report, revision {d.get('revision', '?')}",
    }
    return phrases.get(e.type, e.type.replace("_", " ").capitalize())


def timeline(events: Sequence[CaseEvent]) -> list[Line]:
    """The case's events as a report's timeline, oldest first."""
    return [
        Line(at=e.at, what=_what(e), actor=e.actor, team=e.team or "")
        for e in sorted(events, key=lambda e: e.at)
    ]


def _utc(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S UTC") if at else "not yet"


def _span(start: datetime, end: datetime | None) -> str:
    if end is None:
        return ""
    minutes = int((end - start).total_seconds() // 60)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = [f"{days} d"] * bool(days) + [f"{hours} h"] * bool(hours) + [f"{mins} min"]
    return f" (after {' '.join(parts)})"


def _cell(text: str) -> str:
    """Text for one Markdown table cell: on one line, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def markdown(case: Case, events: Sequence[CaseEvent]) -> str:
    """The report as a Markdown document: facts of the case, the three sections ops wrote,
    the timeline from its events."""
    pm = case.postmortem
    if pm is None:
        raise IllegalTransition("export the post-incident report of (none written)", case.status)
    esc = case.escalation
    acked = next((e.at for e in events if e.type == "acknowledged"), None)
    lines = [
        f"# Post-incident report: {case.id}",
        "",
        "| | |",
        "|---|---|",
        f"| Priority | {case.priority} |",
        f"| Summary | {_cell(esc.summary) or '-'} |",
        f"| Customer | {_cell(esc.customer.name or esc.customer.id)} ({esc.customer.locale}) |",
        f"| Team | {case.team or '-'} (tier {case.tier}) |",
        f"| Opened | {_utc(case.created_at)} |",
        f"| Acknowledged | {_utc(acked)}{_span(case.created_at, acked)} |",
        f"| Resolved | {_utc(case.resolved_at)}{_span(case.created_at, case.resolved_at)} |",
        f"| Handovers | {sum(e.type == 'handed_over' for e in events)} |",
        f"| Escalations | {sum(e.type == 'escalated' for e in events)} |",
        "",
        "## Root cause",
        "",
        pm.root_cause,
        "",
        "## Resolution steps",
        "",
        *(f"{n}. {' '.join(step.split())}" for n, step in enumerate(pm.steps, start=1)),
        "",
        "## Prevention",
        "",
        pm.prevention,
        "",
        "## Timeline (UTC)",
        "",
        "| When | Event | By | Team |",
        "|---|---|---|---|",
        *(
            f"| {line.at:%Y-%m-%d %H:%M:%S} | {_cell(line.what)} | {_cell(line.actor)} | "
            f"{line.team or '-'} |"
            for line in timeline(events)
        ),
        "",
        f"_Revision {pm.revision}, written by {pm.written_by} on {_utc(pm.written_at)}. "
        "The timeline is generated from the case's events._",
        "",
    ]
    return "\n".join(lines)
