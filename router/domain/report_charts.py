"""The numbers behind the report's two charts: time to resolve by tier, week by week, and
volume by language and hour of the day. Plain facts in, rows out (the console draws them)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

import msgspec

from .facts import Facts
from .stats import percentile
from .timeline import parse_zone

__all__ = ["HourCell", "WeekTier", "hourly", "weekly"]

_DAY_MS, _HOUR_MS, _QUARTER_MS = 86_400_000, 3_600_000, 900_000
_EPOCH = date(1970, 1, 1)  # a Thursday


class WeekTier(msgspec.Struct, frozen=True, kw_only=True):
    """The cases of one tier opened in one week (from Monday 00:00 UTC) and resolved:
    how many, and their time to resolve (p50, p90, seconds)."""

    week: date
    tier: int
    cases: int
    p50: float
    p90: float


class HourCell(msgspec.Struct, frozen=True, kw_only=True):
    """How many cases in one language were opened in one hour of the day (0-23, in the
    report's zone)."""

    language: str
    hour: int
    cases: int


def week_of(created_ms: int) -> date:
    """The Monday (UTC) of the week an instant falls in."""
    days = created_ms // _DAY_MS
    return _EPOCH + timedelta(days=days - (days + 3) % 7)


def weekly(facts: Iterable[Facts]) -> list[WeekTier]:
    """Time to resolve by tier and week of opening, for the resolved cases."""
    found: dict[tuple[date, int], list[int]] = defaultdict(list)
    weeks: dict[int, date] = {}  # day number -> its week (a report spans a few hundred days)
    for f in facts:
        if f.resolved is not None:
            day = f.created // _DAY_MS
            week = weeks.get(day)
            if week is None:
                week = weeks[day] = week_of(f.created)
            found[(week, f.tier)].append(f.resolved - f.created)
    out = []
    for (week, tier), values in sorted(found.items()):
        values.sort()
        out.append(
            WeekTier(
                week=week,
                tier=tier,
                cases=len(values),
                p50=percentile(values, 50) / 1000,
                p90=percentile(values, 90) / 1000,
            )
        )
    return out


def hourly(facts: Iterable[Facts], zone: str = "UTC") -> list[HourCell]:
    """Cases by language and local hour of opening (only the cells with cases)."""
    tz = parse_zone(zone, "tz")
    offsets: dict[int, int] = {}  # quarter hour -> UTC offset in ms (zones move by quarters)
    counts: dict[tuple[str, int], int] = defaultdict(int)
    for f in facts:
        quarter = f.created // _QUARTER_MS
        offset = offsets.get(quarter)
        if offset is None:
            at = datetime.fromtimestamp(quarter * _QUARTER_MS / 1000, UTC).astimezone(tz)
            offset = offsets[quarter] = int(at.utcoffset().total_seconds() * 1000)  # type: ignore[union-attr]
        counts[(f.language, (f.created + offset) // _HOUR_MS % 24)] += 1
    return [
        HourCell(language=language, hour=hour, cases=n)
        for (language, hour), n in sorted(counts.items())
    ]
