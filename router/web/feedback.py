"""The feedback form on a resolved case's status page: a 1-5 rating and an optional comment,
posted to the page's own signed link, once per case. No script: a plain form, radio
buttons in a fieldset, the answer a page in the customer's language."""

from __future__ import annotations

from typing import Any

from babel.support import Translations
from litestar import Request

from ..domain.case import Case
from ..domain.errors import IllegalTransition, InputError
from ..domain.feedback import MAX_COMMENT, FeedbackGiven
from ..http.context import Context
from ..i18n.feedback import feedback_labels, rating_words

__all__ = ["feedback_block", "submit_feedback"]

_DONE = ("resolved", "closed")
_TOO_LONG = 20 * MAX_COMMENT  # a body longer than this is not a comment typed in the form


def feedback_block(
    case: Case,
    t: Translations,
    action: str,
    *,
    state: str = "",
    rating: str = "",
    comment: str = "",
) -> dict[str, Any] | None:
    """What the status page shows of feedback: nothing before the case is resolved (unless
    someone posted early), the form, or the feedback given; `state` says what the last
    submission met (thanks, already, invalid, too_long, not_yet)."""
    if case.status not in _DONE and state != "not_yet":
        return None
    labels = feedback_labels(t)
    notices = {
        "thanks": labels["thanks"],
        "already": labels["already"],
        "not_yet": labels["not_yet"],
    }
    errors = {
        "invalid": labels["invalid"],
        "too_long": labels["too_long"] % {"max": MAX_COMMENT},
    }
    given = case.feedback
    return {
        "labels": labels,
        "action": action,
        "notice": notices.get(state, ""),
        "error": errors.get(state, ""),
        "given": labels["given"] % {"rating": given.rating} if given else "",
        "given_comment": given.comment if given else "",
        "open": given is None and case.status in _DONE,
        "choices": list(enumerate(rating_words(t), start=1)),
        "chosen": rating,
        "comment": comment,
        "max": MAX_COMMENT,
    }


async def submit_feedback(
    request: Request[Any, Any, Any], ctx: Context, case: Case, locale: str
) -> tuple[str, int, dict[str, str]]:
    """Store the posted feedback. Returns the state for the page, its HTTP status and the
    values to show again in the form (after an error)."""
    form = await request.form()
    rating = str(form.get("rating") or "")
    comment = str(form.get("comment") or "")[:_TOO_LONG]
    kept = {"rating": rating, "comment": comment}
    try:
        await ctx.services.feedback.give(case, rating, comment, now=ctx.now, locale=locale)
    except FeedbackGiven:
        return "already", 409, {}
    except IllegalTransition:
        return "not_yet", 409, {}
    except InputError as err:
        return ("too_long" if err.field == "comment" else "invalid"), 400, kept
    return "thanks", 303, {}
