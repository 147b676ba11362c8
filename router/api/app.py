"""The app factory: settings in, Litestar app out. No global state, so tests build their own."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from litestar import Litestar, MediaType, Response, get
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from litestar.template.config import TemplateConfig
from redis.asyncio import Redis

from ..i18n import Catalogs
from ..schedule_files import read_policy
from ..service import Service
from ..settings import Settings
from ..status_links import status_url
from ..store import connect
from ..web.console import Console
from ..web.status import TEMPLATES, StatusPage
from .auth import jwt_auth
from .cases import CaseController, IntakeController
from .outbox import OutboxController
from .problems import HANDLERS, problem
from .questions import QuestionController
from .teams import TeamController

MAX_BODY = 256 * 1024


@get("/healthz", include_in_schema=False, sync_to_thread=False)
def healthz() -> dict[str, str]:
    """The process is up (no dependency checked)."""
    return {"status": "ok"}


@get("/readyz", include_in_schema=False)
async def readyz(state: State) -> Response[dict[str, str]]:
    """The store answers: this process can take traffic."""
    try:
        await state.service.redis.ping()
    except Exception as err:
        return problem(503, "Store unreachable", type(err).__name__)  # type: ignore[return-value]
    return Response({"status": "ready"})


class Metrics(PrometheusController):
    path = "/metrics"


def create_app(
    settings: Settings, *, clock: Callable[[], datetime] | None = None, redis: Redis | None = None
) -> Litestar:
    if not settings.secret:
        raise ValueError("FOLLOWSUN_SECRET must be set: it signs every token")
    if redis is None and not settings.redis_url:
        raise ValueError("REDIS_URL is not set (followsun serve/up starts an embedded server)")
    policy = read_policy(settings.schedules)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        client = redis or connect(settings.redis_url or "")
        service = Service(client, policy, prefix=settings.key_prefix, url=settings.redis_url or "")
        service.status_link = lambda case: status_url(
            settings, case.id, case.escalation.customer.locale, case.created_at
        )
        app.state.service = service
        gc.freeze()  # start-up objects (catalogs, schedules) need no more collecting
        # A request's objects live across its awaits, so a few dozen requests in flight
        # pass the default 700 allocations: every collection then scanned them, promoted
        # them and sent them on to full collections, about 25 us per intake for no
        # garbage found. At 5,000 (32 intakes in flight stay under it) that stops, and a
        # collection, when one comes, still pauses the loop for only a millisecond or so.
        gc.set_threshold(5_000, 10, 10)
        try:
            yield
        finally:
            if redis is None:
                await client.aclose()

    auth = jwt_auth(settings.secret)
    catalogs = Catalogs()
    return Litestar(
        route_handlers=[
            StatusPage,
            Console,
            OutboxController,
            IntakeController,
            CaseController,
            TeamController,
            QuestionController,
            healthz,
            readyz,
            Metrics,
        ],
        on_app_init=[auth.on_app_init],
        lifespan=[lifespan],
        state=State(
            {
                "clock": clock or (lambda: datetime.now(UTC)),
                "catalogs": catalogs,
                "secret": settings.secret,
                "settings": settings,
            }
        ),
        template_config=TemplateConfig(directory=TEMPLATES, engine=JinjaTemplateEngine),
        exception_handlers=HANDLERS,
        middleware=[
            PrometheusConfig(app_name="followsun", prefix="followsun", group_path=True).middleware
        ],
        openapi_config=OpenAPIConfig(title="followsun", version="1", path="/schema"),
        request_max_body_size=MAX_BODY,
        debug=False,
    )


__all__ = ["MediaType", "create_app"]
