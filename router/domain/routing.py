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

from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Literal

import msgspec

from .escalation import Escalation
from .index import ShiftIndex
from .language import Lang, Match, best_match
from .model import Policy, Priority, Roster, Team
from .shifts import Shift

__all__ = ["Decision", "route"]

Action = Literal["assign", "wait", "unroutable"]
_HOUR = 3600


class Decision(msgspec.Struct, frozen=True, kw_only=True):
    action: Action
    priority: Priority
    tier: int
    team: str | None = None
    language: str | None = None
    language_match: Literal["exact", "base", "fallback"] | None = None
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
    loads = loads or {}
    priority = esc.priority_for(policy)
    targets = policy.priorities[priority]
    reasons: list[str] = []
    wanted, accepts = esc.wanted(), esc.accepts()
    if tier is None:
        tier = targets.tier
        triggers = esc.triggers(policy)
        if triggers:
            higher = sorted({t.tier for t in teams.values() if t.tier > tier})
            if higher:
                tier = higher[0]
                reasons.append(f"flags {', '.join(triggers)} escalate immediately to tier {tier}")
            else:
                reasons.append(f"flags {', '.join(triggers)} ask for a higher tier; none exists")
    reasons.insert(
        0,
        f"{priority}; needs tier {tier}"
        + (f", skill {esc.skill}" if esc.skill else "")
        + f", language {wanted}",
    )
    ack = targets.acknowledge

    def decision(action: Action, **kw: object) -> Decision:
        return Decision(action=action, priority=priority, tier=tier, at=now, reasons=reasons, **kw)  # type: ignore[arg-type]

    by_id, fits = _pool(teams, tier, esc.skill, exclude, wanted, accepts)
    if not by_id:
        reasons.append(
            f"no tier-{tier} team has skill {esc.skill}"
            if esc.skill
            else f"no tier-{tier} team exists"
        )
        return decision("unroutable")
    if not fits:
        reasons.append("no team of the pool speaks the language or one the customer accepts")
        return decision("unroutable")

    min_left = timedelta(0) if priority == "P1" else policy.min_shift_left
    native: list[_Candidate] = []
    fallback: list[_Candidate] = []
    for shift in index.at(now):
        fit = fits.get(shift.team)
        if fit is None:
            continue
        left = shift.end - now
        if left < min_left:
            reasons.append(
                f"{shift.team} is on shift but leaves in {_short(left)} "
                f"(< {_short(min_left)} minimum)"
            )
            continue
        (native if fit[0] <= Match.base else fallback).append(
            _Candidate(by_id[shift.team], shift, fit[0], fit[1])
        )

    def rank(c: _Candidate) -> tuple[int, int, float, str]:
        cap = c.team.capacity
        load = loads.get(c.team.id, 0) / cap if cap else 0.0
        return (int(c.match), -int((c.shift.end - now).total_seconds() // _HOUR), load, c.team.id)

    def assign(c: _Candidate, why: str) -> Decision:
        reasons.append(why)
        cap = c.team.capacity
        if cap and loads.get(c.team.id, 0) >= cap:
            reasons.append(
                f"{c.team.id} is at capacity ({loads[c.team.id]}/{cap}) but is the best fit"
            )
        return decision(
            "assign",
            team=c.team.id,
            language=c.lang.tag,
            language_match=c.match.name,
            shift_ends_at=c.shift.end,
            ack_due=now + ack,
        )

    if native:
        native.sort(key=rank)
        best = native[0]
        return assign(
            best,
            f"{best.team.id} is on shift until {_z(best.shift.end)} and speaks "
            f"{best.lang} ({best.match.name} match)"
            + (
                f"; ranked above {', '.join(c.team.id for c in native[1:4])}"
                if len(native) > 1
                else ""
            ),
        )
    fallback.sort(key=rank)
    upcoming = next(
        (
            s
            for s in index.starting(now)
            if s.team in by_id
            and s.team in fits
            and fits[s.team][0] <= Match.base
            and s.length() >= min_left
        ),
        None,
    )
    reasons.append(
        f"no team speaking {wanted} is on shift"
        + (
            f"; the first comes on at {_z(upcoming.start)} ({upcoming.team})"
            if upcoming
            else " within the calendar horizon"
        )
    )

    def wait(s: Shift, why: str) -> Decision:
        """The target stands when the team comes on before it; past it, the team gets the
        full target from its start (nobody can acknowledge before anybody is there)."""
        reasons.append(why)
        level, lang = fits[s.team]
        return decision(
            "wait",
            team=s.team,
            language=lang.tag,
            language_match=level.name,
            starts_at=s.start,
            ack_due=now + ack if s.start <= now + ack else s.start + ack,
        )

    if priority in ("P1", "P2"):
        if fallback:
            c = fallback[0]
            return assign(
                c,
                f"{priority} does not wait: {c.team.id} takes it in {c.lang}, a language "
                "the customer accepts; customer updates stay in their language",
            )
        reasons.append(
            f"{priority} cannot wait and no on-shift team speaks a language the customer accepts"
        )
        return decision("unroutable")
    if upcoming and upcoming.start <= now + ack:
        return wait(
            upcoming,
            f"{priority} waits for {upcoming.team}: it starts before the "
            f"{_short(ack)} acknowledgement target",
        )
    if fallback:
        c = fallback[0]
        return assign(
            c,
            f"the first native team starts after the {_short(ack)} acknowledgement "
            f"target; {c.team.id} takes it in {c.lang}, which the customer accepts",
        )
    if upcoming:
        return wait(
            upcoming,
            f"no fallback on shift; waits for {upcoming.team} although it starts "
            f"after the {_short(ack)} acknowledgement target",
        )
    reasons.append("no team will be on shift within the calendar horizon")
    return decision("unroutable")


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
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    h, m = divmod(minutes, 60)
    return f"{h} h {m:02d} min" if m else f"{h} h"
