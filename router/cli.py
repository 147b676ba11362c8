"""The `followsun` command: questions an operations lead asks, answered from `schedules/`.

Exit codes: 0 fine, 1 the schedules have errors, 2 a bad argument (one line on stderr).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec

from .domain.coverage import language_coverage, span
from .domain.errors import FollowsunError, InputError, ScheduleError
from .domain.escalation import Escalation
from .domain.language import parse_lang
from .domain.routing import route
from .domain.schedules import Schedules
from .domain.simulation import simulate
from .domain.timeline import parse_instant, parse_zone
from .oncall import oncall_rows
from .schedule_files import read_schedules
from .settings import Settings


class _Usage(Exception):
    """A bad command-line argument; printed as one line, exit 2."""


def _now() -> datetime:
    return datetime.now(UTC)


def _instant(text: str | None, field: str, tz: str | None = None) -> datetime:
    if text is None or text == "now":
        return _now().replace(microsecond=0)
    zone = parse_zone(tz, "--tz") if tz else None
    return parse_instant(text, field, zone=zone)


def _load(directory: Path | None, now: datetime) -> Schedules:
    return read_schedules(directory or Settings.from_env().schedules, now=now)


def _json(value: object) -> None:
    sys.stdout.write(msgspec.json.format(msgspec.json.encode(value), indent=2).decode() + "\n")


def _local(t: datetime, zone_key: str) -> str:
    return t.astimezone(parse_zone(zone_key)).isoformat()


def _hm(t: datetime, zone_key: str) -> str:
    return t.astimezone(parse_zone(zone_key)).strftime("%a %H:%M %Z")


# -- check -------------------------------------------------------------------------------


def cmd_check(args: argparse.Namespace) -> int:
    now = _instant(args.at, "--at")
    directory = Path(args.dir) if args.dir else None
    try:
        schedules = _load(directory, now)
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


def cmd_oncall(args: argparse.Namespace) -> int:
    at = _instant(args.at, "--at", args.tz)
    if args.language:
        parse_lang(args.language, "--language")
    schedules = _load(Path(args.schedules) if args.schedules else None, at)
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


def cmd_route(args: argparse.Namespace) -> int:
    at = _instant(args.at, "--at")
    try:
        esc = msgspec.json.decode(sys.stdin.buffer.read(), type=Escalation)
    except msgspec.ValidationError as err:
        raise _Usage(f"escalation: {err}") from None
    except msgspec.DecodeError as err:
        raise _Usage(f"escalation: not valid JSON ({err})") from None
    esc.check()
    schedules = _load(Path(args.schedules) if args.schedules else None, at)
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


def cmd_simulate(args: argparse.Namespace) -> int:
    start = _instant(args.start, "--from").replace(second=0)
    if args.hours < 1 or args.hours > 24 * 31:
        raise _Usage("--hours: must be between 1 and 744")
    if args.cases < 0:
        raise _Usage("--cases: must not be negative")
    schedules = _load(Path(args.schedules) if args.schedules else None, start)
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


# -- service commands ----------------------------------------------------------------------


def cmd_schedules(args: argparse.Namespace) -> int:
    import asyncio

    from .runtime import with_store
    from .schedule_files import read_team_specs, write_team
    from .store import Keys, TeamStore, connect

    async def run(settings: Settings) -> int:
        redis = connect(settings.redis_url or "")
        store = TeamStore(redis, Keys(settings.key_prefix))
        try:
            if args.action == "load":
                directory = Path(args.dir) if args.dir else settings.schedules
                read_schedules(directory, now=_now())  # refuses on any error
                changed = await store.load(read_team_specs(directory), by="cli", at=_now())
                print(f"loaded {directory}: {changed} team(s) changed")
            else:
                teams = await store.all()
                for tid, stored in teams.items():
                    write_team(Path(args.dir), tid, stored.spec)
                print(f"exported {len(teams)} team(s) to {args.dir}/teams/")
            return 0
        finally:
            await redis.aclose()

    with with_store(Settings.from_env()) as settings:
        return asyncio.run(run(settings))


def cmd_token(args: argparse.Namespace) -> int:
    from .api.auth import make_token
    from .runtime import ensure_secret

    settings = ensure_secret(Settings.from_env())
    try:
        ttl = _duration(args.ttl)
        print(make_token(settings.secret, args.role, args.team, ttl))
    except ValueError as err:
        raise _Usage(str(err)) from None
    return 0


def _duration(text: str) -> timedelta:
    """`90m`, `12h`, `7d` or ISO 8601 (`PT12H`)."""
    units = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
    if text and text[-1] in units and text[:-1].isdigit():
        return timedelta(**{units[text[-1]]: int(text[:-1])})
    try:
        return msgspec.convert(text, timedelta)
    except msgspec.ValidationError:
        raise _Usage(f'--ttl: "{text}" is not a duration (90m, 12h, 7d)') from None


def cmd_catalogs(args: argparse.Namespace) -> int:
    from .i18n import tools

    if args.action == "extract":
        pot = tools.extract(Path(args.output) if args.output else None)
        print(f"wrote {pot}")
    elif args.action == "update":
        codes = tools.update(args.locales)
        print(f"updated {len(codes)} catalog(s): {', '.join(codes)}")
    elif args.action == "compile":
        for mo in tools.compile_all():
            print(f"compiled {mo}")
    else:
        problems = tools.check()
        for problem in problems:
            print(problem)
        if problems:
            print(f"{len(problems)} problem(s)")
            return 1
        print("every catalog compiles, is fully translated, and matches the source")
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    import os

    from .jobs.worker import run
    from .runtime import with_store

    with with_store(Settings.from_env()) as settings:
        os.environ["REDIS_URL"] = settings.redis_url or ""
        run(burst=args.burst, cron=not args.no_cron)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import os

    import uvicorn

    from .runtime import ensure_secret, with_store

    with with_store(Settings.from_env()) as stored:
        settings = ensure_secret(stored).listening_on(args.host, args.port)
        os.environ["REDIS_URL"] = settings.redis_url or ""
        os.environ["FOLLOWSUN_SECRET"] = settings.secret
        os.environ["FOLLOWSUN_PUBLIC_URL"] = settings.public_url
        uvicorn.run(
            "router.api.asgi:create",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_level="warning",
            access_log=False,
        )
    return 0


_DEMO_BODY = (
    '{"source":"demo","external_id":"demo-1","customer":{"id":"cust-1",'
    '"locale":"de-AT","timezone":"Europe/Vienna","accepts":["en"]},'
    '"impact":"high","urgency":"medium","skill":"billing",'
    '"summary":"Invoice totals are wrong"}'
)


def _seed_empty_store(settings: Settings) -> int:
    """Load schedules/ into a store that has no teams yet (a first `up`)."""
    import asyncio

    from .schedule_files import read_team_specs
    from .store import Keys, TeamStore, connect

    async def seed() -> int:
        redis = connect(settings.redis_url or "")
        try:
            store = TeamStore(redis, Keys(settings.key_prefix))
            if await store.all():
                return 0
            read_schedules(settings.schedules, now=_now())
            return await store.load(read_team_specs(settings.schedules), by="up", at=_now())
        finally:
            await redis.aclose()

    return asyncio.run(seed())


def _wait_ready(base: str) -> None:
    import time
    import urllib.request

    for _ in range(100):
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=1):
                return
        except OSError:
            time.sleep(0.2)


def _greet(settings: Settings, base: str) -> None:
    from .api.auth import make_token

    token = make_token(settings.secret, "ops", ttl=timedelta(hours=12))
    intake = make_token(settings.secret, "intake", ttl=timedelta(hours=12))
    print(f"\nfollowsun is up at {base}  (API docs: {base}/schema)\n")
    print(f"ops token:    {token}\nintake token: {intake}\n")
    print("post an escalation:")
    print(
        f"  curl -s -X POST {base}/v1/escalations -H 'Authorization: Bearer {intake}' "
        f"-H 'Content-Type: application/json' -d '{_DEMO_BODY}'\n"
    )
    print("Ctrl-C stops everything.")


def cmd_up(args: argparse.Namespace) -> int:
    import os
    import subprocess
    import time

    from .runtime import ensure_secret, with_store

    # Ctrl-C reaches every process of the terminal's group at once; the store would stop
    # under the web and worker processes. So the children run in sessions of their own and
    # this process stops them in order: web and worker first, then the store (on leaving
    # `with_store`, which also turns SIGTERM into the same orderly exit).
    with with_store(Settings.from_env()) as stored:
        settings = ensure_secret(stored).listening_on("127.0.0.1", args.port)
        env = {
            **os.environ,
            "REDIS_URL": settings.redis_url or "",
            "FOLLOWSUN_SECRET": settings.secret,
            "FOLLOWSUN_PUBLIC_URL": settings.public_url,
        }
        children: list[subprocess.Popen[bytes]] = []
        try:
            if loaded := _seed_empty_store(settings):
                print(f"loaded {loaded} team(s) from {settings.schedules}/ into the empty store")
            for command in (["serve", "--port", str(args.port)], ["worker"]):
                argv = [sys.executable, "-m", "router.cli", *command]
                children.append(subprocess.Popen(argv, env=env, start_new_session=True))
            base = f"http://127.0.0.1:{args.port}"
            _wait_ready(base)
            _greet(settings, base)
            while all(c.poll() is None for c in children):
                time.sleep(0.5)
            return 1
        except KeyboardInterrupt:
            print("\nstopping ...")
            return 0
        finally:
            _stop(children)


def _stop(children: list[subprocess.Popen[bytes]]) -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut this short
    for child in children:
        child.terminate()
    for child in children:
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()


# -- main --------------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="followsun", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)

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

    sc = sub.add_parser("schedules", help="load schedules into the store, or export them")
    sc_sub = sc.add_subparsers(dest="action", required=True)
    sl = sc_sub.add_parser("load", help="validate DIR and write its teams to the store")
    sl.add_argument("dir", nargs="?")
    se = sc_sub.add_parser("export", help="write the store's teams to DIR/teams/*.toml")
    se.add_argument("dir")
    sc.set_defaults(func=cmd_schedules)

    t = sub.add_parser("token", help="print a signed bearer token")
    t.add_argument("--role", required=True, choices=["ops", "agent", "intake", "viewer"])
    t.add_argument("--team")
    t.add_argument("--ttl", default="12h")
    t.set_defaults(func=cmd_token)

    sv = sub.add_parser("serve", help="run the web process")
    sv.add_argument("--host", default="127.0.0.1")
    sv.add_argument("--port", type=int, default=8000)
    sv.add_argument("--workers", type=int, default=1)
    sv.set_defaults(func=cmd_serve)

    cat = sub.add_parser("catalogs", help="translator workflow for locales/")
    cat.add_argument("action", choices=["extract", "update", "compile", "check"])
    cat.add_argument("locales", nargs="*", help="update: new locales to add (e.g. pt_BR)")
    cat.add_argument("-o", "--output", help="extract: where to write the .pot")
    cat.set_defaults(func=cmd_catalogs)

    w = sub.add_parser("worker", help="run the RQ worker (handovers, deadlines, catch-up)")
    w.add_argument("--burst", action="store_true", help="stop when the queue is empty")
    w.add_argument("--no-cron", action="store_true", help="no periodic jobs (tests)")
    w.set_defaults(func=cmd_worker)

    up = sub.add_parser("up", help="everything on one machine: store, web, worker, schedules")
    up.add_argument("--port", type=int, default=8000)
    up.set_defaults(func=cmd_up)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (InputError, _Usage) as err:
        print(f"followsun {args.command}: {err}", file=sys.stderr)
        return 2
    except ScheduleError as err:
        print(
            f"followsun {args.command}: schedules have errors (run `followsun check`):",
            file=sys.stderr,
        )
        for problem in err.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    except FollowsunError as err:
        print(f"followsun {args.command}: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
