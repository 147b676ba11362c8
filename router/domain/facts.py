"""A case's summary facts: what a report needs of one case, folded from its events.

A report over months of cases must not replay every event. The store keeps one compact
record of facts per case and updates it in the same atomic commit that appends the
case's events (`router.store.facts`). The record is the fold, defined here once, of the
case's events over a few attributes of its document:

    created       the instant the case was opened (its `received` event)
    assigned      the first event after which a team held it (status assigned or later)
    acknowledged  the first `acknowledged` event
    resolved      the first `resolved` event
    unroutable    the first event that left it unroutable
    handovers     how many `handed_over` events
    escalations   how many `escalated` events
    rating        the customer's rating (the `feedback` event)
    team, tier, language, priority   the case as it stands (its latest document)
    customer, skill, words           who asked about what, as opened (`summary_words`)

Instants are epoch milliseconds. Each event or document contributes changes of three
kinds: `first` (kept only while the field is empty), `add` (a count) and `set` (the
latest wins). The store applies them field by field as it commits, so its record always
equals `facts_of(case, events)` without reading one event back; anyone can recompute it
from `GET /v1/cases/{id}` and `/events`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Literal

import msgspec

from .case import Case, CaseEvent

__all__ = [
    "FIELDS",
    "NUMBERS",
    "Facts",
    "case_changes",
    "changes_of",
    "event_changes",
    "facts_of",
    "ms",
    "summary_words",
]

Kind = Literal["first", "add", "set"]
Change = tuple[Kind, str, int | str]

_HELD_BY_NOBODY = frozenset({"waiting", "unroutable"})
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


class Facts(msgspec.Struct, frozen=True, kw_only=True, array_like=True):
    """One case's facts (instants in epoch ms; None: it has not happened). Array-like: the
    store keeps a record as a JSON array of these fields in this order (append only)."""

    case: str
    created: int
    assigned: int | None = None
    acknowledged: int | None = None
    resolved: int | None = None
    unroutable: int | None = None
    handovers: int = 0
    escalations: int = 0
    rating: int | None = None
    team: str = ""
    tier: int = 0
    language: str = ""
    priority: str = ""
    customer: str = ""
    skill: str = ""
    words: str = ""


FIELDS: tuple[str, ...] = Facts.__struct_fields__
NUMBERS = frozenset(
    {"created", "assigned", "acknowledged", "resolved", "unroutable", "handovers"}
    | {"escalations", "rating", "tier"}
)


def ms(at: datetime) -> int:
    """An instant as whole epoch milliseconds (exact: no float on the way)."""
    return (at - _EPOCH) // _MS


# Words too common to say what a case is about (English: summaries reach us in it).
_STOP = """a about after again all also am an and any are as at be been before being but by
    can cannot could did do does doing done for from get gets got had has have having he her
    here his how i if in into is it its just me more most my no not now of off on once only
    or other our out over please same she should so some still such than that the their them
    then there these they this those through to too under until up very was we were what
    when where which while who why will with would yet you your"""
STOP_WORDS = frozenset(_STOP.split())
_WORD = re.compile(r"[^\W\d_]+")  # letters only: numbers (invoice 4711) say nothing of a cause
MAX_WORDS = 30


def summary_words(summary: str) -> str:
    """A summary's topic as comparable words: the first MAX_WORDS words, case-folded, stop
    words and single letters dropped, each once, sorted. "The March invoice is charged
    twice!" and "Invoice charged twice in March" both give "charged invoice march twice"."""
    words = _WORD.findall(summary.casefold())[:MAX_WORDS]
    return " ".join(sorted({w for w in words if len(w) > 1 and w not in STOP_WORDS}))


def event_changes(event: CaseEvent) -> list[Change]:
    """What one event changes in the facts."""
    at = ms(event.at)
    out: list[Change] = []
    if event.type == "received":
        out.append(("first", "created", at))
    if event.status not in _HELD_BY_NOBODY:
        out.append(("first", "assigned", at))
    if event.status == "unroutable":
        out.append(("first", "unroutable", at))
    if event.type == "acknowledged":
        out.append(("first", "acknowledged", at))
    elif event.type == "resolved":
        out.append(("first", "resolved", at))
    elif event.type == "handed_over":
        out.append(("add", "handovers", 1))
    elif event.type == "escalated":
        out.append(("add", "escalations", 1))
    elif event.type == "feedback" and event.detail.get("rating", "").isdigit():
        out.append(("first", "rating", int(event.detail["rating"])))
    return out


def _dimensions(case: Case) -> tuple[str, int, str, str]:
    return (case.team or "", case.tier, case.language, case.priority)


def case_changes(old: Case | None, new: Case) -> list[Change]:
    """What a new version of the document changes: where the case stands (when that
    moved), and who asked about what (once, when it is opened)."""
    out: list[Change] = []
    if old is None or _dimensions(old) != _dimensions(new):
        team, tier, language, priority = _dimensions(new)
        out += [
            ("set", "team", team),
            ("set", "tier", tier),
            ("set", "language", language),
            ("set", "priority", priority),
        ]
    if old is None:
        esc = new.escalation
        out += [
            ("set", "case", new.id),
            ("first", "handovers", 0),
            ("first", "escalations", 0),
            ("first", "customer", esc.customer.id),
            ("first", "skill", esc.skill or ""),
            ("first", "words", summary_words(esc.summary)),
        ]
    return out


def apply(record: dict[str, int | str], changes: Iterable[Change]) -> None:
    """The three kinds of change on a record of fields (missing: empty), in order."""
    for kind, name, value in changes:
        if kind == "set":
            record[name] = value
        elif kind == "first":
            record.setdefault(name, value)
        else:
            record[name] = int(record.get(name, 0)) + int(value)


def changes_of(case: Case, events: Sequence[CaseEvent]) -> list[Change]:
    """Every change a case's commits have made to its record, as one list: its document as
    if new, then each of its events (a case with no `received` event: its document's
    creation instant). The backfill writes a record from these."""
    out = case_changes(None, case)
    for event in events:
        out += event_changes(event)
    out.append(("first", "created", ms(case.created_at)))
    return out


def facts_of(case: Case, events: Sequence[CaseEvent]) -> Facts:
    """The facts of a case recomputed from its document and every one of its events: what
    the store's record must equal."""
    record: dict[str, int | str] = {}
    apply(record, changes_of(case, events))
    return Facts(**record)  # type: ignore[arg-type]
