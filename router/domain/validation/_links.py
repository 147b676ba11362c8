"""Escalation links across teams: each names a known team of a higher tier, and no chain
comes back on itself."""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import Problem
from ..model import Team, escalation_chain


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
        chain = escalation_chain(teams, team.id)
        last = teams.get(chain[-1])
        if last is not None and last.escalates_to in chain:  # the walk stopped at a repeat
            problems.append(
                Problem(
                    source=sources.get(team.id, team.id),
                    path="escalates_to",
                    message="escalation cycle: " + " -> ".join([*chain, last.escalates_to]),
                )
            )
    return problems
