"""Messages as sent, and the dead letters operations can see and replay."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery

from ..domain.delivery import DeadLetter, Delivered
from ..domain.errors import NotFound
from ..domain.language import parse_lang
from ..http.auth import allow
from ..http.context import context
from ..http.problems import errors_of
from .cases import case_for


class OutboxController(Controller):
    path = "/v1"
    tags = ["outbox"]

    @get(
        "/cases/{case_id:str}/updates",
        opt=allow("ops", "viewer", "agent"),
        operation_id="caseUpdates",
        responses=errors_of(404),
    )
    async def updates(
        self,
        case_id: FromPath[str],
        request: Request[Any, Any, Any],
        locale: FromQuery[str | None] = None,
    ) -> list[Delivered]:
        """The customer updates as sent; with ?locale= the same updates rendered in another
        language (for an agent who does not read the customer's)."""
        ctx = context(request)
        await case_for(ctx, case_id)
        outbox = ctx.services.outbox
        sent = await outbox.store.sent_updates(case_id)
        if locale is None:
            return sent
        parse_lang(locale, "locale")
        return [outbox.translate(d, locale) for d in sent]

    @get("/outbox/dead", opt=allow("ops"), operation_id="deadLetters", responses=errors_of())
    async def dead(
        self,
        request: Request[Any, Any, Any],
    ) -> list[DeadLetter]:
        ctx = context(request)
        return await ctx.services.outbox.dead_letters()

    @post(
        "/outbox/{letter_id:str}/replay",
        opt=allow("ops"),
        operation_id="replayDeadLetter",
        responses=errors_of(404),
        status_code=202,
        sync_to_thread=True,
    )
    def replay(
        self,
        letter_id: FromPath[str],
        request: Request[Any, Any, Any],
    ) -> dict[str, str]:
        if not context(request).services.outbox.replay(letter_id):
            raise NotFound("dead letter", letter_id)
        return {"status": "queued", "id": letter_id}
