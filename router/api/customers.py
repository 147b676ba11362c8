"""A customer's personal data for operations: everything stored about them as JSON, and
its erasure (README "Personal data"). Ops only: both answer about every case of the
customer, across teams."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, delete, get
from litestar.params import FromPath

from ..http.auth import allow
from ..http.context import context
from ..http.problems import errors_of
from ..services.customers import CustomerExport, Erasure

__all__ = ["CustomerController"]


class CustomerController(Controller):
    path = "/v1/customers"
    tags = ["customers"]

    @get(
        "/{customer_id:str}/export",
        opt=allow("ops"),
        operation_id="exportCustomer",
        responses=errors_of(404),
    )
    async def export(
        self, customer_id: FromPath[str], request: Request[Any, Any, Any]
    ) -> Response[CustomerExport]:
        """Every case of the customer with its events, handover packets, messages, updates
        as sent, dead letters and report facts; 404 when nothing is held about them."""
        ctx = context(request)
        found = await ctx.services.customers.export(customer_id, now=ctx.now)
        return Response(found, headers={"Cache-Control": "no-store"})

    @delete(
        "/{customer_id:str}",
        opt=allow("ops"),
        operation_id="eraseCustomer",
        responses=errors_of(404),
        status_code=200,
    )
    async def erase(self, customer_id: FromPath[str], request: Request[Any, Any, Any]) -> Erasure:
        """Remove the customer's personal data everywhere it is stored; their status links
        answer 410 from now on. 404 when nothing is held about them (erased already)."""
        ctx = context(request)
        return await ctx.services.customers.erase(customer_id, now=ctx.now, actor=ctx.caller.sub)
