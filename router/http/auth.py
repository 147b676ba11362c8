"""Who is calling: bearer JWTs (Litestar's JWTAuth) carrying a key id, a role and, for
team-limited keys, a team; the key must not be revoked and, if read-only, only reads.

A token's `jti` is its API key's id (router.domain.apikeys): `followsun token` records the
key, `followsun token revoke ID` (or `DELETE /v1/keys/{id}`) revokes it, and every request
asks the store whether its key is revoked, so a revoked token is refused by every process
at once. For a bearer token the rate-limit middleware that runs next asks (401), in the
same store call that counts the request (router.http.ratelimit): a call costs more than
the check. The console's pages ask with `key_revoked`. A token without a key id (issued
before keys were recorded) is refused here: nothing could revoke it short of changing the
secret.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from litestar import Litestar
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.middleware.authentication import AuthenticationResult
from litestar.security.jwt import JWTAuth, JWTAuthenticationMiddleware, Token

from ..domain.apikeys import READ_METHODS, SCOPABLE, check_scope
from ..domain.model import ROLES, Role

__all__ = [
    "Principal",
    "allow",
    "jwt_auth",
    "key_revoked",
    "make_token",
    "new_key_id",
    "principal_of",
    "read_token",
    "signed_not_bearer",
]

NO_KEY_ID = (
    "this token has no key id (it was issued before keys were recorded): "
    "issue a new one with `followsun token`"
)


class Principal(msgspec.Struct, frozen=True):
    sub: str
    role: Role
    team: str | None = None  # the one team a scoped key (agent, viewer) is limited to
    key: str = ""  # the API key's id: the token's jti
    read_only: bool = False

    def may_act_on(self, team: str | None) -> bool:
        """Ops act on every case; an agent only on its own team's."""
        return self.role == "ops" or (
            self.role == "agent" and team is not None and team == self.team
        )

    def sees(self, team: str | None) -> bool:
        """A key limited to a team sees that team's cases only; any other, every case."""
        return self.team is None or team == self.team


async def _principal(token: Token, _: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """The caller of a verified token (whether its key is revoked is asked next, by the
    rate-limit middleware)."""
    user = principal_of(token)
    if user is None:
        raise NotAuthorizedException(
            NO_KEY_ID if not token.jti else "the token's claims name no followsun role"
        )
    return user


def principal_of(token: Token) -> Principal | None:
    """The caller a verified token names, or None if its claims make no sense (no key id,
    no known role, an agent without a team)."""
    role = token.extras.get("role")
    if role not in ROLES or not token.jti or not isinstance(token.jti, str):
        return None
    team = token.extras.get("team") if role in SCOPABLE else None
    if role == "agent" and not team:
        return None
    return Principal(
        sub=token.sub, role=role, team=team, key=token.jti, read_only=bool(token.extras.get("ro"))
    )


async def key_revoked(app: Litestar, user: Principal) -> bool:
    """Whether the caller's key was revoked (what the console asks on every page)."""
    return await app.state.services.api_keys.revoked(user.key)  # type: ignore[no-any-return]


class RoleCheckingJWTMiddleware(JWTAuthenticationMiddleware):
    """Litestar's JWT middleware, then the role check the handler declares with `allow`,
    and a read-only key's refusal of anything but GET and HEAD.

    This is a guard's job, done here because Litestar hands every guard call its own copy
    of the route handler, and that copy costs more than the check on a busy intake.
    """

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        result = await super().authenticate_request(connection)
        user = result.user
        roles = connection.route_handler.opt.get("roles")
        if roles is not None:
            if not isinstance(user, Principal):
                raise NotAuthorizedException("a bearer token is required")
            if user.role not in roles:
                raise PermissionDeniedException(f"role {user.role} may not do this")
        if isinstance(user, Principal) and user.read_only:
            method = connection.scope["method"]  # type: ignore[typeddict-item]
            if method not in READ_METHODS:
                raise PermissionDeniedException(
                    f"key {user.key} is read-only: it may send GET and HEAD only, not {method}"
                )
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


def new_key_id() -> str:
    """A fresh key id: 16 hex digits, unguessable and short enough to type."""
    return secrets.token_hex(8)


def make_token(
    secret: str,
    role: str,
    team: str | None = None,
    ttl: timedelta = timedelta(hours=12),
    subject: str | None = None,
    *,
    key_id: str | None = None,
    read_only: bool = False,
    expires: datetime | None = None,
) -> str:
    """A signed token for a key (`key_id`, a fresh one if none: such a token works but no
    list shows it; `followsun token` records its keys through router.services.apikeys).
    Raises InputError (a ValueError) for a role and team that do not go together."""
    check_scope(role, team)
    extras: dict[str, Any] = {"role": role}
    if team:
        extras["team"] = team
    if read_only:
        extras["ro"] = True
    return Token(
        sub=subject or (f"{role}:{team}" if team else role),
        exp=expires or datetime.now(UTC) + ttl,
        jti=key_id or new_key_id(),
        extras=extras,
    ).encode(secret, "HS256")


def allow(*roles: Role) -> dict[str, frozenset[Role]]:
    """A handler's `opt` admitting only `roles` (checked by RoleCheckingJWTMiddleware)."""
    return {"roles": frozenset(roles)}


def signed_not_bearer() -> dict[str, bool]:
    """A handler's `opt` for requests that prove their sender by signature or shared secret
    (helpdesk webhooks, `router.http.signatures`): the JWT middleware lets them through
    without a token, and the handler must verify them itself before reading the body."""
    return {"exclude_from_auth": True}  # JWTAuth's exclude_opt_key


def read_token(secret: str, encoded: str) -> Principal | None:
    """Verify a bearer token (as the console's cookie carries it); None if it is not valid.
    Whether its key was revoked is the caller's next question (`key_revoked`)."""
    try:
        token = Token.decode(encoded, secret, "HS256")
    except NotAuthorizedException:
        return None
    return principal_of(token)
