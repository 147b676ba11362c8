"""Warnings for shifts whose real length differs from the rota because the clocks change."""

from __future__ import annotations

from datetime import datetime, timedelta

from ..errors import Problem
from ..model import DAYS, Team
from ..shifts import nominal_length, shift_of_slot
from ..timeline import span


def dst_warnings(team: Team, source: str, now: datetime, days: int = 366) -> list[Problem]:
    """Shifts in the coming year whose real length differs from the rota (DST nights),
    including one swallowed whole by a spring-forward gap (it lasts 0h00)."""
    problems = []
    first = now.astimezone(team.zone).date()
    for offset in range(days):
        day = first + timedelta(days=offset)
        for slot in team.slots(day):
            real = shift_of_slot(team, day, slot).length()
            nominal = nominal_length(slot.start, slot.end)
            if real == nominal:
                continue
            problems.append(
                Problem(
                    source=source,
                    path=slot.source,
                    severity="warning",
                    message=(
                        f"on {day} ({DAYS[day.weekday()]}) the "
                        f"{slot.start:%H:%M}–{slot.end:%H:%M} shift lasts {span(real, 'clock')} "
                        f"instead of {span(nominal, 'clock')} (DST change in {team.spec.timezone})"
                    ),
                )
            )
    return problems
