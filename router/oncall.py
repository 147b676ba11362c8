"""The on-call answer, one shape for `followsun oncall --json` and `GET /v1/oncall`."""

from __future__ import annotations

from datetime import datetime

from .domain.coverage import on_call
from .domain.language import parse_lang
from .domain.schedules import Schedules


def _z(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def oncall_rows(
    schedules: Schedules,
    at: datetime,
    *,
    language: str | None = None,
    skill: str | None = None,
    tier: int | None = None,
) -> list[dict[str, object]]:
    """Teams on shift at `at`, by tier then id, with the occurrence in UTC and local time."""
    lang = parse_lang(language, "language") if language else None
    index = schedules.index_around(at, days_before=2, days_after=1)
    rows: list[dict[str, object]] = []
    for team, shift in on_call(schedules.teams, index, at, language=lang, skill=skill, tier=tier):
        rows.append(
            {
                "team": team.id,
                "name": team.name,
                "region": team.region,
                "tier": team.tier,
                "timezone": team.spec.timezone,
                "languages": list(team.spec.languages),
                "skills": list(team.spec.skills),
                "start": _z(shift.start),
                "end": _z(shift.end),
                "local_start": shift.start.astimezone(team.zone).isoformat(),
                "local_end": shift.end.astimezone(team.zone).isoformat(),
            }
        )
    return rows
