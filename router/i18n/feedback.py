"""The words of the feedback form on the customer's status page (pgettext "feedback")."""

from __future__ import annotations

from babel.support import Translations

__all__ = ["feedback_labels", "rating_words"]


def rating_words(t: Translations) -> list[str]:
    """What each rating from 1 to 5 means, in order."""
    return [
        t.pgettext("feedback", "Poor"),
        t.pgettext("feedback", "Fair"),
        t.pgettext("feedback", "Good"),
        t.pgettext("feedback", "Very good"),
        t.pgettext("feedback", "Excellent"),
    ]


def feedback_labels(t: Translations) -> dict[str, str]:
    return {
        "title": t.pgettext("feedback", "How did we do?"),
        "rating": t.pgettext("feedback", "Your rating"),
        "hint": t.pgettext("feedback", "From 1 (poor) to 5 (excellent)."),
        "comment": t.pgettext("feedback", "Comment (optional)"),
        "send": t.pgettext("feedback", "Send feedback"),
        "thanks": t.pgettext("feedback", "Thank you for your feedback."),
        "given": t.pgettext("feedback", "You rated our help %(rating)d out of 5."),
        "already": t.pgettext(
            "feedback", "We already have your feedback on this request. Thank you!"
        ),
        "invalid": t.pgettext("feedback", "Please choose a rating from 1 to 5."),
        "too_long": t.pgettext(
            "feedback", "Your comment is too long: please use at most %(max)d characters."
        ),
        "not_yet": t.pgettext("feedback", "You can rate our help once your request is resolved."),
    }
