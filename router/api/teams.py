"""Teams and their schedules over HTTP: read, edit with If-Match, audit, calendar feed.

A team's Slack and Teams webhook URLs are credentials (whoever has one can post to the
channel): callers other than ops read them redacted (`https://hooks.slack.com/[redacted]`),
in the team and in its revisions. A document that sends the redacted form back is refused
with 422 naming the field (`notify.slack`), nothing stored: README "Team notifications"."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

import msgspec
from icalendar import Calendar, Event
from litestar import Controller, Request, Response, delete, get, put
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody, QueryParameter

from ..domain.errors import Forbidden, NotFound
from ..domain.handover import Packet
from ..domain.model import TeamSpec
from ..domain.shifts import expand
from ..domain.validation import TEAM_ID, redacted_url
from ..http.auth import ROLES, allow
from ..http.context import context
from ..http.preconditions import etag, expected_version
from ..http.problems import errors_of
from ..store.teams import Revision

CREATED = ResponseSpec(TeamSpec, description="The team was created (If-None-Match: *)")


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


def _shown(spec: TeamSpec, role: str) -> TeamSpec:
    """The team as `role` may read it: everything for ops; webhook URLs redacted for others."""
    notify = spec.notify
    if role == "ops" or notify is None or not (notify.slack or notify.teams):
        return spec
    hidden = msgspec.structs.replace(
        notify,
        slack=redacted_url(notify.slack) if notify.slack else notify.slack,
        teams=redacted_url(notify.teams) if notify.teams else notify.teams,
    )
    return msgspec.structs.replace(spec, notify=hidden)


_VARY = {"Vary": "Authorization, Cookie"}  # what is shown depends on who asks


class TeamController(Controller):
    path = "/v1/teams"
    tags = ["teams"]

    @get("/", opt=allow(*ROLES), operation_id="listTeams", responses=errors_of())
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

    @get("/{team_id:str}", opt=allow(*ROLES), operation_id="getTeam", responses=errors_of(404))
    async def get_team(
        self,
        request: Request[Any, Any, Any],
        team_id: FromPath[str],
    ) -> Response[TeamSpec]:
        ctx = context(request)
        stored = await ctx.services.teams.store.get(team_id)
        if stored is None:
            raise NotFound("team", team_id)
        return Response(
            _shown(stored.spec, ctx.caller.role), headers={"ETag": etag(stored.version), **_VARY}
        )

    @put(
        "/{team_id:str}",
        opt=allow("ops"),
        operation_id="putTeam",
        responses={201: CREATED, **errors_of(404, 409, 412, 413, 422, 428)},
        status_code=200,
    )
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

    @delete(
        "/{team_id:str}",
        opt=allow("ops"),
        operation_id="deleteTeam",
        responses=errors_of(404, 409, 412, 428),
        status_code=204,
    )
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
        responses=errors_of(),
    )
    async def received(
        self,
        request: Request[Any, Any, Any],
        team_id: FromPath[str],
    ) -> list[Packet]:
        """The handover packets the team received, newest first (an agent: its own team)."""
        ctx = context(request)
        if not ctx.caller.sees(team_id):
            raise Forbidden("agents read their own team's handovers")
        return await ctx.services.cases.store.received(team_id)

    @get(
        "/{team_id:str}/revisions",
        opt=allow("ops", "viewer"),
        operation_id="teamRevisions",
        responses=errors_of(404),
    )
    async def revisions(
        self,
        request: Request[Any, Any, Any],
        team_id: FromPath[str],
    ) -> Response[list[Revision]]:
        ctx = context(request)
        revs = await ctx.services.teams.store.revisions(team_id)
        if not revs:
            raise NotFound("team", team_id)
        role = ctx.caller.role
        shown = [
            msgspec.structs.replace(r, spec=_shown(r.spec, role)) if r.spec is not None else r
            for r in revs
        ]
        return Response(shown, headers=_VARY)

    @get(
        "/{team_id:str}/schedule.ics",
        opt=allow(*ROLES),
        operation_id="teamCalendar",
        responses=errors_of(404),
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
