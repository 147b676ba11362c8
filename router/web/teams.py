"""The console's teams: the list, the schedule editor (ops only) and each team's history.

A save goes through `TeamService.save`, the API's own path: validated against every other
team, written only if nobody saved since the form was opened, then the jobs re-planned.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from ..domain.errors import ScheduleError, StaleVersion
from ..domain.validation import convert_team
from ..http.context import Context, context
from ..store.teams import Revision
from .console import ConsoleController, message, page, require
from .team_form import field_of, form_rows, spec_data

__all__ = ["Teams"]

_EDITORS = ("ops",)
_NOT_EDITOR = "Only operations staff can edit schedules."
_EDIT = "console/team_edit.html.j2"
_FORM = "form"  # where errors that belong to no one field go


def _revision_summary(revs: list[Revision]) -> dict[int, str]:
    """What changed in each revision compared with the one before it (newest first)."""
    out: dict[int, str] = {}
    for newer, older in zip(revs, [*revs[1:], None], strict=True):
        if newer.spec is None:
            out[newer.version] = "deleted"
        elif older is None or older.spec is None:
            out[newer.version] = "created"
        else:
            a, b = msgspec.to_builtins(older.spec), msgspec.to_builtins(newer.spec)
            changed = [k for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
            out[newer.version] = "changed " + ", ".join(changed) if changed else "no change"
    return out


async def _save(
    ctx: Context, team_id: str, data: dict[str, Any], version: int
) -> tuple[dict[str, list[str]], str]:
    """Save the form's team; the errors by field and the banner (none of either: saved)."""
    errors: dict[str, list[str]] = {}
    try:
        spec = convert_team(team_id, data, f"teams/{team_id}")
        await ctx.services.teams.save(
            team_id, spec, expected=version, by=ctx.caller.sub, now=ctx.now
        )
    except ScheduleError as err:
        for p in err.problems:
            if p.severity == "error":
                errors.setdefault(field_of(p.path) or _FORM, []).append(p.message)
        return errors, "Nothing was saved: fix the fields marked below."
    except StaleVersion as err:
        errors[_FORM] = ["conflict"]
        return errors, (
            f"Someone else saved this team first (it is now at version {err.found}). "
            "Nothing of yours was saved: reload the page to see their changes, then "
            "apply yours again."
        )
    return errors, ""


class Teams(ConsoleController):
    @get("/teams")
    async def teams(self, request: Request[Any, Any, Any]) -> Any:
        ctx = context(request)
        stored = await ctx.services.teams.store.all()
        return page(request, "console/teams.html.j2", ctx.caller, teams=list(stored.values()))

    @get("/teams/{team_id:str}")
    async def edit_form(self, request: Request[Any, Any, Any], team_id: FromPath[str]) -> Any:
        ctx = context(request)
        user = require(ctx, _EDITORS, _NOT_EDITOR)
        stored = await ctx.services.teams.store.get(team_id)
        if stored is None:
            return message(
                request, user, "No such team", f"There is no team {team_id}.", status_code=404
            )
        return page(
            request,
            _EDIT,
            user,
            team_id=team_id,
            version=stored.version,
            form=form_rows(stored.spec),
            errors={},
            banner="",
            saved=request.query_params.get("saved") == "1",
        )

    @post("/teams/{team_id:str}")
    async def save(self, request: Request[Any, Any, Any], team_id: FromPath[str]) -> Any:
        ctx = context(request)
        user = require(ctx, _EDITORS, _NOT_EDITOR)
        form = await request.form()
        data = spec_data(form)
        version = int(form.get("version") or 0)
        errors, banner = await _save(ctx, team_id, data, version)
        if not banner:
            return Redirect(f"/console/teams/{team_id}?saved=1", status_code=303)
        return page(
            request,
            _EDIT,
            user,
            team_id=team_id,
            version=version,
            form=form_rows(data),
            errors=errors,
            banner=banner,
            status_code=409 if "conflict" in errors.get(_FORM, []) else 422,
        )

    @get("/teams/{team_id:str}/revisions")
    async def revisions(self, request: Request[Any, Any, Any], team_id: FromPath[str]) -> Template:
        ctx = context(request)
        user = require(ctx, ("ops", "viewer"), "Schedule history is for operations staff.")
        revs = list(reversed(await ctx.services.teams.store.revisions(team_id)))
        return page(
            request,
            "console/revisions.html.j2",
            user,
            team_id=team_id,
            revisions=revs,
            summary=_revision_summary(revs),
        )
