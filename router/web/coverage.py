"""The console's coverage page: the week's heatmap (language × hour, in the viewer's
timezone) and, for a chosen cell, who is on shift then."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from litestar import Request, get
from litestar.datastructures import Cookie
from litestar.params import FromQuery

from ..domain.coverage import on_call
from ..domain.errors import FollowsunError
from ..domain.index import ShiftIndex
from ..domain.language import parse_lang
from ..domain.model import Team
from ..domain.timeline import parse_zone
from ..http.context import context
from .console import TZ_COOKIE, ConsoleController, local, page, zone_key
from .grid import heatmap, hours_of_week, week_start

__all__ = ["CoveragePage"]

ZONES = [
    "UTC",
    "Europe/London",
    "Europe/Amsterdam",
    "Europe/Berlin",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
]
MARKS = {"full": "●", "partial": "◐", "none": "✕"}
WORDS = {"full": "covered", "partial": "partly covered", "none": "gap"}


def _zone_choices(current: str) -> list[str]:
    return ZONES if current in ZONES else [current, *ZONES]


def _tz_cookie(key: str) -> Cookie:
    """Remembers the timezone the viewer picked."""
    return Cookie(
        key=TZ_COOKIE,
        value=key,
        path="/console",
        samesite="strict",
        httponly=True,
        max_age=365 * 86400,
    )


def _detail(
    teams: dict[str, Team],
    index: ShiftIndex,
    cell: str,
    key: str,
    *,
    language: str | None,
    skill: str | None,
    tier: int | None,
) -> dict[str, Any] | None:
    """Who is on shift at a cell's hour (None if the cell makes no sense)."""
    try:
        at = datetime.fromtimestamp(int(cell), UTC)
        lang = parse_lang(language) if language else None
        on = on_call(teams, index, at, language=lang, skill=skill, tier=tier)
    except (ValueError, FollowsunError):
        return None
    return {
        "at": local(at, key),
        "language": language,
        "teams": [
            {"team": team, "start": local(shift.start, key), "end": local(shift.end, key)}
            for team, shift in on
        ],
    }


def _base(key: str, skill: str | None, tier: int | None) -> str:
    """The page's query (zone and filters) that every cell's link carries on."""
    query = {"tz": key, "skill": skill, "tier": tier}
    return urlencode({k: v for k, v in query.items() if v not in (None, "")})


class CoveragePage(ConsoleController):
    @get("/coverage")
    async def coverage(
        self,
        request: Request[Any, Any, Any],
        skill: FromQuery[str | None] = None,
        tier: FromQuery[int | None] = 1,
        cell: FromQuery[str | None] = None,
        language: FromQuery[str | None] = None,
    ) -> Any:
        ctx = context(request)
        key = zone_key(request)
        zone = parse_zone(key)
        schedules = await ctx.services.calendar.schedules(ctx.now)
        teams = schedules.teams
        start = week_start(ctx.now, zone)
        index = schedules.index(start - timedelta(days=1), start + timedelta(days=8))
        hours = hours_of_week(start, zone)
        skill = skill or None
        response = page(
            request,
            "console/coverage.html.j2",
            ctx.caller,
            rows=heatmap(list(teams.values()), index, hours, skill=skill, tier=tier),
            hours=hours,
            zone=zone,
            days=[hours[d * 24] for d in range(7)],
            skill=skill,
            tier=tier,
            skills=sorted({s for t in teams.values() for s in t.skills}),
            tiers=sorted({t.tier for t in teams.values()}),
            detail=_detail(teams, index, cell, key, language=language, skill=skill, tier=tier)
            if cell
            else None,
            zones=_zone_choices(key),
            base=_base(key, skill, tier),
            marks=MARKS,
            words=WORDS,
        )
        if request.query_params.get("tz"):
            response.cookies.append(_tz_cookie(key))
        return response
