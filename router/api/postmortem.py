"""A P1's post-incident report: ops write it on the resolved case; anyone who may see the
case reads it as Markdown."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody

from ..domain.errors import NotFound
from ..domain.postmortem import Draft
from ..http.auth import allow
from ..http.context import context
from ..http.problems import errors_of
from .cases import ACTION_ERRORS, CaseView, case_for, view

__all__ = ["PostmortemController"]


class PostmortemController(Controller):
    path = "/v1/cases"
    tags = ["cases"]

    @post(
        "/{case_id:str}/postmortem",
        opt=allow("ops"),
        operation_id="writePostmortem",
        responses=ACTION_ERRORS,
        status_code=200,
    )
    async def write(
        self,
        request: Request[Any, Any, Any],
        case_id: FromPath[str],
        data: JSONBody[Draft],
    ) -> CaseView:
        """Write (or revise) the post-incident report of a resolved P1 case."""
        ctx = context(request)
        case = await case_for(ctx, case_id)
        new = await ctx.services.postmortems.write(case, data, now=ctx.now, actor=ctx.caller.sub)
        return view(ctx.services, new)

    @get(
        "/{case_id:str}/postmortem.md",
        opt=allow("ops", "viewer", "agent"),
        operation_id="postmortemMarkdown",
        responses=errors_of(404),
    )
    async def markdown(
        self, request: Request[Any, Any, Any], case_id: FromPath[str]
    ) -> Response[str]:
        """The report as Markdown, with the timeline generated from the case's events."""
        ctx = context(request)
        case = await case_for(ctx, case_id)
        if case.postmortem is None:
            raise NotFound("post-incident report of case", case_id)
        text = await ctx.services.postmortems.markdown(case)
        return Response(
            text,
            media_type="text/markdown",
            headers={"Content-Disposition": f'inline; filename="{case.id}-postmortem.md"'},
        )
