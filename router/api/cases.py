"""Intake and the case lifecycle over HTTP. Handlers call the service and shape the answer."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from ..domain import case as lifecycle
from ..domain.errors import Forbidden, InputError
from ..domain.escalation import Escalation
from ..domain.handover import Packet
from ..domain.language import parse_lang
from ..domain.routing import Decision
from ..http import metrics
from ..http.auth import allow
from ..http.context import Context, context
from ..http.problems import errors_of
from ..services.cases import Action
from ..wiring import Services

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=20_000)]


class NoteBody(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    text: Text
    customer_visible: bool = False


class ResolveBody(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    resolution: Text


class EscalateBody(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    kind: Literal["hierarchical", "functional"] = "hierarchical"
    skill: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    reason: Annotated[str, msgspec.Meta(max_length=2_000)] = ""


class ReassignBody(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    team: Annotated[str, msgspec.Meta(max_length=64)]
    reason: Annotated[str, msgspec.Meta(max_length=2_000)] = ""


class EmptyBody(msgspec.Struct, forbid_unknown_fields=True):
    pass


class CaseView(lifecycle.Case, kw_only=True):
    """A case as the API shows it: the document plus the customer's signed status link."""

    status_url: str = ""


def view(services: Services, case: lifecycle.Case) -> CaseView:
    return CaseView(**msgspec.structs.asdict(case), status_url=services.links.for_case(case))


async def case_for(ctx: Context, case_id: str) -> lifecycle.Case:
    """The case, if it exists and the caller may see it (agents: their team's only)."""
    return await ctx.services.cases.visible(case_id, ctx.caller.role, ctx.caller.team)


async def actionable(ctx: Context, case_id: str) -> lifecycle.Case:
    """The case, if the caller may act on it (its team, or ops)."""
    case = await case_for(ctx, case_id)
    if not ctx.caller.may_act_on(case.team):
        raise Forbidden("only the case's team or ops may do this")
    return case


AGAIN = ResponseSpec(CaseView, description="The case this source's ticket already opened")
# what acting on a case may answer besides the case: not found or not visible, not the
# caller's team, a transition its status does not allow, no team to escalate or reassign to
ACTION_ERRORS = errors_of(404, 409, 413, 422)


class CasePage(msgspec.Struct):
    items: list[CaseView]
    total: int
    next: str | None


class IntakeController(Controller):
    path = "/v1"
    tags = ["intake"]

    @post(
        "/escalations",
        opt=allow("intake", "ops"),
        operation_id="createEscalation",
        responses={200: AGAIN, **errors_of(413, 422)},
        status_code=201,
    )
    async def create(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[Escalation],
    ) -> Response[CaseView]:
        ctx = context(request)
        case, created = await ctx.services.cases.intake(data, ctx.now, actor=ctx.caller.sub)
        if created:
            metrics.escalation(case.decision)
        return Response(view(ctx.services, case), status_code=201 if created else 200)

    @post(
        "/route",
        opt=allow("intake", "ops", "agent", "viewer"),
        operation_id="routeDryRun",
        responses=errors_of(413, 422),
        status_code=200,
    )
    async def dry_run(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[Escalation],
    ) -> Decision:
        ctx = context(request)
        return await ctx.services.cases.route(data, ctx.now)


class CaseController(Controller):
    path = "/v1/cases"
    tags = ["cases"]

    @get("/", opt=allow("ops", "viewer", "agent"), operation_id="listCases", responses=errors_of())
    async def list_cases(
        self,
        request: Request[Any, Any, Any],
        team: FromQuery[str | None] = None,
        status: FromQuery[str | None] = None,
        language: FromQuery[str | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
        cursor: FromQuery[str | None] = None,
    ) -> CasePage:
        ctx = context(request)
        if ctx.caller.team is not None:  # a key limited to a team: agents, maybe viewers
            if team not in (None, ctx.caller.team):
                raise Forbidden("a key limited to a team lists its own team's cases")
            team = ctx.caller.team
        if language is not None:
            language = parse_lang(language, "language").tag
        if status is not None and status not in lifecycle.OPEN | {"resolved", "closed"}:
            raise InputError("status", f'"{status}" is not a case status')
        items, total, nxt = await ctx.services.cases.store.page(
            team=team, status=status, language=language, limit=limit, cursor=cursor
        )
        return CasePage(items=[view(ctx.services, c) for c in items], total=total, next=nxt)

    @get(
        "/{case_id:str}",
        opt=allow("ops", "viewer", "agent", "intake"),
        operation_id="getCase",
        responses=errors_of(404),
    )
    async def get_case(
        self,
        request: Request[Any, Any, Any],
        case_id: FromPath[str],
    ) -> CaseView:
        ctx = context(request)
        return view(ctx.services, await case_for(ctx, case_id))

    @get(
        "/{case_id:str}/events",
        opt=allow("ops", "viewer", "agent"),
        operation_id="caseEvents",
        responses=errors_of(404),
    )
    async def events(
        self,
        request: Request[Any, Any, Any],
        case_id: FromPath[str],
    ) -> list[lifecycle.CaseEvent]:
        ctx = context(request)
        await case_for(ctx, case_id)
        return await ctx.services.cases.store.events(case_id)

    @get(
        "/{case_id:str}/handovers",
        opt=allow("ops", "viewer", "agent"),
        operation_id="caseHandovers",
        responses=errors_of(404),
    )
    async def handovers(
        self,
        request: Request[Any, Any, Any],
        case_id: FromPath[str],
    ) -> list[Packet]:
        """The handover packets of the case, oldest first."""
        ctx = context(request)
        await case_for(ctx, case_id)
        return await ctx.services.cases.store.handovers(case_id)

    async def _act(
        self, ctx: Context, case_id: str, action: Action, text: str = "", visible: bool = False
    ) -> CaseView:
        case = await actionable(ctx, case_id)
        new = await ctx.services.cases.act(
            case, action, now=ctx.now, actor=ctx.caller.sub, text=text, customer_visible=visible
        )
        metrics.transition(new.status)
        return view(ctx.services, new)

    @post(
        "/{case_id:str}/ack",
        opt=allow("ops", "agent"),
        operation_id="ackCase",
        responses=ACTION_ERRORS,
        status_code=200,
    )
    async def ack(
        self,
        request: Request[Any, Any, Any],
        case_id: FromPath[str],
        data: JSONBody[EmptyBody | None] = None,
    ) -> CaseView:
        return await self._act(context(request), case_id, "ack")

    @post(
        "/{case_id:str}/notes",
        opt=allow("ops", "agent"),
        operation_id="addNote",
        responses=ACTION_ERRORS,
        status_code=200,
    )
    async def note(
        self,
        request: Request[Any, Any, Any],
        case_id: FromPath[str],
        data: JSONBody[NoteBody],
    ) -> CaseView:
        return await self._act(context(request), case_id, "note", data.text, data.customer_visible)

    @post(
        "/{case_id:str}/resolve",
        opt=allow("ops", "agent"),
        operation_id="resolveCase",
        responses=ACTION_ERRORS,
        status_code=200,
    )
    async def resolve(
        self,
        request: Request[Any, Any, Any],
        case_id: FromPath[str],
        data: JSONBody[ResolveBody],
    ) -> CaseView:
        return await self._act(context(request), case_id, "resolve", data.resolution)

    @post(
        "/{case_id:str}/close",
        opt=allow("ops", "agent"),
        operation_id="closeCase",
        responses=ACTION_ERRORS,
        status_code=200,
    )
    async def close(
        self,
        request: Request[Any, Any, Any],
        case_id: FromPath[str],
        data: JSONBody[EmptyBody | None] = None,
    ) -> CaseView:
        return await self._act(context(request), case_id, "close")

    @post(
        "/{case_id:str}/escalate",
        opt=allow("ops", "agent"),
        operation_id="escalateCase",
        responses=ACTION_ERRORS,
        status_code=200,
    )
    async def escalate(
        self,
        request: Request[Any, Any, Any],
        case_id: FromPath[str],
        data: JSONBody[EscalateBody],
    ) -> CaseView:
        ctx = context(request)
        case = await actionable(ctx, case_id)
        new = await ctx.services.cases.escalate(
            case,
            ctx.now,
            actor=ctx.caller.sub,
            kind=data.kind,
            skill=data.skill,
            reason=data.reason,
        )
        metrics.transition("escalated")
        return view(ctx.services, new)

    @post(
        "/{case_id:str}/reassign",
        opt=allow("ops"),
        operation_id="reassignCase",
        responses=ACTION_ERRORS,
        status_code=200,
    )
    async def reassign(
        self,
        request: Request[Any, Any, Any],
        case_id: FromPath[str],
        data: JSONBody[ReassignBody],
    ) -> CaseView:
        ctx = context(request)
        case = await case_for(ctx, case_id)
        new = await ctx.services.cases.reassign(
            case, data.team, now=ctx.now, actor=ctx.caller.sub, reason=data.reason
        )
        metrics.transition("reassigned")
        return view(ctx.services, new)
