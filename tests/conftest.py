"""Shared fixtures: the repository's real schedules and a builder for teams in tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest

from router.domain.model import Policy, Team, TeamSpec
from router.domain.schedules import Schedules
from router.domain.validation import decode_policy, team_from_spec
from router.schedule_files import read_schedules

ROOT = Path(__file__).resolve().parent.parent
SCHEDULES = ROOT / "schedules"
# A fixed "now" for tests that use the repository's schedules (a Monday, northern winter).
NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def repo_schedules() -> Schedules:
    return read_schedules(SCHEDULES, now=NOW)


@pytest.fixture(scope="session")
def policy() -> Policy:
    return decode_policy((SCHEDULES / "policy.toml").read_bytes())


def build_team(team_id: str = "t1", **fields: Any) -> Team:
    """A validated team from TOML-shaped fields, with defaults for what a test leaves out."""
    data: dict[str, Any] = {
        "name": team_id,
        "timezone": "UTC",
        "tier": 1,
        "languages": ["en"],
        "skills": ["billing"],
        "shifts": [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:00"}],
    }
    data.update(fields)
    spec = msgspec.convert(data, TeamSpec)
    return team_from_spec(team_id, spec, f"teams/{team_id}.toml")


@pytest.fixture
def make_team() -> Callable[..., Team]:
    return build_team
