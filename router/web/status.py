"""The customer's status page: a signed link, their language, their timezone."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from babel import Locale
from babel.dates import get_timezone_location
from litestar import Controller, MediaType, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from ..domain.case import Case
from ..domain.errors import BadLink, Gone
from ..domain.timeline import parse_zone
from ..http.context import Context, context
from ..i18n import Catalogs
from ..i18n.labels import page_labels, status_names
from ..i18n.render import local_time, region_name
from .feedback import feedback_block, submit_feedback

__all__ = ["StatusPage"]


def _from_accept_language(catalogs: Catalogs, header: str) -> str:
    """The best catalog for an Accept-Language header, honouring q-values (RFC 9110)."""
    ranked: list[tuple[float, int, str]] = []
    for n, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if tag and tag != "*" and q > 0:
            ranked.append((-q, n, tag))
    for _, _, tag in sorted(ranked):
        code = catalogs.negotiate(tag)
        if code != "en" or tag.lower().startswith("en"):
            return code
    return "en"


@lru_cache(maxsize=64)
def _page_locale(code: str) -> tuple[str, str]:
    """The page's `lang` (BCP 47) and `dir` (CLDR's "rtl" or "ltr") for a catalog code."""
    return code.replace("_", "-"), Locale.parse(code).text_direction


async def _case_of(ctx: Context, token: str) -> Case:
    """The case a status link grants, or BadLink (also for a case that no longer exists);
    Gone (410, problem+json) once the case's personal data was erased or expired."""
    case_id = ctx.services.links.read(token, now=ctx.now)
    if await ctx.services.customers.gone(case_id):
        raise Gone(case_id)
    case = await ctx.services.cases.store.get(case_id)
    if case is None:
        raise BadLink("unknown case")
    return case


class StatusPage(Controller):
    path = "/status"
    include_in_schema = False

    @get("/{token:str}")
    async def page(self, token: FromPath[str], request: Request[Any, Any, Any]) -> Template:
        ctx = context(request)
        catalogs: Catalogs = request.app.state.catalogs
        try:
            case = await _case_of(ctx, token)
        except BadLink as err:
            return self._bad_link(request, catalogs, err.locale)
        thanked = request.query_params.get("feedback") == "thanks" and case.feedback is not None
        return await _render(request, ctx, catalogs, case, "thanks" if thanked else "")

    @post("/{token:str}", status_code=303)
    async def feedback(
        self, token: FromPath[str], request: Request[Any, Any, Any]
    ) -> Template | Redirect:
        """The feedback form's post: back to the page (which thanks them) once stored; the
        page again, saying why, when it is refused (given already, not resolved, invalid)."""
        ctx = context(request)
        catalogs: Catalogs = request.app.state.catalogs
        try:
            case = await _case_of(ctx, token)
        except BadLink as err:
            return self._bad_link(request, catalogs, err.locale)
        code = catalogs.negotiate(case.escalation.customer.locale)
        state, status, kept = await submit_feedback(request, ctx, case, code)
        if status == 303:
            return Redirect(f"{request.url.path}?feedback={state}#feedback", status_code=303)
        case = await _case_of(ctx, token)  # as stored now (another submission may have won)
        return await _render(request, ctx, catalogs, case, state, status, **kept)

    def _bad_link(
        self, request: Request[Any, Any, Any], catalogs: Catalogs, locale: str | None
    ) -> Template:
        """A clear page in the visitor's language (from the link if genuine, else the
        browser's Accept-Language), never a stack trace."""
        if locale:
            code = catalogs.negotiate(locale)
        else:
            code = _from_accept_language(catalogs, request.headers.get("accept-language", ""))
        labels = page_labels(catalogs.get(code))
        lang, direction = _page_locale(code)
        return Template(
            media_type=MediaType.HTML,
            template_name="bad_link.html.j2",
            status_code=404,
            context={
                "lang": lang,
                "dir": direction,
                "title": labels["invalid_title"],
                "body": labels["invalid_body"],
            },
        )


async def _render(
    request: Request[Any, Any, Any],
    ctx: Context,
    catalogs: Catalogs,
    case: Case,
    feedback: str = "",
    status_code: int = 200,
    rating: str = "",
    comment: str = "",
) -> Template:
    """The status page of `case` in the customer's language; `feedback` says what the last
    feedback submission met (see `router.web.feedback`)."""
    cust = case.escalation.customer
    code = catalogs.negotiate(cust.locale)
    t = catalogs.get(code)
    zone = parse_zone(cust.timezone, "customer.timezone")
    labels = page_labels(t)
    sent = await ctx.services.outbox.store.sent_updates(case.id)
    updates = [
        {
            "iso": u.at.isoformat(),
            "when": local_time(u.at, zone, code),
            "subject": u.subject,
            "body": u.body,
        }
        for u in sent
    ]
    await ctx.services.calendar.schedules(ctx.now)  # region_of reads the loaded calendar
    region = ctx.services.calendar.region_of(case.team)
    lang, direction = _page_locale(code)
    return Template(
        media_type=MediaType.HTML,
        template_name="status.html.j2",
        status_code=status_code,
        context={
            "lang": lang,
            "dir": direction,
            "title": labels["title"] % {"ref": case.id},
            "labels": labels,
            "status": status_names(t)[case.status],
            "region": labels["handled_by"] % {"region": region_name(t, region)} if region else "",
            "priority": case.priority,
            "opened": local_time(case.created_at, zone, code),
            "opened_iso": case.created_at.isoformat(),
            "updates": updates,
            "times_in": labels["times_in"] % {"zone": get_timezone_location(zone, locale=code)},
            "feedback": feedback_block(
                case, t, request.url.path, state=feedback, rating=rating, comment=comment
            ),
        },
    )
