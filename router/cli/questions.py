"""check, oncall, route, simulate: questions answered from `schedules/`, with no server."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec

from ..domain.coverage import language_coverage
from ..domain.errors import InputError, ScheduleError
from ..domain.escalation import Escalation
from ..domain.language import parse_lang
from ..domain.routing import route
from ..domain.schedules import Schedules
from ..domain.simulation import simulate
from ..domain.timeline import parse_instant, parse_zone, span
from ..oncall import oncall_rows
from ..schedule_files import read_schedules
from ..settings import Settings


def _instant(text: str | None, field: str, tz: str | None = None) -> datetime:
    if text is None or text == "now":
        return datetime.now(UTC).replace(microsecond=0)
    zone = parse_zone(tz, "--tz") if tz else None
    return parse_instant(text, field, zone=zone)


def _load(directory: str | None, settings: Settings, now: datetime) -> Schedules:
    return read_schedules(Path(directory) if directory else settings.schedules, now=now)


def _json(value: object) -> None:
    sys.stdout.write(msgspec.json.format(msgspec.json.encode(value), indent=2).decode() + "\n")


def _hm(t: datetime, zone_key: str) -> str:
    return t.astimezone(parse_zone(zone_key)).strftime("%a %H:%M %Z")


# -- check -------------------------------------------------------------------------------


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    now = _instant(args.at, "--at")
    try:
        schedules = _load(args.dir, settings, now)
    except ScheduleError as err:
        for problem in err.problems:
            print(f"{problem.severity}: {problem}")
        errors = sum(p.severity == "error" for p in err.problems)
        print(f"\n{errors} error(s); schedules rejected")
        return 1
    for problem in schedules.warnings:
        print(f"warning: {problem}")
    teams = schedules.teams
    zones = {t.spec.timezone for t in teams.values()}
    print(
        f"\n{len(teams)} teams in {len(zones)} timezones, tiers "
        f"{', '.join(str(t) for t in sorted({t.tier for t in teams.values()}))}; no errors"
    )
    end = now + timedelta(days=28)
    print(f"\ntier-1 coverage {now:%Y-%m-%d %H:%MZ} .. {end:%Y-%m-%d %H:%MZ} (28 days):")
    for tag, cov in language_coverage(teams.values(), now, end).items():
        gap = cov.largest_gap()
        largest = (
            f"largest gap {span(gap.length())} "
            f"{gap.start:%Y-%m-%dT%H:%MZ} .. {gap.end:%Y-%m-%dT%H:%MZ}"
            if gap
            else "no gaps"
        )
        print(f"  {tag:<10} {cov.share():7.1%}  {largest}")
    return 0


# -- oncall ------------------------------------------------------------------------------


def cmd_oncall(args: argparse.Namespace, settings: Settings) -> int:
    at = _instant(args.at, "--at", args.tz)
    if args.language:
        parse_lang(args.language, "--language")
    schedules = _load(args.schedules, settings, at)
    rows = oncall_rows(schedules, at, language=args.language, skill=args.skill, tier=args.tier)
    if args.json:
        _json(rows)
        return 0
    print(f"on shift at {at:%Y-%m-%d %H:%M}Z: {len(rows)} team(s)")
    for r in rows:
        print(
            f"  T{r['tier']} {r['team']:<12} {', '.join(r['languages']):<18} "  # type: ignore[arg-type]
            f"until {str(r['end'])[11:16]}Z (local {str(r['local_end'])[11:16]} {r['timezone']})"
        )
    return 0


# -- route -------------------------------------------------------------------------------


def cmd_route(args: argparse.Namespace, settings: Settings) -> int:
    at = _instant(args.at, "--at")
    try:
        esc = msgspec.json.decode(sys.stdin.buffer.read(), type=Escalation)
    except msgspec.ValidationError as err:
        raise InputError("escalation", str(err)) from None
    except msgspec.DecodeError as err:
        raise InputError("escalation", f"not valid JSON ({err})") from None
    esc.check()
    schedules = _load(args.schedules, settings, at)
    esc.check(schedules.policy)  # customer.region against the policy's [residency]
    decision = route(
        esc,
        now=at,
        teams=schedules.teams,
        index=schedules.index_around(at),
        policy=schedules.policy,
    )
    if args.json:
        _json(decision)
        return 0
    print(f"{decision.action}: {decision.team or '-'} (tier {decision.tier}, {decision.priority})")
    for reason in decision.reasons:
        print(f"  - {reason}")
    return 0


# -- simulate ----------------------------------------------------------------------------


def cmd_simulate(args: argparse.Namespace, settings: Settings) -> int:
    start = _instant(args.start, "--from").replace(second=0)
    if args.hours < 1 or args.hours > 24 * 31:
        raise InputError("--hours", "must be between 1 and 744")
    if args.cases < 0:
        raise InputError("--cases", "must not be negative")
    schedules = _load(args.schedules, settings, start)
    result = simulate(schedules, start=start, hours=args.hours, cases=args.cases, seed=args.seed)
    teams = schedules.teams
    print(
        f"simulation {result.start:%Y-%m-%d %H:%M}Z .. {result.end:%Y-%m-%d %H:%M}Z, "
        f"{result.cases} escalations, seed {args.seed}\n"
    )
    print("handover timeline (UTC | leaving team local -> receiving team local):")
    for step in result.handovers:
        leaving = teams[step.from_team]
        parts = [
            f"{n} to {tid} ({_hm(step.at, teams[tid].spec.timezone)})"
            for tid, n in step.moved.items()
        ]
        if step.waiting:
            parts.append(f"{step.waiting} waiting")
        if step.unroutable:
            parts.append(f"{step.unroutable} to {leaving.escalates_to or 'ops'}")
        print(
            f"  {step.at:%a %H:%M}Z  {step.from_team:<12} "
            f"ends {_hm(step.at, leaving.spec.timezone):<16} {', '.join(parts) or 'nothing open'}"
        )
    print("\ntier-1 coverage over the simulated window:")
    for tag, cov in language_coverage(teams.values(), result.start, result.end).items():
        gap = cov.largest_gap()
        print(
            f"  {tag:<10} {cov.share():7.1%}"
            + (f"  largest gap {gap.start:%a %H:%M}Z .. {gap.end:%a %H:%M}Z" if gap else "")
        )
    print(
        "\nescalations by action: "
        + ", ".join(f"{k} {v}" for k, v in sorted(result.actions.items()))
    )
    print(
        "by language match:     " + ", ".join(f"{k} {v}" for k, v in sorted(result.matches.items()))
    )
    return 0


# -- arguments ---------------------------------------------------------------------------


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    c = sub.add_parser("check", help="validate schedules and summarize coverage")
    c.add_argument("dir", nargs="?")
    c.add_argument("--at", help="the instant 'now' is (ISO 8601); default: the clock")
    c.set_defaults(func=cmd_check)

    o = sub.add_parser("oncall", help="teams on shift at an instant")
    o.add_argument("--at", help="ISO 8601 instant (with offset, or naive with --tz); default now")
    o.add_argument("--tz", help="IANA zone for a naive --at")
    o.add_argument("--language")
    o.add_argument("--skill")
    o.add_argument("--tier", type=int)
    o.add_argument("--schedules")
    o.add_argument("--json", action="store_true")
    o.set_defaults(func=cmd_oncall)

    r = sub.add_parser("route", help="route an escalation read as JSON from stdin")
    r.add_argument("--at")
    r.add_argument("--schedules")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=cmd_route)

    s = sub.add_parser("simulate", help="replay seeded escalations on a virtual clock")
    s.add_argument("--from", dest="start", default="now")
    s.add_argument("--hours", type=int, default=24)
    s.add_argument("--cases", type=int, default=200)
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--schedules")
    s.set_defaults(func=cmd_simulate)
