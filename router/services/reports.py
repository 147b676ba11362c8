"""Escalation reports: the summary index read a window at a time, the policy's targets and
the teams' regions from the calendar, the numbers from `router.domain.reports`.

`recompute` answers the same question by replaying every case's events instead of the
index; the tests and bench/reports.py hold the two to the same answer."""

from __future__ import annotations

from datetime import datetime, timedelta

from ..domain.errors import InputError
from ..domain.facts import Facts, facts_of
from ..domain.repeats import REPEAT_WINDOW
from ..domain.reports import GROUPS, Group, Report, build_report
from ..domain.timeline import parse_instant, parse_zone
from ..store import FactStore
from .calendar import Calendar

__all__ = ["DEFAULT_SPAN", "MAX_SPAN", "ReportService", "check_window", "window_of"]

MAX_SPAN = timedelta(days=366)
DEFAULT_SPAN = timedelta(days=30)


def check_window(start: datetime, end: datetime, group: str, zone: str) -> Group:
    """The group, once the window and zone make sense (InputError naming the field)."""
    if end <= start:
        raise InputError("to", "must be after from")
    if end - start > MAX_SPAN:
        raise InputError("to", f"a report spans at most {MAX_SPAN.days} days")
    if group not in GROUPS:
        raise InputError("group", f'"{group}" is not one of {", ".join(GROUPS)}')
    parse_zone(zone, "tz")
    return group  # type: ignore[return-value]


def window_of(
    start: str | None, end: str | None, now: datetime, zone: str = "UTC"
) -> tuple[datetime, datetime]:
    """The window `?from=&to=` names: instants (ISO 8601), or dates in `zone` (`to` a date:
    to the end of that day). No `to`: up to now included; no `from`: DEFAULT_SPAN before."""
    tz = parse_zone(zone, "tz")
    if end:
        stop = parse_instant(end, "to", zone=tz)
        if _is_date(end):
            stop = parse_instant(
                (stop.astimezone(tz).date() + timedelta(days=1)).isoformat(), "to", zone=tz
            )
    else:
        stop = now + timedelta(milliseconds=1)  # up to and including now
    first = (
        parse_instant(start, "from", zone=tz) if start else (stop if end else now) - DEFAULT_SPAN
    )
    return first, stop


def _is_date(text: str) -> bool:
    return len(text.strip()) == 10


class ReportService:
    def __init__(self, facts: FactStore, calendar: Calendar) -> None:
        self._facts = facts
        self._calendar = calendar

    async def _build(
        self,
        facts: list[Facts],
        start: datetime,
        end: datetime,
        group: Group,
        now: datetime,
        zone: str,
    ) -> Report:
        schedules = await self._calendar.schedules(now)
        policy = self._calendar.policy
        return build_report(
            facts,
            start=start,
            end=end,
            group=group,
            now=now,
            targets={p: (t.acknowledge, t.resolve) for p, t in policy.priorities.items()},
            regions={team_id: t.region for team_id, t in schedules.teams.items()},
            zone=zone,
        )

    async def report(
        self, start: datetime, end: datetime, group: str, now: datetime, zone: str = "UTC"
    ) -> Report:
        """The report of the cases opened in [start, end), from the summary index."""
        checked = check_window(start, end, group, zone)
        facts = await self._facts.window(start - REPEAT_WINDOW, end)
        return await self._build(facts, start, end, checked, now, zone)

    async def recompute(
        self, start: datetime, end: datetime, group: str, now: datetime, zone: str = "UTC"
    ) -> Report:
        """The same report replayed from every case's events and document (no index)."""
        checked = check_window(start, end, group, zone)
        cases = await self._facts.replay(start - REPEAT_WINDOW, end)
        facts = [facts_of(case, events) for case, events in cases]
        return await self._build(facts, start, end, checked, now, zone)
