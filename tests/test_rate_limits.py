"""Rate limits per API key and per client address, counted in the real Redis so that two
instances of the app (two web processes) share one window: RateLimit-* headers on every
limited answer, 429 problem+json with Retry-After past the limit, probes never limited."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from conftest import SCHEDULES, SECRET
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from router.app import create_app
from router.domain.errors import InputError
from router.http.ratelimit import Clients, parse_limit
from router.services.apikeys import ApiKeyService
from router.settings import Settings
from router.store import Keys
from router.store.tokens import ApiKeyStore

PROBLEM = "application/problem+json"
Apps = Callable[..., Any]


@pytest.fixture
async def apps(redis_url: str, key_prefix: str) -> AsyncIterator[Apps]:
    """`await apps(n, **limits)`: n instances of the app on the test's store, these limits."""
    async with AsyncExitStack() as stack:

        async def build(n: int = 2, **limits: str) -> list[AsyncTestClient[Any]]:
            settings = Settings(
                redis_url=redis_url,
                key_prefix=key_prefix,
                secret=SECRET,
                schedules=SCHEDULES,
                **limits,
            )
            return [
                await stack.enter_async_context(AsyncTestClient(app=create_app(settings)))
                for _ in range(n)
            ]

        yield build


@pytest.fixture
async def keys(redis_url: str, key_prefix: str) -> AsyncIterator[Callable[..., Any]]:
    """`await key(role)`: the Authorization header of a freshly issued key."""
    redis = Redis.from_url(redis_url)
    service = ApiKeyService(ApiKeyStore(redis, Keys(key_prefix)), SECRET)

    async def key(role: str, **kw: Any) -> dict[str, str]:
        _, token = await service.issue(
            role=role, ttl=timedelta(hours=1), by="test", now=datetime.now(UTC), **kw
        )
        return {"Authorization": f"Bearer {token}"}

    yield key
    await redis.aclose()


def too_many(response: Any, limit: int) -> None:
    """A 429 problem+json with the rate-limit headers and a Retry-After within the window."""
    assert response.status_code == 429, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert (body["status"], body["title"], body["limit"]) == (429, "Too many requests", limit)
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert response.headers["ratelimit-limit"] == str(limit)
    assert response.headers["ratelimit-remaining"] == "0"
    assert 1 <= int(response.headers["ratelimit-reset"]) <= 60


async def test_two_processes_share_one_keys_window(apps, keys) -> None:
    """Requests of one key through either instance count against the same window."""
    a, b = await apps(rate_limit="5/minute")
    ops, other = await keys("ops"), await keys("ops")
    remaining = []
    for n in range(5):
        answer = await (a, b)[n % 2].get("/v1/teams", headers=ops)
        assert answer.status_code == 200, answer.text
        assert answer.headers["ratelimit-policy"] == "5;w=60"
        remaining.append(answer.headers["ratelimit-remaining"])
    assert remaining == ["4", "3", "2", "1", "0"]
    too_many(await b.get("/v1/teams", headers=ops), 5)
    too_many(await a.get("/v1/teams", headers=ops), 5)
    assert (await a.get("/v1/teams", headers=other)).status_code == 200  # a key of its own


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def web_processes(n: int, redis_url: str, prefix: str, **env: str) -> Iterator[list[str]]:
    """n real `followsun serve` processes on one store and key prefix: their base URLs."""
    environ = {
        **os.environ,
        "REDIS_URL": redis_url,
        "FOLLOWSUN_KEY_PREFIX": prefix,
        "FOLLOWSUN_SECRET": SECRET,
        "FOLLOWSUN_SCHEDULES": str(SCHEDULES),
        **env,
    }
    ports = [free_port() for _ in range(n)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "router.cli", "serve", "--port", str(port)],
            env=environ,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    try:
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        for base, proc in zip(bases, procs, strict=True):
            for _ in range(150):
                assert proc.poll() is None, f"{base} exited with {proc.returncode}"
                try:
                    if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
        yield bases
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=10)


async def test_concurrent_requests_through_two_processes_are_counted_exactly(
    redis_url: str, key_prefix: str, keys
) -> None:
    """80 requests at once, half through each of two web processes, under a limit of 40:
    exactly 40 pass. (Counting by reading the window and writing it back, as Litestar's
    own middleware does, lets more through when both processes read the same count.)"""
    ops = await keys("ops")
    with web_processes(2, redis_url, key_prefix, FOLLOWSUN_RATE_LIMIT="40/minute") as bases:
        async with httpx.AsyncClient(headers=ops, timeout=30) as client:
            answers = await asyncio.gather(
                *(client.get(f"{base}/v1/teams") for _ in range(40) for base in bases)
            )
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [200] * 40 + [429] * 40
    refused = next(r for r in answers if r.status_code == 429)
    too_many(refused, 40)


async def test_clients_without_a_key_are_limited_by_address_and_probes_never(apps) -> None:
    """Pages without a key count per client address; /healthz, /readyz, /metrics and the
    style sheets are never limited (and carry no rate-limit headers)."""
    a, b = await apps(rate_limit_anonymous="3/minute")
    for client in (a, b, a):
        assert (await client.get("/console/login")).status_code == 200
    too_many(await b.get("/console/login"), 3)
    for _ in range(5):
        for path in ("/healthz", "/readyz", "/metrics", "/static/console.css"):
            answer = await a.get(path)
            assert answer.status_code == 200
            assert "ratelimit-limit" not in answer.headers


async def test_intake_keys_and_helpdesk_senders_have_the_intake_limit(apps, keys) -> None:
    """Intake keys, and helpdesk webhooks by sender, count against the intake limit, not the
    general one; every other key keeps the general limit."""
    (a,) = await apps(1, rate_limit="2/minute", rate_limit_intake="4/minute")
    intake, ops = await keys("intake"), await keys("ops")
    for _ in range(4):
        assert (await a.get("/v1/teams", headers=intake)).status_code == 200
    too_many(await a.get("/v1/teams", headers=intake), 4)
    for _ in range(2):
        assert (await a.get("/v1/teams", headers=ops)).status_code == 200
    too_many(await a.get("/v1/teams", headers=ops), 2)
    for _ in range(4):  # unsigned: refused by the handler, but counted first
        answer = await a.post("/v1/intake/jsm", json={})
        assert answer.status_code == 401
        assert answer.headers["ratelimit-limit"] == "4"
    too_many(await a.post("/v1/intake/jsm", json={}), 4)


async def test_the_signed_in_console_counts_against_its_key(apps, keys) -> None:
    """A console user is counted by the key its cookie holds, not with every other user
    behind the same address."""
    (a,) = await apps(1, rate_limit="3/minute", rate_limit_anonymous="1/minute")
    ops = (await keys("ops"))["Authorization"].removeprefix("Bearer ")
    a.cookies.set("fs_token", ops, path="/console")
    for _ in range(3):
        answer = await a.get("/console/teams")
        assert answer.status_code == 200
        assert answer.headers["ratelimit-limit"] == "3"
    too_many(await a.get("/console/teams"), 3)


async def test_limits_set_off_count_nothing_and_revoked_keys_are_still_refused(apps, keys) -> None:
    """FOLLOWSUN_RATE_LIMIT*=off: no limit and no headers; the revocation check (made in
    the same store call as the count) still refuses a revoked key."""
    off = {"rate_limit": "off", "rate_limit_intake": "off", "rate_limit_anonymous": "off"}
    (a,) = await apps(1, **off)
    ops, doomed = await keys("ops"), await keys("viewer")
    for _ in range(3):
        answer = await a.get("/v1/teams", headers=ops)
        assert answer.status_code == 200
        assert "ratelimit-limit" not in answer.headers
    assert (await a.get("/v1/teams", headers=doomed)).status_code == 200
    (listed,) = [k for k in (await a.get("/v1/keys", headers=ops)).json() if k["role"] == "viewer"]
    assert (await a.delete(f"/v1/keys/{listed['id']}", headers=ops)).status_code == 200
    answer = await a.get("/v1/teams", headers=doomed)
    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith(PROBLEM)
    assert answer.json()["detail"] == f"key {listed['id']} has been revoked"


def test_limits_are_read_as_count_per_unit() -> None:
    """ "600/minute" is (minute, 600); "off" is none; anything else names the variable."""
    assert parse_limit("600/minute", "FOLLOWSUN_RATE_LIMIT") == ("minute", 600)
    assert parse_limit(" 10/Second ", "X") == ("second", 10)
    assert parse_limit("off", "X") is None
    for bad in ("600", "0/minute", "ten/minute", "5/week", "-1/day"):
        with pytest.raises(InputError) as err:
            parse_limit(bad, "FOLLOWSUN_RATE_LIMIT_INTAKE")
        assert err.value.field == "FOLLOWSUN_RATE_LIMIT_INTAKE"


def test_a_bad_limit_stops_the_app_from_starting(redis_url: str) -> None:
    settings = Settings(redis_url=redis_url, secret=SECRET, rate_limit_anonymous="lots")
    with pytest.raises(InputError) as err:
        create_app(settings)
    assert err.value.field == "FOLLOWSUN_RATE_LIMIT_ANONYMOUS"
    with pytest.raises(InputError) as err:
        create_app(Settings(redis_url=redis_url, secret=SECRET, trusted_proxies="10.0.0.0/33"))
    assert err.value.field == "FOLLOWSUN_TRUSTED_PROXIES"


def scope(peer: str, forwarded: str | None = None) -> dict[str, Any]:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return {"type": "http", "client": (peer, 4711), "headers": headers}


def test_forwarded_for_is_believed_from_trusted_proxies_only() -> None:
    """Behind a trusted proxy the client is the right-most untrusted X-Forwarded-For hop
    (what a client writes itself sits left of it); from anyone else the header is ignored."""
    clients = Clients("10.0.0.0/8, 192.168.1.7")
    assert clients.address(scope("10.1.2.3", "203.0.113.9")) == "203.0.113.9"
    assert clients.address(scope("10.1.2.3", "6.6.6.6, 203.0.113.9, 192.168.1.7")) == (
        "203.0.113.9"
    )
    assert clients.address(scope("198.51.100.4", "203.0.113.9")) == "198.51.100.4"
    assert clients.address(scope("10.1.2.3")) == "10.1.2.3"
    assert clients.address(scope("10.1.2.3", "10.9.9.9")) == "10.9.9.9"  # all trusted
    assert Clients("").address(scope("10.1.2.3", "203.0.113.9")) == "10.1.2.3"
