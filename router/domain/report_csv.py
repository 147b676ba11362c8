"""A report's groups as CSV, one row per group and a last row for the total (times in
seconds, as in the JSON answer)."""

from __future__ import annotations

import csv
import io

from .reports import Report, Row

__all__ = ["COLUMNS", "csv_name", "report_csv"]

COLUMNS = (
    "group",
    "key",
    "cases",
    "acknowledged",
    "acknowledge_p50_s",
    "acknowledge_p90_s",
    "resolved",
    "resolve_p50_s",
    "resolve_p90_s",
    "handovers",
    "handovers_per_case",
    "escalations",
    "escalations_per_case",
    "unroutable",
    "waited",
    "still_waiting",
    "wait_p50_s",
    "wait_p90_s",
    "ratings",
    "rating_mean",
)


def _cells(group: str, r: Row) -> list[object]:
    def blank(value: object) -> object:
        return "" if value is None else value

    return [
        group,
        r.key,
        r.cases,
        r.acknowledge.count,
        blank(r.acknowledge.p50),
        blank(r.acknowledge.p90),
        r.resolve.count,
        blank(r.resolve.p50),
        blank(r.resolve.p90),
        r.handovers,
        r.handovers_per_case,
        r.escalations,
        r.escalations_per_case,
        r.unroutable,
        r.waited,
        r.still_waiting,
        blank(r.wait.p50),
        blank(r.wait.p90),
        r.ratings,
        blank(r.rating_mean),
    ]


def report_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for r in report.groups:
        writer.writerow(_cells(report.group, r))
    writer.writerow(_cells("total", report.total))
    return out.getvalue()


def csv_name(report: Report) -> str:
    """The file name the report's CSV is downloaded as (the API's and the console's)."""
    return f"followsun-report-{report.start:%Y%m%d}-{report.end:%Y%m%d}-{report.group}.csv"
