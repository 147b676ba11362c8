"""Messages as sent, and the dead letters operations can see and replay."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery

from ..delivery import DeadLetter, Delivered, dead_letters, render_message, replay, sent_updates
from ..domain.handover import Outbox
from ..domain.language import parse_lang
from .auth import allow
from .deps import case_for, context
from .problems import NotFound


class OutboxController(Controller):
    path = "/v1"
    tags = ["outbox"]

    @get(
        "/cases/{case_id:str}/updates",
        opt=allow("ops", "viewer", "agent"),
        operation_id="caseUpdates",
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
        await case_for(ctx.svc, case_id, ctx.who)
        sent = await sent_updates(ctx.svc.redis, ctx.svc.keys, case_id)
        if locale is None:
            return sent
        parse_lang(locale, "locale")
        catalogs = request.app.state.catalogs
        return [
            render_message(
                catalogs,
                Outbox(
                    key=d.key,
                    audience="customer",
                    event=d.event,
                    case=d.case,
                    at=d.at,
                    team=d.team,
                    locale=d.locale,
                    timezone=d.timezone,
                    params=d.params,
                ),
                status_url=d.status_url,
                locale=locale,
            )
            for d in sent
        ]

    @get("/outbox/dead", opt=allow("ops"), operation_id="deadLetters")
    async def dead(
        self,
        request: Request[Any, Any, Any],
    ) -> list[DeadLetter]:
        ctx = context(request)
        return await dead_letters(ctx.svc.redis, ctx.svc.keys)

    @post(
        "/outbox/{letter_id:str}/replay",
        opt=allow("ops"),
        operation_id="replayDeadLetter",
        status_code=202,
        sync_to_thread=True,
    )
    def replay(
        self,
        letter_id: FromPath[str],
        request: Request[Any, Any, Any],
    ) -> dict[str, str]:
        ctx = context(request)
        settings = request.app.state.settings
        if not replay(
            ctx.svc.keys, ctx.svc.url, letter_id, settings.webhook_secret or settings.secret
        ):
            raise NotFound("dead letter", letter_id)
        return {"status": "queued", "id": letter_id}
