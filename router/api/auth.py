"""Who is calling: bearer JWTs (Litestar's JWTAuth) carrying a role and, for agents, a team."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

import msgspec
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.security.jwt import JWTAuth, Token

Role = Literal["ops", "agent", "intake", "viewer"]
ROLES: tuple[Role, ...] = ("ops", "agent", "intake", "viewer")


class Principal(msgspec.Struct, frozen=True):
    sub: str
    role: Role
    team: str | None = None

    def may_act_on(self, team: str | None) -> bool:
        """Ops act on every case; an agent only on its own team's."""
        return self.role == "ops" or (
            self.role == "agent" and team is not None and team == self.team
        )


async def _principal(token: Token, _: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    return principal_of(token)


def principal_of(token: Token) -> Principal | None:
    """The caller a verified token names, or None if its claims make no sense."""
    role = token.extras.get("role")
    if role not in ROLES:
        return None
    team = token.extras.get("team")
    if role == "agent" and not team:
        return None
    return Principal(sub=token.sub, role=role, team=team)


def jwt_auth(secret: str) -> JWTAuth[Principal, Token]:
    return JWTAuth[Principal, Token](
        token_secret=secret,
        retrieve_user_handler=_principal,
        exclude=[
            "^/healthz",
            "^/readyz",
            "^/metrics",
            "^/schema",
            "^/status",
            "^/console",
            "^/static",
        ],
    )


def make_token(
    secret: str,
    role: str,
    team: str | None = None,
    ttl: timedelta = timedelta(hours=12),
    subject: str | None = None,
) -> str:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if role == "agent" and not team:
        raise ValueError("an agent token needs --team")
    extras: dict[str, Any] = {"role": role}
    if team:
        extras["team"] = team
    return jwt_auth(secret).create_token(
        identifier=subject or (f"{role}:{team}" if team else role),
        token_expiration=ttl,
        token_extras=extras,
    )


def allow(*roles: Role):
    """A guard admitting only `roles` (async: a sync guard costs a thread hop per request)."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        user = connection.user
        if not isinstance(user, Principal):
            raise NotAuthorizedException("a bearer token is required")
        if user.role not in roles:
            raise PermissionDeniedException(f"role {user.role} may not do this")

    return guard


def read_token(secret: str, encoded: str) -> Principal | None:
    """Verify a bearer token (as the console's cookie carries it); None if it is not valid."""
    try:
        token = Token.decode(encoded, secret, "HS256")
    except NotAuthorizedException:
        return None
    return principal_of(token)
