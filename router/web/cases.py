"""The console's cases: one case's page, a team's queue, and the queue's buttons, which
take the same steps (`CaseService.act`, `.escalate`) as the API's endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast
from urllib.parse import quote

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect

from ..domain.case import Case
from ..domain.errors import FollowsunError, Forbidden, InputError, NotFound
from ..http.context import context
from ..services.cases import Action, CaseService
from .console import ConsoleController, local, message, page, require, zone_key

__all__ = ["Cases"]

_STEPS = ("ack", "note", "resolve")  # the queue's buttons besides escalate


async def _apply(
    cases: CaseService,
    case: Case,
    action: str,
    text: str,
    who: str,
    now: datetime,
    *,
    customer_visible: bool,
) -> None:
    """The queue's buttons: the same lifecycle steps the API's endpoints take."""
    if action == "escalate":
        await cases.escalate(case, now, actor=who, reason=text or "escalated from the queue")
    elif action in _STEPS:
        await cases.act(
            case,
            cast(Action, action),
            now=now,
            actor=who,
            text=text,
            customer_visible=customer_visible,
        )
    else:
        raise InputError("action", f"unknown action {action}")


class Cases(ConsoleController):
    @get("/cases/{case_id:str}")
    async def case_page(self, request: Request[Any, Any, Any], case_id: FromPath[str]) -> Any:
        ctx = context(request)
        user, cases = ctx.caller, ctx.services.cases
        try:
            case = await cases.visible(case_id, user.role, user.team)
        except (NotFound, Forbidden):
            text = f"There is no case {case_id} you can see."
            return message(request, user, "No such case", text, status_code=404)
        key = zone_key(request)
        return page(
            request,
            "console/case.html.j2",
            user,
            case=case,
            events=await cases.store.events(case_id),
            packets=await cases.store.handovers(case_id),
            local=lambda v: local(v, key),
        )

    @get("/queue")
    async def queue(
        self, request: Request[Any, Any, Any], team: FromQuery[str | None] = None
    ) -> Any:
        ctx = context(request)
        user = require(ctx, ("agent", "ops", "viewer"), "The queue is for support teams.")
        team_id = user.team or team  # a key limited to a team sees that queue only
        store = ctx.services.cases.store
        cases: list[Case] = []
        packets = []
        if team_id:
            cases = await store.get_many(await store.open_ids(team_id))
            cases.sort(key=lambda c: c.next_deadline() or c.resolve_due)
            packets = await store.received(team_id, count=20)
        key = zone_key(request)
        return page(
            request,
            "console/queue.html.j2",
            user,
            team_id=team_id,
            teams=sorted((await ctx.services.teams.store.all()).keys()),
            cases=cases,
            packets=packets,
            now=ctx.now,
            flash=request.query_params.get("done"),
            local=lambda v: local(v, key),
        )

    @post("/cases/{case_id:str}/{action:str}", status_code=303)
    async def act(
        self, request: Request[Any, Any, Any], case_id: FromPath[str], action: FromPath[str]
    ) -> Any:
        ctx = context(request)
        user, cases = ctx.caller, ctx.services.cases
        case = await cases.store.get(case_id)
        if case is None or not user.may_act_on(case.team):
            raise Forbidden("Only the case's team (or ops) can do that.")
        form = await request.form()
        text = (form.get("text") or "").strip()
        visible = bool(form.get("customer_visible"))
        try:
            await _apply(cases, case, action, text, user.sub, ctx.now, customer_visible=visible)
        except FollowsunError as err:
            return Redirect(f"/console/queue?done={quote(str(err))}", status_code=303)
        back = form.get("back") or "/console/queue"
        return Redirect(f"{back}?done={quote(f'{action}: {case_id}')}", status_code=303)
