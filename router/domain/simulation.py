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
from typing import Any

import msgspec

from .escalation import Customer, Escalation
from .index import ShiftIndex
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
    replay = _Replay(schedules, index, end, random.Random(seed + 1))
    for at, esc in generate(seed, cases, start, end, skills):
        replay.push(at, _ARRIVE, esc)
    # shift ends of one instant go in start order (the heap's tie-break is push order)
    for shift in sorted(index.ends_in(start, end), key=lambda s: (s.start, s.team)):
        replay.push(shift.end, _SHIFT_END, shift.team)
    replay.run()
    return Simulation(
        start=start,
        end=end,
        cases=len(replay.escalations),
        handovers=replay.steps,
        actions=dict(replay.actions),
        matches=dict(replay.matches),
        still_open={t: len(c) for t, c in replay.open_by_team.items() if c},
    )


# event kinds, by the order they take at one instant: shift ends before anything else,
# arrivals last
_SHIFT_END, _RESOLVE, _WAKE, _ARRIVE = "shift_end", "resolve", "wake", "arrive"
_ORDER = {_SHIFT_END: 0, _RESOLVE: 1, _WAKE: 1, _ARRIVE: 2}


class _Replay:
    """The moving parts of one simulation: the event queue on the virtual clock, which team
    holds which case, the loads the router sees, and the tallies."""

    def __init__(
        self, schedules: Schedules, index: ShiftIndex, end: datetime, rng: random.Random
    ) -> None:
        self.schedules, self.index, self.end, self.rng = schedules, index, end, rng
        self.teams = schedules.teams
        # (time, order, seq, kind, payload)
        self.events: list[tuple[datetime, int, int, str, object]] = []
        self.seq = 0
        self.escalations: dict[int, Escalation] = {}
        self.holder: dict[int, str] = {}
        self.open_by_team: dict[str, set[int]] = {tid: set() for tid in self.teams}
        self.loads = {tid: 0 for tid in self.teams}
        self.actions: Counter[str] = Counter()
        self.matches: Counter[str] = Counter()
        self.steps: list[HandoverStep] = []

    def push(self, at: datetime, kind: str, payload: object) -> None:
        self.seq += 1
        heapq.heappush(self.events, (at, _ORDER[kind], self.seq, kind, payload))

    def run(self) -> None:
        """Every event in time order; past the end only shift ends still count."""
        while self.events:
            at, _, _, kind, payload = heapq.heappop(self.events)
            if at >= self.end and kind != _SHIFT_END:
                continue
            if kind == _ARRIVE:
                self.arrive(at, payload)  # type: ignore[arg-type]
            elif kind == _RESOLVE:
                self.resolve(payload)  # type: ignore[arg-type]
            elif kind == _WAKE:
                self.place(payload, self.route(payload, at), at)  # type: ignore[arg-type]
            else:
                self.shift_end(at, payload)  # type: ignore[arg-type]

    def route(self, cid: int, at: datetime, **kw: Any) -> Decision:
        return route(
            self.escalations[cid],
            now=at,
            teams=self.teams,
            index=self.index,
            policy=self.schedules.policy,
            loads=self.loads,
            **kw,
        )

    def give(self, cid: int, team: str) -> None:
        self.open_by_team[team].add(cid)
        self.holder[cid] = team
        self.loads[team] += 1

    def take(self, cid: int, team: str) -> None:
        self.open_by_team[team].discard(cid)
        self.holder.pop(cid, None)
        self.loads[team] -= 1

    def place(self, cid: int, d: Decision, at: datetime) -> None:
        """An assigned case is resolved some hours later; a waiting one wakes at its start."""
        if d.action == "assign" and d.team:
            self.give(cid, d.team)
            self.push(at + timedelta(minutes=self.rng.expovariate(1 / 240)), _RESOLVE, cid)
        elif d.action == "wait" and d.team and d.starts_at:
            self.push(d.starts_at, _WAKE, cid)

    def arrive(self, at: datetime, esc: Escalation) -> None:
        cid = len(self.escalations)
        self.escalations[cid] = esc
        d = self.route(cid, at)
        self.actions[d.action] += 1
        if d.language_match:
            self.matches[d.language_match] += 1
        self.place(cid, d, at)

    def resolve(self, cid: int) -> None:
        team = self.holder.get(cid)
        if team is not None:
            self.take(cid, team)

    def shift_end(self, at: datetime, tid: str) -> None:
        """Re-route each open case of the leaving team at its tier; nobody to take one: it
        goes up the escalation chain (or stays, at the top)."""
        if any(s.team == tid for s in self.index.at(at)):
            return  # back-to-back shifts: still on
        moved: Counter[str] = Counter()
        waiting = unroutable = 0
        for cid in sorted(self.open_by_team[tid]):
            self.take(cid, tid)
            d = self.route(cid, at, exclude={tid}, tier=self.teams[tid].tier)
            if d.action == "assign" and d.team:
                moved[d.team] += 1
                self.give(cid, d.team)
            elif d.action == "wait":
                waiting += 1
                self.place(cid, d, at)
            else:
                unroutable += 1
                chain = self.schedules.chain(tid)  # up to whom tid escalates to, if anybody
                self.give(cid, chain[1] if len(chain) > 1 else tid)
        if at < self.end:
            self.steps.append(
                HandoverStep(
                    at=at, from_team=tid, moved=dict(moved), waiting=waiting, unroutable=unroutable
                )
            )
