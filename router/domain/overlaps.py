"""Whether a team's shifts overlap: judged on the real occurrences, not the weekly rules.

Two shifts overlap when two real occurrences (`Team.slots` after overrides and holidays,
placed on the time line by `shift_of_slot`, DST included) share an instant. Comparing the
weekly rules in the abstract refuses valid rotas, such as a rota change whose seam day is
closed: the old rule's last night and the new rule's first morning never both happen.

The check is exact over the rules' whole from/until range without walking every day of it:

- An occurrence lasts less than a day by the wall clock, so one starting on day d can only
  meet those starting on d or d - 1. Checking a day means comparing those.
- Between the dated items (each rule's `from` and `until`, each override's date and the day
  after it) the same rules are in force, so the days repeat weekly: a day's nominal
  occurrences follow from the rules in force on it and the day before (its key).
- Holidays only remove occurrences, and wall time maps to UTC monotonically (a gap maps
  to its end, a fold to its first pass), so neither can make an overlap the wall clock
  does not have. A clean day (no holiday or override on it or the day before, one UTC
  offset over its occurrences) shows exactly the wall-clock answer, so it stands for
  every other day with its key. A day with an override, or with a key not yet seen on a
  clean day, is checked on its own.
- A stretch is walked until seven days in a row were already stood for, then skipped to
  its end. The open-ended stretches (before the first dated item, after the last) are
  walked at most `REACH` days (a year, both DST changes included); in practice a clean
  week is found within days, so the horizon only bounds the pathological case of a
  weekday that is a holiday or a DST day for a whole year.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from itertools import pairwise

from .errors import Problem
from .model import DAYS, Team
from .shifts import Shift, nominal_length, shift_of_slot

__all__ = ["REACH", "overlap_problems"]

REACH = 366  # days walked into an open-ended range, before the first or after the last date
_DAY = timedelta(days=1)
_WEEK = 7
_ANCHOR = date(2025, 2, 3)  # a quiet Monday: where a team with no dated item is looked at
_Key = tuple[tuple[int, ...], tuple[int, ...]]


def overlap_problems(team: Team, source: str) -> list[Problem]:
    """Every pair of shifts with overlapping real occurrences, located at the later entry.

    Two weekly rules: `shifts[j]: overlaps shifts[i] (both on shift on tue)`, the weekday
    when it recurs every week, else the date. With an override:
    `overrides[k]: on 2026-12-24 overlaps shifts[i] of 2026-12-23`.
    """
    walk = _Walk(team, source)
    marks = sorted(_dated(team))
    if not marks:  # the same week for ever: one stretch from anywhere
        walk.stretch(_days(_ANCHOR, 1, REACH), first_is_special=False)
    else:
        walk.stretch(_days(marks[0] - _DAY, -1, REACH), first_is_special=False)
    for start, end in pairwise([*marks, None]):
        count = REACH if end is None else (end - start).days
        walk.stretch(_days(start, 1, count), first_is_special=True)
    return [walk.found[key] for key in sorted(walk.found)]


def _dated(team: Team) -> set[date]:
    """The days from which the days no longer repeat the week before them."""
    marks: set[date] = set()
    for rule in team.rules:
        marks.update(d for d in (rule.from_, rule.until) if d is not None)
    for day in team.overrides:
        marks.update((day, day + _DAY))
    # dates at the very ends of the calendar are left out: walking past them would overflow
    return {d for d in marks if date.min + _DAY < d < date.max - _DAY * (REACH + _WEEK)}


def _days(first: date, step: int, count: int) -> Iterator[date]:
    limit = (first - date.min).days - 1 if step < 0 else count
    for n in range(min(count, limit)):
        yield first + timedelta(days=n * step)


def _rank(source: str) -> tuple[int, int]:
    """shifts[i] before overrides[k]: a problem is located at the later-ranked entry."""
    kind, _, index = source.partition("[")
    return (0 if kind == "shifts" else 1, int(index.rstrip("]") or 0))


class _Walk:
    """One team's check: the days looked at so far, the keys seen on a clean day, the finds."""

    def __init__(self, team: Team, source: str) -> None:
        self.team = team
        self.source = source
        self.clean: set[_Key] = set()
        self.found: dict[tuple[tuple[int, int], tuple[int, int], str], Problem] = {}
        self._occurrences: dict[date, tuple[list[Shift], set[timedelta]]] = {}
        self._days: dict[date, tuple[tuple[int, ...], bool]] = {}

    def stretch(self, days: Iterator[date], *, first_is_special: bool) -> None:
        """Check the days of a stretch with one set of rules until a week repeats itself."""
        stood_for = 0
        for n, day in enumerate(days):
            if self.visit(day) and not (first_is_special and n == 0):
                stood_for += 1
                if stood_for == _WEEK:
                    return
            else:
                stood_for = 0

    def day(self, day: date) -> tuple[tuple[int, ...], bool]:
        """The rules in force on `day`, and whether an override or a holiday changes them."""
        if day not in self._days:
            team = self.team
            rules = tuple(i for i, rule in enumerate(team.rules) if rule.applies(day))
            self._days[day] = (rules, day in team.overrides or team.is_holiday(day))
        return self._days[day]

    def key(self, day: date) -> _Key:
        return self.day(day - _DAY)[0], self.day(day)[0]

    def visit(self, day: date) -> bool:
        """Check `day` unless a clean day with its key stands for it (then True)."""
        special = self.day(day - _DAY)[1] or self.day(day)[1]
        key = self.key(day)
        if not special and key in self.clean:
            return True
        before, offsets_before = self.occurrences(day - _DAY)
        today, offsets = self.occurrences(day)
        for i, a in enumerate(today):
            for b in today[i + 1 :] + before:
                if a.start < b.end and b.start < a.end:
                    self.report(day, a, b)
        if not special and len(offsets | offsets_before) <= 1:
            self.clean.add(key)
        return False

    def occurrences(self, day: date) -> tuple[list[Shift], set[timedelta]]:
        """The real occurrences starting on `day`, and the UTC offsets of their starts and
        ends (one offset: the day's occurrences are its wall-clock ones, shifted)."""
        if day not in self._occurrences:
            shifts, offsets = [], set()
            for slot in self.team.slots(day):
                shift = shift_of_slot(self.team, day, slot)
                wall = datetime.combine(day, slot.start)
                end = wall + nominal_length(slot.start, slot.end)
                offsets.add(wall - shift.start.replace(tzinfo=None))
                offsets.add(end - shift.end.replace(tzinfo=None))
                if shift.end > shift.start:
                    shifts.append(shift)
            self._occurrences[day] = (shifts, offsets)
        return self._occurrences[day]

    def report(self, day: date, a: Shift, b: Shift) -> None:
        at, other = (a, b) if _rank(a.source) > _rank(b.source) else (b, a)
        if at.source.startswith("shifts") and other.source.startswith("shifts"):
            when = max(a.start, b.start).astimezone(self.team.zone).date()
            recurs = self.key(day + _DAY * _WEEK) == self.key(day)
            named = DAYS[when.weekday()] if recurs else str(when)
            text = f"overlaps {other.source} (both on shift on {named})"
            dedupe = ""
        else:
            text = f"on {at.day} overlaps {other.source} of {other.day}"
            dedupe = text
        key = (_rank(at.source), _rank(other.source), dedupe)
        if key not in self.found:
            self.found[key] = Problem(source=self.source, path=at.source, message=text)
