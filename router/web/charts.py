"""The report page's charts as shapes for server-rendered SVG (no script): bars of time to
resolve by tier and week, and a grid of volume by language and hour of the day.

Each function returns plain numbers for the template (`console/reports.html.j2`), which
draws them in a viewBox that scales to the card's width; the same numbers are listed in a
table beside each chart for anyone who cannot see it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from ..domain.report_charts import HourCell, WeekTier

__all__ = ["TIER_COLOURS", "hour_table", "human", "resolve_bars", "volume_grid"]

# Tier colours, each at least 4.5:1 against white (text-level contrast for thin bars too).
TIER_COLOURS = ["#0a4f94", "#a3460a", "#1d6b3a", "#6a3d9a", "#8a1014", "#44505c"]
WIDTH, LEFT, RIGHT, TOP = 760, 60, 12, 12
BARS_HEIGHT, BARS_BOTTOM, MAX_BAR = 300, 46, 48
CELL_H, GRID_LEFT, GRID_TOP = 24, 72, 24
_NICE = [1, 2, 4, 6, 8, 12, 24, 48, 72, 96, 168, 336, 720]


def human(seconds: float | None) -> str:
    """A duration as people read it in a table: 45 s, 12 min, 3.5 h, 2.1 d."""
    if seconds is None:
        return "–"
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def _ceiling(hours: float) -> int:
    return next((n for n in _NICE if n >= hours), int(hours) + 1)


def resolve_bars(rows: Sequence[WeekTier]) -> dict[str, Any]:
    """Grouped bars: one group per week, one bar per tier, height the median hours."""
    weeks = sorted({r.week for r in rows})
    tiers = sorted({r.tier for r in rows})
    top = _ceiling(max((r.p50 / 3600 for r in rows), default=1.0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, BARS_HEIGHT - TOP - BARS_BOTTOM
    slot = plot_w / max(len(weeks), 1)
    bar_w = min(slot * 0.8 / max(len(tiers), 1), MAX_BAR)
    inset = (slot - bar_w * len(tiers)) / 2  # each week's bars centred on its label
    bars = []
    for r in rows:
        hours = r.p50 / 3600
        h = plot_h * hours / top
        x = LEFT + slot * weeks.index(r.week) + inset + bar_w * tiers.index(r.tier)
        bars.append(
            {
                "x": round(x, 1),
                "y": round(TOP + plot_h - h, 1),
                "w": round(bar_w, 1),
                "h": round(h, 1),
                "tier": r.tier,
                "week": r.week.isoformat(),
                "hours": round(hours, 2),
                "cases": r.cases,
                "colour": TIER_COLOURS[tiers.index(r.tier) % len(TIER_COLOURS)],
                "label": f"Tier {r.tier}, week of {_day(r.week)}: median {human(r.p50)} "
                f"to resolve, {r.cases} case{'s' if r.cases != 1 else ''}",
            }
        )
    ticks = [
        {"y": round(TOP + plot_h - plot_h * n / 4, 1), "label": f"{top * n / 4:g} h"}
        for n in range(5)
    ]
    return {
        "width": WIDTH,
        "height": BARS_HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "base": TOP + plot_h,
        "bars": bars,
        "ticks": ticks,
        "weeks": [
            {"x": round(LEFT + slot * (n + 0.5), 1), "label": _day(w)} for n, w in enumerate(weeks)
        ],
        "legend": [
            {"tier": t, "colour": TIER_COLOURS[n % len(TIER_COLOURS)], "x": LEFT + 110 * n}
            for n, t in enumerate(tiers)
        ],
        "legend_y": BARS_HEIGHT - 14,
    }


def _day(d: date) -> str:
    return f"{d:%d %b}"


def _fill(share: float) -> tuple[str, str]:
    """A cell's fill (light to dark blue by share of the busiest cell) and its text colour."""
    low, high = (0xDC, 0xE9, 0xF6), (0x0A, 0x3D, 0x73)
    rgb = [round(a + (b - a) * share) for a, b in zip(low, high, strict=True)]
    return "#{:02x}{:02x}{:02x}".format(*rgb), "#ffffff" if share > 0.45 else "#14181d"


def volume_grid(cells: Sequence[HourCell], max_rows: int = 20) -> dict[str, Any]:
    """A row per language (busiest first, at most `max_rows`), a column per hour."""
    totals: dict[str, int] = {}
    for c in cells:
        totals[c.language] = totals.get(c.language, 0) + c.cases
    languages = sorted(totals, key=lambda k: (-totals[k], k))[:max_rows]
    counts = {(c.language, c.hour): c.cases for c in cells}
    busiest = max((c.cases for c in cells if c.language in languages), default=1)
    cell_w = (WIDTH - GRID_LEFT - RIGHT) / 24
    rows = []
    for n, language in enumerate(languages):
        y = GRID_TOP + n * CELL_H
        row = []
        for hour in range(24):
            count = counts.get((language, hour), 0)
            fill, ink = _fill(count / busiest) if count else ("#f2f4f7", "#14181d")
            row.append(
                {
                    "x": round(GRID_LEFT + hour * cell_w, 1),
                    "hour": hour,
                    "cases": count,
                    "fill": fill,
                    "ink": ink,
                    "label": f"{language}, {hour:02d}:00: {count} case{'s' if count != 1 else ''}",
                }
            )
        rows.append({"language": language, "y": y, "cells": row, "total": totals[language]})
    return {
        "width": WIDTH,
        "height": GRID_TOP + CELL_H * max(len(languages), 1) + 8,
        "cell_w": round(cell_w, 1),
        "cell_h": CELL_H,
        "left": GRID_LEFT,
        "hours": [
            {"x": round(GRID_LEFT + (h + 0.5) * cell_w, 1), "label": f"{h:02d}"} for h in range(24)
        ],
        "rows": rows,
        "more": max(len(totals) - len(languages), 0),
    }


def hour_table(cells: Sequence[HourCell]) -> list[dict[str, Any]]:
    """The grid's numbers for its table: every language (busiest first), 24 counts, total."""
    rows: dict[str, list[int]] = {}
    for c in cells:
        rows.setdefault(c.language, [0] * 24)[c.hour] = c.cases
    table = [{"language": k, "counts": v, "total": sum(v)} for k, v in rows.items()]
    table.sort(key=lambda r: (-r["total"], r["language"]))
    return table
