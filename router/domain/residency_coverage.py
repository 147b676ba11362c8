"""`check`'s residency warnings: when a customer region with rules has no allowed team on
shift for a language it may need, at a tier its cases start at.

A case of such a customer waits (or, a P1, crosses or goes to operations) through those
hours; the operator should see them before a customer does. The coverage is the one of
router.domain.coverage (`language_coverage`), asked of the allowed teams only; the gaps
are told as the hours of the week (UTC) that are a gap in every week of the horizon, so
a holiday does not read as a standing hole (the language warnings name those dates).
Only the hours the rule causes are told: some team elsewhere covers them.

The languages a region's customers may need are those its starting tiers speak
anywhere: a language no allowed team speaks is one warning of its own.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from datetime import datetime, timedelta

from .coverage import Coverage, language_coverage
from .errors import Problem
from .model import DAYS, Policy, Team
from .residency import Residence, region_residence

__all__ = ["residency_gaps", "weekly_gap_slots"]

_HOUR = timedelta(hours=1)
_WEEK_HOURS = 7 * 24


def residency_gaps(
    teams: Iterable[Team], policy: Policy, start: datetime, end: datetime
) -> list[Problem]:
    """One warning per (customer region, starting tier, language) with standing gaps, and
    one per (region, tier) naming the languages no allowed team speaks."""
    rules = policy.residency
    if rules is None:
        return []
    teams = list(teams)
    tiers = sorted({targets.tier for targets in policy.priorities.values()})
    found: list[Problem] = []
    for region in sorted(rules.regions):
        where = region_residence(region, policy)
        for tier in tiers:
            found += _region_tier(teams, where, tier, start, end)
    return found


def _region_tier(
    teams: list[Team], where: Residence, tier: int, start: datetime, end: datetime
) -> list[Problem]:
    """The hours the rule itself leaves uncovered: a gap for the allowed teams that some
    team elsewhere covers (hours nobody covers are the language warnings' business).
    Languages with the same hours are one warning."""
    at_tier = [t for t in teams if t.tier == tier]
    everyone = language_coverage(at_tier, start, end, tier)
    allowed = language_coverage([t for t in at_tier if where.may_hold(t)], start, end, tier)
    found: list[Problem] = []
    unspoken = [tag for tag in everyone if tag not in allowed]
    if unspoken:
        found.append(
            _warning(
                where,
                f"no tier-{tier} team in {where.allowed_text()} speaks "
                f"{', '.join(unspoken)}: its customers who need one wait, cross (P1) or "
                "go to operations",
            )
        )
    by_hours: dict[tuple[int, ...], list[str]] = {}
    for tag, cov in allowed.items():
        hours = sorted(weekly_gap_slots(cov) - weekly_gap_slots(everyone[tag]))
        if hours:
            by_hours.setdefault(tuple(hours), []).append(tag)
    for hours, tags in by_hours.items():
        found.append(
            _warning(
                where,
                f"tier {tier}, {', '.join(tags)}: no team in {where.allowed_text()} is ever on "
                f"shift {_ranges(list(hours))} (every week of "
                f"{start:%Y-%m-%d}..{end:%Y-%m-%d}), while teams elsewhere are",
            )
        )
    return found


def _warning(where: Residence, message: str) -> Problem:
    return Problem(
        source="residency",
        path=where.region,
        severity="warning",
        message=f"customer region {where.region}: {message}",
    )


def weekly_gap_slots(cov: Coverage) -> set[int]:
    """The hours of the week (UTC; Monday 00:00 is 0) that fall in a gap in every week of
    `cov`'s horizon; none when the horizon is shorter than a week."""
    first = cov.start.replace(minute=0, second=0, microsecond=0)
    if first < cov.start:
        first += _HOUR
    if cov.end - first < timedelta(days=7):
        return set()
    starts = [g.start for g in cov.gaps]
    standing = [True] * _WEEK_HOURS
    at = first
    while at + _HOUR <= cov.end:
        slot = at.weekday() * 24 + at.hour
        standing[slot] = standing[slot] and _in_gap(cov, starts, at)
        at += _HOUR
    return {s for s in range(_WEEK_HOURS) if standing[s]}


def _in_gap(cov: Coverage, starts: list[datetime], at: datetime) -> bool:
    """Whether any part of the hour from `at` is in a gap."""
    i = bisect_left(starts, at + _HOUR) - 1  # the last gap starting before the hour ends
    return i >= 0 and cov.gaps[i].end > at


def _ranges(slots: list[int]) -> str:
    """Hour-of-week slots as merged ranges, wrapping from Sunday night to Monday:
    `mon 17:00-tue 07:00, sat 00:00-mon 07:00 UTC`."""
    if not slots:
        return ""
    if len(slots) == _WEEK_HOURS:
        return "all week"
    runs: list[list[int]] = []
    for s in slots:
        if runs and runs[-1][1] == s:
            runs[-1][1] = s + 1
        else:
            runs.append([s, s + 1])
    if len(runs) > 1 and runs[0][0] == 0 and runs[-1][1] == _WEEK_HOURS:
        runs[0][0] = runs.pop()[0] - _WEEK_HOURS
    return ", ".join(f"{_slot(a)}-{_slot(b)}" for a, b in runs) + " UTC"


def _slot(s: int) -> str:
    s %= _WEEK_HOURS
    return f"{DAYS[s // 24]} {s % 24:02d}:00"
