"""Routing: which team takes an escalation at an instant, and why.

Candidates are the teams of the required tier with the skill, on shift with enough of
the shift left (P1 takes any time left). They rank by language match, then shift time
left (in whole hours, so that load can still break near-ties), then load relative to
capacity, then team id. With no native (exact or base) team on shift, P1/P2 go to a
team speaking a language the customer accepts; P3/P4 wait for the first native team
if it comes on before the acknowledgement target, else take the fallback. Nothing is
dropped: when nobody can take it the decision says `unroutable`, with the reasons.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Literal

import msgspec

from .escalation import Escalation
from .index import ShiftIndex
from .language import Lang, Match, best_match
from .model import Policy, Priority, Roster, Team
from .shifts import Shift
from .timeline import span

__all__ = ["Decision", "assign_to", "route"]

Action = Literal["assign", "wait", "unroutable"]
MatchName = Literal["exact", "base", "fallback"]
_HOUR = 3600


class Decision(msgspec.Struct, frozen=True, kw_only=True):
    action: Action
    priority: Priority
    tier: int
    team: str | None = None
    language: str | None = None
    language_match: MatchName | None = None
    shift_ends_at: datetime | None = None
    starts_at: datetime | None = None
    ack_due: datetime | None = None
    at: datetime | None = None
    reasons: list[str] = []


class _Candidate(msgspec.Struct, frozen=True):
    team: Team
    shift: Shift
    match: Match
    lang: Lang


def assign_to(
    team: Team,
    *,
    priority: Priority,
    at: datetime,
    policy: Policy,
    reasons: Iterable[str],
    language: str | None = None,
    language_match: MatchName | None = None,
    shift_ends_at: datetime | None = None,
    base: Decision | None = None,
) -> Decision:
    """A decision to give the work to `team` (at its tier) at `at`, acknowledgement due
    `priority`'s target later.

    With `base`, that decision becomes the assignment instead (an `unroutable` handover
    given to the leaving team's `escalates_to`): team, tier, deadline and reasons are
    replaced, the rest of `base` (its priority, language, `at` ...) is kept unless given
    here; `priority` and `at` then only set the deadline.
    """
    ack_due = at + policy.priorities[priority].acknowledge
    if base is None:
        return Decision(
            action="assign",
            priority=priority,
            tier=team.tier,
            team=team.id,
            language=language,
            language_match=language_match,
            shift_ends_at=shift_ends_at,
            ack_due=ack_due,
            at=at,
            reasons=list(reasons),
        )
    given = {"language": language, "language_match": language_match, "shift_ends_at": shift_ends_at}
    return msgspec.structs.replace(
        base,
        action="assign",
        team=team.id,
        tier=team.tier,
        ack_due=ack_due,
        reasons=list(reasons),
        **{k: v for k, v in given.items() if v is not None},
    )


class _Ask(msgspec.Struct, frozen=True, kw_only=True):
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


def route(
    esc: Escalation,
    *,
    now: datetime,
    teams: Mapping[str, Team],
    index: ShiftIndex,
    policy: Policy,
    loads: Mapping[str, int] | None = None,
    exclude: Collection[str] = (),
    tier: int | None = None,
) -> Decision:
    """Decide where `esc` goes at `now`. `exclude` removes teams (the one going off shift);
    `tier` overrides the starting tier (hierarchical escalation)."""
    priority = esc.priority_for(policy)
    targets = policy.priorities[priority]
    wanted, accepts = esc.wanted(), esc.accepts()
    reasons: list[str] = []
    if tier is None:
        tier = _flagged_tier(esc, teams, policy, targets.tier, reasons)
    skill = f", skill {esc.skill}" if esc.skill else ""
    reasons.insert(0, f"{priority}; needs tier {tier}{skill}, language {wanted}")
    ask = _Ask(
        now=now,
        priority=priority,
        tier=tier,
        policy=policy,
        ack=targets.acknowledge,
        min_left=timedelta(0) if priority == "P1" else policy.min_shift_left,
        loads=loads or {},
        reasons=reasons,
    )
    by_id, fits = _pool(teams, tier, esc.skill, exclude, wanted, accepts)
    if not by_id:
        missing = f"has skill {esc.skill}" if esc.skill else "exists"
        return ask.decide("unroutable", f"no tier-{tier} team {missing}")
    if not fits:
        return ask.decide(
            "unroutable", "no team of the pool speaks the language or one the customer accepts"
        )
    native, fallback = _on_shift(ask, index.at(now), by_id, fits)
    if native:
        return _assign_native(ask, native)
    fallback.sort(key=ask.rank)
    upcoming = _first_native(ask, index, by_id, fits)
    reasons.append(
        f"no team speaking {wanted} is on shift"
        + (
            f"; the first comes on at {_z(upcoming.start)} ({upcoming.team})"
            if upcoming
            else " within the calendar horizon"
        )
    )
    if priority in ("P1", "P2"):
        return _no_wait(ask, fallback)
    return _wait_or_fallback(ask, fallback, upcoming, fits)


def _flagged_tier(
    esc: Escalation, teams: Mapping[str, Team], policy: Policy, tier: int, reasons: list[str]
) -> int:
    """The priority's tier, or the next tier up when a flag calls for immediate escalation."""
    triggers = esc.triggers(policy)
    if not triggers:
        return tier
    flags = ", ".join(triggers)
    higher = sorted({t.tier for t in teams.values() if t.tier > tier})
    if not higher:
        reasons.append(f"flags {flags} ask for a higher tier; none exists")
        return tier
    reasons.append(f"flags {flags} escalate immediately to tier {higher[0]}")
    return higher[0]


def _on_shift(
    ask: _Ask,
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
                f"{shift.team} is on shift but leaves in {_short(left)} "
                f"(< {_short(ask.min_left)} minimum)"
            )
            continue
        (native if fit[0] <= Match.base else fallback).append(
            _Candidate(by_id[shift.team], shift, fit[0], fit[1])
        )
    return native, fallback


def _assign_native(ask: _Ask, native: list[_Candidate]) -> Decision:
    native.sort(key=ask.rank)
    best = native[0]
    others = (
        f"; ranked above {', '.join(c.team.id for c in native[1:4])}" if len(native) > 1 else ""
    )
    return ask.assign(
        best,
        f"{best.team.id} is on shift until {_z(best.shift.end)} and speaks "
        f"{best.lang} ({best.match.name} match){others}",
    )


def _first_native(
    ask: _Ask,
    index: ShiftIndex,
    by_id: Mapping[str, Team],
    fits: Mapping[str, tuple[Match, Lang]],
) -> Shift | None:
    """The first shift after `now` of a native-speaking pool team, long enough to take it."""
    return next(
        (
            s
            for s in index.starting(ask.now)
            if s.team in by_id
            and s.team in fits
            and fits[s.team][0] <= Match.base
            and s.length() >= ask.min_left
        ),
        None,
    )


def _no_wait(ask: _Ask, fallback: list[_Candidate]) -> Decision:
    """P1 and P2 never wait: the best fallback on shift takes it, or nobody can."""
    if not fallback:
        return ask.decide(
            "unroutable",
            f"{ask.priority} cannot wait and no on-shift team speaks a language the customer "
            "accepts",
        )
    c = fallback[0]
    return ask.assign(
        c,
        f"{ask.priority} does not wait: {c.team.id} takes it in {c.lang}, a language "
        "the customer accepts; customer updates stay in their language",
    )


def _wait_or_fallback(
    ask: _Ask,
    fallback: list[_Candidate],
    upcoming: Shift | None,
    fits: Mapping[str, tuple[Match, Lang]],
) -> Decision:
    """P3 and P4 wait for a native team starting before the acknowledgement target; else
    a fallback on shift takes it; else they wait for the native team anyway."""
    ack = _short(ask.ack)
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


def _pool(
    teams: Mapping[str, Team],
    tier: int,
    skill: str | None,
    exclude: Collection[str],
    wanted: Lang,
    accepts: tuple[Lang, ...],
) -> tuple[dict[str, Team], dict[str, tuple[Match, Lang]]]:
    """The teams of `tier` with `skill` (by id), and how each of those that can serve the
    customer fits. It depends on the calendar alone, so a Roster remembers it."""
    memo = teams.memo if isinstance(teams, Roster) else None
    key = (tier, skill, frozenset(exclude), wanted, accepts)
    if memo is not None and (known := memo.get(key)) is not None:
        return known  # type: ignore[return-value]
    by_id = {
        t.id: t
        for t in teams.values()
        if t.tier == tier and (skill is None or skill in t.skills) and t.id not in exclude
    }
    fits = {tid: m for tid, t in by_id.items() if (m := best_match(t.languages, wanted, accepts))}
    if memo is not None:
        if len(memo) >= 4096:  # customers' accept lists vary; keep the memo bounded
            memo.clear()
        memo[key] = (by_id, fits)
    return by_id, fits


@lru_cache(maxsize=4096)
def _z(t: datetime) -> str:
    """`2026-11-24T00:00Z`. Remembered: the same few shift boundaries appear in decision
    after decision, and strftime is the dearest call in a routing decision."""
    return t.strftime("%Y-%m-%dT%H:%MZ")


def _short(delta: timedelta) -> str:
    return span(delta, "reason")
