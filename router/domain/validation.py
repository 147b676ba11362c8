"""Reading schedule documents into validated teams, with located problems.

Every finding names its file and field (`teams/ams-l1.toml: shifts[2].start: "25:00" is
not a time`). Parsing collects all problems of a document before giving up, so an
operator fixes a file in one pass rather than one error per run.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

import holidays as holiday_calendars
import msgspec

from .errors import InputError, Problem, ScheduleError
from .language import Lang, parse_lang
from .model import DAYS, Override, Policy, Rule, ShiftRule, Slot, Team, TeamSpec
from .overlaps import overlap_problems
from .shifts import nominal_length, shift_of_slot
from .timeline import parse_zone

__all__ = [
    "TEAM_ID",
    "check_team_links",
    "decode_policy",
    "decode_team",
    "dst_warnings",
    "parse_time",
    "team_from_spec",
]

TEAM_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def _located(source: str, err: msgspec.ValidationError, prefix: str = "") -> Problem:
    """msgspec says "... - at `$.shifts[0].from`"; we say `shifts[0].from: ...`."""
    text = str(err)
    path = ""
    if " - at `$" in text:
        text, _, where = text.rpartition(" - at `$")
        path = where.rstrip("`").lstrip(".")
    if prefix:
        path = f"{prefix}.{path}" if path and not path.startswith("[") else f"{prefix}{path}"
    if text.startswith("Invalid enum value") and re.search(r"days\[\d+\]$", path):
        day = text.removeprefix("Invalid enum value").strip()
        return Problem(
            source=source, path=path, message=f"{day} is not a day (mon tue wed thu fri sat sun)"
        )
    unknown = re.match(r"Object contains unknown field `(.+)`", text)
    if unknown:
        field = unknown.group(1)
        return Problem(
            source=source,
            path=f"{path}.{field}" if path else field,
            message="unknown field (check the spelling)",
        )
    missing = re.match(r"Object missing required field `(.+)`", text)
    if missing:
        field = missing.group(1)
        return Problem(
            source=source,
            path=f"{path}.{field}" if path else field,
            message="required field is missing",
        )
    return Problem(source=source, path=path, message=text)


def _load_toml(source: str, text: str | bytes) -> dict[str, Any]:
    try:
        return tomllib.loads(text.decode() if isinstance(text, bytes) else text)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ScheduleError(
            [Problem(source=source, path="", message=f"not valid TOML: {err}")]
        ) from None


def decode_team(team_id: str, text: str | bytes, source: str) -> TeamSpec:
    """TOML text into a TeamSpec, strictly (unknown keys are errors)."""
    return convert_team(team_id, _load_toml(source, text), source)


def convert_team(team_id: str, data: Any, source: str) -> TeamSpec:
    """Decode strictly, but report every structural problem of the document, not the first."""
    if not isinstance(data, dict):
        data = {"": data}
    problems: list[Problem] = []
    parts: dict[str, list[Any]] = {}
    for name, type_ in (("shifts", ShiftRule), ("overrides", Override)):
        items = data.get(name, [])
        if not isinstance(items, list):
            continue
        parts[name] = []
        for i, item in enumerate(items):
            value, found = _convert_all(item, type_, source, f"{name}[{i}]")
            problems += found
            if found and isinstance(item, dict) and isinstance(item.get("start"), str):
                # the times are checked later for a valid item; say it now for a broken one
                _times(source, f"{name}[{i}]", item.get("start"), item.get("end"), problems)
            parts[name].append(value)
    top = {k: ([] if k in parts else v) for k, v in data.items()}
    spec, found = _convert_all(top, TeamSpec, source, "")
    problems += found
    if problems or spec is None:
        raise ScheduleError(problems)
    return msgspec.structs.replace(spec, **parts)


def _convert_all(
    data: Any, type_: type[Any], source: str, prefix: str
) -> tuple[Any, list[Problem]]:
    """msgspec stops at the first error; drop the offending key and go on to find the rest."""
    problems: list[Problem] = []
    if not isinstance(data, dict):
        try:
            return msgspec.convert(data, type_), []
        except msgspec.ValidationError as err:
            return None, [_located(source, err, prefix)]
    data = dict(data)
    dropped: set[str] = set()
    suggested: set[str] = set()
    fields = [f.encode_name for f in msgspec.structs.fields(type_)]
    for _ in range(len(data) + 1):
        try:
            value = msgspec.convert(data, type_)
        except msgspec.ValidationError as err:
            problem = _located(source, err, prefix)
            rel = problem.path[len(prefix) :].lstrip(".") if prefix else problem.path
            key = re.split(r"[.\[]", rel, maxsplit=1)[0]
            if problem.message == "required field is missing" and (
                key in dropped or key in suggested
            ):
                break
            if problem.message.startswith("unknown field") and rel == key:
                close = difflib.get_close_matches(key, fields, n=1)
                if close:
                    suggested.add(close[0])
                    problem = msgspec.structs.replace(
                        problem, message=f'unknown field (did you mean "{close[0]}"?)'
                    )
            problems.append(problem)
            if key not in data:
                break
            del data[key]
            dropped.add(key)
        else:
            return (None if problems else value), problems
    return None, problems


def decode_policy(text: str | bytes, source: str = "policy.toml") -> Policy:
    data = _load_toml(source, text)
    try:
        policy = msgspec.convert(data, Policy)
    except msgspec.ValidationError as err:
        raise ScheduleError([_located(source, err)]) from None
    problems: list[Problem] = []
    levels = ("high", "medium", "low")
    for impact in levels:
        for urgency in levels:
            if urgency not in policy.matrix.get(impact, {}):  # type: ignore[call-overload]
                problems.append(
                    Problem(
                        source=source,
                        path=f"matrix.{impact}.{urgency}",
                        message="missing (every impact × urgency needs a priority)",
                    )
                )
    for priority in ("P1", "P2", "P3", "P4"):
        targets = policy.priorities.get(priority)  # type: ignore[call-overload]
        if targets is None:
            problems.append(
                Problem(source=source, path=f"priorities.{priority}", message="missing")
            )
            continue
        for name in ("acknowledge", "update", "resolve"):
            if getattr(targets, name) <= timedelta(0):
                problems.append(
                    Problem(
                        source=source,
                        path=f"priorities.{priority}.{name}",
                        message="must be a positive duration",
                    )
                )
        if targets.tier < 1:
            problems.append(
                Problem(
                    source=source, path=f"priorities.{priority}.tier", message="must be 1 or more"
                )
            )
    if policy.min_shift_left < timedelta(0):
        problems.append(
            Problem(source=source, path="min_shift_left", message="must not be negative")
        )
    if problems:
        raise ScheduleError(problems)
    return policy


def parse_time(text: str) -> time | None:
    m = _TIME.match(text)
    return time(int(m.group(1)), int(m.group(2))) if m else None


def _times(
    source: str, path: str, start: str | None, end: str | None, problems: list[Problem]
) -> tuple[time, time] | None:
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
    problems: list[Problem] = []

    def bad(path: str, message: str) -> None:
        problems.append(Problem(source=source, path=path, message=message))

    if not TEAM_ID.match(team_id):
        bad("", f'"{team_id}" is not a team id (lowercase letters, digits and dashes)')
    if not spec.name.strip():
        bad("name", "must not be empty")
    zone = None
    try:
        zone = parse_zone(spec.timezone)
    except InputError as err:
        bad("timezone", err.reason)
    if spec.tier < 1:
        bad("tier", f"{spec.tier} is not a tier (1 = front line, 2, 3 ...)")
    if not spec.languages:
        bad("languages", "a team needs at least one language")
    langs: list[Lang] = []
    for i, tag in enumerate(spec.languages):
        try:
            langs.append(parse_lang(tag))
        except InputError as err:
            bad(f"languages[{i}]", err.reason)
    if spec.capacity is not None and spec.capacity < 1:
        bad("capacity", f"{spec.capacity} must be at least 1")
    if spec.escalates_to is not None and spec.escalates_to == team_id:
        bad("escalates_to", "a team cannot escalate to itself")
    calendar = None
    if spec.holidays is not None:
        try:
            calendar = holiday_calendars.country_holidays(
                spec.holidays.country, subdiv=spec.holidays.subdiv
            )
        except NotImplementedError as err:
            path = "holidays.subdiv" if "subdivision" in str(err) else "holidays.country"
            bad(path, f"not a calendar of the holidays package ({err})")
    rules: list[Rule] = []
    for i, rule in enumerate(spec.shifts):
        path = f"shifts[{i}]"
        if not rule.days:
            bad(f"{path}.days", "lists no day")
        times = _times(source, path, rule.start, rule.end, problems)
        if rule.from_ and rule.until and rule.until <= rule.from_:
            bad(f"{path}.until", f"{rule.until} is not after from = {rule.from_}")
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
    overrides: dict[date, list[Slot]] = {}
    for i, override in enumerate(spec.overrides):
        slot = _override_slot(source, f"overrides[{i}]", override, problems)
        day_slots = overrides.setdefault(override.date, [])
        if override.closed:
            if any(o.date == override.date and not o.closed for o in spec.overrides):
                bad(f"overrides[{i}].closed", f"{override.date} is both closed and has hours")
        elif slot:
            day_slots.append(slot)
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
        problems.extend(overlap_problems(team, source))
    if problems:
        raise ScheduleError(problems)
    return team


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
    times = _times(source, path, override.start, override.end, problems)
    return Slot(times[0], times[1], path) if times else None


def check_team_links(teams: Mapping[str, Team], sources: Mapping[str, str]) -> list[Problem]:
    """Escalation links: known, of a higher tier, and never circular."""
    problems = []
    for team in teams.values():
        target = team.escalates_to
        if target is None:
            continue
        src = sources.get(team.id, team.id)
        if target not in teams:
            problems.append(
                Problem(source=src, path="escalates_to", message=f'unknown team "{target}"')
            )
        elif teams[target].tier <= team.tier:
            problems.append(
                Problem(
                    source=src,
                    path="escalates_to",
                    message=(
                        f'"{target}" is tier {teams[target].tier}, not higher than tier {team.tier}'
                    ),
                )
            )
    for team in teams.values():
        seen = [team.id]
        cur = team.escalates_to
        while cur is not None and cur in teams:
            if cur in seen:
                problems.append(
                    Problem(
                        source=sources.get(team.id, team.id),
                        path="escalates_to",
                        message="escalation cycle: " + " -> ".join([*seen, cur]),
                    )
                )
                break
            seen.append(cur)
            cur = teams[cur].escalates_to
    return problems


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
                        f"{slot.start:%H:%M}–{slot.end:%H:%M} shift lasts {_hm(real)} instead of "
                        f"{_hm(nominal)} (DST change in {team.spec.timezone})"
                    ),
                )
            )
    return problems


def _hm(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60}h{minutes % 60:02d}"
