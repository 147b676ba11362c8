"""One tier's routing question: the candidates, how they rank, and whether the case is
assigned, waits or is unroutable at that tier.

Candidates are the teams of the tier with the skill (and, for a customer with residency
rules, a region allowed to hold its data), on shift with enough of the shift left (P1
takes any time left). They rank by language match, then shift time left (in whole
hours, so that load can still break near-ties), then load relative to capacity, then
team id. With no native (exact or base) team on shift, P1/P2 go to a team speaking a
language the customer accepts; P3/P4 wait for the first native team if it comes on
before the acknowledgement target, else take the fallback. Nothing is dropped: when
nobody can take it the decision says `unroutable`, with the reasons.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import msgspec

from .decision import Action, Decision, assign_to
from .escalation import Escalation
from .index import ShiftIndex
from .language import Lang, Match, best_match
from .model import Policy, Priority, Roster, Team
from .residency import Residence
from .shifts import Shift
from .timeline import span

__all__ = ["Ask", "first_shift", "pool", "route_tier", "short", "wait_for_first", "z"]

_HOUR = 3600


class _Candidate(msgspec.Struct, frozen=True):
    team: Team
    shift: Shift
    match: Match
    lang: Lang


class Ask(msgspec.Struct, frozen=True, kw_only=True):
    """One routing question with what its steps share, worked out once. `reasons` grows
    as the steps go, in the order the decision tells them."""

    now: datetime
    priority: Priority
    tier: int
    policy: Policy
    ack: timedelta
    min_left: timedelta
    loads: Mapping[str, int]
    reasons: list[str]
    where: Residence

    @classmethod
    def of(
        cls,
        esc: Escalation,
        *,
        now: datetime,
        policy: Policy,
        loads: Mapping[str, int],
        tier: int,
        where: Residence,
        reasons: list[str],
    ) -> Ask:
        priority = esc.priority_for(policy)
        return cls(
            now=now,
            priority=priority,
            tier=tier,
            policy=policy,
            ack=policy.priorities[priority].acknowledge,
            min_left=timedelta(0) if priority == "P1" else policy.min_shift_left,
            loads=loads,
            reasons=reasons,
            where=where,
        )

    def within(self) -> str:
        """` in EMEA` when residency narrows the teams, else nothing (for the reasons)."""
        return f" in {self.where.allowed_text()}" if self.where.restricted else ""

    def rank(self, c: _Candidate) -> tuple[int, int, float, str]:
        """Language match, then whole hours of shift left, then load/capacity, then id."""
        cap = c.team.capacity
        load = self.loads.get(c.team.id, 0) / cap if cap else 0.0
        left = -int((c.shift.end - self.now).total_seconds() // _HOUR)
        return (int(c.match), left, load, c.team.id)

    def decide(self, action: Action, why: str | None = None, **fields: Any) -> Decision:
        """A decision on this question with `why` added to the reasons (`assign` goes
        through `assign_to`)."""
        if why is not None:
            self.reasons.append(why)
        return Decision(
            action=action,
            priority=self.priority,
            tier=self.tier,
            at=self.now,
            reasons=self.reasons,
            **fields,
        )

    def assign(self, c: _Candidate, why: str) -> Decision:
        self.reasons.append(why)
        cap = c.team.capacity
        if cap and self.loads.get(c.team.id, 0) >= cap:
            self.reasons.append(
                f"{c.team.id} is at capacity ({self.loads[c.team.id]}/{cap}) but is the best fit"
            )
        return assign_to(
            c.team,
            priority=self.priority,
            at=self.now,
            policy=self.policy,
            reasons=self.reasons,
            language=c.lang.tag,
            language_match=c.match.name,  # type: ignore[arg-type]
            shift_ends_at=c.shift.end,
        )

    def wait(self, s: Shift, fit: tuple[Match, Lang], why: str) -> Decision:
        """The target stands when the team comes on before it; past it, the team gets the
        full target from its start (nobody can acknowledge before anybody is there)."""
        level, lang = fit
        now, ack = self.now, self.ack
        return self.decide(
            "wait",
            why,
            team=s.team,
            language=lang.tag,
            language_match=level.name,
            starts_at=s.start,
            ack_due=now + ack if s.start <= now + ack else s.start + ack,
        )


def _on_shift(
    ask: Ask,
    shifts: Iterable[Shift],
    by_id: Mapping[str, Team],
    fits: Mapping[str, tuple[Match, Lang]],
) -> tuple[list[_Candidate], list[_Candidate]]:
    """The pool's teams on shift with enough of it left: native speakers (exact or base
    match) and fallbacks (a language the customer accepts), in the index's order."""
    native: list[_Candidate] = []
    fallback: list[_Candidate] = []
    for shift in shifts:
        fit = fits.get(shift.team)
        if fit is None:
            continue
        left = shift.end - ask.now
        if left < ask.min_left:
            ask.reasons.append(
                f"{shift.team} is on shift but leaves in {short(left)} "
                f"(< {short(ask.min_left)} minimum)"
            )
            continue
        (native if fit[0] <= Match.base else fallback).append(
            _Candidate(by_id[shift.team], shift, fit[0], fit[1])
        )
    return native, fallback


def _assign_native(ask: Ask, native: list[_Candidate]) -> Decision:
    native.sort(key=ask.rank)
    best = native[0]
    others = (
        f"; ranked above {', '.join(c.team.id for c in native[1:4])}" if len(native) > 1 else ""
    )
    return ask.assign(
        best,
        f"{best.team.id} is on shift until {z(best.shift.end)} and speaks "
        f"{best.lang} ({best.match.name} match){others}",
    )


def first_shift(
    ask: Ask,
    index: ShiftIndex,
    by_id: Mapping[str, Team],
    fits: Mapping[str, tuple[Match, Lang]],
    native: bool = True,
) -> Shift | None:
    """The first shift after `now` of a pool team (native-speaking unless `native` is
    False: any language the customer accepts), long enough to take it."""
    worst = Match.base if native else Match.fallback
    return next(
        (
            s
            for s in index.starting(ask.now)
            if s.team in by_id
            and s.team in fits
            and fits[s.team][0] <= worst
            and s.length() >= ask.min_left
        ),
        None,
    )


def _no_wait(ask: Ask, fallback: list[_Candidate]) -> Decision:
    """P1 and P2 never wait: the best fallback on shift takes it, or nobody can."""
    if not fallback:
        return ask.decide(
            "unroutable",
            f"{ask.priority} cannot wait and no on-shift team{ask.within()} speaks a language "
            "the customer accepts",
        )
    c = fallback[0]
    return ask.assign(
        c,
        f"{ask.priority} does not wait: {c.team.id} takes it in {c.lang}, a language "
        "the customer accepts; customer updates stay in their language",
    )


def _wait_or_fallback(
    ask: Ask,
    fallback: list[_Candidate],
    upcoming: Shift | None,
    fits: Mapping[str, tuple[Match, Lang]],
) -> Decision:
    """P3 and P4 wait for a native team starting before the acknowledgement target; else
    a fallback on shift takes it; else they wait for the native team anyway."""
    ack = short(ask.ack)
    if upcoming and upcoming.start <= ask.now + ask.ack:
        return ask.wait(
            upcoming,
            fits[upcoming.team],
            f"{ask.priority} waits for {upcoming.team}: it starts before the "
            f"{ack} acknowledgement target",
        )
    if fallback:
        c = fallback[0]
        return ask.assign(
            c,
            f"the first native team starts after the {ack} acknowledgement "
            f"target; {c.team.id} takes it in {c.lang}, which the customer accepts",
        )
    if upcoming:
        return ask.wait(
            upcoming,
            fits[upcoming.team],
            f"no fallback on shift; waits for {upcoming.team} although it starts "
            f"after the {ack} acknowledgement target",
        )
    return ask.decide("unroutable", "no team will be on shift within the calendar horizon")


def pool(
    teams: Mapping[str, Team],
    tier: int,
    skill: str | None,
    exclude: Collection[str],
    wanted: Lang,
    accepts: tuple[Lang, ...],
    where: Residence,
) -> tuple[dict[str, Team], dict[str, tuple[Match, Lang]]]:
    """The teams of `tier` with `skill` that may hold the customer's data (by id), and how
    each of those that can serve the customer fits. It depends on the calendar alone, so
    a Roster remembers it."""
    memo = teams.memo if isinstance(teams, Roster) else None
    key = (tier, skill, frozenset(exclude), wanted, accepts, where.allowed)
    if memo is not None and (known := memo.get(key)) is not None:
        return known  # type: ignore[return-value]
    by_id = {
        t.id: t
        for t in teams.values()
        if t.tier == tier
        and (skill is None or skill in t.skills)
        and t.id not in exclude
        and where.may_hold(t)
    }
    fits = {tid: m for tid, t in by_id.items() if (m := best_match(t.languages, wanted, accepts))}
    if memo is not None:
        if len(memo) >= 4096:  # customers' accept lists vary; keep the memo bounded
            memo.clear()
        memo[key] = (by_id, fits)
    return by_id, fits


def route_tier(
    esc: Escalation,
    *,
    now: datetime,
    teams: Mapping[str, Team],
    index: ShiftIndex,
    policy: Policy,
    loads: Mapping[str, int],
    exclude: Collection[str],
    tier: int,
    where: Residence,
    reasons: list[str],
) -> Decision:
    """Decide at `tier` alone, among the teams that may hold the customer's data (`where`);
    `reasons` already says what was asked, and grows with the steps."""
    ask = Ask.of(esc, now=now, policy=policy, loads=loads, tier=tier, where=where, reasons=reasons)
    wanted, accepts = esc.wanted(), esc.accepts()
    by_id, fits = pool(teams, tier, esc.skill, exclude, wanted, accepts, where)
    if not by_id:
        missing = f"has skill {esc.skill}" if esc.skill else "exists"
        within = f" in {where.allowed_text()}" if where.restricted else ""
        return ask.decide("unroutable", f"no tier-{tier} team{within} {missing}")
    if not fits:
        return ask.decide(
            "unroutable", "no team of the pool speaks the language or one the customer accepts"
        )
    native, fallback = _on_shift(ask, index.at(now), by_id, fits)
    if native:
        return _assign_native(ask, native)
    fallback.sort(key=ask.rank)
    upcoming = first_shift(ask, index, by_id, fits)
    reasons.append(
        f"no team{ask.within()} speaking {wanted} is on shift"
        + (
            f"; the first comes on at {z(upcoming.start)} ({upcoming.team})"
            if upcoming
            else " within the calendar horizon"
        )
    )
    if ask.priority in ("P1", "P2"):
        return _no_wait(ask, fallback)
    return _wait_or_fallback(ask, fallback, upcoming, fits)


def wait_for_first(
    esc: Escalation,
    *,
    now: datetime,
    teams: Mapping[str, Team],
    index: ShiftIndex,
    policy: Policy,
    exclude: Collection[str],
    tier: int,
    where: Residence,
    reasons: list[str],
) -> Decision | None:
    """Wait for the first team of `tier` that may hold the customer's data and speaks the
    language or one the customer accepts; None when none comes on within the horizon."""
    ask = Ask.of(esc, now=now, policy=policy, loads={}, tier=tier, where=where, reasons=reasons)
    by_id, fits = pool(teams, tier, esc.skill, exclude, esc.wanted(), esc.accepts(), where)
    first = first_shift(ask, index, by_id, fits, native=False)
    if first is None:
        return None
    why = (
        f"it waits for {first.team}, the first team in {where.allowed_text()} "
        f"to come on shift ({z(first.start)})"
    )
    return ask.wait(first, fits[first.team], why)


@lru_cache(maxsize=4096)
def z(t: datetime) -> str:
    """`2026-11-24T00:00Z`. Remembered: the same few shift boundaries appear in decision
    after decision, and strftime is the dearest call in a routing decision."""
    return t.strftime("%Y-%m-%dT%H:%MZ")


def short(delta: timedelta) -> str:
    return span(delta, "reason")
