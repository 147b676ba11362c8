"""policy.toml `[residency]`: every region named is a region with rules, every rule names
team regions. A default or a source default naming no region would route that customer
as if it had no residency rules, which is the mistake this table exists to prevent."""

from __future__ import annotations

from typing import Any

from ..errors import Problem
from ..model import Policy


def residency_problems(policy: Policy, source: str) -> list[Problem]:
    res = policy.residency
    if res is None:
        return []
    problems: list[Problem] = []

    def bad(path: str, message: str) -> None:
        problems.append(Problem(source=source, path=f"residency.{path}", message=message))

    for region, allowed in res.regions.items():
        if not region.strip():
            bad("regions", "a customer region needs a name")
        if not allowed:
            bad(f"regions.{region}", "name at least one team region allowed to hold its data")
        for i, team_region in enumerate(allowed):
            if not team_region.strip():
                bad(f"regions.{region}[{i}]", "a team region needs a name")
            elif team_region in allowed[:i]:
                bad(f"regions.{region}[{i}]", f"{team_region} is named twice")
    known = ", ".join(sorted(res.regions)) or "none"
    if res.default and res.default not in res.regions:
        bad("default", f"{res.default} is not a region of residency.regions ({known})")
    for name, region in res.by_source.items():
        if region not in res.regions:
            bad(f"by_source.{name}", f"{region} is not a region of residency.regions ({known})")
    return problems


def residency_shape_problems(data: Any, source: str) -> list[Problem]:
    """What msgspec would name `residency.regions[...]`, named by key instead: each
    region's list of team regions, each source's region (None: no table, which is fine)."""
    if not isinstance(data, dict):
        return []
    problems: list[Problem] = []
    for name, kind, message in (
        ("regions", list, "must be a list of team regions"),
        ("by_source", str, "must be a customer region"),
    ):
        table = data.get(name, {})
        if not isinstance(table, dict):
            problems.append(_at(source, name, "must be a table"))
            continue
        for key, value in table.items():
            if not isinstance(value, kind) or (
                kind is list and not all(isinstance(v, str) for v in value)
            ):
                problems.append(_at(source, f"{name}.{key}", message))
    return problems


def _at(source: str, path: str, message: str) -> Problem:
    return Problem(source=source, path=f"residency.{path}", message=message)
