"""Escalation reports over HTTP: JSON, or the groups as CSV (`?format=csv`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, MediaType, Request, Response, get
from litestar.params import FromQuery, QueryParameter

from ..domain.report_csv import report_csv
from ..domain.reports import Report
from ..http.auth import allow
from ..http.context import context
from ..services.reports import window_of

__all__ = ["ReportController"]


class ReportController(Controller):
    path = "/v1/reports"
    tags = ["reports"]

    @get("/", opt=allow("ops", "viewer"), operation_id="getReport")
    async def report(
        self,
        request: Request[Any, Any, Any],
        start: Annotated[str | None, QueryParameter(name="from")] = None,
        end: Annotated[str | None, QueryParameter(name="to")] = None,
        group: FromQuery[str] = "team",
        tz: FromQuery[str] = "UTC",
        fmt: Annotated[Literal["json", "csv"], QueryParameter(name="format")] = "json",
    ) -> Response[Report] | Response[str]:
        """Volume, time to acknowledge and resolve, targets, handovers and escalations,
        ratings and repeat escalations for the cases opened in [from, to) (dates in `tz`,
        or instants; default the last 30 days), grouped by team, tier, language, priority
        or region."""
        ctx = context(request)
        first, last = window_of(start, end, ctx.now, tz)
        report = await ctx.services.reports.report(first, last, group, ctx.now, tz)
        if fmt == "csv":
            name = f"followsun-report-{first:%Y%m%d}-{last:%Y%m%d}-{report.group}.csv"
            return Response(
                report_csv(report),
                media_type="text/csv",
                headers={"Content-Disposition": f'attachment; filename="{name}"'},
            )
        return Response(report, media_type=MediaType.JSON)
