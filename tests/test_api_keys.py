"""API keys: issued and recorded by `followsun token`, listed, revoked (refused at once by
every web process, console sessions included), limited to a team or to reading; tokens
without a key id refused. Two app instances on one real Redis stand for two processes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conftest import API_NOW, SCHEDULES, SECRET, Clock
from litestar.security.jwt import Token
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from router.app import create_app
from router.cli import main
from router.domain.errors import InputError
from router.schedule_files import read_team_specs
from router.services.apikeys import ApiKeyService
from router.settings import Settings
from router.store import Keys, TeamStore
from router.store.tokens import ApiKeyStore

PROBLEM = "application/problem+json"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def keys(redis_url: str, key_prefix: str) -> AsyncIterator[ApiKeyService]:
    """The key service on the test's store (what `followsun token` uses)."""
    redis = Redis.from_url(redis_url)
    yield ApiKeyService(ApiKeyStore(redis, Keys(key_prefix)), SECRET)
    await redis.aclose()


async def issue(keys: ApiKeyService, role: str, **kw: Any) -> tuple[str, str]:
    """(key id, token) of a freshly recorded key."""
    key, token = await keys.issue(
        role=role, ttl=timedelta(hours=1), by="test", now=datetime.now(UTC), **kw
    )
    return key.id, token


@pytest.fixture
async def two(
    redis_url: str, key_prefix: str, clock: Clock
) -> AsyncIterator[tuple[AsyncTestClient[Any], AsyncTestClient[Any]]]:
    """Two instances of the app over the same store, as two web processes would be."""
    settings = Settings(
        redis_url=redis_url, key_prefix=key_prefix, secret=SECRET, schedules=SCHEDULES
    )
    seed = Redis.from_url(redis_url)
    await TeamStore(seed, Keys(key_prefix)).load(read_team_specs(SCHEDULES), by="test", at=API_NOW)
    await seed.aclose()
    async with (
        AsyncTestClient(app=create_app(settings, clock=clock)) as a,
        AsyncTestClient(app=create_app(settings, clock=clock)) as b,
    ):
        yield a, b


def refused(response: Any, status: int, words: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["status"] == status
    assert words in response.json()["detail"]


async def test_a_revoked_key_is_refused_at_once_by_every_process(two, keys) -> None:
    """Revoked through one instance, the token is refused by the other on its next request."""
    a, b = two
    key_id, token = await issue(keys, "viewer")
    ops_id, ops = await issue(keys, "ops")
    assert (await a.get("/v1/teams", headers=bearer(token))).status_code == 200
    assert (await b.get("/v1/teams", headers=bearer(token))).status_code == 200
    revoked = await a.delete(f"/v1/keys/{key_id}", headers=bearer(ops))
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["status"] == "revoked"
    assert revoked.json()["revoked_by"] == f"ops (key {ops_id})"
    refused(await b.get("/v1/teams", headers=bearer(token)), 401, f"key {key_id} has been revoked")
    refused(await a.get("/v1/teams", headers=bearer(token)), 401, "revoked")
    assert (await b.get("/v1/teams", headers=bearer(ops))).status_code == 200  # others unaffected


async def test_a_token_without_a_key_id_is_refused(two) -> None:
    """A token issued before keys had ids (no jti) cannot be revoked, so it is refused."""
    a, _ = two
    old = Token(
        sub="ops", exp=datetime.now(UTC) + timedelta(hours=1), extras={"role": "ops"}
    ).encode(SECRET, "HS256")
    refused(await a.get("/v1/teams", headers=bearer(old)), 401, "no key id")


async def test_a_read_only_key_reads_and_is_refused_anything_else(two, keys) -> None:
    """GET works; POST and DELETE are refused with 403 naming the read-only key."""
    a, _ = two
    key_id, token = await issue(keys, "ops", read_only=True)
    assert (await a.get("/v1/keys", headers=bearer(token))).status_code == 200
    body = {"source": "x", "skill": "billing", "priority": "P3", "summary": "s"}
    refused(await a.post("/v1/route", json=body, headers=bearer(token)), 403, "read-only")
    answer = await a.delete(f"/v1/keys/{key_id}", headers=bearer(token))
    refused(answer, 403, f"key {key_id} is read-only")
    assert (await keys.store.get(key_id)).revoked_at is None  # nothing was written


async def test_the_keys_api_lists_records_never_tokens_and_is_for_ops(two, keys) -> None:
    """GET /v1/keys: the active keys with their scopes; ?all=true adds revoked ones."""
    a, _ = two
    _, ops = await issue(keys, "ops", label="pager")
    gone, _ = await issue(keys, "agent", team="cph-l1", label="laptop")
    await keys.revoke(gone, by="test", now=datetime.now(UTC))
    listed = await a.get("/v1/keys", headers=bearer(ops))
    assert listed.status_code == 200
    assert [(k["role"], k["label"], k["status"]) for k in listed.json()] == [
        ("ops", "pager", "active")
    ]
    assert ops not in listed.text
    assert "token" not in listed.json()[0]
    everything = (await a.get("/v1/keys?all=true", headers=bearer(ops))).json()
    assert {(k["team"], k["status"]) for k in everything} == {
        (None, "active"),
        ("cph-l1", "revoked"),
    }
    _, viewer = await issue(keys, "viewer")
    refused(await a.get("/v1/keys", headers=bearer(viewer)), 403, "viewer")
    refused(await a.delete("/v1/keys/nope", headers=bearer(ops)), 404, "key nope does not exist")


async def test_scopes_that_do_not_fit_the_role_are_refused(keys) -> None:
    """Agents need a team; only agent and viewer keys can be limited to one."""
    with pytest.raises(InputError) as err:
        await issue(keys, "ops", team="cph-l1")
    assert err.value.field == "team"
    with pytest.raises(InputError) as err:
        await issue(keys, "agent")
    assert err.value.field == "team"
    assert await keys.store.all() == []  # nothing recorded


async def test_a_team_limited_viewer_sees_its_team_only(two, keys) -> None:
    """A viewer key for one team lists and reads that team's cases and no other's, and no
    reports (they cover every team); a viewer key without a team sees everything."""
    a, _ = two
    _, intake = await issue(keys, "intake")
    _, viewer = await issue(keys, "viewer", team="cph-l1")
    _, other = await issue(keys, "viewer", team="ber-l1")
    case = {
        "source": "zendesk",
        "external_id": "scoped-1",
        "priority": "P3",
        "skill": "billing",
        "summary": "Invoice charged twice",
        "customer": {"id": "c-1", "locale": "da-DK", "timezone": "Europe/Copenhagen"},
    }
    created = await a.post("/v1/escalations", json=case, headers=bearer(intake))
    assert created.status_code == 201
    assert created.json()["team"] == "cph-l1"
    case_id = created.json()["id"]
    assert (await a.get(f"/v1/cases/{case_id}", headers=bearer(viewer))).status_code == 200
    mine = (await a.get("/v1/cases", headers=bearer(viewer))).json()
    assert [c["id"] for c in mine["items"]] == [case_id]
    refused(await a.get(f"/v1/cases/{case_id}", headers=bearer(other)), 403, "another team")
    refused(await a.get("/v1/cases?team=cph-l1", headers=bearer(other)), 403, "own team")
    assert (await a.get("/v1/cases", headers=bearer(other))).json()["total"] == 0
    refused(await a.get("/v1/reports", headers=bearer(viewer)), 403, "limited to cph-l1")
    handovers = await a.get("/v1/teams/ber-l1/handovers", headers=bearer(viewer))
    assert handovers.status_code == 403
    _, everyone = await issue(keys, "viewer")
    assert (await a.get("/v1/cases", headers=bearer(everyone))).json()["total"] == 1
    assert (await a.get("/v1/reports", headers=bearer(everyone))).status_code == 200


async def test_revoking_a_key_signs_out_its_console_sessions(two, keys) -> None:
    """The console's cookie carries the token: once its key is revoked, the next page
    sends the browser to sign in, on every instance, and signing in with it fails."""
    a, b = two
    key_id, token = await issue(keys, "ops")
    for client in (a, b):
        client.cookies.set("fs_token", token, path="/console")
        assert (await client.get("/console/teams")).status_code == 200
    await keys.revoke(key_id, by="test", now=datetime.now(UTC))
    for client in (a, b):
        page = await client.get("/console/teams", follow_redirects=False)
        assert page.status_code in (302, 303), page.text
        assert page.headers["location"].startswith("/console/login")


def test_the_command_line_issues_lists_and_revokes(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    redis_url: str,
    key_prefix: str,
) -> None:
    """`followsun token` prints the token and records its key; `list` shows the key (not
    the token); `revoke ID` revokes it; a scope that does not fit exits 2."""
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("FOLLOWSUN_KEY_PREFIX", key_prefix)
    monkeypatch.setenv("FOLLOWSUN_SECRET", SECRET)
    argv = ["token", "--role", "viewer", "--team", "cph-l1", "--read-only", "--label", "wallboard"]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    token = out.strip()
    key_id = err.split()[1]
    assert token.count(".") == 2
    assert "read-only" in err
    assert main(["token", "list", "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert (listed["id"], listed["team"], listed["read_only"]) == (key_id, "cph-l1", True)
    assert (listed["label"], listed["status"]) == ("wallboard", "active")
    assert token not in json.dumps(listed)
    assert main(["token", "revoke", key_id]) == 0
    assert f"revoked key {key_id}" in capsys.readouterr().out
    assert main(["token", "list"]) == 0
    assert key_id not in capsys.readouterr().out  # active keys only
    assert main(["token", "list", "--all"]) == 0
    assert "revoked" in capsys.readouterr().out
    assert main(["token", "--role", "intake", "--team", "cph-l1"]) == 2
    assert "only agent and viewer keys" in capsys.readouterr().err
    assert main(["token", "revoke", "nope"]) == 2


async def test_a_read_only_key_changes_nothing_in_the_console(two, keys) -> None:
    """Signed in with a read-only key, the pages show; a form's POST (with its CSRF token)
    gets the "not allowed" page naming the read-only key."""
    a, _ = two
    key_id, token = await issue(keys, "ops", read_only=True)
    a.cookies.set("fs_token", token, path="/console")
    assert (await a.get("/console/teams")).status_code == 200
    csrf = a.cookies.get("fs_csrf")
    assert csrf
    answer = await a.post(
        "/console/cases/C-NONE/ack",
        data={"_csrf_token": csrf},
        headers={"x-csrftoken": csrf},
        follow_redirects=False,
    )
    assert answer.status_code == 403
    assert f"Key {key_id} is read-only" in answer.text
