"""The words of the customer status page, translated like the updates."""

from __future__ import annotations

from babel.support import Translations


def status_names(t: Translations) -> dict[str, str]:
    """A case's status as a customer reads it (pgettext: these are states, not verbs)."""
    return {
        "waiting": t.pgettext("case status", "Waiting for a team"),
        "assigned": t.pgettext("case status", "In progress"),
        "acknowledged": t.pgettext("case status", "In progress"),
        "unroutable": t.pgettext("case status", "Waiting for a team"),
        "resolved": t.pgettext("case status", "Resolved"),
        "closed": t.pgettext("case status", "Closed"),
    }


def page_labels(t: Translations) -> dict[str, str]:
    return {
        "title": t.gettext("Your request %(ref)s"),
        "status": t.pgettext("page label", "Status"),
        "handled_by": t.gettext("Handled by our team in %(region)s"),
        "priority": t.pgettext("page label", "Priority"),
        "opened": t.pgettext("page label", "Opened"),
        "timeline": t.pgettext("page label", "Updates"),
        "times_in": t.gettext("Times are shown in %(zone)s."),
        "invalid_title": t.gettext("This link is not valid"),
        "invalid_body": t.gettext(
            "The link has expired or is incomplete. Please use the link in our most recent "
            "message, or reply to it and we will send you a new one."
        ),
    }
