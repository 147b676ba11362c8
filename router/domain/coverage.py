"""Coverage over a horizon: when a language (skill, tier) is served, where it is not, and
who takes over from whom at each shift end."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

import msgspec

from .errors import Problem
from .index import ShiftIndex
from .language import Lang, match
from .model import Team
from .shifts import Shift, expand_all
from .timeline import span

__all__ = [
    "Coverage",
    "Handover",
    "Interval",
    "coverage",
    "handover_chain",
    "language_gaps",
    "on_call",
    "span",
    "team_filter",
]


class Interval(msgspec.Struct, frozen=True):
    start: datetime
    end: datetime

    def length(self) -> timedelta:
        return self.end - self.start


class Coverage(msgspec.Struct, frozen=True, kw_only=True):
    start: datetime
    end: datetime
    covered: list[Interval]
    gaps: list[Interval]

    def share(self) -> float:
        total = (self.end - self.start).total_seconds()
        return sum(i.length().total_seconds() for i in self.covered) / total if total else 0.0

    def largest_gap(self) -> Interval | None:
        return max(self.gaps, key=lambda g: (g.length(), -g.start.timestamp()), default=None)


def team_filter(
    team: Team, *, language: Lang | None = None, skill: str | None = None, tier: int | None = None
) -> bool:
    """Whether `team` serves `language` (exactly or by base language), has `skill`, is at `tier`."""
    return (
        (tier is None or team.tier == tier)
        and (skill is None or skill in team.skills)
        and (language is None or any(match(lang, language) is not None for lang in team.languages))
    )


def on_call(
    teams: Mapping[str, Team],
    index: ShiftIndex,
    at: datetime,
    *,
    language: Lang | None = None,
    skill: str | None = None,
    tier: int | None = None,
) -> list[tuple[Team, Shift]]:
    """The teams on shift at `at` that pass `team_filter`, each with its occurrence, by tier
    then team id: the on-call answer of the CLI, the API and the console's cell detail."""
    on = [(teams[s.team], s) for s in index.at(at)]
    on.sort(key=lambda pair: (pair[0].tier, pair[0].id))
    return [
        (team, shift)
        for team, shift in on
        if team_filter(team, language=language, skill=skill, tier=tier)
    ]


def coverage(shifts: Iterable[Shift], start: datetime, end: datetime) -> Coverage:
    """Union of the shifts clipped to [start, end), and the gaps between."""
    covered: list[Interval] = []
    for shift in sorted(shifts, key=lambda s: s.start):
        s, e = max(shift.start, start), min(shift.end, end)
        if s >= e:
            continue
        if covered and s <= covered[-1].end:
            if e > covered[-1].end:
                covered[-1] = Interval(covered[-1].start, e)
        else:
            covered.append(Interval(s, e))
    gaps: list[Interval] = []
    cursor = start
    for interval in covered:
        if interval.start > cursor:
            gaps.append(Interval(cursor, interval.start))
        cursor = max(cursor, interval.end)
    if cursor < end:
        gaps.append(Interval(cursor, end))
    return Coverage(start=start, end=end, covered=covered, gaps=gaps)


def languages_of(teams: Iterable[Team]) -> list[Lang]:
    seen: dict[str, Lang] = {}
    for team in teams:
        for lang in team.languages:
            seen.setdefault(lang.tag, lang)
    return sorted(seen.values(), key=lambda lang: lang.tag)


def language_coverage(
    teams: Iterable[Team], start: datetime, end: datetime, tier: int = 1
) -> dict[str, Coverage]:
    """Per language spoken at `tier`, its coverage by teams of that tier."""
    pool = [t for t in teams if t.tier == tier]
    shifts = expand_all(pool, start, end)
    by_team: dict[str, list[Shift]] = {}
    for shift in shifts:
        by_team.setdefault(shift.team, []).append(shift)
    result = {}
    for lang in languages_of(pool):
        serving = [t.id for t in pool if team_filter(t, language=lang)]
        result[lang.tag] = coverage(
            (s for tid in serving for s in by_team.get(tid, [])), start, end
        )
    return result


def language_gaps(teams: Iterable[Team], start: datetime, end: datetime) -> list[Problem]:
    """One warning per tier-1 language that is not covered all the time."""
    warnings = []
    for tag, cov in language_coverage(list(teams), start, end).items():
        gap = cov.largest_gap()
        if gap is not None:
            warnings.append(
                Problem(
                    source="coverage",
                    path=tag,
                    severity="warning",
                    message=(
                        f"tier 1 covers {cov.share():.0%} of {start:%Y-%m-%d}..{end:%Y-%m-%d}, "
                        f"{len(cov.gaps)} gaps, largest {span(gap.length())} from "
                        f"{gap.start:%Y-%m-%dT%H:%MZ} to {gap.end:%Y-%m-%dT%H:%MZ}"
                    ),
                )
            )
    return warnings


class Handover(msgspec.Struct, frozen=True, kw_only=True):
    """At `at`, `from_team` goes off shift; `to_team` takes its work (None: nobody on, and
    `next_start` says when the tier's next team comes on)."""

    at: datetime
    from_team: str
    to_team: str | None
    languages: list[str]
    next_start: datetime | None = None
    on_shift: list[str] = []  # every other team of the tier on shift at `at`, by id


def handover_chain(
    teams: Mapping[str, Team],
    shifts: Iterable[Shift],
    *,
    ends: tuple[datetime, datetime] | None = None,
) -> list[Handover]:
    """For every shift end, the team on shift then that best continues the leaving team's work.

    Best means: same tier, serves the leaving team's first language, then serves most of
    its languages, shares most skills, stays longest. This is the planning view; each
    case is re-routed on its own at the real handover.

    `shifts` are the leaving shifts and the possible successors alike (a ShiftIndex will
    do); `ends=(after, until)` keeps the handovers at ends in (after, until] only, while
    successors still come from all of `shifts`. In end then team order.
    """
    shifts = list(shifts)
    ordered = sorted(shifts, key=lambda s: s.start)
    chain = []
    for leaving in sorted(shifts, key=lambda s: (s.end, s.team)):
        if ends is not None and not ends[0] < leaving.end <= ends[1]:
            continue
        team = teams[leaving.team]
        at = leaving.end
        on, best = _successors(teams, team, at, ordered)
        if best is not None:
            chain.append(
                Handover(at=at, from_team=team.id, to_team=best[0], languages=best[1], on_shift=on)
            )
            continue
        nxt = next(
            (
                s
                for s in ordered
                if s.start >= at and teams[s.team].tier == team.tier and s.team != team.id
            ),
            None,
        )
        chain.append(
            Handover(
                at=at,
                from_team=team.id,
                to_team=None,
                languages=[],
                next_start=nxt.start if nxt else None,
            )
        )
    return chain


def _successors(
    teams: Mapping[str, Team], team: Team, at: datetime, ordered: list[Shift]
) -> tuple[list[str], tuple[str, list[str]] | None]:
    """The other teams of `team`'s tier on shift at `at` (by id), and the best of them with
    the leaving team's languages it serves (None when nobody is on)."""
    on: list[str] = []
    best: tuple[tuple[int, ...], str, list[str]] | None = None
    for other in ordered:
        if other.start > at:
            break
        if other.team == team.id or not other.contains(at):
            continue
        succ = teams[other.team]
        if succ.tier != team.tier:
            continue
        on.append(other.team)
        shared = [
            lang.tag
            for lang in team.languages
            if any(match(x, lang) is not None for x in succ.languages)
        ]
        key = (
            0 if team.languages[0].tag in shared else 1,
            -len(shared),
            -len(team.skills & succ.skills),
            -int((other.end - at).total_seconds()),
        )
        if best is None or key < best[0]:
            best = (key, other.team, shared)
    if best is None:
        return [], None
    return sorted(on), (best[1], best[2])
