"""API keys for operations: the issued keys (never their tokens) and revoking one.

Keys are issued on the command line (`followsun token`), where the secret is: the API lists
and revokes them, so an operator who finds a leaked token can stop it from anywhere.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, Request, delete, get
from litestar.params import FromPath, FromQuery

from ..domain.apikeys import ApiKey, KeyStatus
from ..http.auth import allow
from ..http.context import context
from ..http.problems import errors_of


class KeyView(ApiKey, kw_only=True):
    """A key as listed: the record and what it is now."""

    status: KeyStatus


def view(key: ApiKey, now: datetime) -> KeyView:
    return KeyView(**msgspec.structs.asdict(key), status=key.status(now))


class KeyController(Controller):
    path = "/v1/keys"
    tags = ["keys"]

    @get("/", opt=allow("ops"), operation_id="listKeys", responses=errors_of())
    async def list_keys(
        self,
        request: Request[Any, Any, Any],
        all: FromQuery[bool] = False,
    ) -> list[KeyView]:
        """The active keys, oldest first; `?all=true` adds revoked and expired ones."""
        ctx = context(request)
        keys = await ctx.services.api_keys.listing(ctx.now, everything=all)
        return [view(k, ctx.now) for k in keys]

    @delete(
        "/{key_id:str}",
        opt=allow("ops"),
        operation_id="revokeKey",
        status_code=200,
        responses=errors_of(404),
    )
    async def revoke(self, request: Request[Any, Any, Any], key_id: FromPath[str]) -> KeyView:
        """Revoke a key: every process refuses its token from the next request on.
        Revoking a revoked key answers the first revocation."""
        ctx = context(request)
        by = f"{ctx.caller.sub} (key {ctx.caller.key})"
        key = await ctx.services.api_keys.revoke(key_id, by=by, now=ctx.now)
        return view(key, ctx.now)
