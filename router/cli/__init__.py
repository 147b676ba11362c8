"""The `followsun` command: questions an operations lead asks, answered from `schedules/`.

Exit codes: 0 fine, 1 the schedules have errors, 2 a bad argument (one line on stderr).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ..domain.errors import FollowsunError, InputError, ScheduleError
from ..settings import Settings
from . import catalogs, questions, reports, service, tokens

__all__ = ["main", "parser"]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="followsun", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    questions.add_parsers(sub)
    service.add_parsers(sub)
    catalogs.add_parsers(sub)
    reports.add_parsers(sub)
    tokens.add_parsers(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = Settings.from_env()  # the one read of the environment; every command gets it
        return int(args.func(args, settings))
    except InputError as err:
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
