"""Customer updates: subject and body for each case event, in the customer's language and
timezone. Every string is marked for extraction (gettext, ngettext, pgettext); dates and
durations are formatted by Babel for the locale, in the customer's zone."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from babel.dates import format_date, format_time, get_datetime_format
from babel.support import Translations

from ..domain.timeline import parse_zone
from .catalogs import Catalogs

__all__ = ["EVENTS", "Update", "local_time", "render", "within"]


class Update(msgspec.Struct, frozen=True, kw_only=True):
    """A rendered customer update, with the locale actually used."""

    event: str
    locale: str
    subject: str
    body: str


def local_time(value: datetime, zone: ZoneInfo, code: str) -> str:
    """A date and time as the locale writes it (medium date, short time: no seconds), on
    the customer's wall clock."""
    local = value.astimezone(zone)
    pattern = get_datetime_format("medium", locale=code)
    return pattern.replace("{1}", format_date(local, "medium", locale=code)).replace(
        "{0}", format_time(local, "short", tzinfo=zone, locale=code)
    )


def within(t: Translations, delta: timedelta) -> str:
    """'within 2 hours' with the locale's plural rules, in the largest fitting unit."""
    minutes = max(1, round(delta.total_seconds() / 60))
    if minutes < 120 and minutes % 60:
        return t.ngettext("within %(num)d minute", "within %(num)d minutes", minutes) % {
            "num": minutes
        }
    hours = round(minutes / 60)
    if hours < 48:
        return t.ngettext("within %(num)d hour", "within %(num)d hours", hours) % {"num": hours}
    days = round(hours / 24)
    return t.ngettext("within %(num)d day", "within %(num)d days", days) % {"num": days}


def region_name(t: Translations, region: str) -> str:
    names = {
        "EMEA": t.pgettext("region", "Europe, the Middle East and Africa"),
        "AMER": t.pgettext("region", "the Americas"),
        "APAC": t.pgettext("region", "Asia-Pacific"),
    }
    return names.get(region, region)


def _subject(t: Translations, event: str, ref: str) -> str:
    subjects = {
        "received": t.gettext("We have received your request %(ref)s"),
        "assigned": t.gettext("Your request %(ref)s is being handled"),
        "handed_over": t.gettext("Your request %(ref)s is now with our team in %(region)s"),
        "escalated": t.gettext("Your request %(ref)s has been passed to our specialists"),
        "waiting": t.gettext("Your request %(ref)s will be picked up soon"),
        "update": t.gettext("An update on your request %(ref)s"),
        "resolved": t.gettext("Your request %(ref)s has been resolved"),
        "closed": t.gettext("Your request %(ref)s is closed"),
    }
    return subjects[event]


def _body(t: Translations, event: str) -> str:
    bodies = {
        "received": t.gettext(
            "Thank you for contacting us. We have received your request %(ref)s and given it "
            "priority %(priority)s. You can expect a first answer %(within)s, by %(due)s."
        ),
        "assigned": t.gettext(
            "Our team in %(region)s is now working on your request %(ref)s. "
            "We will update you by %(next_update)s."
        ),
        "handed_over": t.gettext(
            "So that your request keeps moving around the clock, our team in %(region)s has "
            "taken it over with everything done so far. We will update you by %(next_update)s."
        ),
        "escalated": t.gettext(
            "We have asked our specialists to look into your request %(ref)s. "
            "We will update you by %(next_update)s."
        ),
        "waiting": t.gettext(
            "The team that will handle your request in your language starts at %(start)s "
            "(your time). They will pick it up then."
        ),
        "update": t.gettext("Our team has an update on your request %(ref)s:\n\n%(note)s"),
        "resolved": t.gettext(
            "We have resolved your request %(ref)s: %(resolution)s. If the problem comes back, "
            "simply reply and we will reopen it."
        ),
        "closed": t.gettext("Your request %(ref)s is now closed. Thank you for your patience."),
    }
    return bodies[event]


EVENTS = (
    "received",
    "assigned",
    "handed_over",
    "escalated",
    "waiting",
    "update",
    "resolved",
    "closed",
)


def render(
    catalogs: Catalogs,
    event: str,
    *,
    tag: str,
    timezone: str,
    now: datetime,
    params: dict[str, Any],
) -> Update:
    """Render `event` for a customer who speaks `tag` and lives in `timezone`.

    params: ref, priority, region, due / next_update / start (aware datetimes), note,
    resolution, name, status_url.
    """
    code = catalogs.negotiate(tag)
    t = catalogs.get(code)
    zone = parse_zone(timezone, "customer.timezone")

    def when(value: datetime | None) -> str:
        return local_time(value, zone, code) if value else ""

    values = {
        "ref": params.get("ref", ""),
        "priority": params.get("priority", ""),
        "region": region_name(t, params.get("region", "")),
        "due": when(params.get("due")),
        "next_update": when(params.get("next_update")),
        "start": when(params.get("start")),
        "within": within(t, params["due"] - now) if params.get("due") else "",
        "note": params.get("note", ""),
        "resolution": params.get("resolution", ""),
    }
    greeting = (
        t.gettext("Hello %(name)s,") % {"name": params["name"]}
        if params.get("name")
        else t.gettext("Hello,")
    )
    body = [greeting, "", _body(t, event) % values]
    if params.get("status_url"):
        body += [
            "",
            t.gettext("You can follow your request at any time: %(url)s")
            % {"url": params["status_url"]},
        ]
    body += ["", t.gettext("Kind regards,\nYour support team")]
    return Update(
        event=event,
        locale=code,
        subject=_subject(t, event, values["ref"]) % values,
        body="\n".join(body),
    )
