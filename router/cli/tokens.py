"""`followsun token`: issue an API key (its token printed once), list the keys, revoke one.

    followsun token --role ROLE [--team T] [--ttl 12h] [--read-only] [--label TEXT]
    followsun token list [--all] [--json]
    followsun token revoke ID

Issuing records the key in the store (router.services.apikeys) before printing its token,
so every token this command hands out can be listed and revoked. The token alone goes to
stdout (`TOKEN=$(followsun token --role intake)`); its key id to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

import msgspec

from ..domain.apikeys import ApiKey
from ..domain.errors import InputError
from ..domain.model import ROLES
from ..domain.timeline import parse_duration
from ..settings import Settings

if TYPE_CHECKING:
    from ..services.apikeys import ApiKeyService

__all__ = ["add_parsers", "cmd_token", "issue"]

T = TypeVar("T")


def _with_keys(settings: Settings, use: Callable[[ApiKeyService], Awaitable[T]]) -> T:
    """Run `use` with the key service over the settings' store (started if need be)."""
    from ..runtime import ensure_secret, with_store
    from ..services.apikeys import ApiKeyService
    from ..store import Stores, connect

    async def run(stored: Settings) -> T:
        redis = connect(stored.redis_url or "")
        try:
            stores = Stores(redis, stored.key_prefix)
            return await use(ApiKeyService(stores.api_keys, stored.secret))
        finally:
            await redis.aclose()

    with with_store(ensure_secret(settings), announce=False) as stored:
        return asyncio.run(run(stored))


def _issuer() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name for this uid (a container)
        return "cli"


def issue(
    settings: Settings,
    role: str,
    *,
    team: str | None = None,
    ttl: timedelta = timedelta(hours=12),
    read_only: bool = False,
    label: str = "",
) -> tuple[ApiKey, str]:
    """Record a key and sign its token (also what `followsun up` greets with)."""
    return _with_keys(
        settings,
        lambda keys: keys.issue(
            role=role,
            team=team,
            read_only=read_only,
            ttl=ttl,
            label=label,
            by=_issuer(),
            now=datetime.now(UTC),
        ),
    )


def cmd_token(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "list":
        return _list(settings, everything=args.all, as_json=args.json)
    if args.action == "revoke":
        if not args.id:
            raise InputError("ID", "which key to revoke (`followsun token list` shows them)")
        now = datetime.now(UTC)
        key = _with_keys(settings, lambda keys: keys.revoke(args.id, by=_issuer(), now=now))
        print(f"revoked key {key.id} ({_scope(key)}): every process refuses its token now")
        return 0
    if args.id:
        raise InputError(args.id, "unexpected argument (issue takes options only)")
    if not args.role:
        raise InputError("--role", f"required to issue a key: one of {', '.join(ROLES)}")
    key, token = issue(
        settings,
        args.role,
        team=args.team,
        ttl=parse_duration(args.ttl, "--ttl"),
        read_only=args.read_only,
        label=args.label,
    )
    print(token)
    until = key.expires_at.strftime("%Y-%m-%d %H:%M UTC")
    print(f"key {key.id} ({_scope(key)}), valid until {until}", file=sys.stderr)
    return 0


def _scope(key: ApiKey) -> str:
    parts = [key.role, *([f"team {key.team}"] if key.team else [])]
    return ", ".join([*parts, "read-only"] if key.read_only else parts)


def _list(settings: Settings, *, everything: bool, as_json: bool) -> int:
    now = datetime.now(UTC)
    keys = _with_keys(settings, lambda service: service.listing(now, everything=everything))
    if as_json:
        rows = [{**msgspec.to_builtins(k), "status": k.status(now)} for k in keys]
        print(json.dumps(rows, indent=2))
        return 0
    if not keys:
        print("no keys" if everything else "no active keys (--all shows revoked and expired)")
        return 0
    print(f"{'id':<16}  {'status':<7}  {'scope':<28}  {'expires (UTC)':<16}  label")
    for k in keys:
        expires = k.expires_at.strftime("%Y-%m-%d %H:%M")
        print(f"{k.id:<16}  {k.status(now):<7}  {_scope(k):<28}  {expires:<16}  {k.label}")
    return 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    t = sub.add_parser(
        "token",
        help="issue an API key and print its token; `token list`, `token revoke ID`",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    t.add_argument("action", nargs="?", choices=("issue", "list", "revoke"), default="issue")
    t.add_argument("id", nargs="?", help="the key id to revoke")
    t.add_argument("--role", choices=ROLES)
    t.add_argument("--team", help="limit the key to one team (agent: required; viewer: may)")
    t.add_argument("--ttl", default="12h", help="how long the token is valid (12h, 30d, PT8H)")
    t.add_argument("--read-only", action="store_true", help="GET and HEAD only")
    t.add_argument("--label", default="", help="what the key is for (shown by `token list`)")
    t.add_argument("--all", action="store_true", help="list: revoked and expired keys too")
    t.add_argument("--json", action="store_true", help="list: as JSON")
    t.set_defaults(func=cmd_token)
