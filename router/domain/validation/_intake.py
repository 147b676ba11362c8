"""policy.toml `[intake.<source>]`: each helpdesk's mapping, every problem located by key.

msgspec names a wrong value inside a table as `intake[...].priorities[...]`; an operator
needs `intake.zendesk.priorities.urgent.impact`, so each entry is converted on its own.
"""

from __future__ import annotations

import difflib
from typing import Any, get_args

import msgspec

from ..errors import Problem
from ..model import Flag, Grade, IntakeMapping, IntakeSource
from ._documents import located

_SOURCES: tuple[str, ...] = get_args(IntakeSource)
_ENTRIES: dict[str, Any] = {"priorities": Grade, "skills": str, "flags": Flag}


def intake_problems(data: Any, source: str) -> list[Problem]:
    """Every problem of the raw `intake` table (None: there is none, which is fine)."""
    if data is None:
        return []
    if not isinstance(data, dict):
        return [Problem(source=source, path="intake", message="must be a table of helpdesks")]
    problems: list[Problem] = []
    for name, table in data.items():
        path = f"intake.{name}"
        if name not in _SOURCES:
            near = difflib.get_close_matches(name, _SOURCES, n=1)
            hint = f' (did you mean "{near[0]}"?)' if near else ""
            known = ", ".join(_SOURCES)
            problems.append(
                Problem(source=source, path=path, message=f"unknown helpdesk{hint}; one of {known}")
            )
            continue
        problems += _mapping_problems(table, source, path, name)
    return problems


def _mapping_problems(table: Any, source: str, path: str, helpdesk: str) -> list[Problem]:
    if not isinstance(table, dict):
        return [Problem(source=source, path=path, message="must be a table")]
    problems = _entry_problems(table, source, path)
    if problems:
        return problems
    try:
        mapping = msgspec.convert(table, IntakeMapping)
    except msgspec.ValidationError as err:
        return [located(source, err, prefix=path)]
    return _meaning_problems(mapping, source, path, helpdesk)


def _entry_problems(table: dict[str, Any], source: str, path: str) -> list[Problem]:
    """Each entry of the key -> value tables converted alone, so its key is in the path."""
    problems: list[Problem] = []
    for field, kind in _ENTRIES.items():
        entries = table.get(field, {})
        if not isinstance(entries, dict):
            problems.append(
                Problem(source=source, path=f"{path}.{field}", message="must be a table")
            )
            continue
        for key, value in entries.items():
            try:
                msgspec.convert(value, kind)
            except msgspec.ValidationError as err:
                problems.append(located(source, err, prefix=f"{path}.{field}.{key}"))
    return problems


def _meaning_problems(
    mapping: IntakeMapping, source: str, path: str, helpdesk: str
) -> list[Problem]:
    def problem(where: str, message: str) -> Problem:
        return Problem(source=source, path=f"{path}.{where}", message=message)

    found: list[Problem] = []
    if not mapping.priorities:
        found.append(problem("priorities", "needs at least one priority"))
    for name in mapping.priorities:
        if not name or name != name.strip().lower():
            found.append(problem(f"priorities.{name}", "must be lower case, without spaces"))
    default = mapping.default_priority
    if default and default not in mapping.priorities:
        near = difflib.get_close_matches(default, list(mapping.priorities), n=1)
        hint = f' (did you mean "{near[0]}"?)' if near else ""
        known = ", ".join(mapping.priorities)
        found.append(
            problem("default_priority", f'"{default}" is not one of the priorities{hint}: {known}')
        )
    for field in ("skills", "flags"):
        for tag in getattr(mapping, field):
            if reason := _tag_problem(tag, helpdesk):
                found.append(problem(f"{field}.{tag}", reason))
    for tag, skill in mapping.skills.items():
        if not skill.strip() or skill != skill.strip():
            found.append(problem(f"skills.{tag}", "must name a skill"))
    if mapping.default_skill is not None and not mapping.default_skill.strip():
        found.append(problem("default_skill", "must name a skill (or be left out)"))
    return found


def _tag_problem(tag: str, helpdesk: str) -> str | None:
    """Why a ticket could never carry `tag`, or None: tickets' tags are compared in lower
    case, split at spaces (Freshdesk: at commas)."""
    separator = "," if helpdesk == "freshdesk" else " "
    if not tag.strip():
        return "a tag cannot be empty"
    if tag != tag.lower():
        return "must be lower case (tags are compared in lower case)"
    if separator in tag or (separator == " " and tag != "".join(tag.split())):
        what = "a comma" if separator == "," else "a space"
        return f"cannot contain {what}: tickets' tags are split there"
    if tag != tag.strip():
        return "must not start or end with a space"
    return None
