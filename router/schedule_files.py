"""Reading `schedules/` from disk into the pure domain (the only file I/O it needs)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import msgspec

from .domain.errors import Problem, ScheduleError
from .domain.model import Policy, TeamSpec
from .domain.schedules import Schedules, load_schedules
from .domain.validation import decode_policy, decode_team

__all__ = ["read_policy", "read_schedules", "read_team_specs", "write_team"]


def read_schedules(directory: Path, *, now: datetime) -> Schedules:
    """Validate every `teams/*.toml` and `policy.toml` under `directory`."""
    teams_dir = directory / "teams"
    policy = directory / "policy.toml"
    if not teams_dir.is_dir() or not policy.is_file():
        raise ScheduleError(
            [
                Problem(
                    source=str(directory),
                    path="",
                    message="not a schedules directory (needs teams/*.toml and policy.toml)",
                )
            ]
        )
    files = {f"teams/{p.name}": p.read_bytes() for p in sorted(teams_dir.glob("*.toml"))}
    if not files:
        raise ScheduleError([Problem(source=str(teams_dir), path="", message="no team files")])
    return load_schedules(files, policy.read_bytes(), now=now)


def read_policy(directory: Path) -> Policy:
    return decode_policy((directory / "policy.toml").read_bytes(), "policy.toml")


def read_team_specs(directory: Path) -> dict[str, TeamSpec]:
    """Team documents as written (validate with `read_schedules` first)."""
    return {
        p.stem: decode_team(p.stem, p.read_bytes(), f"teams/{p.name}")
        for p in sorted((directory / "teams").glob("*.toml"))
    }


def write_team(directory: Path, team_id: str, spec: TeamSpec) -> Path:
    """Write a team back as TOML in the format people edit (for review and commit)."""
    path = directory / "teams" / f"{team_id}.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(msgspec.toml.encode(spec))
    return path
