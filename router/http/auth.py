"""Who is calling: bearer JWTs (Litestar's JWTAuth) carrying a role and, for agents, a team."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import msgspec
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.middleware.authentication import AuthenticationResult
from litestar.security.jwt import JWTAuth, JWTAuthenticationMiddleware, Token

from ..domain.model import ROLES, Role


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


class RoleCheckingJWTMiddleware(JWTAuthenticationMiddleware):
    """Litestar's JWT middleware, then the role check the handler declares with `allow`.

    This is a guard's job, done here because Litestar hands every guard call its own copy
    of the route handler, and that copy costs more than the check on a busy intake.
    """

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        result = await super().authenticate_request(connection)
        roles = connection.route_handler.opt.get("roles")
        if roles is not None:
            user = result.user
            if not isinstance(user, Principal):
                raise NotAuthorizedException("a bearer token is required")
            if user.role not in roles:
                raise PermissionDeniedException(f"role {user.role} may not do this")
        return result


def jwt_auth(secret: str) -> JWTAuth[Principal, Token]:
    return JWTAuth[Principal, Token](
        token_secret=secret,
        retrieve_user_handler=_principal,
        authentication_middleware_class=RoleCheckingJWTMiddleware,
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


def allow(*roles: Role) -> dict[str, frozenset[Role]]:
    """A handler's `opt` admitting only `roles` (checked by RoleCheckingJWTMiddleware)."""
    return {"roles": frozenset(roles)}


def signed_not_bearer() -> dict[str, bool]:
    """A handler's `opt` for requests that prove their sender by signature or shared secret
    (helpdesk webhooks, `router.http.signatures`): the JWT middleware lets them through
    without a token, and the handler must verify them itself before reading the body."""
    return {"exclude_from_auth": True}  # JWTAuth's exclude_opt_key


def read_token(secret: str, encoded: str) -> Principal | None:
    """Verify a bearer token (as the console's cookie carries it); None if it is not valid."""
    try:
        token = Token.decode(encoded, secret, "HS256")
    except NotAuthorizedException:
        return None
    return principal_of(token)
