"""Teams and their schedules over HTTP: read, edit with If-Match, audit, calendar feed."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

import msgspec
from icalendar import Calendar, Event
from litestar import Controller, Request, Response, delete, get, put
from litestar.params import FromPath, JSONBody, QueryParameter

from ..domain.errors import Forbidden, NotFound
from ..domain.handover import Packet
from ..domain.model import TeamSpec
from ..domain.shifts import expand
from ..domain.validation import TEAM_ID
from ..http.auth import ROLES, allow
from ..http.context import context
from ..http.preconditions import etag, expected_version
from ..store.teams import Revision


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


class TeamController(Controller):
    path = "/v1/teams"
    tags = ["teams"]

    @get("/", opt=allow(*ROLES), operation_id="listTeams")
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
            for t in (await ctx.services.teams.store.all()).values()
        ]

    @get("/{team_id:str}", opt=allow(*ROLES), operation_id="getTeam")
    async def get_team(
        self,
        request: Request[Any, Any, Any],
        team_id: FromPath[str],
    ) -> Response[TeamSpec]:
        ctx = context(request)
        stored = await ctx.services.teams.store.get(team_id)
        if stored is None:
            raise NotFound("team", team_id)
        return Response(stored.spec, headers={"ETag": etag(stored.version)})

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
        stored = await ctx.services.teams.store.get(team_id)
        expected = expected_version(request, stored is not None, "team")
        version = await ctx.services.teams.save(
            team_id, data, expected=expected, by=ctx.caller.sub, now=ctx.now
        )
        return Response(
            data, status_code=201 if expected == 0 else 200, headers={"ETag": etag(version)}
        )

    @delete("/{team_id:str}", opt=allow("ops"), operation_id="deleteTeam", status_code=204)
    async def delete_team(
        self,
        team_id: FromPath[str],
        request: Request[Any, Any, Any],
    ) -> None:
        ctx = context(request)
        stored = await ctx.services.teams.store.get(team_id)
        if stored is None:
            raise NotFound("team", team_id)
        expected = expected_version(request, True, "team")
        await ctx.services.teams.save(
            team_id, None, expected=expected, by=ctx.caller.sub, now=ctx.now
        )

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
        if ctx.caller.role == "agent" and ctx.caller.team != team_id:
            raise Forbidden("agents read their own team's handovers")
        return await ctx.services.cases.store.received(team_id)

    @get("/{team_id:str}/revisions", opt=allow("ops", "viewer"), operation_id="teamRevisions")
    async def revisions(
        self,
        request: Request[Any, Any, Any],
        team_id: FromPath[str],
    ) -> list[Revision]:
        ctx = context(request)
        revs = await ctx.services.teams.store.revisions(team_id)
        if not revs:
            raise NotFound("team", team_id)
        return revs

    @get(
        "/{team_id:str}/schedule.ics",
        opt=allow(*ROLES),
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
        schedules = await ctx.services.calendar.schedules(ctx.now)
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
