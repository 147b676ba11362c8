"""What a team is told about its cases, in the team's language and on its wall clock.

Six notices (README "Team notifications"): a new assignment, a handover received, three
overdue deadlines (acknowledgement, customer update, resolution) and an unroutable case.
Each names the case, its priority and the deadline that matters, formatted by Babel in
the team's locale and zone, and carries the console link. Every string is marked for
extraction and translated in every catalog; the channels (`services.notify_formats`)
only lay the parts out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

import msgspec
from babel.dates import get_timezone_name
from babel.support import Translations

from ..domain.timeline import parse_zone
from .catalogs import Catalogs
from .render import local_time

__all__ = ["KINDS", "Kind", "Notice", "team_notice"]

Kind = Literal[
    "assigned", "handed_over", "ack_overdue", "update_overdue", "resolve_overdue", "unroutable"
]
KINDS: tuple[Kind, ...] = get_args(Kind)


class Notice(msgspec.Struct, frozen=True, kw_only=True):
    """A rendered team notice: a title, one sentence, labelled facts and the console link."""

    kind: str
    case: str
    locale: str
    title: str
    text: str
    facts: list[tuple[str, str]]
    link: str
    link_label: str


def _title(t: Translations, kind: Kind) -> str:
    titles = {
        "assigned": t.gettext("New case %(case)s (%(priority)s)"),
        "handed_over": t.gettext("Case %(case)s handed over to your team (%(priority)s)"),
        "ack_overdue": t.gettext("Not acknowledged: case %(case)s (%(priority)s)"),
        "update_overdue": t.gettext("Customer update overdue: case %(case)s (%(priority)s)"),
        "resolve_overdue": t.gettext("Resolution overdue: case %(case)s (%(priority)s)"),
        "unroutable": t.gettext("No team can take over case %(case)s (%(priority)s)"),
    }
    return titles[kind]


def _text(t: Translations, kind: Kind) -> str:
    texts = {
        "assigned": t.gettext(
            "Case %(case)s, priority %(priority)s, has been assigned to your team. "
            "Please acknowledge it by %(due)s."
        ),
        "handed_over": t.gettext(
            "Case %(case)s, priority %(priority)s, has been handed over to your team at a "
            "shift end. Please read the handover packet and acknowledge the case by %(due)s."
        ),
        "ack_overdue": t.gettext(
            "Case %(case)s, priority %(priority)s, was due to be acknowledged by %(due)s, and "
            "there is no higher tier to escalate it to. Please acknowledge it now."
        ),
        "update_overdue": t.gettext(
            "The customer of case %(case)s, priority %(priority)s, was due an update by "
            "%(due)s. Please send one now."
        ),
        "resolve_overdue": t.gettext(
            "Case %(case)s, priority %(priority)s, was due to be resolved by %(due)s."
        ),
        "unroutable": t.gettext(
            "No team at your tier can take over case %(case)s, priority %(priority)s, from "
            "your team. Operations have been alerted."
        ),
    }
    return texts[kind]


def _deadline_label(t: Translations, kind: Kind) -> str:
    if kind == "update_overdue":
        return t.pgettext("team notification", "Customer update due")
    if kind in ("resolve_overdue", "unroutable"):
        return t.pgettext("team notification", "Resolve by")
    return t.pgettext("team notification", "Acknowledge by")


def team_notice(
    catalogs: Catalogs,
    kind: Kind,
    *,
    case: str,
    priority: str,
    due: datetime,
    tag: str,
    timezone: str,
    link: str,
    from_team: str = "",
    now_with: str = "",
    reasons: str = "",
) -> Notice:
    """The notice `kind` about `case` for a team that reads `tag` and lives in `timezone`;
    `due` is the deadline that matters (shown with the zone's name in that language);
    `from_team` the team the case came from, `now_with` the one that has it now (when
    that is not the reader), `reasons` the routing engine's (in English, as it writes them)."""
    code = catalogs.negotiate(tag)
    t = catalogs.get(code)
    zone = parse_zone(timezone, "timezone")
    when = t.pgettext("team notification", "%(time)s (%(zone)s)") % {
        "time": local_time(due, zone, code),
        "zone": get_timezone_name(due.astimezone(zone), "long", locale=code),
    }
    values = {"case": case, "priority": priority, "due": when}
    facts = [
        (t.pgettext("team notification", "Case"), case),
        (t.pgettext("page label", "Priority"), priority),  # the status page's word
        (_deadline_label(t, kind), when),
    ]
    if from_team:
        facts.append((t.pgettext("team notification", "Previous team"), from_team))
    if now_with:
        facts.append((t.pgettext("team notification", "Now with"), now_with))
    if reasons:
        facts.append((t.pgettext("team notification", "Why"), reasons))
    return Notice(
        kind=kind,
        case=case,
        locale=code,
        title=_title(t, kind) % values,
        text=_text(t, kind) % values,
        facts=facts,
        link=link,
        link_label=t.pgettext("team notification", "Open in the console"),
    )
