"""schedules load/export, serve, worker, up: the commands that run or feed the service.

uvicorn, the app, the store and the worker are imported inside the commands, so the
questions of `router.cli.questions` start without them.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ..schedule_files import read_schedules
from ..settings import Settings

if TYPE_CHECKING:
    from ..store import Stores


def _now() -> datetime:
    return datetime.now(UTC)


# -- schedules load|export ---------------------------------------------------------------


def cmd_schedules(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio

    from ..runtime import with_store
    from ..store import Stores, connect

    async def run(stored: Settings) -> int:
        redis = connect(stored.redis_url or "")
        try:
            stores = Stores(redis, stored.key_prefix)
            if args.action == "load":
                directory = Path(args.dir) if args.dir else stored.schedules
                teams, policy = await _load(stores, directory, by="cli")
                changed = "changed" if policy else "unchanged"
                print(f"loaded {directory}: {teams} team(s) changed, policy {changed}")
            else:
                print(await _export(stores, Path(args.dir)))
            return 0
        finally:
            await redis.aclose()

    with with_store(settings) as stored:
        return asyncio.run(run(stored))


async def _load(stores: Stores, directory: Path, *, by: str) -> tuple[int, bool]:
    """Validate `directory` (refused on any error), then write its teams and its policy,
    each only when it differs from the stored one: (teams changed, policy changed?)."""
    from ..schedule_files import read_policy, read_team_specs

    read_schedules(directory, now=_now())  # refuses on any error
    teams = await stores.teams.load(read_team_specs(directory), by=by, at=_now())
    policy = await stores.policy.load(read_policy(directory), by=by, at=_now())
    return teams, policy


async def _export(stores: Stores, directory: Path) -> str:
    """The store's teams and policy as TOML under `directory`; the summary line."""
    from ..schedule_files import write_policy, write_team

    teams = await stores.teams.all()
    for tid, team in teams.items():
        write_team(directory, tid, team.spec)
    summary = f"exported {len(teams)} team(s) to {directory}/teams/"
    stored = await stores.policy.get()
    if stored is None:
        return f"{summary}; no policy in the store (the processes use their policy.toml)"
    write_policy(directory, stored.policy)
    return f"{summary} and the policy (version {stored.version}) to {directory}/policy.toml"


# -- worker, serve -----------------------------------------------------------------------


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    from ..jobs.worker import run
    from ..runtime import ensure_secret, with_store

    with with_store(settings) as stored:
        run(ensure_secret(stored), burst=args.burst, cron=not args.no_cron)
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import os

    import uvicorn

    from ..app import create_app
    from ..runtime import ensure_secret, with_store

    with with_store(settings) as stored:
        settings = ensure_secret(stored).listening_on(args.host, args.port)
        if args.workers == 1:  # this process serves: the app gets the settings directly
            app: object = create_app(settings)
        else:  # uvicorn starts worker processes, which read the settings back from the env
            os.environ.update(settings.environ())
            app = "router.app:create"
        uvicorn.run(
            app,  # type: ignore[arg-type]
            factory=args.workers != 1,
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_level="warning",
            access_log=False,
        )
    return 0


# -- up ----------------------------------------------------------------------------------

_DEMO_BODY = (
    '{"source":"demo","external_id":"demo-1","customer":{"id":"cust-1",'
    '"locale":"de-AT","timezone":"Europe/Vienna","accepts":["en"]},'
    '"impact":"high","urgency":"medium","skill":"billing",'
    '"summary":"Invoice totals are wrong"}'
)


def cmd_up(args: argparse.Namespace, settings: Settings) -> int:
    import os
    import time

    from ..runtime import ensure_secret, with_store

    # Ctrl-C reaches every process of the terminal's group at once; the store would stop
    # under the web and worker processes. So the children run in sessions of their own and
    # this process stops them in order: web and worker first, then the store (on leaving
    # `with_store`, which also turns SIGTERM into the same orderly exit).
    with with_store(settings) as stored:
        settings = ensure_secret(stored).listening_on("127.0.0.1", args.port)
        env = {**os.environ, **settings.environ()}
        children: list[subprocess.Popen[bytes]] = []
        try:
            if loaded := _seed_empty_store(settings):
                print(f"loaded {loaded} from {settings.schedules}/ into the store")
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


def _seed_empty_store(settings: Settings) -> str:
    """Load schedules/ into a store that has no teams, or no policy, yet (a first `up`);
    what was loaded, or "" when the store had both."""
    import asyncio

    from ..schedule_files import read_policy, read_team_specs
    from ..store import Stores, connect

    async def seed() -> str:
        redis = connect(settings.redis_url or "")
        try:
            stores = Stores(redis, settings.key_prefix)
            no_teams = not await stores.teams.all()
            no_policy = await stores.policy.get() is None
            if not (no_teams or no_policy):
                return ""
            directory = settings.schedules
            read_schedules(directory, now=_now())
            loaded = []
            if no_teams:
                n = await stores.teams.load(read_team_specs(directory), by="up", at=_now())
                loaded.append(f"{n} team(s)")
            if no_policy:
                await stores.policy.load(read_policy(directory), by="up", at=_now())
                loaded.append("the policy")
            return " and ".join(loaded)
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
    from .tokens import issue

    _, token = issue(settings, "ops", label="followsun up")
    _, intake = issue(settings, "intake", label="followsun up")
    print(f"\nfollowsun is up at {base}  (API docs: {base}/schema)\n")
    print(f"ops token:    {token}\nintake token: {intake}\n")
    print("post an escalation:")
    print(
        f"  curl -s -X POST {base}/v1/escalations -H 'Authorization: Bearer {intake}' "
        f"-H 'Content-Type: application/json' -d '{_DEMO_BODY}'\n"
    )
    print("Ctrl-C stops everything.")


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


# -- arguments ---------------------------------------------------------------------------


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sc = sub.add_parser("schedules", help="load schedules into the store, or export them")
    sc_sub = sc.add_subparsers(dest="action", required=True)
    sl = sc_sub.add_parser("load", help="validate DIR and write its teams and policy to the store")
    sl.add_argument("dir", nargs="?")
    se = sc_sub.add_parser(
        "export", help="write the store's teams to DIR/teams/*.toml and policy to DIR/policy.toml"
    )
    se.add_argument("dir")
    sc.set_defaults(func=cmd_schedules)

    sv = sub.add_parser("serve", help="run the web process")
    sv.add_argument("--host", default="127.0.0.1")
    sv.add_argument("--port", type=int, default=8000)
    sv.add_argument("--workers", type=int, default=1)
    sv.set_defaults(func=cmd_serve)

    w = sub.add_parser("worker", help="run the RQ worker (handovers, deadlines, catch-up)")
    w.add_argument("--burst", action="store_true", help="stop when the queue is empty")
    w.add_argument("--no-cron", action="store_true", help="no periodic jobs (tests)")
    w.set_defaults(func=cmd_worker)

    up = sub.add_parser("up", help="everything on one machine: store, web, worker, schedules")
    up.add_argument("--port", type=int, default=8000)
    up.set_defaults(func=cmd_up)
