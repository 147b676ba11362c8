"""Property tests: the shift calendar against a brute-force wall-clock reference.

The reference below uses no router code. It reads the zone's wall clock at every UTC
minute of a window and resolves a wanted wall time to the first UTC minute whose wall
clock reads that time or later. In a gap that is the minute the gap ends; in a fold it
is the first pass. A shift is then on at t when start <= t < end.
"""

from __future__ import annotations

import zoneinfo
from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import holidays as holiday_calendars
from conftest import build_team
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from router.domain.index import ShiftIndex
from router.domain.model import DAYS, Team
from router.domain.shifts import expand, on_shift
from router.domain.timeline import wall_to_utc

ZONES = sorted(zoneinfo.available_timezones())
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NAIVE_EPOCH = datetime(1970, 1, 1)  # noqa: DTZ001 - wall clocks are naive on purpose
MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)
US_PER_MINUTE = 60_000_000
FIRST = datetime(2025, 1, 1, tzinfo=UTC)
LAST = datetime(2031, 1, 1, tzinfo=UTC)
CALENDARS: list[tuple[str, str | None] | None] = [None, ("NL", None), ("US", "CA"), ("NZ", None)]
PROPERTY_SETTINGS = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

# --- The reference ----------------------------------------------------------------------


def _offset(zone: ZoneInfo, instant: datetime) -> timedelta | None:
    return instant.astimezone(zone).utcoffset()


@cache
def transitions(key: str) -> tuple[datetime, ...]:
    """UTC instants in 2025-2030 where the offset of `key` changes, found by sampling."""
    zone = ZoneInfo(key)
    found = []
    step = timedelta(hours=6)
    instant, before = FIRST, _offset(zone, FIRST)
    while instant < LAST:
        after = _offset(zone, instant + step)
        if after != before:
            lo, hi = 0, step // MINUTE  # offset(lo) == before, offset(hi) == after
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if _offset(zone, instant + mid * MINUTE) == before:
                    lo = mid
                else:
                    hi = mid
            jump = instant + hi * MINUTE
            # Whole-minute transitions, so a minute grid sees every jump exactly.
            assert _offset(zone, jump - timedelta(microseconds=1)) == before
            found.append(jump)
        instant, before = instant + step, after
    return tuple(found)


def minute_of(instant: datetime) -> int:
    return (instant - EPOCH) // MINUTE


def day_number(day: date) -> int:
    return (day - NAIVE_EPOCH.date()).days


class WallClock:
    """The wall clock of `zone` read at every UTC minute of [lo, hi) (epoch minutes)."""

    def __init__(self, zone: ZoneInfo, lo: int, hi: int) -> None:
        self.lo = lo
        self.reached: list[int] = []  # highest wall minute shown so far, per UTC minute
        highest = -(2**62)
        for m in range(lo, hi):
            local = (EPOCH + m * MINUTE).astimezone(zone)
            assert local.second == 0
            assert local.microsecond == 0
            highest = max(highest, (local.replace(tzinfo=None) - NAIVE_EPOCH) // MINUTE)
            self.reached.append(highest)

    def resolve(self, wall: int) -> int:
        """The first UTC minute whose wall clock reads `wall` (epoch wall minutes) or later."""
        i = bisect_left(self.reached, wall)
        assert 0 < i < len(self.reached), "reference window too small"
        return self.lo + i


@dataclass(frozen=True)
class RuleSpec:
    days: frozenset[int]
    start: int  # minute of the day
    end: int
    from_: date | None = None
    until: date | None = None

    def applies(self, day: date) -> bool:
        return (
            day.weekday() in self.days
            and (self.from_ is None or self.from_ <= day)
            and (self.until is None or day < self.until)
        )

    def toml(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "days": [DAYS[d] for d in sorted(self.days)],
            "start": hhmm(self.start),
            "end": hhmm(self.end),
        }
        if self.from_ is not None:
            out["from"] = self.from_.isoformat()
        if self.until is not None:
            out["until"] = self.until.isoformat()
        return out


@dataclass
class Pattern:
    """A team's calendar as the test understands it, written out as TOML-shaped fields."""

    zone: str
    rules: list[RuleSpec]
    overrides: dict[date, list[tuple[int, int]]] = field(default_factory=dict)  # [] = closed
    calendar: tuple[str, str | None] | None = None

    def __post_init__(self) -> None:
        self._holidays = (
            None
            if self.calendar is None
            else holiday_calendars.country_holidays(self.calendar[0], subdiv=self.calendar[1])
        )

    def slots(self, day: date) -> list[tuple[int, int, str]]:
        """Shifts starting on local `day`: overrides replace, holidays cancel, rules apply."""
        if day in self.overrides:
            sources = self.override_sources()
            return [(s, e, sources[day, k]) for k, (s, e) in enumerate(self.overrides[day])]
        if self._holidays is not None and day in self._holidays:
            return []
        return [
            (r.start, r.end, f"shifts[{i}]") for i, r in enumerate(self.rules) if r.applies(day)
        ]

    def override_sources(self) -> dict[tuple[date, int], str]:
        out, n = {}, 0
        for day, hours in self.overrides.items():
            if not hours:
                n += 1
            for k in range(len(hours)):
                out[day, k] = f"overrides[{n}]"
                n += 1
        return out

    def override_entries(self) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = []
        for day, hours in self.overrides.items():
            if not hours:
                entries.append({"date": day.isoformat(), "closed": True})
            for s, e in hours:
                entries.append({"date": day.isoformat(), "start": hhmm(s), "end": hhmm(e)})
        return entries

    def nominal(self, first: date, last: date) -> list[tuple[int, int]]:
        """Naive wall-minute spans of the shifts starting on first..last (for overlap checks)."""
        out = []
        day = first
        while day <= last:
            for s, e, _ in self.slots(day):
                begin = day_number(day) * 1440 + s
                out.append((begin, begin + (e - s) % 1440))
            day += DAY
        return out

    def team(self) -> Team:
        fields: dict[str, Any] = {
            "timezone": self.zone,
            "shifts": [r.toml() for r in self.rules],
            "overrides": self.override_entries(),
        }
        if self.calendar is not None:
            country, subdiv = self.calendar
            fields["holidays"] = {"country": country, "subdiv": subdiv}
        return build_team("prop", **fields)


@dataclass(frozen=True)
class Occurrence:
    start: int  # epoch minutes, UTC
    end: int
    day: date
    source: str

    def contains(self, us: int) -> bool:
        return self.start * US_PER_MINUTE <= us < self.end * US_PER_MINUTE

    def as_tuple(self) -> tuple[datetime, datetime, date, str]:
        return (EPOCH + self.start * MINUTE, EPOCH + self.end * MINUTE, self.day, self.source)


def reference(pattern: Pattern, clock: WallClock, first: date, last: date) -> list[Occurrence]:
    """Every occurrence of the shifts starting on local dates first..last."""
    out = []
    day = first
    while day <= last:
        for s, e, source in pattern.slots(day):
            end_day = day if e > s else day + DAY
            start_wall = day_number(day) * 1440 + s
            end_wall = day_number(end_day) * 1440 + e
            out.append(Occurrence(clock.resolve(start_wall), clock.resolve(end_wall), day, source))
        day += DAY
    return out


def hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def overlaps(spans: list[tuple[int, int]]) -> bool:
    ordered = sorted(spans)
    return any(b[0] < a[1] for a, b in pairwise(ordered))


def weekly_clash(a: RuleSpec, b: RuleSpec) -> bool:
    """Whether two rules' weekly wall-clock intervals intersect (ignoring date windows)."""
    week = 7 * 1440
    la, lb = (a.end - a.start) % 1440, (b.end - b.start) % 1440
    for da in a.days:
        for db in b.days:
            x, y = da * 1440 + a.start, db * 1440 + b.start
            if (y - x) % week < la or (x - y) % week < lb:
                return True
    return False


# --- Strategies -------------------------------------------------------------------------


@dataclass
class Scenario:
    pattern: Pattern
    focus: datetime  # a UTC minute; everything tested lies within two days of it

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.pattern.zone)

    @property
    def focus_day(self) -> date:
        return self.focus.astimezone(self.zone).date()

    def clock(self) -> WallClock:
        m = minute_of(self.focus)
        return WallClock(self.zone, m - 7 * 1440, m + 8 * 1440)

    def occurrences(self, clock: WallClock) -> list[Occurrence]:
        return reference(self.pattern, clock, self.focus_day - 4 * DAY, self.focus_day + 5 * DAY)


# Every zone can be drawn; these (odd jumps, midnight jumps, half-hour DST) come up more often.
ODD_ZONES = [
    "Africa/Cairo",
    "Africa/Casablanca",
    "America/Havana",
    "America/New_York",
    "America/Nuuk",
    "America/Santiago",
    "America/Scoresbysund",
    "Antarctica/Troll",
    "Asia/Beirut",
    "Atlantic/Azores",
    "Australia/Lord_Howe",
    "Europe/Amsterdam",
    "Europe/Dublin",
    "Pacific/Auckland",
    "Pacific/Chatham",
]
zones = st.one_of(st.sampled_from(ZONES), st.sampled_from(ODD_ZONES))


@st.composite
def focus_instants(draw: st.DrawFn, key: str) -> tuple[datetime, datetime]:
    """A UTC minute in 2025-2030 and a hot spot: mostly a zone's jump within 12 h of it."""
    jumps = transitions(key)
    if jumps and draw(st.integers(0, 3)):
        jump = draw(st.sampled_from(jumps))
        return jump + draw(st.integers(-720, 720)) * MINUTE, jump
    focus = FIRST + draw(st.integers(0, (LAST - FIRST) // MINUTE - 1)) * MINUTE
    return focus, focus


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """1-3 disjoint weekly rules (maybe overnight, maybe dated), overrides, maybe a calendar."""
    key = draw(zones)
    zone = ZoneInfo(key)
    focus, hot_instant = draw(focus_instants(key))
    hot_local = hot_instant.astimezone(zone)
    hot = hot_local.hour * 60 + hot_local.minute  # the wall clock just after the jump
    near = [-120, -90, -61, -60, -59, -31, -30, -29, -1, 0, 1, 29, 30, 31, 59, 60, 61, 120]
    minutes = st.one_of(
        st.integers(0, 1439),
        st.integers(hot - 150, hot + 150).map(lambda m: m % 1440),
        st.sampled_from(near).map(lambda d: (hot + d) % 1440),
    )
    focus_day = focus.astimezone(zone).date()
    rules: list[RuleSpec] = []
    for _ in range(draw(st.integers(1, 3))):
        days = draw(
            st.one_of(st.just(frozenset(range(7))), st.frozensets(st.integers(0, 6), min_size=1))
        )
        start, end = draw(minutes), draw(minutes)
        if end == start:
            end = (start + 1) % 1440
        shift_from = draw(st.none() | st.integers(-4, 4))
        from_ = None if shift_from is None else focus_day + shift_from * DAY
        days_until = draw(st.none() | st.integers(1, 6))
        until = None if days_until is None else (from_ or focus_day) + days_until * DAY
        candidate = RuleSpec(frozenset(days), start, end, from_, until)
        if not any(weekly_clash(candidate, r) for r in rules):
            rules.append(candidate)
    pattern = Pattern(key, rules, calendar=draw(st.sampled_from(CALENDARS)))
    for _ in range(draw(st.integers(0, 2))):
        day = focus_day + draw(st.integers(-3, 3)) * DAY
        if day in pattern.overrides:
            continue
        hours: list[tuple[int, int]] = []
        for _ in range(draw(st.integers(0, 2))):  # 0 entries: closed = true
            start, end = draw(minutes), draw(minutes)
            hours.append((start, end if end != start else (start + 1) % 1440))
        pattern.overrides[day] = hours
        if overlaps(pattern.nominal(day - 2 * DAY, day + 2 * DAY)):
            del pattern.overrides[day]  # validation rightly refuses overlapping hours
    return Scenario(pattern, focus)


def instants_near(
    scenario: Scenario, occurrences: list[Occurrence], offsets: list[int]
) -> list[int]:
    """Drawn instants (µs) around the focus, plus both sides of every nearby shift edge."""
    centre = minute_of(scenario.focus) * US_PER_MINUTE
    reach = 2 * 1440 * US_PER_MINUTE
    found = [centre + o for o in offsets]
    for occ in occurrences:
        for edge in (occ.start, occ.end):
            found += [edge * US_PER_MINUTE - 1, edge * US_PER_MINUTE]
    return [us for us in found if abs(us - centre) <= reach]


def at_us(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


def view(shift: Any) -> tuple[datetime, datetime, date, str]:
    return (shift.start, shift.end, shift.day, shift.source)


# --- Properties -------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(
    scenario=scenarios(),
    offsets=st.lists(
        st.integers(-2 * 1440 * US_PER_MINUTE, 2 * 1440 * US_PER_MINUTE), min_size=1, max_size=25
    ),
    jitter=st.integers(0, 60 * US_PER_MINUTE),
)
def test_on_shift_and_index_agree_with_brute_force(
    scenario: Scenario, offsets: list[int], jitter: int
) -> None:
    """on_shift and ShiftIndex.at say "on" exactly when a reference shift has start <= t < end."""
    team = scenario.pattern.team()
    occurrences = scenario.occurrences(scenario.clock())
    horizon = scenario.focus - 3 * DAY + timedelta(microseconds=jitter)  # buckets off the hour
    index = ShiftIndex.build([team], horizon, horizon + 6 * DAY)
    for us in instants_near(scenario, occurrences, offsets):
        t = at_us(us)
        expected = [occ.as_tuple() for occ in occurrences if occ.contains(us)]
        assert len(expected) <= 1, expected  # the generated rules never overlap
        got = on_shift(team, t)
        assert ([] if got is None else [view(got)]) == expected, (scenario, t)
        assert [view(s) for s in index.at(t)] == expected, (scenario, t)


@PROPERTY_SETTINGS
@given(
    scenario=scenarios(),
    window=st.tuples(
        st.integers(-2 * 1440 * US_PER_MINUTE, 2 * 1440 * US_PER_MINUTE),
        st.integers(1, 2 * 1440 * US_PER_MINUTE),
    ),
)
def test_expand_agrees_with_brute_force(scenario: Scenario, window: tuple[int, int]) -> None:
    """expand gives exactly the non-empty reference occurrences overlapping [a, b), in order."""
    team = scenario.pattern.team()
    occurrences = scenario.occurrences(scenario.clock())
    a_us = minute_of(scenario.focus) * US_PER_MINUTE + window[0]
    b_us = a_us + window[1]
    a, b = at_us(a_us), at_us(b_us)
    expected = sorted(
        occ.as_tuple()
        for occ in occurrences
        if occ.end > occ.start
        and occ.end * US_PER_MINUTE > a_us
        and occ.start * US_PER_MINUTE < b_us
    )
    assert [view(s) for s in expand(team, a, b)] == expected, scenario


@settings(max_examples=300, deadline=None)
@given(
    key=zones,
    data=st.data(),
)
def test_wall_to_utc_agrees_with_brute_force(key: str, data: st.DataObject) -> None:
    """wall_to_utc gives the first UTC minute whose wall clock reads the wanted time or later."""
    zone = ZoneInfo(key)
    _, hot = data.draw(focus_instants(key))
    wall = hot.astimezone(zone).replace(tzinfo=None) + data.draw(st.integers(-150, 150)) * MINUTE
    m = minute_of(hot)
    clock = WallClock(zone, m - 2 * 1440, m + 2 * 1440)
    wanted = (wall - NAIVE_EPOCH) // MINUTE
    expected = EPOCH + clock.resolve(wanted) * MINUTE
    assert wall_to_utc(wall.date(), time(wall.hour, wall.minute), zone) == expected
