"""Teams and their schedules over HTTP: read, edit with If-Match, audit, calendar feed."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

import msgspec
from icalendar import Calendar, Event
from litestar import Controller, Request, Response, delete, get, put
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromPath, JSONBody, QueryParameter

from ..domain.handover import Packet
from ..domain.model import TeamSpec
from ..domain.shifts import expand
from ..domain.validation import TEAM_ID
from ..jobs.planner import plan_after_edit
from ..store.teams import NEVER, Revision
from .auth import allow
from .deps import context
from .problems import NotFound, PreconditionRequired

ALL = ("ops", "agent", "intake", "viewer")


class TeamItem(msgspec.Struct, kw_only=True):
    id: str
    version: int
    name: str
    region: str
    timezone: str
    tier: int
    languages: list[str]
    skills: list[str]
    escalates_to: str | None


def _etag(version: int) -> str:
    return f'"{version}"'


def _expected(request: Request[Any, Any, Any], exists: bool) -> int:
    """The version the client edits: from If-Match, or 0 with If-None-Match: * (create)."""
    match = request.headers.get("if-match")
    if match is None:
        if request.headers.get("if-none-match", "").strip() == "*":
            return NEVER if exists else 0  # RFC 9110: * fails when the resource exists
        raise PreconditionRequired(
            "send If-Match with the ETag of the team you edited (If-None-Match: * to create)"
        )
    tag = match.strip().removeprefix("W/").strip('"')
    return int(tag) if tag.isdigit() and int(tag) > 0 else NEVER


class TeamController(Controller):
    path = "/v1/teams"
    tags = ["teams"]

    @get("/", opt=allow(*ALL), operation_id="listTeams")
    async def list_teams(
        self,
        request: Request[Any, Any, Any],
    ) -> list[TeamItem]:
        ctx = context(request)
        return [
            TeamItem(
                id=t.id,
                version=t.version,
                name=t.spec.name,
                region=t.spec.region,
                timezone=t.spec.timezone,
                tier=t.spec.tier,
                languages=t.spec.languages,
                skills=t.spec.skills,
                escalates_to=t.spec.escalates_to,
            )
            for t in (await ctx.svc.teams.all()).values()
        ]

    @get("/{team_id:str}", opt=allow(*ALL), operation_id="getTeam")
    async def get_team(
        self,
        request: Request[Any, Any, Any],
        team_id: FromPath[str],
    ) -> Response[TeamSpec]:
        ctx = context(request)
        stored = await ctx.svc.teams.get(team_id)
        if stored is None:
            raise NotFound("team", team_id)
        return Response(stored.spec, headers={"ETag": _etag(stored.version)})

    @put("/{team_id:str}", opt=allow("ops"), operation_id="putTeam", status_code=200)
    async def put_team(
        self,
        team_id: FromPath[str],
        data: JSONBody[TeamSpec],
        request: Request[Any, Any, Any],
    ) -> Response[TeamSpec]:
        ctx = context(request)
        if not TEAM_ID.match(team_id):
            raise NotFound("team", team_id)
        stored = await ctx.svc.teams.get(team_id)
        expected = _expected(request, stored is not None)
        await ctx.svc.check_team(team_id, data, ctx.now)
        version = await ctx.svc.teams.put(
            team_id, data, expected=expected, by=ctx.who.sub, at=ctx.now
        )
        ctx.svc.forget_schedules()
        plan_after_edit(ctx.svc.keys.prefix, ctx.svc.url)
        return Response(
            data, status_code=201 if expected == 0 else 200, headers={"ETag": _etag(version)}
        )

    @delete("/{team_id:str}", opt=allow("ops"), operation_id="deleteTeam", status_code=204)
    async def delete_team(
        self,
        team_id: FromPath[str],
        request: Request[Any, Any, Any],
    ) -> None:
        ctx = context(request)
        stored = await ctx.svc.teams.get(team_id)
        if stored is None:
            raise NotFound("team", team_id)
        expected = _expected(request, True)
        await ctx.svc.check_team(team_id, None, ctx.now)
        await ctx.svc.teams.put(team_id, None, expected=expected, by=ctx.who.sub, at=ctx.now)
        ctx.svc.forget_schedules()
        plan_after_edit(ctx.svc.keys.prefix, ctx.svc.url)

    @get(
        "/{team_id:str}/handovers",
        opt=allow("ops", "viewer", "agent"),
        operation_id="teamHandovers",
    )
    async def received(
        self,
        request: Request[Any, Any, Any],
        team_id: FromPath[str],
    ) -> list[Packet]:
        """The handover packets the team received, newest first (an agent: its own team)."""
        ctx = context(request)
        if ctx.who.role == "agent" and ctx.who.team != team_id:
            raise PermissionDeniedException("agents read their own team's handovers")
        return await ctx.svc.cases.received(team_id)

    @get("/{team_id:str}/revisions", opt=allow("ops", "viewer"), operation_id="teamRevisions")
    async def revisions(
        self,
        request: Request[Any, Any, Any],
        team_id: FromPath[str],
    ) -> list[Revision]:
        ctx = context(request)
        revs = await ctx.svc.teams.revisions(team_id)
        if not revs:
            raise NotFound("team", team_id)
        return revs

    @get(
        "/{team_id:str}/schedule.ics",
        opt=allow(*ALL),
        operation_id="teamCalendar",
        media_type="text/calendar",
    )
    async def calendar(
        self,
        request: Request[Any, Any, Any],
        team_id: FromPath[str],
        weeks: Annotated[int, QueryParameter(ge=1, le=26)] = 4,
    ) -> Response[bytes]:
        ctx = context(request)
        schedules = await ctx.svc.schedules(ctx.now)
        team = schedules.teams.get(team_id)
        if team is None:
            raise NotFound("team", team_id)
        cal = Calendar()
        cal.add("prodid", "-//followsun//shift calendar//EN")
        cal.add("version", "2.0")
        cal.add("x-wr-calname", f"{team.name} shifts")
        cal.add("x-wr-timezone", team.spec.timezone)
        start = ctx.now.replace(minute=0, second=0, microsecond=0)
        for shift in expand(team, start, start + timedelta(weeks=weeks)):
            ev = Event()
            ev.add("uid", f"{team.id}-{shift.start:%Y%m%dT%H%M%SZ}@followsun")
            ev.add("dtstamp", ctx.now)
            ev.add("dtstart", shift.start)
            ev.add("dtend", shift.end)
            ev.add("summary", f"{team.name} on shift")
            ev.add(
                "description",
                f"{shift.source}; local {shift.start.astimezone(team.zone):%a %H:%M}"
                f"–{shift.end.astimezone(team.zone):%H:%M} {team.spec.timezone}",
            )
            ev.add("categories", [f"tier-{team.tier}", *team.spec.languages])
            cal.add_component(ev)
        return Response(
            cal.to_ical(),
            media_type="text/calendar",
            headers={"Content-Disposition": f'inline; filename="{team.id}.ics"'},
        )
