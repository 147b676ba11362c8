"""The coverage heatmap: language × hour of the week, in the viewer's timezone."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import msgspec

from ..domain.coverage import languages_of, team_filter
from ..domain.index import ShiftIndex
from ..domain.model import Team
from ..domain.timeline import wall_to_utc

State = Literal["full", "partial", "none"]
_SAMPLES = (0, 15, 30, 45)


class Cell(msgspec.Struct, frozen=True):
    start: datetime  # UTC instant of the hour's start
    state: State


class Row(msgspec.Struct, frozen=True):
    language: str
    cells: list[Cell]
    covered: int  # hours fully covered


def week_start(now: datetime, zone: ZoneInfo) -> datetime:
    """Monday 00:00 of the current week on the viewer's wall clock, as UTC."""
    local = now.astimezone(zone).date()
    monday = local - timedelta(days=local.weekday())
    return wall_to_utc(monday, time(0, 0), zone)


def hours_of_week(start: datetime, zone: ZoneInfo) -> list[datetime]:
    """The 168 local hour starts of the week (DST-aware: a local hour maps to its instant)."""
    monday = start.astimezone(zone).date()
    return [
        wall_to_utc(monday + timedelta(days=d), time(h, 0), zone)
        for d in range(7)
        for h in range(24)
    ]


def heatmap(
    teams: list[Team],
    index: ShiftIndex,
    hours: list[datetime],
    *,
    skill: str | None,
    tier: int | None,
) -> list[Row]:
    pool = [t for t in teams if team_filter(t, skill=skill, tier=tier)]
    rows = []
    for lang in languages_of(pool):
        serving = {t.id for t in pool if team_filter(t, language=lang)}
        cells = []
        for start in hours:
            hits = sum(
                1
                for m in _SAMPLES
                if any(s.team in serving for s in index.at(start + timedelta(minutes=m)))
            )
            state: State = "full" if hits == len(_SAMPLES) else "partial" if hits else "none"
            cells.append(Cell(start=start, state=state))
        rows.append(
            Row(language=lang.tag, cells=cells, covered=sum(c.state == "full" for c in cells))
        )
    return rows
