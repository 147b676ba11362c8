"""Replaying a seeded stream of escalations through the engine on a virtual clock.

Operations leads use it before going live: does every shift end have somebody to hand
over to, and how many cases wait or go to a fallback language? Pure: the clock is the
`start` argument plus the events' own times.
"""

from __future__ import annotations

import heapq
import random
from collections import Counter
from datetime import datetime, timedelta

import msgspec

from .escalation import Customer, Escalation
from .model import Team
from .routing import Decision, route
from .schedules import Schedules

__all__ = ["HandoverStep", "Simulation", "simulate"]

_LANGS = [
    ("en", 30),
    ("de", 8),
    ("nl", 5),
    ("fr", 7),
    ("es", 8),
    ("pt-BR", 6),
    ("ja", 6),
    ("zh-CN", 6),
    ("ar", 5),
    ("cs", 4),
    ("sv", 4),
    ("da", 3),
    ("en-IN", 4),
    ("de-AT", 2),
]
_ZONES = {
    "en": "America/New_York",
    "de": "Europe/Berlin",
    "nl": "Europe/Amsterdam",
    "fr": "Europe/Paris",
    "es": "Europe/Madrid",
    "pt-BR": "America/Sao_Paulo",
    "ja": "Asia/Tokyo",
    "zh-CN": "Asia/Shanghai",
    "ar": "Asia/Riyadh",
    "cs": "Europe/Prague",
    "sv": "Europe/Stockholm",
    "da": "Europe/Copenhagen",
    "en-IN": "Asia/Kolkata",
    "de-AT": "Europe/Vienna",
}


class HandoverStep(msgspec.Struct, frozen=True, kw_only=True):
    """At `at`, `from_team` went off shift and its open cases went to `moved` (team -> count)."""

    at: datetime
    from_team: str
    moved: dict[str, int]
    waiting: int = 0
    unroutable: int = 0


class Simulation(msgspec.Struct, kw_only=True):
    start: datetime
    end: datetime
    cases: int
    handovers: list[HandoverStep]
    actions: dict[str, int]
    matches: dict[str, int]
    still_open: dict[str, int]


def generate(
    seed: int, count: int, start: datetime, end: datetime, skills: list[str]
) -> list[tuple[datetime, Escalation]]:
    """`count` escalations at random instants in [start, end), reproducible from `seed`."""
    rng = random.Random(seed)
    span = (end - start).total_seconds()
    tags, weights = zip(*_LANGS, strict=True)
    out = []
    for n in range(count):
        at = start + timedelta(seconds=rng.uniform(0, span))
        tag = rng.choices(tags, weights)[0]
        accepts = ["en"] if tag.split("-")[0] != "en" and rng.random() < 0.7 else []
        flags = ["security"] if rng.random() < 0.03 else []
        esc = Escalation(
            customer=Customer(
                id=f"cust-{n}",
                locale=tag,
                timezone=_ZONES[tag],
                accepts=accepts,
                vip=rng.random() < 0.02,
            ),
            skill=rng.choice(skills) if skills else None,
            impact=rng.choice(["high", "medium", "low"]),
            urgency=rng.choice(["high", "medium", "low"]),
            flags=flags,
            summary=f"simulated case {n}",
            source="simulate",
            external_id=str(n),
        )
        out.append((at.replace(microsecond=0), esc))
    out.sort(key=lambda x: x[0])
    return out


def simulate(
    schedules: Schedules, *, start: datetime, hours: int, cases: int, seed: int
) -> Simulation:
    end = start + timedelta(hours=hours)
    teams = schedules.teams
    index = schedules.index(start - timedelta(days=1), end + timedelta(days=8))
    skills = sorted({s for t in teams.values() if t.tier == 1 for s in t.skills})
    # events: (time, order, seq, kind, payload); shift ends sort before arrivals at one instant
    events: list[tuple[datetime, int, int, str, object]] = []
    seq = 0

    def push(at: datetime, order: int, kind: str, payload: object) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(events, (at, order, seq, kind, payload))

    for at, esc in generate(seed, cases, start, end, skills):
        push(at, 2, "arrive", esc)
    for shift in index.between(start, end):
        if start < shift.end <= end:
            push(shift.end, 0, "shift_end", shift.team)

    rng = random.Random(seed + 1)
    open_by_team: dict[str, set[int]] = {tid: set() for tid in teams}
    case_esc: dict[int, Escalation] = {}
    case_team: dict[int, str] = {}
    actions: Counter[str] = Counter()
    matches: Counter[str] = Counter()
    steps: list[HandoverStep] = []
    loads = {tid: 0 for tid in teams}

    def place(cid: int, d: Decision, at: datetime) -> None:
        if d.action == "assign" and d.team:
            open_by_team[d.team].add(cid)
            case_team[cid] = d.team
            loads[d.team] += 1
            push(at + timedelta(minutes=rng.expovariate(1 / 240)), 1, "resolve", cid)
        elif d.action == "wait" and d.team and d.starts_at:
            push(d.starts_at, 1, "wake", cid)

    while events:
        at, _, _, kind, payload = heapq.heappop(events)
        if at >= end and kind != "shift_end":
            continue
        if kind == "arrive":
            cid = len(case_esc)
            esc: Escalation = payload  # type: ignore[assignment]
            case_esc[cid] = esc
            d = route(esc, now=at, teams=teams, index=index, policy=schedules.policy, loads=loads)
            actions[d.action] += 1
            if d.language_match:
                matches[d.language_match] += 1
            place(cid, d, at)
        elif kind == "resolve":
            cid = payload  # type: ignore[assignment]
            team = case_team.pop(cid, None)  # type: ignore[arg-type]
            if team is not None:
                open_by_team[team].discard(cid)  # type: ignore[arg-type]
                loads[team] -= 1
        elif kind == "wake":
            cid = payload  # type: ignore[assignment]
            d = route(
                case_esc[cid],
                now=at,
                teams=teams,
                index=index,  # type: ignore[index]
                policy=schedules.policy,
                loads=loads,
            )
            place(cid, d, at)  # type: ignore[arg-type]
        elif kind == "shift_end":
            tid: str = payload  # type: ignore[assignment]
            if any(s.team == tid for s in index.at(at)):
                continue  # back-to-back shifts: still on
            moved: Counter[str] = Counter()
            waiting = unroutable = 0
            for cid in sorted(open_by_team[tid]):
                open_by_team[tid].discard(cid)
                case_team.pop(cid, None)
                loads[tid] -= 1
                d = route(
                    case_esc[cid],
                    now=at,
                    teams=teams,
                    index=index,
                    policy=schedules.policy,
                    loads=loads,
                    exclude={tid},
                    tier=teams[tid].tier,
                )
                if d.action == "assign" and d.team:
                    moved[d.team] += 1
                    open_by_team[d.team].add(cid)
                    case_team[cid] = d.team
                    loads[d.team] += 1
                elif d.action == "wait":
                    waiting += 1
                    place(cid, d, at)
                else:
                    unroutable += 1
                    up = _up(teams, tid)
                    open_by_team[up].add(cid)
                    case_team[cid] = up
                    loads[up] += 1
            if at < end:
                steps.append(
                    HandoverStep(
                        at=at,
                        from_team=tid,
                        moved=dict(moved),
                        waiting=waiting,
                        unroutable=unroutable,
                    )
                )
    return Simulation(
        start=start,
        end=end,
        cases=len(case_esc),
        handovers=steps,
        actions=dict(actions),
        matches=dict(matches),
        still_open={t: len(c) for t, c in open_by_team.items() if c},
    )


def _up(teams: dict[str, Team], tid: str) -> str:
    return teams[tid].escalates_to or tid
