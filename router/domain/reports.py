"""Escalation reports: plain facts in (`router.domain.facts`), numbers out.

Every number is defined on a case's events, so anyone can recompute it from
`GET /v1/cases/{id}/events` (and the case's document for its team, tier, language and
priority):

- the window holds the cases *opened* in [start, end);
- time to acknowledge: the first `acknowledged` event minus the `received` one; time to
  resolve: the first `resolved` event minus the `received` one; waiting time: the first
  event after which a team held the case minus the `received` one, for cases that were
  not assigned at once (still waiting: never assigned yet);
- p50 and p90 are nearest-rank percentiles (always an observed value), in seconds;
- handovers and escalations per case: `handed_over` and `escalated` events over cases;
- unroutable: cases that were unroutable at some moment;
- within target, per priority, by the targets of the policy in force: met when the first
  acknowledgement (resolution) came within the priority's target of the opening, missed
  when it came later or has not come and the target has passed by `now`; a case whose
  target is still ahead and not met yet counts in neither;
- ratings: the customers' 1-5 ratings (the `feedback` event), by team and by language;
- a case's group is where it stands now: its team (and that team's region), tier,
  language or priority.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Literal, get_args

import msgspec

from .facts import Facts, ms
from .repeats import Repeat, repeats
from .report_charts import HourCell, WeekTier, hourly, weekly
from .stats import percentile

__all__ = [
    "GROUPS",
    "NONE",
    "Group",
    "Report",
    "Row",
    "Spread",
    "Target",
    "build_report",
    "percentile",
    "spread",
]

Group = Literal["team", "tier", "language", "priority", "region"]
GROUPS: tuple[Group, ...] = get_args(Group)
NONE = "(none)"  # the group of a case no team holds (and of a team with no region)


class Spread(msgspec.Struct, frozen=True, kw_only=True):
    """How many cases had the measure, and its p50 and p90 in seconds (None: no case)."""

    count: int
    p50: float | None
    p90: float | None


class Row(msgspec.Struct, frozen=True, kw_only=True):
    key: str
    cases: int
    acknowledge: Spread
    resolve: Spread
    handovers: int
    escalations: int
    handovers_per_case: float
    escalations_per_case: float
    unroutable: int
    waited: int
    still_waiting: int
    wait: Spread
    ratings: int
    rating_mean: float | None


class Target(msgspec.Struct, frozen=True, kw_only=True):
    """Share within target for one priority (share None: nothing decided yet)."""

    priority: str
    cases: int
    acknowledge_target_s: float | None
    acknowledge_met: int
    acknowledge_missed: int
    acknowledge_share: float | None
    resolve_target_s: float | None
    resolve_met: int
    resolve_missed: int
    resolve_share: float | None


class Ratings(msgspec.Struct, frozen=True, kw_only=True):
    """The ratings of one team or language: how many, their mean, and how many of each
    from 1 to 5."""

    key: str
    count: int
    mean: float | None
    counts: list[int]


class Report(msgspec.Struct, frozen=True, kw_only=True, rename={"start": "from", "end": "to"}):
    start: datetime
    end: datetime
    group: Group
    generated_at: datetime
    total: Row
    groups: list[Row]
    targets: list[Target]
    ratings_by_team: list[Ratings]
    ratings_by_language: list[Ratings]
    repeats: list[Repeat]
    by_week: list[WeekTier]
    by_hour: list[HourCell]
    zone: str


def spread(values_ms: Iterable[int]) -> Spread:
    ordered = sorted(values_ms)
    if not ordered:
        return Spread(count=0, p50=None, p90=None)
    return Spread(
        count=len(ordered),
        p50=percentile(ordered, 50) / 1000,
        p90=percentile(ordered, 90) / 1000,
    )


def _mean(values: Sequence[int]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def row(key: str, facts: Sequence[Facts]) -> Row:
    """One group's numbers."""
    n = len(facts)
    waited = [f for f in facts if f.assigned is None or f.assigned > f.created]
    handovers = sum(f.handovers for f in facts)
    escalations = sum(f.escalations for f in facts)
    ratings = [f.rating for f in facts if f.rating is not None]
    return Row(
        key=key,
        cases=n,
        acknowledge=spread(f.acknowledged - f.created for f in facts if f.acknowledged),
        resolve=spread(f.resolved - f.created for f in facts if f.resolved),
        handovers=handovers,
        escalations=escalations,
        handovers_per_case=round(handovers / n, 3) if n else 0.0,
        escalations_per_case=round(escalations / n, 3) if n else 0.0,
        unroutable=sum(1 for f in facts if f.unroutable is not None),
        waited=len(waited),
        still_waiting=sum(1 for f in waited if f.assigned is None),
        wait=spread(f.assigned - f.created for f in waited if f.assigned is not None),
        ratings=len(ratings),
        rating_mean=_mean(ratings),
    )


def _share(met: int, missed: int) -> float | None:
    return round(met / (met + missed), 4) if met + missed else None


def _verdict(done: int | None, created: int, target: int | None, now: int) -> int:
    """1 met, -1 missed, 0 not decided yet (or no target)."""
    if target is None:
        return 0
    if done is not None:
        return 1 if done - created <= target else -1
    return -1 if now - created > target else 0


def targets_met(
    facts: Sequence[Facts], targets: Mapping[str, tuple[timedelta, timedelta]], now: datetime
) -> list[Target]:
    """Share within the acknowledge and resolve targets, per priority."""
    at = ms(now)
    by_priority: dict[str, list[Facts]] = defaultdict(list)
    for f in facts:
        by_priority[f.priority].append(f)
    out = []
    for priority in sorted(set(by_priority) | set(targets)):
        items = by_priority.get(priority, [])
        ack, res = targets.get(priority, (None, None))
        ack_ms = ack // timedelta(milliseconds=1) if ack is not None else None
        res_ms = res // timedelta(milliseconds=1) if res is not None else None
        acks = [_verdict(f.acknowledged, f.created, ack_ms, at) for f in items]
        resolves = [_verdict(f.resolved, f.created, res_ms, at) for f in items]
        out.append(
            Target(
                priority=priority,
                cases=len(items),
                acknowledge_target_s=ack.total_seconds() if ack is not None else None,
                acknowledge_met=acks.count(1),
                acknowledge_missed=acks.count(-1),
                acknowledge_share=_share(acks.count(1), acks.count(-1)),
                resolve_target_s=res.total_seconds() if res is not None else None,
                resolve_met=resolves.count(1),
                resolve_missed=resolves.count(-1),
                resolve_share=_share(resolves.count(1), resolves.count(-1)),
            )
        )
    return out


def ratings_by(facts: Iterable[Facts], key: Callable[[Facts], str]) -> list[Ratings]:
    """Ratings per key (most rated first), only keys with at least one rating."""
    found: dict[str, list[int]] = defaultdict(list)
    for f in facts:
        if f.rating is not None:
            found[key(f)].append(f.rating)
    rows = [
        Ratings(
            key=k,
            count=len(v),
            mean=_mean(v),
            counts=[v.count(r) for r in range(1, 6)],
        )
        for k, v in found.items()
    ]
    rows.sort(key=lambda r: (-r.count, r.key))
    return rows


def group_key(group: Group, regions: Mapping[str, str]) -> Callable[[Facts], str]:
    """The function that puts a case in its group."""
    if group == "team":
        return lambda f: f.team or NONE
    if group == "tier":
        return lambda f: str(f.tier)
    if group == "language":
        return lambda f: f.language or NONE
    if group == "priority":
        return lambda f: f.priority or NONE
    return lambda f: regions.get(f.team, "") or NONE


def _order(group: Group) -> Callable[[Row], tuple[int, str]]:
    """Tiers and priorities in their own order, the others by volume."""
    if group == "tier":
        return lambda r: (int(r.key), "")
    if group == "priority":
        return lambda r: (0, r.key)
    return lambda r: (-r.cases, r.key)


def build_report(
    facts: Iterable[Facts],
    *,
    start: datetime,
    end: datetime,
    group: Group,
    now: datetime,
    targets: Mapping[str, tuple[timedelta, timedelta]],
    regions: Mapping[str, str],
    zone: str = "UTC",
) -> Report:
    """The report of the cases opened in [start, end). `facts` may hold the cases of the
    30 days before `start` too: only the repeats look at those."""
    facts = list(facts)
    low, high = ms(start), ms(end)
    window = [f for f in facts if low <= f.created < high]
    key = group_key(group, regions)
    groups: dict[str, list[Facts]] = defaultdict(list)
    for f in window:
        groups[key(f)].append(f)
    rows = sorted((row(k, v) for k, v in groups.items()), key=_order(group))
    return Report(
        start=start,
        end=end,
        group=group,
        generated_at=now,
        total=row("total", window),
        groups=rows,
        targets=targets_met(window, targets, now),
        ratings_by_team=ratings_by(window, group_key("team", regions)),
        ratings_by_language=ratings_by(window, group_key("language", regions)),
        repeats=repeats((f for f in facts if f.created < high), start),
        by_week=weekly(window),
        by_hour=hourly(window, zone),
        zone=zone,
    )
