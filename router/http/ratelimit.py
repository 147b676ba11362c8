"""Rate limits per API key and per client address: Litestar's rate-limit middleware, with
its windows counted in the store so that every web process shares them.

Who a request counts against (by its key id or by the client's address), and the limit
(Settings, FOLLOWSUN_RATE_LIMIT*):

    a valid bearer token (the JWT middleware ran first)  key id   rate_limit
    ... of an intake key                                 key id   rate_limit_intake
    the console, signed in (its cookie's token)          key id   rate_limit
    a helpdesk webhook (POST /v1/intake/<helpdesk>)      client   rate_limit_intake
    anything else (status pages, sign-in, /schema)       client   rate_limit_anonymous
    /healthz, /readyz, /metrics                          never limited (probes, scrapers)
    /static/ (the pages' style sheets)                   never limited (a page's own parts)

A request without a valid token to an API endpoint is refused (401) before it is counted.
The client is the peer address; when the peer is one of FOLLOWSUN_TRUSTED_PROXIES, it is
the right-most X-Forwarded-For address that is not itself a trusted proxy (the left-most
ones are whatever the client chose to send).

Every limited response carries `RateLimit-Policy`, `RateLimit-Limit`, `RateLimit-Remaining`
and `RateLimit-Reset` (Litestar's names, after the IETF draft); a refused one is a 429
problem+json with `Retry-After` too. Windows are fixed: the first request of a window
starts it. router.store.ratelimits counts atomically, in the same store call that asks
whether a bearer token's key was revoked (then 401): one round trip per request for both,
and there even when every limit is off.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, cast, get_args

import msgspec
from litestar.connection import ASGIConnection
from litestar.datastructures import Headers, MutableScopeHeaders
from litestar.middleware.rate_limit import (
    DURATION_VALUES,
    DurationUnit,
    RateLimitConfig,
    RateLimitMiddleware,
)
from litestar.response.base import ASGIResponse

from ..domain.errors import InputError
from .auth import Principal, read_token
from .problems import MEDIA

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.types import Message, Receive, Scope, Send

    from ..settings import Settings
    from ..store.ratelimits import RateLimitStore

__all__ = ["Clients", "SharedRateLimits", "parse_limit", "rate_limits"]

Limit = tuple[DurationUnit, int]
Kind = Literal["key", "intake", "hook", "anonymous"]
UNLIMITED = ("^/healthz", "^/readyz", "^/metrics", "^/static/")


def parse_limit(text: str, variable: str) -> Limit | None:
    """`600/minute` -> ("minute", 600); `off` (or empty) -> None; else InputError."""
    text = text.strip().lower()
    if text in ("", "off"):
        return None
    count, _, unit = text.partition("/")
    units = get_args(DurationUnit)
    if not count.isdigit() or int(count) < 1 or unit not in units:
        raise InputError(variable, f'"{text}" is not N/{"|".join(units)} (or "off")')
    return cast(DurationUnit, unit), int(count)


class Clients:
    """The client's address of a request, believing X-Forwarded-For from trusted proxies only."""

    def __init__(self, trusted: str) -> None:
        try:
            self._trusted = [
                ipaddress.ip_network(p.strip(), strict=False)
                for p in trusted.split(",")
                if p.strip()
            ]
        except ValueError as err:
            raise InputError("FOLLOWSUN_TRUSTED_PROXIES", str(err)) from None

    def _is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self._trusted)

    def address(self, scope: Scope) -> str:
        client = scope.get("client")
        peer = client[0] if client else "unknown"
        if not self._trusted or not self._is_trusted(peer):
            return peer
        forwarded = [
            hop.strip()
            for value in Headers.from_scope(scope).getall("x-forwarded-for", [])
            for hop in value.split(",")
            if hop.strip()
        ]
        for hop in reversed(forwarded):
            if not self._is_trusted(hop):
                return hop
        return forwarded[0] if forwarded else peer


@dataclass
class SharedRateLimits(RateLimitConfig):
    """Litestar's RateLimitConfig (`rate_limit`: the per-key limit) with the other kinds'
    limits, the client resolution, and the store from the app's services."""

    limits: dict[Kind, Limit | None] = field(default_factory=dict)
    clients: Clients = field(default_factory=lambda: Clients(""))
    secret: str = ""
    session_cookie: str = ""

    def get_store_from_app(self, app: Litestar) -> RateLimitStore:  # type: ignore[override]
        """The services' store: it lives on the client the lifespan opens, after the app."""
        return app.state.services.stores.rate_limits  # type: ignore[no-any-return]

    def who(self, scope: Scope) -> tuple[Kind, str]:
        """The kind of caller and what it is counted by (key id or client address)."""
        user = scope.get("user")
        if isinstance(user, Principal):
            return ("intake" if user.role == "intake" else "key"), user.key
        path = scope["path"]
        if path.startswith("/v1/intake/"):
            return "hook", self.clients.address(scope)
        if path.startswith("/console") and self.session_cookie:
            token = ASGIConnection(scope).cookies.get(self.session_cookie)
            signed = read_token(self.secret, token) if token else None
            if signed is not None:
                return "key", signed.key
        return "anonymous", self.clients.address(scope)


class SharedRateLimitMiddleware(RateLimitMiddleware):
    """Litestar's middleware, counting in the shared store, and the revocation check of a
    bearer token's key: both in one store call (router.store.ratelimits), since each call
    costs the process more CPU than the check itself. A revoked key gets 401, a request
    over its limit 429, both problem+json."""

    config: SharedRateLimits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind, who = self.config.who(scope)
        user = scope.get("user")
        key_id = user.key if isinstance(user, Principal) else None
        limit = self.config.limits.get(kind)
        if limit is None and key_id is None:
            await self.app(scope, receive, send)
            return
        seconds = DURATION_VALUES[limit[0]] if limit else 0
        store = self.config.get_store_from_app(scope["litestar_app"])
        said = await store.admit(f"{kind}:{who}" if limit else None, seconds, key_id)
        if said.revoked:
            await _problem(401, "Unauthorized", f"key {key_id} has been revoked", {})(
                scope, receive, send
            )
            return
        if limit is None:
            await self.app(scope, receive, send)
            return
        unit, most = limit
        count, reset = said.count, said.reset
        headers = {
            self.config.rate_limit_policy_header_key: f"{most};w={DURATION_VALUES[unit]}",
            self.config.rate_limit_limit_header_key: str(most),
            self.config.rate_limit_remaining_header_key: str(max(0, most - count)),
            self.config.rate_limit_reset_header_key: str(reset),
        }
        if count > most:
            await _refuse(kind, unit, most, reset, headers)(scope, receive, send)
            return
        await self.app(scope, receive, _with_headers(send, headers))


_WHOSE = {
    "key": "this key",
    "intake": "this key",
    "hook": "this sender",
    "anonymous": "this client",
}


def _refuse(kind: Kind, unit: str, most: int, reset: int, headers: dict[str, str]) -> ASGIResponse:
    detail = f"{_WHOSE[kind]} may send {most} requests a {unit}; retry in {reset} s"
    extra = {"limit": most, "window": unit, "retry_after": reset}
    return _problem(429, "Too many requests", detail, {**headers, "Retry-After": str(reset)}, extra)


def _problem(
    status: int,
    title: str,
    detail: str,
    headers: dict[str, str],
    extra: dict[str, Any] | None = None,
) -> ASGIResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return ASGIResponse(
        body=msgspec.json.encode({**body, **(extra or {})}),
        status_code=status,
        media_type=MEDIA,
        headers=headers,
    )


def _with_headers(send: Send, headers: dict[str, str]) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            message.setdefault("headers", [])  # type: ignore[typeddict-item]
            target = MutableScopeHeaders(message)
            for name, value in headers.items():
                target[name] = value
        await send(message)

    return wrapped


def rate_limits(settings: Settings, session_cookie: str) -> list[Any]:
    """The middleware for these settings' limits, which also refuses revoked keys (so it is
    there even when every limit is off)."""
    limits: dict[Kind, Limit | None] = {
        "key": parse_limit(settings.rate_limit, "FOLLOWSUN_RATE_LIMIT"),
        "intake": parse_limit(settings.rate_limit_intake, "FOLLOWSUN_RATE_LIMIT_INTAKE"),
        "anonymous": parse_limit(settings.rate_limit_anonymous, "FOLLOWSUN_RATE_LIMIT_ANONYMOUS"),
    }
    limits["hook"] = limits["intake"]
    clients = Clients(settings.trusted_proxies)
    config = SharedRateLimits(
        rate_limit=limits["key"] or ("minute", 1),  # Litestar requires one; `limits` decides
        exclude=list(UNLIMITED),
        middleware_class=SharedRateLimitMiddleware,
        limits=limits,
        clients=clients,
        secret=settings.secret,
        session_cookie=session_cookie,
    )
    return [config.middleware]
