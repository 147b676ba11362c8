"""Helpdesk webhooks: Zendesk, Freshdesk and Jira Service Management post tickets here.

They carry no bearer token: each request is verified (`router.http.signatures`) on its
raw bytes before anything else, then read as `{"ticket": {...}}` and taken in like
POST /v1/escalations (201, then 200 with the same case for the same ticket). README
"Helpdesk intake" has the trigger bodies to paste into each helpdesk.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, post
from litestar.openapi.datastructures import ResponseSpec

from ..domain.errors import BadTicket, InputError
from ..domain.intake import Ticket, TicketBody
from ..domain.model import IntakeSource
from ..http import metrics
from ..http.auth import signed_not_bearer
from ..http.context import Context, context
from ..http.problems import errors_of, field_of
from ..http.signatures import (
    SECRET_HEADER,
    ZENDESK_SIGNATURE,
    ZENDESK_TIMESTAMP,
    check_shared_secret,
    check_zendesk,
)
from .cases import CaseView, view

_BODY = msgspec.json.Decoder(TicketBody)
HOOK_ANSWERS = {
    200: ResponseSpec(CaseView, description="The case this ticket already opened"),
    **errors_of(413, 422),
}


def _ticket(raw: bytes) -> Ticket:
    """The body as a ticket; BadTicket (422) naming the field otherwise (`ticket.requester.id`)."""
    try:
        return _BODY.decode(raw).ticket
    except msgspec.ValidationError as err:
        raise BadTicket(*field_of(str(err))) from None
    except msgspec.DecodeError as err:
        raise BadTicket("body", f"a JSON object is required ({err})") from None


async def _take(ctx: Context, source: IntakeSource, raw: bytes) -> Response[CaseView]:
    try:
        case, created = await ctx.services.helpdesks.intake(source, _ticket(raw), ctx.now)
    except BadTicket:
        raise
    except InputError as err:  # the ticket's values, as the policy maps them
        raise BadTicket(err.field, err.reason) from None
    if created:
        metrics.escalation(case.decision)
    return Response(view(ctx.services, case), status_code=201 if created else 200)


class HelpdeskController(Controller):
    path = "/v1/intake"
    tags = ["intake"]

    @post(
        "/zendesk",
        opt=signed_not_bearer(),
        operation_id="intakeZendesk",
        responses=HOOK_ANSWERS,
        status_code=201,
    )
    async def zendesk(self, request: Request[Any, Any, Any]) -> Response[CaseView]:
        """A Zendesk trigger's webhook, signed with the webhook's signing secret."""
        ctx, raw = context(request), await request.body()
        check_zendesk(
            ctx.services.helpdesks.secret("zendesk"),
            request.headers.get(ZENDESK_SIGNATURE),
            request.headers.get(ZENDESK_TIMESTAMP),
            raw,
            ctx.now,
        )
        return await _take(ctx, "zendesk", raw)

    @post(
        "/freshdesk",
        opt=signed_not_bearer(),
        operation_id="intakeFreshdesk",
        responses=HOOK_ANSWERS,
        status_code=201,
    )
    async def freshdesk(self, request: Request[Any, Any, Any]) -> Response[CaseView]:
        """A Freshdesk automation's Trigger Webhook, with X-Followsun-Intake-Secret."""
        return await self._shared(request, "freshdesk")

    @post(
        "/jsm",
        opt=signed_not_bearer(),
        operation_id="intakeJsm",
        responses=HOOK_ANSWERS,
        status_code=201,
    )
    async def jsm(self, request: Request[Any, Any, Any]) -> Response[CaseView]:
        """A Jira Service Management automation's Send web request, with
        X-Followsun-Intake-Secret."""
        return await self._shared(request, "jsm")

    async def _shared(
        self, request: Request[Any, Any, Any], source: IntakeSource
    ) -> Response[CaseView]:
        ctx, raw = context(request), await request.body()
        secret = ctx.services.helpdesks.secret(source)
        check_shared_secret(source, secret, request.headers.get(SECRET_HEADER))
        return await _take(ctx, source, raw)
