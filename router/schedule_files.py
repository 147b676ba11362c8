"""Reading `schedules/` from disk into the pure domain (the only file I/O it needs)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from .domain.errors import Problem, ScheduleError
from .domain.schedules import Schedules, load_schedules

__all__ = ["read_schedules"]


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
