"""Questions about the calendar: who is on shift, and where the gaps are."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get
from litestar.params import FromQuery, QueryParameter

from ..domain.coverage import Interval, coverage, team_filter
from ..domain.errors import InputError
from ..domain.language import parse_lang
from ..domain.timeline import parse_instant
from ..http.auth import ROLES, allow
from ..http.context import context
from ..http.problems import errors_of
from ..oncall import oncall_rows


class CoverageAnswer(msgspec.Struct, kw_only=True):
    start: datetime
    end: datetime
    language: str | None
    skill: str | None
    tier: int | None
    teams: list[str]
    share: float
    covered: list[Interval]
    gaps: list[Interval]


class QuestionController(Controller):
    path = "/v1"
    tags = ["calendar"]

    @get("/oncall", opt=allow(*ROLES), operation_id="onCall", responses=errors_of())
    async def oncall(
        self,
        request: Request[Any, Any, Any],
        at: FromQuery[str | None] = None,
        language: FromQuery[str | None] = None,
        skill: FromQuery[str | None] = None,
        tier: Annotated[int | None, QueryParameter(ge=1)] = None,
    ) -> list[dict[str, object]]:
        ctx = context(request)
        instant = parse_instant(at, "at") if at else ctx.now
        if language:
            parse_lang(language, "language")
        schedules = await ctx.services.calendar.schedules(ctx.now)
        return oncall_rows(schedules, instant, language=language, skill=skill, tier=tier)

    @get("/coverage", opt=allow(*ROLES), operation_id="coverage", responses=errors_of())
    async def coverage(
        self,
        request: Request[Any, Any, Any],
        from_: Annotated[str | None, QueryParameter(name="from")] = None,
        to: FromQuery[str | None] = None,
        language: FromQuery[str | None] = None,
        skill: FromQuery[str | None] = None,
        tier: Annotated[int | None, QueryParameter(ge=1)] = None,
    ) -> CoverageAnswer:
        ctx = context(request)
        start = parse_instant(from_, "from") if from_ else ctx.now
        end = parse_instant(to, "to") if to else start + timedelta(days=7)
        if end <= start:
            raise InputError("to", "must be after from")
        if end - start > timedelta(days=92):
            raise InputError("to", "the horizon is at most 92 days")
        lang = parse_lang(language, "language") if language else None
        schedules = await ctx.services.calendar.schedules(ctx.now)
        teams = [
            t
            for t in schedules.teams.values()
            if team_filter(t, language=lang, skill=skill, tier=tier)
        ]
        index = schedules.index(start - timedelta(days=1), end)
        ids = {t.id for t in teams}
        cov = coverage((s for s in index.between(start, end) if s.team in ids), start, end)
        return CoverageAnswer(
            start=start,
            end=end,
            language=language,
            skill=skill,
            tier=tier,
            teams=sorted(ids),
            share=round(cov.share(), 4),
            covered=cov.covered,
            gaps=cov.gaps,
        )
