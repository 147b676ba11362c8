"""A validated set of teams plus the policy: what `schedules/` means as a whole."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

import msgspec

from .coverage import language_gaps
from .errors import Problem, ScheduleError
from .index import ShiftIndex
from .model import Policy, Roster, Team, TeamSpec, escalation_chain
from .residency_coverage import residency_gaps
from .validation import check_team_links, decode_policy, decode_team, dst_warnings, team_from_spec

__all__ = ["Schedules", "load_schedules", "validate_specs"]


class Schedules(msgspec.Struct, frozen=True, kw_only=True):
    teams: dict[str, Team]
    policy: Policy
    warnings: list[Problem] = []

    def index(self, start: datetime, end: datetime) -> ShiftIndex:
        return ShiftIndex.build(self.teams.values(), start, end)

    def index_around(
        self, instant: datetime, days_before: int = 2, days_after: int = 9
    ) -> ShiftIndex:
        """An index for questions about `instant`: who is on, who comes next."""
        return self.index(
            instant - timedelta(days=days_before), instant + timedelta(days=days_after)
        )

    def chain(self, team_id: str) -> list[str]:
        """The escalation chain from `team_id`: the team, then each `escalates_to` in turn
        (see `escalation_chain`). `chain(t)[1:2]` is who `t` escalates to, if anybody."""
        return escalation_chain(self.teams, team_id)

    def top_of_chain(self, team_id: str | None) -> str | None:
        """The last team of `team_id`'s escalation chain (the team itself when it names
        nobody); None for None."""
        return None if team_id is None else self.chain(team_id)[-1]


def validate_specs(
    specs: Mapping[str, tuple[TeamSpec, str]],
    policy: Policy,
    *,
    now: datetime,
    warnings: bool = True,
) -> Schedules:
    """Validate team specs (id -> (spec, source)) together; raise with every error found."""
    teams, problems = _validate_teams(specs)
    sources = {tid: src for tid, (_, src) in specs.items()}
    if any(p.severity == "error" for p in problems):
        raise ScheduleError(problems)
    if not warnings:
        return Schedules(teams=teams, policy=policy)
    found: list[Problem] = []
    for tid, team in teams.items():
        if not team.rules and not team.overrides:
            found.append(
                Problem(
                    source=sources[tid],
                    path="shifts",
                    severity="warning",
                    message="the team has no shifts and is never on shift",
                )
            )
        found.extend(dst_warnings(team, sources[tid], now))
    found.extend(language_gaps(teams.values(), now, now + timedelta(days=28)))
    found.extend(residency_gaps(teams.values(), policy, now, now + timedelta(days=28)))
    return Schedules(teams=teams, policy=policy, warnings=found)


def _validate_teams(
    specs: Mapping[str, tuple[TeamSpec, str]],
) -> tuple[dict[str, Team], list[Problem]]:
    problems: list[Problem] = []
    teams: dict[str, Team] = {}
    for tid, (spec, source) in sorted(specs.items()):
        try:
            teams[tid] = team_from_spec(tid, spec, source)
        except ScheduleError as err:
            problems.extend(err.problems)
    problems.extend(check_team_links(teams, {tid: src for tid, (_, src) in specs.items()}))
    return Roster(teams), problems


def load_schedules(
    team_files: Mapping[str, str | bytes],
    policy_text: str | bytes,
    *,
    now: datetime,
    policy_source: str = "policy.toml",
) -> Schedules:
    """Parse and validate TOML texts: team_files maps 'teams/<id>.toml' to its text."""
    problems: list[Problem] = []
    specs: dict[str, tuple[TeamSpec, str]] = {}
    policy = None
    try:
        policy = decode_policy(policy_text, policy_source)
    except ScheduleError as err:
        problems.extend(err.problems)
    for source, text in sorted(team_files.items()):
        tid = source.rsplit("/", 1)[-1].removesuffix(".toml")
        try:
            specs[tid] = (decode_team(tid, text, source), source)
        except ScheduleError as err:
            problems.extend(err.problems)
    if policy is None:
        problems.extend(_validate_teams(specs)[1])
        raise ScheduleError(problems)
    try:
        schedules = validate_specs(specs, policy, now=now)
    except ScheduleError as err:
        problems.extend(err.problems)
    if problems:
        raise ScheduleError(problems)
    return schedules
