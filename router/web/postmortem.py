"""The post-incident report on a P1's case page: ops write it in a form (steps one per
line) once the case is resolved, the same step as `POST /v1/cases/{id}/postmortem`; anyone
who may see the case downloads it as Markdown."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect

from ..domain.case import Case
from ..domain.errors import Conflict, Forbidden, InputError, NotFound
from ..domain.postmortem import Draft, IncompleteReport
from ..http.context import Context, context
from .console import ConsoleController, local, message, page, require, zone_key

__all__ = ["PostmortemPage"]


async def _visible(ctx: Context, case_id: str) -> Case:
    return await ctx.services.cases.visible(case_id, ctx.caller.role, ctx.caller.team)


async def _case_page(
    request: Request[Any, Any, Any],
    ctx: Context,
    case: Case,
    form: dict[str, str],
    errors: dict[str, str],
    status_code: int,
) -> Any:
    """The case page again, the form keeping what was typed and saying what is wrong."""
    key = zone_key(request)
    store = ctx.services.cases.store
    return page(
        request,
        "console/case.html.j2",
        ctx.caller,
        status_code=status_code,
        case=case,
        events=await store.events(case.id),
        packets=await store.handovers(case.id),
        local=lambda v: local(v, key),
        pm_form=form,
        pm_errors=errors,
    )


def _errors(err: InputError) -> dict[str, str]:
    """Field -> reason; a step's error (`steps[2]`) shows at the steps field."""
    out: dict[str, str] = {}
    for field, reason in getattr(err, "errors", None) or [(err.field, err.reason)]:
        name = field.split("[")[0]
        text = f"step {int(field[6:-1]) + 1}: {reason}" if name != field else reason
        out[name] = f"{out[name]}; {text}" if name in out else text
    return out


class PostmortemPage(ConsoleController):
    @post("/cases/{case_id:str}/postmortem", status_code=303)
    async def write(self, request: Request[Any, Any, Any], case_id: FromPath[str]) -> Any:
        ctx = context(request)
        user = require(ctx, ("ops",), "Only operations staff write post-incident reports.")
        try:
            case = await _visible(ctx, case_id)
        except NotFound:
            return message(
                request, user, "No such case", f"There is no case {case_id}.", status_code=404
            )
        form = await request.form()
        values = {k: str(form.get(k) or "") for k in ("root_cause", "steps", "prevention")}
        steps = [line for line in values["steps"].splitlines() if line.strip()]
        try:
            draft = Draft(
                root_cause=values["root_cause"], steps=steps, prevention=values["prevention"]
            )
            await ctx.services.postmortems.write(case, draft, now=ctx.now, actor=user.sub)
        except IncompleteReport as err:
            return await _case_page(request, ctx, case, values, _errors(err), 400)
        except (InputError, Conflict) as err:
            return await _case_page(request, ctx, case, values, {"form": str(err)}, 409)
        done = quote("post-incident report saved")
        return Redirect(f"/console/cases/{case.id}?done={done}#postmortem", status_code=303)

    @get("/cases/{case_id:str}/postmortem.md")
    async def markdown(self, request: Request[Any, Any, Any], case_id: FromPath[str]) -> Any:
        ctx = context(request)
        try:
            case = await _visible(ctx, case_id)
        except (NotFound, Forbidden):
            text = f"There is no case {case_id} you can see."
            return message(request, ctx.caller, "No such case", text, status_code=404)
        if case.postmortem is None:
            text = f"Case {case_id} has no post-incident report yet."
            return message(request, ctx.caller, "No report yet", text, status_code=404)
        return Response(
            await ctx.services.postmortems.markdown(case),
            media_type="text/markdown",
            headers={"Content-Disposition": f'attachment; filename="{case.id}-postmortem.md"'},
        )
