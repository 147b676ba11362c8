"""An index of shift occurrences that answers "who is on shift at t" in a few microseconds.

Time is cut into fixed buckets. Each bucket keeps the shifts that cover it whole (returned
as they are) and the few that start or end inside it (checked against t). Shift starts
are also kept in order for "who comes on next" questions.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

from .errors import RoutingError
from .model import Team
from .shifts import Shift, expand_all

__all__ = ["ShiftIndex"]

_BUCKET = 3600.0


class ShiftIndex:
    """Shift occurrences of many teams over one horizon [start, end)."""

    __slots__ = ("_by_start", "_full", "_origin", "_partial", "_starts", "end", "start")

    def __init__(self, shifts: Iterable[Shift], start: datetime, end: datetime) -> None:
        self.start, self.end = start, end
        self._origin = start.timestamp()
        count = max(1, int((end.timestamp() - self._origin) // _BUCKET) + 1)
        full: list[list[Shift]] = [[] for _ in range(count)]
        partial: list[list[tuple[float, float, Shift]]] = [[] for _ in range(count)]
        ordered = sorted(shifts, key=lambda s: (s.start, s.team))
        for shift in ordered:
            s, e = shift.start.timestamp(), shift.end.timestamp()
            first = max(0, int((s - self._origin) // _BUCKET))
            last = min(count - 1, math.ceil((e - self._origin) / _BUCKET) - 1)
            for i in range(first, last + 1):
                b0 = self._origin + i * _BUCKET
                if s <= b0 and e >= b0 + _BUCKET:
                    full[i].append(shift)
                else:
                    partial[i].append((s, e, shift))
        self._full = [tuple(b) for b in full]
        self._partial = [tuple(b) for b in partial]
        self._by_start = ordered
        self._starts = [s.start for s in ordered]

    @classmethod
    def build(cls, teams: Iterable[Team], start: datetime, end: datetime) -> ShiftIndex:
        return cls(expand_all(teams, start, end), start, end)

    def at(self, instant: datetime) -> tuple[Shift, ...]:
        """The occurrences containing `instant` (start <= instant < end)."""
        ts = instant.timestamp()
        i = int((ts - self._origin) // _BUCKET)
        if i < 0 or i >= len(self._full) or not self.start <= instant < self.end:
            raise RoutingError(
                f"{instant.isoformat()} is outside the calendar horizon "
                f"{self.start.isoformat()} .. {self.end.isoformat()}"
            )
        partial = self._partial[i]
        if not partial:
            return self._full[i]
        return self._full[i] + tuple(sh for s, e, sh in partial if s <= ts < e)

    def starting(self, after: datetime, until: datetime | None = None) -> Iterator[Shift]:
        """Occurrences starting in (after, until], in time order."""
        i = bisect_right(self._starts, after)
        stop = len(self._starts) if until is None else bisect_right(self._starts, until)
        return iter(self._by_start[i:stop])

    def between(self, start: datetime, end: datetime) -> list[Shift]:
        """Occurrences overlapping [start, end)."""
        longest = max((s.length() for s in self._by_start), default=timedelta(0))
        i = bisect_left(self._starts, start - longest)
        stop = bisect_left(self._starts, end)
        return [s for s in self._by_start[i:stop] if s.end > start]

    def ends_in(self, after: datetime, until: datetime) -> list[Shift]:
        """Occurrences ending in (after, until], by end then team: the shift ends (handovers)
        of a window. A shift ending exactly at `after` belongs to the window before."""
        ends = [s for s in self.between(after, until) if after < s.end <= until]
        ends.sort(key=lambda s: (s.end, s.team))
        return ends

    def __iter__(self) -> Iterator[Shift]:
        return iter(self._by_start)

    def __len__(self) -> int:
        return len(self._by_start)
