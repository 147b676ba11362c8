"""The API fuzzed by schemathesis from its own OpenAPI document (/schema/openapi.json), with
each role's token, against a real `followsun serve` process and a real Redis.

Every answer must be documented: no 5xx, the status code listed for the operation, the
content type and the body matching the schema (problem+json for the errors). Path
parameters are drawn half the time from cases and teams that exist, so the fuzz reaches
the handlers' work and not only their 404s. Bounded, a few examples per operation, and
derandomized: the same examples on every run, so a finding comes from a change to the code
or the schema, never from the draw."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import hypothesis
import pytest
import schemathesis
from conftest import SCHEDULES, SECRET
from served import running_server

from router.app import create_app
from router.http.auth import make_token
from router.settings import Settings

# Ops, who may call every operation, get the full run: the coverage phase's boundary values
# for every parameter and body, then random examples. The other roles (an agent of one
# team, intake, viewer), refused much with a 403 before any body is read, get random
# examples only.
ACTING = [("ops", None)]
OTHERS = [("agent", "ams-l1"), ("intake", None), ("viewer", None)]
TEAMS = ["ams-l1", "ber-l1", "nyc-l1", "emea-l2"]
EXAMPLES = {"full": 6, "light": 3}


def _seed(base: str) -> list[str]:
    """A few real cases (open, acknowledged, resolved) to aim the path parameters at."""
    intake = {"Authorization": f"Bearer {make_token(SECRET, 'intake')}"}
    ops = {"Authorization": f"Bearer {make_token(SECRET, 'ops')}"}
    ids = []
    with httpx.Client(base_url=base, timeout=10) as client:
        for n, locale in enumerate(["nl-NL", "de-DE", "en-US", "en-GB"]):
            body = {
                "source": "zendesk",
                "external_id": f"fuzz-{n}",
                "impact": "high",
                "urgency": "high" if n % 2 else "medium",
                "skill": "billing",
                "customer": {"id": f"c{n}", "locale": locale, "accepts": ["en"]},
            }
            made = client.post("/v1/escalations", json=body, headers=intake)
            assert made.status_code == 201, made.text
            ids.append(made.json()["id"])
        client.post(f"/v1/cases/{ids[1]}/ack", headers=ops)
        client.post(f"/v1/cases/{ids[2]}/resolve", json={"resolution": "done"}, headers=ops)
    return ids


def _document() -> dict[str, Any]:
    """The OpenAPI document as the app generates it (no store needed to build it)."""
    settings = Settings(redis_url="redis://127.0.0.1:1/0", secret=SECRET, schedules=SCHEDULES)
    return create_app(settings).openapi_schema.to_schema()


DOCUMENT = _document()
SEEDED: dict[str, list[str]] = {"case_id": [], "team_id": TEAMS}


def map_path_parameters(context: Any, path_parameters: dict[str, Any]) -> dict[str, Any]:
    """Half the generated ids replaced by real ones, chosen by the generated value (so an
    example still shrinks and replays the same)."""
    if not path_parameters:
        return path_parameters
    out = dict(path_parameters)
    for name, pool in SEEDED.items():
        value = out.get(name)
        if isinstance(value, str) and pool:
            digest = hashlib.sha256(value.encode()).digest()
            if digest[0] % 2 == 0:
                out[name] = pool[digest[1] % len(pool)]
    return out


def _schema(tier: str) -> Any:
    loaded = schemathesis.openapi.from_dict(DOCUMENT)
    # Unknown query parameters are ignored, as HTTP APIs do (a cache buster, a tracking tag):
    # the fuzz does not count sending one as invalid data the API should have refused.
    # The role's token is sent as given, never generated: a mutated Authorization would make
    # an example "invalid" when what reaches the API is the real token. `deterministic`
    # draws the same examples on every run.
    loaded.config.generation.update(
        max_examples=EXAMPLES[tier],
        database="none",
        allow_extra_parameters=False,
        with_security_parameters=False,
        deterministic=True,
    )
    loaded.config.phases.coverage.enabled = tier == "full"
    # A request the schema allows may still be refused: the schema states types and bounds,
    # the domain checks more (time zones, BCP 47 tags, a schedule's shifts: 400/422 naming
    # the field), and a write needs the ETag it edits (If-Match: 412 stale, 428 missing).
    acceptance = loaded.config.checks.positive_data_acceptance
    acceptance.expected_statuses += ["400", "412", "422", "428"]
    loaded.hook(map_path_parameters)
    return loaded


full, light = _schema("full"), _schema("light")


@pytest.fixture(scope="module")
def base(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A served instance on loopback with a few cases to aim at."""
    logs = tmp_path_factory.mktemp("fuzz")
    with ExitStack() as stack:
        with pytest.MonkeyPatch.context() as env:  # the server reads it as it starts
            for name in ("RATE_LIMIT", "RATE_LIMIT_INTAKE", "RATE_LIMIT_ANONYMOUS"):
                env.setenv(f"FOLLOWSUN_{name}", "off")  # the fuzz is one client sending fast
            server = stack.enter_context(running_server(redis_url, logs, "fuzz"))
        SEEDED["case_id"] = _seed(server.base)
        yield server.base


def _bearer(request: pytest.FixtureRequest) -> dict[str, str]:
    role, team = request.param
    return {"Authorization": f"Bearer {make_token(SECRET, role, team)}"}


acting = pytest.fixture(scope="module", params=ACTING, ids=[r for r, _ in ACTING])(_bearer)
others = pytest.fixture(scope="module", params=OTHERS, ids=[r for r, _ in OTHERS])(_bearer)


def test_the_served_document_is_the_one_fuzzed(base: str) -> None:
    served = httpx.get(f"{base}/schema/openapi.json", timeout=10)
    assert served.status_code == 200
    assert served.json() == DOCUMENT


@full.parametrize()
@hypothesis.settings(max_examples=EXAMPLES["full"], deadline=None, derandomize=True)
def test_api_answers_as_documented(case: Any, base: str, acting: dict[str, str]) -> None:
    case.call_and_validate(base_url=base, headers=acting)


@light.parametrize()
@hypothesis.settings(max_examples=EXAMPLES["light"], deadline=None, derandomize=True)
def test_api_answers_other_roles_as_documented(
    case: Any, base: str, others: dict[str, str]
) -> None:
    case.call_and_validate(base_url=base, headers=others)
