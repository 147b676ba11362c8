"""The customer's feedback on a resolved case: a rating from 1 to 5 and an optional
comment, once per case, given on the status page (no account: the signed link is the
credential). It is an event like any other (`feedback`), so reports count it."""

from __future__ import annotations

from datetime import datetime

import msgspec

from .case import Case, CaseEvent
from .errors import Conflict, IllegalTransition, InputError
from .followup import Feedback

__all__ = ["MAX_COMMENT", "FeedbackGiven", "give_feedback", "parse_rating"]

MAX_COMMENT = 2_000
_DONE = ("resolved", "closed")


class FeedbackGiven(Conflict):
    """The case has its feedback already: one per case."""

    def __init__(self, case_id: str) -> None:
        super().__init__(f"case {case_id} has its customer's feedback already")


def parse_rating(value: object) -> int:
    """A rating from a form or a document: a whole number from 1 to 5, else InputError."""
    text = str(value).strip() if value is not None else ""
    if not text.isdigit() or not 1 <= int(text) <= 5:
        raise InputError("rating", "choose a rating from 1 to 5")
    return int(text)


def give_feedback(
    case: Case, rating: int | str, comment: str, *, now: datetime, locale: str = ""
) -> tuple[Case, CaseEvent]:
    """The case with the customer's feedback, and its `feedback` event."""
    if case.status not in _DONE:
        raise IllegalTransition("rate", case.status)
    if case.feedback is not None:
        raise FeedbackGiven(case.id)
    rating = parse_rating(rating)
    comment = comment.strip()
    if len(comment) > MAX_COMMENT:
        raise InputError("comment", f"at most {MAX_COMMENT} characters")
    feedback = Feedback(rating=rating, comment=comment, at=now, locale=locale)
    new = msgspec.structs.replace(case, version=case.version + 1, updated_at=now, feedback=feedback)
    event = CaseEvent(
        case=case.id,
        type="feedback",
        at=now,
        actor="customer",
        status=new.status,
        team=new.team,
        version=new.version,
        detail={k: v for k, v in (("rating", str(rating)), ("comment", comment)) if v},
    )
    return new, event
