"""The operations console's common ground: sign-in by cookie, the guard every page but
sign-in passes, the page frame (the user, the viewer's timezone, the path) and the
"not allowed" page.

Sign-in stores the pasted bearer token in an HttpOnly, SameSite=Strict cookie; every page
verifies it like the API does. The pages (`router.web.now`, `.coverage`, `.teams`,
`.cases`) call the same services as the JSON API, so the validation and the conflict rules
are the API's own.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any
from urllib.parse import quote

from litestar import Controller, MediaType, Request, Response
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.response import Redirect, Template

from ..domain.apikeys import READ_METHODS
from ..domain.errors import Forbidden, InputError, SignInRequired
from ..domain.timeline import parse_zone
from ..http.auth import Principal, key_revoked, read_token
from ..http.context import Context

__all__ = [
    "COOKIE",
    "TZ_COOKIE",
    "ConsoleController",
    "local",
    "login_redirect",
    "message",
    "page",
    "require",
    "user_of",
    "zone_key",
]

COOKIE = "fs_token"
TZ_COOKIE = "fs_tz"


def user_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    """The caller the sign-in cookie names, verified; None without a valid one."""
    token = connection.cookies.get(COOKIE)
    return read_token(connection.app.state.secret, token) if token else None


async def _signed_in(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Guard for every console page but sign-in: the cookie's token, verified and its key
    not revoked (revoking a key signs out its sessions), becomes the connection's user (so
    the handlers' context carries it: `ctx.caller`). A read-only key only reads."""
    if handler.opt.get("public"):
        return
    user = user_of(connection)
    if user is None or await key_revoked(connection.app, user):
        raise SignInRequired
    connection.scope["user"] = user
    if user.read_only and connection.scope["method"] not in READ_METHODS:  # type: ignore[typeddict-item]
        raise Forbidden(f"Key {user.key} is read-only: it can look, not change anything.")


def require(ctx: Context, roles: Collection[str], why: str) -> Principal:
    """The signed-in caller, if their role is one of `roles`; else Forbidden(why), which the
    console answers with its "not allowed" page."""
    user = ctx.caller
    if user.role not in roles:
        raise Forbidden(why)
    return user


def zone_key(request: Request[Any, Any, Any]) -> str:
    """The viewer's timezone: `?tz=`, else their cookie, else UTC (and UTC if unknown)."""
    key = request.query_params.get("tz") or request.cookies.get(TZ_COOKIE) or "UTC"
    try:
        parse_zone(key)
    except InputError:
        return "UTC"
    return key


def local(value: datetime | None, key: str) -> str:
    """An instant on the viewer's wall clock, as the pages show it ("" for none)."""
    return value.astimezone(parse_zone(key)).strftime("%a %d %b %H:%M") if value else ""


def page(
    request: Request[Any, Any, Any],
    name: str,
    user: Principal,
    *,
    status_code: int = 200,
    **context: Any,
) -> Template:
    """A console page: every template also gets the user, the viewer's zone and the path."""
    return Template(
        name,
        media_type=MediaType.HTML,
        status_code=status_code,
        context={"user": user, "tz": zone_key(request), "path": request.url.path, **context},
    )


def message(
    request: Request[Any, Any, Any],
    user: Principal,
    title: str,
    text: str,
    *,
    status_code: int,
) -> Template:
    """A page that only says something (no such case, not allowed)."""
    return page(
        request,
        "console/message.html.j2",
        user,
        title=title,
        message=text,
        status_code=status_code,
    )


def login_redirect(request: Request[Any, Any, Any]) -> Redirect:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return Redirect(f"/console/login?next={quote(target)}")


def _to_sign_in(request: Request[Any, Any, Any], _: SignInRequired) -> Response[Any]:
    return login_redirect(request)


def _not_allowed(request: Request[Any, Any, Any], err: Forbidden) -> Response[Any]:
    user = request.scope["user"]  # Forbidden comes from a handler: the guard set the user
    return message(request, user, "Not allowed", str(err), status_code=403)


class ConsoleController(Controller):
    """Base of the console's controllers: under /console, out of the API schema, signed in
    (a handler with `opt={"public": True}` is not), SignInRequired sends the browser to
    sign in and Forbidden shows the "not allowed" page."""

    path = "/console"
    include_in_schema = False
    guards = [_signed_in]
    exception_handlers = {SignInRequired: _to_sign_in, Forbidden: _not_allowed}
