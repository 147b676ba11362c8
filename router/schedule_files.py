"""Reading `schedules/` from disk into the pure domain (the only file I/O it needs)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec

from .domain.errors import Problem, ScheduleError
from .domain.model import Policy, TeamSpec
from .domain.schedules import Schedules, load_schedules
from .domain.validation import decode_policy, decode_team

__all__ = [
    "bootstrap_policy",
    "iso_duration",
    "read_policy",
    "read_schedules",
    "read_team_specs",
    "write_policy",
    "write_team",
]


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


def bootstrap_policy(directory: Path) -> Policy | None:
    """The policy a process runs on until the store holds one: `directory/policy.toml`,
    or None when there is no such file (a store with a policy needs none). A file that
    is there but broken is still an error."""
    path = directory / "policy.toml"
    return read_policy(directory) if path.is_file() else None


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


_POLICY_HEADER = b"""\
# Routing policy: priorities, deadlines and escalation triggers (exported from the store).
# Durations are ISO 8601 (PT15M = 15 minutes, PT4H = 4 hours, P1D = 1 day).

"""


def write_policy(directory: Path, policy: Policy) -> Path:
    """Write the policy back as `directory/policy.toml`, durations as people write them
    (`PT45M`, `P1D`, where msgspec alone would write `PT2700S`); `decode_policy` reads
    it back equal."""
    path = directory / "policy.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    data = _durations(msgspec.to_builtins(policy, builtin_types=(timedelta,)))
    path.write_bytes(_POLICY_HEADER + msgspec.toml.encode(data))
    return path


def _durations(value: Any) -> Any:
    if isinstance(value, timedelta):
        return iso_duration(value)
    if isinstance(value, dict):
        return {k: _durations(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_durations(v) for v in value]
    return value


def iso_duration(delta: timedelta) -> str:
    """ISO 8601 in the largest units that are exact: `PT45M`, `PT1H30M`, `P1DT12H`."""
    sign, delta = ("-", -delta) if delta < timedelta(0) else ("", delta)
    hours, rest = divmod(delta.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    time = f"{hours}H" if hours else ""
    time += f"{minutes}M" if minutes else ""
    if seconds or delta.microseconds:
        time += f"{seconds}.{delta.microseconds:06d}".rstrip("0").rstrip(".") + "S"
    day = f"{delta.days}D" if delta.days else ""
    if not day and not time:
        return "PT0S"
    return f"{sign}P{day}" + (f"T{time}" if time else "")
