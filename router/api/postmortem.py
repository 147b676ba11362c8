"""A P1's post-incident report: ops write it on the resolved case; anyone who may see the
case reads it as Markdown."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody

from ..domain.errors import NotFound
from ..http.auth import allow
from ..http.context import context
from .cases import CaseView, case_for, view

__all__ = ["PostmortemController"]

Text = Annotated[str, msgspec.Meta(max_length=20_000)]


class PostmortemBody(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Missing fields are left empty so the answer names every one of them at once."""

    root_cause: Text = ""
    steps: Annotated[list[Text], msgspec.Meta(max_length=100)] = []
    prevention: Text = ""


class PostmortemController(Controller):
    path = "/v1/cases"
    tags = ["cases"]

    @post(
        "/{case_id:str}/postmortem",
        opt=allow("ops"),
        operation_id="writePostmortem",
        status_code=200,
    )
    async def write(
        self,
        request: Request[Any, Any, Any],
        case_id: FromPath[str],
        data: JSONBody[PostmortemBody],
    ) -> CaseView:
        """Write (or revise) the post-incident report of a resolved P1 case."""
        ctx = context(request)
        case = await case_for(ctx, case_id)
        new = await ctx.services.postmortems.write(
            case,
            root_cause=data.root_cause,
            steps=data.steps,
            prevention=data.prevention,
            now=ctx.now,
            actor=ctx.caller.sub,
        )
        return view(ctx.services, new)

    @get(
        "/{case_id:str}/postmortem.md",
        opt=allow("ops", "viewer", "agent"),
        operation_id="postmortemMarkdown",
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
