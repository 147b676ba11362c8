"""The console's Reports page: the report of `GET /v1/reports` as tables, two charts drawn
as SVG on the server (time to resolve by tier over weeks, volume by language and hour),
each with its numbers in a table, the repeat escalations and the customers' ratings; and
the same report as CSV."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, Response, get
from litestar.params import FromQuery, QueryParameter

from ..domain.errors import Forbidden, InputError
from ..domain.report_csv import csv_name, report_csv
from ..domain.reports import GROUPS, Report
from ..domain.timeline import parse_zone
from ..http.context import Context, context
from ..services.reports import window_of
from .charts import hour_table, human, resolve_bars, volume_grid
from .console import ConsoleController, local, page, require, zone_key
from .coverage import ZONES

__all__ = ["ReportsPage"]

WHO = ("ops", "viewer")
WHY = "Reports are for operations staff and viewers."


def _dates(first: datetime, last: datetime, key: str) -> tuple[str, str]:
    """The window as the form's date fields show it (`to` is the last day included)."""
    zone = parse_zone(key)
    return (
        first.astimezone(zone).date().isoformat(),
        (last - timedelta(microseconds=1)).astimezone(zone).date().isoformat(),
    )


async def _report(
    ctx: Context, zone: str, start: str | None, end: str | None, group: str
) -> Report:
    """The report of the window `?from=&to=` names (dates in `zone`; empty: the default),
    for a caller whose key is not limited to one team (reports cover every team)."""
    if ctx.caller.team is not None:
        raise Forbidden(f"reports cover every team; this key is limited to {ctx.caller.team}")
    first, last = window_of(start or None, end or None, ctx.now, zone)
    return await ctx.services.reports.report(first, last, group, ctx.now, zone)


class ReportsPage(ConsoleController):
    @get("/reports")
    async def reports(
        self,
        request: Request[Any, Any, Any],
        start: Annotated[str | None, QueryParameter(name="from")] = None,
        end: Annotated[str | None, QueryParameter(name="to")] = None,
        group: FromQuery[str] = "team",
    ) -> Any:
        ctx = context(request)
        user = require(ctx, WHO, WHY)
        key = zone_key(request)
        error = ""
        try:
            report = await _report(ctx, key, start, end, group)
        except InputError as err:
            error = str(err)
            report = await _report(ctx, key, None, None, "team")
        shown = _dates(report.start, report.end, key)
        query = urlencode({"from": shown[0], "to": shown[1], "group": report.group, "tz": key})
        return page(
            request,
            "console/reports.html.j2",
            user,
            status_code=400 if error else 200,
            error=error,
            report=report,
            groups=GROUPS,
            shown=shown,
            zones=ZONES if key in ZONES else [key, *ZONES],
            csv=f"/console/reports.csv?{query}",
            bars=resolve_bars(report.by_week),
            grid=volume_grid(report.by_hour),
            hour_rows=hour_table(report.by_hour),
            human=human,
            local=lambda v: local(v, key),
        )

    @get("/reports.csv")
    async def reports_csv(
        self,
        request: Request[Any, Any, Any],
        start: Annotated[str | None, QueryParameter(name="from")] = None,
        end: Annotated[str | None, QueryParameter(name="to")] = None,
        group: FromQuery[str] = "team",
    ) -> Response[str]:
        """The page's report as CSV, like `GET /v1/reports?format=csv`."""
        ctx = context(request)
        require(ctx, WHO, WHY)
        report = await _report(ctx, zone_key(request), start, end, group)
        return Response(
            report_csv(report),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{csv_name(report)}"'},
        )
