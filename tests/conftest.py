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


# -- a real Redis/Valkey ---------------------------------------------------------------------

import os  # noqa: E402
import uuid  # noqa: E402
from collections.abc import AsyncIterator, Iterator  # noqa: E402

import redis as redis_sync  # noqa: E402


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """REDIS_URL, else the machine's server on 127.0.0.1:6379, else a private embedded Valkey."""
    candidates = [os.environ.get("REDIS_URL") or "", "redis://127.0.0.1:6379/0"]
    for url in filter(None, candidates):
        try:
            redis_sync.Redis.from_url(url, socket_connect_timeout=1).ping()
        except redis_sync.RedisError:
            continue
        yield url
        return
    from router.store.server import EmbeddedValkey

    server = EmbeddedValkey(tmp_path_factory.mktemp("valkey"))
    yield server.start(announce=False)
    server.stop()


@pytest.fixture
def key_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    yield prefix
    client = redis_sync.Redis.from_url(redis_url)
    keys = list(client.scan_iter(f"{prefix}:*", count=1000))
    keys += list(client.scan_iter(f"rq:*{prefix}*", count=1000))  # its RQ queue and jobs
    if keys:
        client.delete(*keys)
    client.close()


class Clock:
    """A clock the test moves by hand; the app reads `now` only from here."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        from datetime import timedelta

        self.now += timedelta(**delta)
        return self.now


# Monday 2026-11-23 09:00 UTC: Amsterdam, Berlin, Dublin ... are on shift.
API_NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SECRET = "test-secret-" + "x" * 32


@pytest.fixture
def clock() -> Clock:
    return Clock(API_NOW)


@pytest.fixture
async def api(redis_url: str, key_prefix: str, clock: Clock) -> AsyncIterator[Any]:
    """An AsyncTestClient over the real app and a real Redis, with the repo's teams loaded."""
    from litestar.testing import AsyncTestClient
    from redis.asyncio import Redis

    from router.app import create_app
    from router.schedule_files import read_team_specs
    from router.settings import Settings
    from router.store import Keys, TeamStore

    settings = Settings(
        redis_url=redis_url, key_prefix=key_prefix, secret=SECRET, schedules=SCHEDULES
    )
    seed = Redis.from_url(redis_url)
    await TeamStore(seed, Keys(key_prefix)).load(read_team_specs(SCHEDULES), by="test", at=API_NOW)
    await seed.aclose()
    app = create_app(settings, clock=clock)
    async with AsyncTestClient(app=app) as client:
        yield client


def token(role: str, team: str | None = None) -> dict[str, str]:
    """Authorization header for a role (agents need a team)."""
    from router.http.auth import make_token

    return {"Authorization": f"Bearer {make_token(SECRET, role, team)}"}
