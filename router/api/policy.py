"""The policy over HTTP: read it with its ETag, replace it with If-Match, audit it.

The body is the Policy document as JSON, the shape of policy.toml (durations ISO 8601).
Before any policy is stored, GET answers the one this process runs on (its
schedules/policy.toml) with ETag "0"; a PUT with If-Match: "0" (or If-None-Match: *)
stores the first version, and fails as stale (412) once one is stored.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, put
from litestar.params import JSONBody

from ..domain.model import Policy
from ..http.auth import ROLES, allow
from ..http.context import context
from ..http.preconditions import etag, expected_version
from ..http.problems import errors_of
from ..store import PolicyRevision


class PolicyController(Controller):
    path = "/v1/policy"
    tags = ["policy"]

    @get("/", opt=allow(*ROLES), operation_id="getPolicy", responses=errors_of())
    async def get_policy(self, request: Request[Any, Any, Any]) -> Response[Policy]:
        ctx = context(request)
        version, policy = await ctx.services.policy.current()
        return Response(policy, headers={"ETag": etag(version)})

    @put(
        "/",
        opt=allow("ops"),
        operation_id="putPolicy",
        responses=errors_of(412, 413, 422, 428),
        status_code=200,
    )
    async def put_policy(
        self, data: JSONBody[Policy], request: Request[Any, Any, Any]
    ) -> Response[Policy]:
        ctx = context(request)
        stored = await ctx.services.policy.store.get()
        expected = expected_version(request, stored is not None, "policy", zero=True)
        version = await ctx.services.policy.save(
            data, expected=expected, by=ctx.caller.sub, now=ctx.now
        )
        return Response(data, headers={"ETag": etag(version)})

    @get(
        "/revisions",
        opt=allow("ops", "viewer"),
        operation_id="policyRevisions",
        responses=errors_of(),
    )
    async def revisions(self, request: Request[Any, Any, Any]) -> list[PolicyRevision]:
        """Every stored version, oldest first (empty while the file's policy is in force)."""
        return await context(request).services.policy.revisions()
