"""reports backfill: the summary record of every case, written from its events.

The case commit keeps each case's record (router/store/facts.py) from the version that
brought reports on; a case opened before has none, and the reports would not count it.
The backfill writes them all, a chunk at a time, beside a running service; running it
again changes nothing.
"""

from __future__ import annotations

import argparse
import time

from ..settings import Settings

PROGRESS_EVERY = 2.0  # seconds between progress lines


def cmd_reports(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio

    from ..runtime import with_store
    from ..store import Backfill, Stores, connect

    def say(done: Backfill, started: float, end: str = "") -> None:
        print(
            f"backfill: {done.seen} of {done.total} case(s), {done.written} record(s) written, "
            f"{done.unchanged} already right ({time.monotonic() - started:.1f} s){end}",
            flush=True,
        )

    async def run(stored: Settings) -> int:
        redis = connect(stored.redis_url or "")
        try:
            facts = Stores(redis, stored.key_prefix).facts
            started = last = time.monotonic()
            done = Backfill(total=0)
            async for done in facts.backfill(args.chunk):
                if time.monotonic() - last >= PROGRESS_EVERY:
                    say(done, started)
                    last = time.monotonic()
            say(done, started, "; done")
            return 0
        finally:
            await redis.aclose()

    with with_store(settings) as stored:
        return asyncio.run(run(stored))


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rep = sub.add_parser("reports", help="maintain what the reports read")
    rep_sub = rep.add_subparsers(dest="action", required=True)
    back = rep_sub.add_parser(
        "backfill",
        help="write every case's summary record from its events (once after upgrading; "
        "safe beside a running service, idempotent)",
    )
    back.add_argument("--chunk", type=int, default=500, help="cases read per round trip")
    rep.set_defaults(func=cmd_reports)
