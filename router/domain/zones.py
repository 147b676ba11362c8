"""Zone names as helpdesks send them, into IANA zones.

Zendesk (and Freshdesk) name a user's zone the way Rails' ActiveSupport::TimeZone does:
"Amsterdam", "Eastern Time (US & Canada)". No maintained Python package ships Rails'
table, and we do not copy it in; a name resolves through CLDR, the Unicode data Babel
ships and updates with every release:

1. an IANA name is taken as it is (`Europe/Amsterdam`, `UTC`);
2. the English CLDR exemplar city of a zone (`Amsterdam`, `Kyiv`; accents and case do
   not matter, so Rails' `Bogota` is CLDR's `Bogotá`);
3. the English CLDR name of a territory with exactly one zone (`Fiji`, `American Samoa`).

A name none of these knows (Rails' `Eastern Time (US & Canada)`, `Edinburgh`,
`Mumbai`, ...) is not guessed: `helpdesk_zone` answers UTC with the reason, for the
caller to record. Of the 151 names of ActiveSupport's MAPPING (Rails 7), 104 resolve
this way, each to the zone Rails maps it to or one with the same offsets.
"""

from __future__ import annotations

import unicodedata
import zoneinfo
from functools import lru_cache

from babel.core import Locale, get_global
from babel.dates import get_timezone_location

from .errors import UnknownTimezone
from .timeline import parse_zone

__all__ = ["helpdesk_zone"]


def helpdesk_zone(name: str) -> tuple[str, str | None]:
    """(IANA zone, None) for a name we know; ("UTC", why) for one we do not."""
    text = name.strip()
    if not text:
        return "UTC", None
    try:
        return parse_zone(text).key, None
    except UnknownTimezone:
        pass
    zone = _cldr_names().get(_fold(text))
    if zone is None:
        return "UTC", (
            f'time zone "{text[:60]}" is neither an IANA zone nor a CLDR city or single-zone '
            "country name; the customer's zone is UTC until someone sets it"
        )
    return zone, None


def _fold(text: str) -> str:
    """`Bogotá` and `bogota` alike: accents stripped, case folded, spaces single."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


@lru_cache(maxsize=1)
def _cldr_names() -> dict[str, str]:
    """Folded English city and territory names -> the one IANA zone each names. A name
    that would name two different zones is left out rather than picked."""
    aliases = get_global("zone_aliases")
    available = zoneinfo.available_timezones()
    found: dict[str, set[str]] = {}
    for key in sorted(available):
        if "/" not in key or key.startswith("Etc/"):
            continue  # `EST`, `GMT+5`: names of offsets, not of places
        city = get_timezone_location(key, locale="en", return_city=True)
        canonical = aliases.get(key, key)
        found.setdefault(_fold(city), set()).add(canonical if canonical in available else key)
    territory_zones = get_global("territory_zones")
    for code, name in Locale("en").territories.items():
        zones = [z for z in territory_zones.get(code, ()) if z in available]
        if len(zones) == 1:
            found.setdefault(_fold(name), set()).add(zones[0])
    return {name: next(iter(zones)) for name, zones in found.items() if len(zones) == 1}
