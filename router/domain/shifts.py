"""Expanding a team's weekly pattern into shift occurrences on the UTC time line."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

import msgspec

from .model import Slot, Team
from .timeline import UTC, wall_to_utc

__all__ = ["Shift", "expand", "expand_all", "nominal_length", "shift_of_slot"]

_DAY = timedelta(days=1)


class Shift(msgspec.Struct, frozen=True, kw_only=True, order=False):
    """One occurrence of a team's shift: [start, end) in UTC, and the local date it belongs to."""

    team: str
    start: datetime
    end: datetime
    day: date
    source: str

    def contains(self, instant: datetime) -> bool:
        return self.start <= instant < self.end

    def length(self) -> timedelta:
        return self.end - self.start


def nominal_length(start: time, end: time) -> timedelta:
    """Length of a shift by the wall clock (what the rota says, not what the clock does)."""
    minutes = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
    return timedelta(minutes=minutes if minutes > 0 else minutes + 24 * 60)


def shift_of_slot(team: Team, day: date, slot: Slot) -> Shift:
    end_day = day if slot.end > slot.start else day + _DAY
    return Shift(
        team=team.id,
        start=wall_to_utc(day, slot.start, team.zone),
        end=wall_to_utc(end_day, slot.end, team.zone),
        day=day,
        source=slot.source,
    )


def expand(team: Team, start: datetime, end: datetime) -> list[Shift]:
    """Every occurrence of `team`'s shifts that overlaps [start, end), in time order."""
    first = start.astimezone(team.zone).date() - _DAY  # an overnight shift from the day before
    last = end.astimezone(team.zone).date()
    found: list[Shift] = []
    day = first
    while day <= last:
        for slot in team.slots(day):
            shift = shift_of_slot(team, day, slot)
            if shift.end > start and shift.start < end and shift.end > shift.start:
                found.append(shift)
        day += _DAY
    found.sort(key=lambda s: s.start)
    return found


def expand_all(teams: Iterable[Team], start: datetime, end: datetime) -> list[Shift]:
    """All teams' occurrences overlapping [start, end), sorted by start then team."""
    shifts = [s for team in teams for s in expand(team, start, end)]
    shifts.sort(key=lambda s: (s.start, s.team))
    return shifts


def on_shift(team: Team, instant: datetime) -> Shift | None:
    """The occurrence of `team` containing `instant`, computed directly from the rules.

    This is the slow, obvious path (convert, look at today and yesterday); the index in
    `router.domain.index` answers the same question for many teams at once.
    """
    instant = instant.astimezone(UTC)
    for shift in expand(team, instant, instant + timedelta(microseconds=1)):
        if shift.contains(instant):
            return shift
    return None
