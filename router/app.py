"""The composition of the web process: the API (`router.api`) and the pages
(`router.web`) in one Litestar app, over one process's services. Settings in, app out; no
global state, so tests build their own. `create` is the ASGI server's factory."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from litestar import Litestar, MediaType, Response, get
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from .api.cases import CaseController, IntakeController
from .api.customers import CustomerController
from .api.intake_helpdesks import HelpdeskController
from .api.keys import KeyController
from .api.outbox import OutboxController
from .api.policy import PolicyController
from .api.postmortem import PostmortemController
from .api.questions import QuestionController
from .api.reports import ReportController
from .api.teams import TeamController
from .domain.model import Policy
from .http.auth import jwt_auth
from .http.problems import HANDLERS, problem
from .http.ratelimit import rate_limits
from .http.security import csrf_config, fix_options_allow, security_headers
from .i18n import Catalogs
from .jobs.queues import JobQueue
from .schedule_files import bootstrap_policy
from .settings import Settings
from .store import connect
from .web import CONSOLE_HANDLERS, TEMPLATES, StatusPage
from .web.console import COOKIE
from .wiring import Services

if TYPE_CHECKING:
    from redis.asyncio import Redis

# the console's and status pages' style sheets (no script anywhere: see http.security)
STATIC = create_static_files_router(
    "/static", [TEMPLATES.parent / "static"], include_in_schema=False
)


@get("/healthz", include_in_schema=False, sync_to_thread=False)
def healthz() -> dict[str, str]:
    """The process is up (no dependency checked)."""
    return {"status": "ok"}


@get("/readyz", include_in_schema=False)
async def readyz(state: State) -> Response[dict[str, str]]:
    """The store answers: this process can take traffic."""
    try:
        await state.services.stores.ping()
    except Exception as err:
        return problem(503, "Store unreachable", type(err).__name__)  # type: ignore[return-value]
    return Response({"status": "ready"})


class Metrics(PrometheusController):
    path = "/metrics"
    include_in_schema = False  # Prometheus's scrape format, not part of the API


ROUTE_HANDLERS = [
    StatusPage,
    *CONSOLE_HANDLERS,
    OutboxController,
    IntakeController,
    HelpdeskController,
    CaseController,
    PostmortemController,
    CustomerController,
    ReportController,
    TeamController,
    PolicyController,
    QuestionController,
    KeyController,
    STATIC,
    healthz,
    readyz,
    Metrics,
]


def _lifespan(
    settings: Settings, policy: Policy | None, catalogs: Catalogs, redis: Redis | None
) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    """The process's services for as long as the app runs: one store client, one job queue."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        client = redis or connect(settings.redis_url or "")
        url = settings.redis_url
        jobs = JobQueue.connect(url, settings.key_prefix) if url else None
        app.state.services = services = Services(
            client, settings, policy, jobs=jobs, catalogs=catalogs
        )
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
            services.close()
            if redis is None:
                await client.aclose()

    return lifespan


def create_app(
    settings: Settings, *, clock: Callable[[], datetime] | None = None, redis: Redis | None = None
) -> Litestar:
    if not settings.secret:
        raise ValueError("FOLLOWSUN_SECRET must be set: it signs every token")
    if redis is None and not settings.redis_url:
        raise ValueError("REDIS_URL is not set (followsun serve/up starts an embedded server)")
    catalogs = Catalogs()
    # the file's policy is only the default until the store holds one (then it may be gone)
    lifespan = _lifespan(settings, bootstrap_policy(settings.schedules), catalogs, redis)
    state = {
        "clock": clock or (lambda: datetime.now(UTC)),
        "catalogs": catalogs,
        "secret": settings.secret,
    }
    metrics = PrometheusConfig(app_name="followsun", prefix="followsun", group_path=True)
    app = Litestar(
        route_handlers=ROUTE_HANDLERS,
        on_app_init=[jwt_auth(settings.secret).on_app_init],
        lifespan=[lifespan],
        state=State(state),
        template_config=TemplateConfig(directory=TEMPLATES, engine=JinjaTemplateEngine),
        exception_handlers=HANDLERS,
        middleware=[metrics.middleware, *rate_limits(settings, COOKIE)],
        openapi_config=OpenAPIConfig(title="followsun", version="1", path="/schema"),
        request_max_body_size=settings.max_body_bytes,
        csrf_config=csrf_config(settings),
        before_send=[security_headers],
        debug=False,
    )
    fix_options_allow(app)
    return app


def create() -> Litestar:
    """The app built from the environment (the ASGI server's factory)."""
    return create_app(Settings.from_env())


__all__ = ["MediaType", "create", "create_app"]
