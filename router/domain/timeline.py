"""Where local wall-clock time becomes absolute time, and back; and how durations read.

This is the one place that decides what a wall-clock time means on a transition day:
a time inside a DST gap does not exist and maps to the instant the gap ends; a time
inside a fold happens twice and maps to its first occurrence.

Durations are written one of three ways, all from whole minutes (seconds dropped):

    report   `45 min`, `7h30`, `2d 19h30`     gaps in coverage reports
    clock    `0h00`, `7h30`, `25h00`          shift lengths in DST warnings
    reason   `45 min`, `2 h`, `2 h 30 min`    Decision.reasons
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from .errors import BadInstant, InputError, UnknownTimezone

__all__ = [
    "UTC",
    "parse_duration",
    "parse_instant",
    "parse_zone",
    "span",
    "to_local",
    "wall_to_utc",
]

SpanStyle = Literal["report", "clock", "reason"]
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


@lru_cache(maxsize=1024)
def parse_zone(key: str, field: str = "timezone") -> ZoneInfo:
    """The IANA zone named `key`, or UnknownTimezone naming `field`."""
    try:
        if not key or key != key.strip():
            raise ValueError(key)
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise UnknownTimezone(field, f'"{key}" is not an IANA timezone') from None


def wall_to_utc(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of wall-clock `wall` on local date `day` in `zone`."""
    naive = datetime.combine(day, wall)
    first = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == naive:
        return first  # exists; in a fold, fold=0 is the first occurrence
    second = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    return _transition(zone, min(first, second), max(first, second))


def _transition(zone: ZoneInfo, before: datetime, after: datetime) -> datetime:
    """The first instant in (before, after] whose offset differs from `before`'s."""
    offset = before.astimezone(zone).utcoffset()
    lo, hi = before, after  # invariant: offset(lo) == offset, offset(hi) != offset
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        mid = mid.replace(microsecond=0)
        if mid <= lo:
            break
        if mid.astimezone(zone).utcoffset() == offset:
            lo = mid
        else:
            hi = mid
    return hi


def to_local(instant: datetime, zone: ZoneInfo) -> datetime:
    """`instant` as an aware datetime in `zone` (for display at the edges)."""
    return instant.astimezone(zone)


def parse_instant(text: str, field: str = "at", *, zone: ZoneInfo | None = None) -> datetime:
    """An aware UTC datetime from ISO 8601 text.

    A value without an offset is only accepted when the caller says which zone it is
    in; guessing UTC (or the machine's zone) is how shifts end up an hour off.
    """
    try:
        value = datetime.fromisoformat(text.strip().replace("z", "Z"))
    except ValueError:
        raise BadInstant(field, f'"{text}" is not an ISO 8601 instant') from None
    if value.tzinfo is None:
        if zone is None:
            raise BadInstant(field, f'"{text}" has no UTC offset (add Z or +HH:MM)')
        return wall_to_utc(value.date(), value.time(), zone)
    return value.astimezone(UTC)


def span(delta: timedelta, style: SpanStyle = "report") -> str:
    """`delta` as people read it, in one of the module docstring's three styles."""
    minutes = int(delta.total_seconds() // 60)
    hours, mins = divmod(minutes, 60)
    if style == "clock":
        return f"{hours}h{mins:02d}"
    if style == "reason":
        if minutes < 60:
            return f"{minutes} min"
        return f"{hours} h {mins:02d} min" if mins else f"{hours} h"
    days, hours = divmod(hours, 24)
    if not days and not hours:
        return f"{mins} min"
    return (f"{days}d " if days else "") + f"{hours}h{mins:02d}"


def parse_duration(text: str, field: str = "duration") -> timedelta:
    """`90m`, `12h`, `7d`, `30s` or ISO 8601 (`PT12H`); InputError naming `field` else."""
    if text and text[-1] in _UNITS and text[:-1].isdigit():
        return timedelta(**{_UNITS[text[-1]]: int(text[:-1])})
    try:
        return msgspec.convert(text, timedelta)
    except msgspec.ValidationError:
        raise InputError(field, f'"{text}" is not a duration (90m, 12h, 7d)') from None
