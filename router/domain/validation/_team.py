"""One team on its own: its id, fields, times, weekly rules and dated overrides, every
problem located. Links between teams are `_links`."""

from __future__ import annotations

import re
from datetime import date, time
from zoneinfo import ZoneInfo

import holidays as holiday_calendars

from ..errors import InputError, Problem, ScheduleError
from ..language import Lang, parse_lang
from ..model import DAYS, Override, Rule, Slot, Team, TeamSpec
from ..overlaps import overlap_problems
from ..timeline import parse_zone
from ._notify import notify_problems

TEAM_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class _Findings(list[Problem]):
    """The problems of one document, in the order they are found."""

    def __init__(self, source: str) -> None:
        super().__init__()
        self.source = source

    def bad(self, path: str, message: str) -> None:
        self.append(Problem(source=self.source, path=path, message=message))


def parse_time(text: str) -> time | None:
    m = _TIME.match(text)
    return time(int(m.group(1)), int(m.group(2))) if m else None


def check_times(
    source: str, path: str, start: str | None, end: str | None, problems: list[Problem]
) -> tuple[time, time] | None:
    """The start and end wall times of a shift at `path`, or None with the problems said."""
    parsed: list[time] = []
    for name, text in (("start", start), ("end", end)):
        if text is None:
            problems.append(
                Problem(source=source, path=f"{path}.{name}", message="required field is missing")
            )
            continue
        value = parse_time(text)
        if value is None:
            problems.append(
                Problem(
                    source=source,
                    path=f"{path}.{name}",
                    message=f'"{text}" is not a time (HH:MM, 00:00 to 23:59)',
                )
            )
        else:
            parsed.append(value)
    if len(parsed) != 2:
        return None
    if parsed[0] == parsed[1]:
        problems.append(
            Problem(
                source=source,
                path=f"{path}.end",
                message=f'"{end}" equals the start; a shift must have a length',
            )
        )
        return None
    return parsed[0], parsed[1]


def team_from_spec(team_id: str, spec: TeamSpec, source: str) -> Team:
    """Validate one team on its own (cross-team links are `check_team_links`)."""
    found = _Findings(source)
    zone = _check_fields(team_id, spec, found)
    langs = _languages(spec, found)
    _check_limits(team_id, spec, found)
    for path, message in notify_problems(spec):  # locale and notify
        found.bad(path, message)
    calendar = _holiday_calendar(spec, found)
    rules = _rules(spec, found)
    overrides = _overrides(spec, found)
    team = Team(
        id=team_id,
        spec=spec,
        zone=zone or parse_zone("UTC"),  # a bad zone is reported; judge overlaps by the wall
        languages=tuple(langs),
        skills=frozenset(spec.skills),
        rules=tuple(rules),
        overrides={d: tuple(s) for d, s in overrides.items()},
        holiday_dates=calendar,
    )
    if len(rules) == len(spec.shifts):
        found.extend(overlap_problems(team, source))
    if found:
        raise ScheduleError(list(found))
    return team


def _check_fields(team_id: str, spec: TeamSpec, found: _Findings) -> ZoneInfo | None:
    """The id, name, timezone (returned when it is one) and tier."""
    if not TEAM_ID.match(team_id):
        found.bad("", f'"{team_id}" is not a team id (lowercase letters, digits and dashes)')
    if not spec.name.strip():
        found.bad("name", "must not be empty")
    zone = None
    try:
        zone = parse_zone(spec.timezone)
    except InputError as err:
        found.bad("timezone", err.reason)
    if spec.tier < 1:
        found.bad("tier", f"{spec.tier} is not a tier (1 = front line, 2, 3 ...)")
    return zone


def _languages(spec: TeamSpec, found: _Findings) -> list[Lang]:
    if not spec.languages:
        found.bad("languages", "a team needs at least one language")
    langs: list[Lang] = []
    for i, tag in enumerate(spec.languages):
        try:
            langs.append(parse_lang(tag))
        except InputError as err:
            found.bad(f"languages[{i}]", err.reason)
    return langs


def _check_limits(team_id: str, spec: TeamSpec, found: _Findings) -> None:
    if spec.capacity is not None and spec.capacity < 1:
        found.bad("capacity", f"{spec.capacity} must be at least 1")
    if spec.escalates_to is not None and spec.escalates_to == team_id:
        found.bad("escalates_to", "a team cannot escalate to itself")


def _holiday_calendar(spec: TeamSpec, found: _Findings) -> object | None:
    if spec.holidays is None:
        return None
    try:
        return holiday_calendars.country_holidays(
            spec.holidays.country, subdiv=spec.holidays.subdiv
        )
    except NotImplementedError as err:
        path = "holidays.subdiv" if "subdivision" in str(err) else "holidays.country"
        found.bad(path, f"not a calendar of the holidays package ({err})")
        return None


def _rules(spec: TeamSpec, found: _Findings) -> list[Rule]:
    """The weekly rules whose times are valid (the others are reported)."""
    rules: list[Rule] = []
    for i, rule in enumerate(spec.shifts):
        path = f"shifts[{i}]"
        if not rule.days:
            found.bad(f"{path}.days", "lists no day")
        times = check_times(found.source, path, rule.start, rule.end, found)
        if rule.from_ and rule.until and rule.until <= rule.from_:
            found.bad(f"{path}.until", f"{rule.until} is not after from = {rule.from_}")
        if times:
            rules.append(
                Rule(
                    source=path,
                    days=frozenset(DAYS.index(d) for d in rule.days),
                    start=times[0],
                    end=times[1],
                    from_=rule.from_,
                    until=rule.until,
                )
            )
    return rules


def _overrides(spec: TeamSpec, found: _Findings) -> dict[date, list[Slot]]:
    """The slots of each overridden date (none for a closed one)."""
    overrides: dict[date, list[Slot]] = {}
    for i, override in enumerate(spec.overrides):
        slot = _override_slot(found.source, f"overrides[{i}]", override, found)
        day_slots = overrides.setdefault(override.date, [])
        if override.closed:
            if any(o.date == override.date and not o.closed for o in spec.overrides):
                found.bad(f"overrides[{i}].closed", f"{override.date} is both closed and has hours")
        elif slot:
            day_slots.append(slot)
    return overrides


def _override_slot(
    source: str, path: str, override: Override, problems: list[Problem]
) -> Slot | None:
    if override.closed:
        if override.start is not None or override.end is not None:
            problems.append(
                Problem(
                    source=source,
                    path=f"{path}.closed",
                    message="closed = true cannot also give start/end",
                )
            )
        return None
    if override.start is None and override.end is None:
        problems.append(
            Problem(source=source, path=path, message="give either closed = true or start and end")
        )
        return None
    times = check_times(source, path, override.start, override.end, problems)
    return Slot(times[0], times[1], path) if times else None
