"""catalogs extract|update|compile|check: the translators' workflow for `locales/`."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..settings import Settings


def cmd_catalogs(args: argparse.Namespace, _settings: Settings) -> int:
    from ..i18n import tools

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


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cat = sub.add_parser("catalogs", help="translator workflow for locales/")
    cat.add_argument("action", choices=["extract", "update", "compile", "check"])
    cat.add_argument("locales", nargs="*", help="update: new locales to add (e.g. pt_BR)")
    cat.add_argument("-o", "--output", help="extract: where to write the .pot")
    cat.set_defaults(func=cmd_catalogs)
