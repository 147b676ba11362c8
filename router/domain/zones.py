"""Zone names as helpdesks send them, into IANA zones.

Zendesk (and Freshdesk) name a user's zone the way Rails' ActiveSupport::TimeZone does:
"Amsterdam", "Eastern Time (US & Canada)", "Cape Verde Is.". Those names are Windows'
zone display names; no maintained Python package ships Rails' table, and we do not copy
it in. A name resolves through CLDR, the Unicode data Babel ships and updates with every
release, and nothing else - the first of these that knows the name wins:

1. an IANA name is taken as it is (`Europe/Amsterdam`, `UTC`);
2. the English CLDR exemplar city of a zone (`Amsterdam`, `Kyiv`; accents and case do
   not matter, so Rails' `Bogota` is CLDR's `Bogotá`);
3. the English CLDR name of a territory with exactly one zone (`Fiji`, `American Samoa`);
4. the place of an IANA alias CLDR lists in a geographic area (`Asia/Rangoon` makes
   `Rangoon` Asia/Yangon, `Australia/Canberra` makes `Canberra` Australia/Sydney);
5. a Windows zone id, with or without " Standard Time" and with Windows' `W.`/`E.`/`N.`/
   `S.` spelt out (`Eastern Standard Time`, `Central America`, `West Central Africa`),
   through CLDR's windowsZones table (territory 001);
6. the English CLDR name of a metazone, generic or standard, with or without " Time"
   (`Eastern Time`, `Hawaii`): its zone is the Windows zone its standard name is, when
   that zone is one of the metazone's (`Eastern Standard Time` -> America/New_York), or
   the metazone's only zone; steps 5 and 6 are one step, so a name Windows and CLDR give
   different zones (`Arabian Standard Time`: Windows' Dubai, CLDR's Riyadh) is neither.

Around these, two spellings of Rails: a trailing parenthesis names territories, each by
its English CLDR name or ISO code, and the zone found for the rest must lie in one of them
("Eastern Time (US & Canada)" -> America/New_York, which CLDR places in US; "Atlantic Time
(Canada)" -> America/Halifax, in CA); `X Is.` / `X Island` is tried as `X Islands` and
as `X` ("Solomon Is." is CLDR's territory Solomon Islands, "Chatham Is." its city Chatham).

A name that would name two different zones at one step is left out there and at every
later step. A name none of these knows (Rails' `Edinburgh`, `Mumbai`, `Arizona`, ...) is
not guessed: `helpdesk_zone` answers UTC with the reason, for the caller to record. Of the
151 names of ActiveSupport's MAPPING (Rails 7), 122 resolve this way, each to the zone
Rails maps it to or one with the same offsets (2024-2026); before steps 4-6 and the two
spellings, 104 did.
"""

from __future__ import annotations

import re
import unicodedata
import zoneinfo
from collections.abc import Iterable
from functools import lru_cache

from babel.core import Locale, get_global
from babel.dates import get_timezone_location

from .errors import UnknownTimezone
from .timeline import parse_zone

__all__ = ["helpdesk_zone"]

# IANA's geographic areas: in `Area/Place` the last part names a place (theory.html);
# `US/Eastern`, `Brazil/East`, `Etc/GMT+5` are not places.
_AREAS = frozenset(
    {
        *("Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia"),
        *("Europe", "Indian", "Pacific"),
    }
)
_WINDOWS_WORDS = {"W.": "West", "E.": "East", "N.": "North", "S.": "South"}
_TERRITORIES = re.compile(r"(.+?)\s*\(([^()]+)\)")
_ISLANDS = re.compile(r"(.+?)\s+(?:Is\.|Islands?)", re.IGNORECASE)

Found = dict[str, set[str]]


def helpdesk_zone(name: str) -> tuple[str, str | None]:
    """(IANA zone, None) for a name we know; ("UTC", why) for one we do not."""
    text = " ".join(name.split())
    if not text:
        return "UTC", None
    try:
        return parse_zone(text).key, None
    except UnknownTimezone:
        pass
    m = _TERRITORIES.fullmatch(text)
    zone = _named(m.group(1) if m else text)
    why = None
    if zone is None:
        why = "is no IANA zone and no name CLDR gives one zone"
    elif m and _zone_territory(zone) not in (_territory_codes(m.group(2)) or ()):
        why = f"names {zone}, which CLDR places in {_zone_territory(zone)}, not there"
    if why:  # <= 200 characters, as an intake note is
        return "UTC", f'time zone "{text[:60]}" {why}; the customer is on UTC until someone sets it'
    return zone, None


def _named(text: str) -> str | None:
    names = _cldr_names()
    tries = [text]
    if m := _ISLANDS.fullmatch(text):
        tries += [f"{m.group(1)} Islands", m.group(1)]
    for candidate in tries:
        if zone := names.get(_fold(candidate)):
            return zone
    return None


def _territory_codes(text: str) -> set[str] | None:
    """`US & Canada` -> {"US", "CA"}; None when a part is no territory CLDR names."""
    by_name = _territory_names()
    codes = set()
    for part in re.split(r"\s*(?:&|,|/|\band\b)\s*", text.strip()):
        code = part.upper() if part.upper() in by_name.values() else by_name.get(_fold(part))
        if code is None:
            return None
        codes.add(code)
    return codes


@lru_cache(maxsize=1)
def _territory_names() -> dict[str, str]:
    return {_fold(name): code for code, name in Locale("en").territories.items()}


def _zone_territory(zone: str) -> str | None:
    """CLDR's territory of `zone`, under its own id or any alias of it."""
    territories = get_global("zone_territories")
    if zone in territories:
        return territories[zone]
    aliases = get_global("zone_aliases")
    return next(
        (territories[a] for a, z in aliases.items() if z == zone and a in territories), None
    )


def _fold(text: str) -> str:
    """`Bogotá` and `bogota` alike: accents stripped, case folded, spaces single."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def _canonical(zone: str) -> str | None:
    """An installed IANA id for a CLDR one (`Asia/Calcutta` -> `Asia/Kolkata`)."""
    available = _available()
    current = get_global("zone_aliases").get(zone, zone)
    return current if current in available else zone if zone in available else None


@lru_cache(maxsize=1)
def _available() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())  # reads the zone files: once


@lru_cache(maxsize=1)
def _cldr_names() -> dict[str, str]:
    """Folded names -> the one IANA zone each names, step by step (module docstring): a
    name a step already knows, or found ambiguous, is not looked at by a later one."""
    steps = (_cities, _territories, _alias_places, _windows_and_metazones)
    names: dict[str, str] = {}
    seen: set[str] = set()
    for step in steps:
        for name, zones in step().items():
            if name not in seen:
                seen.add(name)
                if len(zones) == 1:
                    names[name] = next(iter(zones))
    return names


def _add(found: Found, names: Iterable[str], zone: str | None) -> None:
    if zone is not None:
        for name in names:
            found.setdefault(_fold(name), set()).add(zone)


def _cities() -> Found:
    found: Found = {}
    for key in sorted(_available()):
        if "/" in key and not key.startswith("Etc/"):  # `EST`, `GMT+5`: offsets, not places
            city = get_timezone_location(key, locale="en", return_city=True)
            _add(found, [city], _canonical(key) or key)
    return found


def _territories() -> Found:
    found: Found = {}
    territory_zones = get_global("territory_zones")
    for code, name in Locale("en").territories.items():
        zones = {z for z in map(_canonical, territory_zones.get(code, ())) if z}
        if len(zones) == 1:
            _add(found, [name], zones.pop())
    return found


def _alias_places() -> Found:
    found: Found = {}
    for alias, zone in get_global("zone_aliases").items():
        area, _, place = alias.rpartition("/")
        if area.split("/")[0] in _AREAS:
            _add(found, [place.replace("_", " ")], _canonical(zone))
    return found


def _windows_and_metazones() -> Found:
    """Windows zones and CLDR metazones, as one step: where Windows and CLDR give one name
    different zones ("Arabian Standard Time": Windows' Asia/Dubai, CLDR's Riyadh and
    Baghdad), the name is ambiguous and left out."""
    found: Found = {}
    windows = get_global("windows_zone_mapping")
    for name, zone in windows.items():
        spelt = " ".join(_WINDOWS_WORDS.get(word, word) for word in name.split())
        _add(found, {name, spelt, spelt.removesuffix(" Standard Time")}, _canonical(zone))
    members: dict[str, set[str]] = {}
    for zone, metazone in get_global("meta_zones").items():
        if canonical := _canonical(zone):
            members.setdefault(metazone, set()).add(canonical)
    for metazone, names in Locale("en").meta_zones.items():
        long = dict(names.get("long", {}))
        standard = long.get("standard", "")
        zones = members.get(metazone, set())
        golden = _canonical(windows.get(standard, ""))  # the Windows zone of that name ...
        if golden in zones:  # ... when it is one of the metazone's (not a false friend)
            zones = {golden}
        spelt = {long[k] for k in ("generic", "standard") if k in long}
        stem = (long.get("generic") or standard).removesuffix(" Time")  # `Hawaii Time`
        for name in spelt | {stem}:
            found.setdefault(_fold(name), set()).update(zones)
    return found
