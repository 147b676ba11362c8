"""Intake and the case lifecycle over HTTP. Handlers call the service and shape the answer."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from ..domain import case as lifecycle
from ..domain.errors import InputError
from ..domain.escalation import Escalation
from ..domain.handover import Packet
from ..domain.language import parse_lang
from ..domain.routing import Decision
from ..jobs.planner import plan_wakeups
from ..service import Service
from . import metrics
from .auth import allow
from .deps import Context, case_for, context

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


def view(svc: Service, case: lifecycle.Case) -> CaseView:
    return CaseView(**msgspec.structs.asdict(case), status_url=svc.status_link(case))


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
        status_code=201,
    )
    async def create(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[Escalation],
    ) -> Response[CaseView]:
        ctx = context(request)
        case, created = await ctx.svc.intake(data, ctx.now, actor=ctx.who.sub)
        if created:
            metrics.escalation(case.decision)
            if case.status == "waiting" and case.decision.starts_at:
                # assigned by a job the moment its team comes on (the sweep is the backstop)
                await asyncio.to_thread(
                    plan_wakeups,
                    ctx.svc.keys.prefix,
                    [case.decision.starts_at.timestamp()],
                    ctx.svc.url,
                )
        return Response(view(ctx.svc, case), status_code=201 if created else 200)

    @post(
        "/route",
        opt=allow("intake", "ops", "agent", "viewer"),
        operation_id="routeDryRun",
        status_code=200,
    )
    async def dry_run(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[Escalation],
    ) -> Decision:
        ctx = context(request)
        return await ctx.svc.route(data, ctx.now)


class CaseController(Controller):
    path = "/v1/cases"
    tags = ["cases"]

    @get("/", opt=allow("ops", "viewer", "agent"), operation_id="listCases")
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
        if ctx.who.role == "agent":
            if team not in (None, ctx.who.team):
                raise PermissionDeniedException("agents list their own team's cases")
            team = ctx.who.team
        if language is not None:
            language = parse_lang(language, "language").tag
        if status is not None and status not in lifecycle.OPEN | {"resolved", "closed"}:
            raise InputError("status", f'"{status}" is not a case status')
        items, total, nxt = await ctx.svc.cases.page(
            team=team, status=status, language=language, limit=limit, cursor=cursor
        )
        return CasePage(items=[view(ctx.svc, c) for c in items], total=total, next=nxt)

    @get("/{case_id:str}", opt=allow("ops", "viewer", "agent", "intake"), operation_id="getCase")
    async def get_case(
        self,
        request: Request[Any, Any, Any],
        case_id: FromPath[str],
    ) -> CaseView:
        ctx = context(request)
        return view(ctx.svc, await case_for(ctx.svc, case_id, ctx.who))

    @get("/{case_id:str}/events", opt=allow("ops", "viewer", "agent"), operation_id="caseEvents")
    async def events(
        self,
        request: Request[Any, Any, Any],
        case_id: FromPath[str],
    ) -> list[lifecycle.CaseEvent]:
        ctx = context(request)
        await case_for(ctx.svc, case_id, ctx.who)
        return await ctx.svc.cases.events(case_id)

    @get(
        "/{case_id:str}/handovers",
        opt=allow("ops", "viewer", "agent"),
        operation_id="caseHandovers",
    )
    async def handovers(
        self,
        request: Request[Any, Any, Any],
        case_id: FromPath[str],
    ) -> list[Packet]:
        """The handover packets of the case, oldest first."""
        ctx = context(request)
        await case_for(ctx.svc, case_id, ctx.who)
        return await ctx.svc.cases.handovers(case_id)

    async def _act(self, ctx: Context, case_id: str, step: Any) -> CaseView:
        case = await case_for(ctx.svc, case_id, ctx.who)
        if not ctx.who.may_act_on(case.team):
            raise PermissionDeniedException("only the case's team or ops may do this")
        new = await ctx.svc.change(case, step)
        metrics.transition(new.status)
        return view(ctx.svc, new)

    @post(
        "/{case_id:str}/ack",
        opt=allow("ops", "agent"),
        operation_id="ackCase",
        status_code=200,
    )
    async def ack(
        self,
        request: Request[Any, Any, Any],
        case_id: FromPath[str],
        data: JSONBody[EmptyBody | None] = None,
    ) -> CaseView:
        ctx = context(request)
        return await self._act(
            ctx,
            case_id,
            lambda c: lifecycle.acknowledge(c, now=ctx.now, actor=ctx.who.sub),
        )

    @post(
        "/{case_id:str}/notes",
        opt=allow("ops", "agent"),
        operation_id="addNote",
        status_code=200,
    )
    async def note(
        self,
        request: Request[Any, Any, Any],
        case_id: FromPath[str],
        data: JSONBody[NoteBody],
    ) -> CaseView:
        ctx = context(request)
        return await self._act(
            ctx,
            case_id,
            lambda c: lifecycle.add_note(
                c,
                data.text,
                now=ctx.now,
                actor=ctx.who.sub,
                customer_visible=data.customer_visible,
                policy=ctx.svc.policy,
            ),
        )

    @post(
        "/{case_id:str}/resolve",
        opt=allow("ops", "agent"),
        operation_id="resolveCase",
        status_code=200,
    )
    async def resolve(
        self,
        request: Request[Any, Any, Any],
        case_id: FromPath[str],
        data: JSONBody[ResolveBody],
    ) -> CaseView:
        ctx = context(request)
        return await self._act(
            ctx,
            case_id,
            lambda c: lifecycle.resolve(c, data.resolution, now=ctx.now, actor=ctx.who.sub),
        )

    @post(
        "/{case_id:str}/close",
        opt=allow("ops", "agent"),
        operation_id="closeCase",
        status_code=200,
    )
    async def close(
        self,
        request: Request[Any, Any, Any],
        case_id: FromPath[str],
        data: JSONBody[EmptyBody | None] = None,
    ) -> CaseView:
        ctx = context(request)
        return await self._act(
            ctx, case_id, lambda c: lifecycle.close(c, now=ctx.now, actor=ctx.who.sub)
        )

    @post(
        "/{case_id:str}/escalate",
        opt=allow("ops", "agent"),
        operation_id="escalateCase",
        status_code=200,
    )
    async def escalate(
        self,
        request: Request[Any, Any, Any],
        case_id: FromPath[str],
        data: JSONBody[EscalateBody],
    ) -> CaseView:
        ctx = context(request)
        case = await case_for(ctx.svc, case_id, ctx.who)
        if not ctx.who.may_act_on(case.team):
            raise PermissionDeniedException("only the case's team or ops may do this")
        new = await ctx.svc.escalate(
            case, ctx.now, actor=ctx.who.sub, kind=data.kind, skill=data.skill, reason=data.reason
        )
        metrics.transition("escalated")
        return view(ctx.svc, new)

    @post(
        "/{case_id:str}/reassign",
        opt=allow("ops"),
        operation_id="reassignCase",
        status_code=200,
    )
    async def reassign(
        self,
        request: Request[Any, Any, Any],
        case_id: FromPath[str],
        data: JSONBody[ReassignBody],
    ) -> CaseView:
        ctx = context(request)
        case = await case_for(ctx.svc, case_id, ctx.who)
        schedules = await ctx.svc.schedules(ctx.now)
        team = schedules.teams.get(data.team)
        if team is None:
            raise InputError("team", f'unknown team "{data.team}"')
        targets = ctx.svc.policy.priorities[case.priority]
        decision = Decision(
            action="assign",
            priority=case.priority,
            tier=team.tier,
            team=team.id,
            language=case.language,
            ack_due=ctx.now + targets.acknowledge,
            at=ctx.now,
            reasons=[f"reassigned by {ctx.who.sub}" + (f": {data.reason}" if data.reason else "")],
        )
        new = await ctx.svc.change(
            case,
            lambda c: lifecycle.move(
                c,
                decision,
                "reassigned",
                now=ctx.now,
                actor=ctx.who.sub,
                policy=ctx.svc.policy,
                reason=data.reason,
            ),
        )
        metrics.transition("reassigned")
        return view(ctx.svc, new)
