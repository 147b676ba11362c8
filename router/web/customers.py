"""The console's customers page (ops only): look a customer up by id, download all that is
stored about them as JSON, erase it after typing the id again. The same service calls as
`GET /v1/customers/{id}/export` and `DELETE /v1/customers/{id}` (router.api.customers)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import msgspec
from litestar import Request, Response, get, post
from litestar.response import Redirect, Template

from ..domain.errors import NotFound
from ..http.context import Context, context
from .console import ConsoleController, local, page, require, zone_key

__all__ = ["CustomersPage"]

_OPS = ("ops",)
_WHY = "Only operations staff look up, export or erase a customer's data."
_PAGE = "console/customers.html.j2"


async def _lookup(
    request: Request[Any, Any, Any],
    ctx: Context,
    customer_id: str,
    *,
    status_code: int = 200,
    error: str = "",
    done: str = "",
) -> Template:
    """The page, with the customer's cases when there are any."""
    cases = []
    if customer_id:
        try:
            found = await ctx.services.customers.export(customer_id, now=ctx.now)
            cases = [c.case for c in found.cases]
        except NotFound:
            cases = []
    key = zone_key(request)
    return page(
        request,
        _PAGE,
        ctx.caller,
        status_code=status_code,
        customer_id=customer_id,
        cases=cases,
        local=lambda v: local(v, key),
        error=error,
        done=done,
    )


class CustomersPage(ConsoleController):
    @get("/customers")
    async def customers(self, request: Request[Any, Any, Any]) -> Template:
        ctx = context(request)
        require(ctx, _OPS, _WHY)
        customer_id = (request.query_params.get("id") or "").strip()
        return await _lookup(request, ctx, customer_id, done=request.query_params.get("done", ""))

    @get("/customers/export")
    async def export(self, request: Request[Any, Any, Any]) -> Response[bytes] | Template:
        """All of it as a JSON download."""
        ctx = context(request)
        require(ctx, _OPS, _WHY)
        customer_id = (request.query_params.get("id") or "").strip()
        try:
            found = await ctx.services.customers.export(customer_id, now=ctx.now)
        except NotFound:
            error = f"Nothing is stored about customer {customer_id}."
            return await _lookup(request, ctx, customer_id, status_code=404, error=error)
        return Response(
            msgspec.json.encode(found),
            media_type="application/json",
            headers={
                "Content-Disposition": 'attachment; filename="customer-export.json"',
                "Cache-Control": "no-store",
            },
        )

    @post("/customers/erase", status_code=303)
    async def erase(self, request: Request[Any, Any, Any]) -> Redirect | Template:
        """Erase once the id is typed a second time, exactly."""
        ctx = context(request)
        user = require(ctx, _OPS, _WHY)
        form = await request.form()
        customer_id = str(form.get("id") or "").strip()
        confirm = str(form.get("confirm") or "").strip()
        if not customer_id or confirm != customer_id:
            error = "Type the customer id again, exactly, to confirm the erasure."
            return await _lookup(request, ctx, customer_id, status_code=400, error=error)
        try:
            erased = await ctx.services.customers.erase(customer_id, now=ctx.now, actor=user.sub)
        except NotFound:
            error = f"Nothing is stored about customer {customer_id}: nothing to erase."
            return await _lookup(request, ctx, customer_id, status_code=404, error=error)
        done = quote(f"erased: {len(erased.cases)} case(s) anonymised")
        return Redirect(f"/console/customers?id={quote(customer_id)}&done={done}", status_code=303)
