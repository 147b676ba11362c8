"""What a browser is told to enforce on the console and the customer's status page, and the
CSRF check on the console's forms.

- CSRF: Litestar's CSRF middleware. A GET sets the `fs_csrf` cookie; every console form
  sends it back in its hidden `_csrf_token` field (`{{ csrf_input | safe }}`), and an
  unsafe request to /console without a matching one is refused with 403 problem+json.
  Nothing else is checked: the JSON API under /v1 (a bearer token in a header, which no
  other site can make a browser send) including the helpdesk webhooks (signed or with a
  shared secret), and the status pages: their feedback form is authorised by the signed
  link in its own URL, not by anything the browser adds, so a site that does not know the
  link cannot post to it and one that knows it needs no browser.
- Headers: every page under /console and /status gets a Content-Security-Policy that
  allows no script at all and styles only from /static (the templates carry no inline
  style or script), may not be framed, sends no Referer (a status page's URL is its
  credential), and every response says nosniff.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar.config.csrf import CSRFConfig
from litestar.datastructures import MutableScopeHeaders
from litestar.routes import HTTPRoute

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.types import Message, Scope

    from ..settings import Settings

__all__ = ["CSP", "PAGE_HEADERS", "csrf_config", "fix_options_allow", "security_headers"]

CSRF_COOKIE = "fs_csrf"
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
PAGE_HEADERS = {
    "content-security-policy": CSP,
    "x-frame-options": "DENY",  # frame-ancestors for browsers that predate it
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
}
_PAGES = ("/console", "/status", "/static")
# Only the console's forms are checked: every other path (the JSON API, webhooks, probes,
# status pages, anything mounted beside the app) is outside the cookie's business.
# ("/" is left checked because Litestar refuses a pattern matching every path; it takes
# no POST anyway)
_EXEMPT = ["^/(?!console(/|$))."]


def csrf_config(settings: Settings) -> CSRFConfig:
    """The CSRF check for the console's forms, its token signed with the deployment's secret."""
    return CSRFConfig(
        secret=settings.secret,
        cookie_name=CSRF_COOKIE,
        cookie_samesite="strict",
        cookie_secure=settings.link_base().startswith("https://"),
        cookie_httponly=True,  # the token travels in the form, never read by script
        exclude=_EXEMPT,
    )


async def security_headers(message: Message, scope: Scope) -> None:
    """The app's `before_send` hook: the page headers on console and status pages (their
    error answers too), nosniff on everything."""
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    headers["x-content-type-options"] = "nosniff"
    if scope["path"].startswith(_PAGES):
        for name, value in PAGE_HEADERS.items():
            headers[name] = value


def fix_options_allow(app: Litestar) -> None:
    """Make OPTIONS answer every method of its path in `Allow`.

    Litestar (2.25) builds a path's OPTIONS handler with the route that registered the
    path's first handler; a controller registers its handlers one by one, so the route
    that serves the path later has more methods than the one the handler reads
    (OPTIONS /v1/teams/x said `DELETE, OPTIONS`). Point each handler at its final route.
    Does nothing where the handler is not Litestar's closure over the route."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or "OPTIONS" not in route.route_handler_map:
            continue
        fn = route.route_handler_map["OPTIONS"][0].fn
        code, cells = getattr(fn, "__code__", None), getattr(fn, "__closure__", None)
        if (
            code is not None
            and cells
            and code.co_freevars == ("self",)
            and isinstance(cells[0].cell_contents, HTTPRoute)
        ):
            cells[0].cell_contents = route
