"""Escalation reports over HTTP: JSON, or the groups as CSV (`?format=csv`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from litestar import Controller, MediaType, Request, Response, get
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Operation, Schema
from litestar.params import FromQuery, QueryParameter

from ..domain.errors import Forbidden
from ..domain.report_csv import csv_name, report_csv
from ..domain.reports import Report
from ..http.auth import allow
from ..http.context import context
from ..http.problems import errors_of
from ..services.reports import window_of

__all__ = ["ReportController"]


@dataclass
class JsonOrCsv(Operation):
    """The report's 200 in either form: JSON, or CSV (`?format=csv`), which the
    return annotation alone does not tell the OpenAPI document."""

    def __post_init__(self) -> None:
        ok = (self.responses or {}).get("200")
        if isinstance(ok, OpenAPIResponse) and ok.content is not None:
            ok.content["text/csv"] = OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING))


class ReportController(Controller):
    path = "/v1/reports"
    tags = ["reports"]

    @get(
        "/",
        opt=allow("ops", "viewer"),
        operation_id="getReport",
        operation_class=JsonOrCsv,
        responses=errors_of(),
    )
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
        if ctx.caller.team is not None:
            raise Forbidden(f"reports cover every team; this key is limited to {ctx.caller.team}")
        first, last = window_of(start, end, ctx.now, tz)
        report = await ctx.services.reports.report(first, last, group, ctx.now, tz)
        if fmt == "csv":
            return Response(
                report_csv(report),
                media_type="text/csv",
                headers={"Content-Disposition": f'attachment; filename="{csv_name(report)}"'},
            )
        return Response(report, media_type=MediaType.JSON)
