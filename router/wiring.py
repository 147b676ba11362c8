"""The composition root: one process's services, built once from its settings.

Services take their dependencies explicitly; this is the one place that knows them all,
so the web app, the job functions and the command line wire the same graph.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .domain.model import Policy
from .i18n import Catalogs
from .jobs.planner import Planner
from .jobs.queues import JobQueue
from .services.apikeys import ApiKeyService
from .services.calendar import Calendar
from .services.cases import CaseService
from .services.customers import CustomerService
from .services.deadlines import DeadlineService
from .services.feedback import FeedbackService
from .services.handover import HandoverService
from .services.helpdesks import HelpdeskService
from .services.links import StatusLinks
from .services.mail import EmailChannel
from .services.notify import TeamChannel
from .services.outbox import OutboxService, WebhookChannel
from .services.policy import PolicyService
from .services.postmortems import PostmortemService
from .services.reports import ReportService
from .services.teams import TeamService
from .settings import Settings
from .store import Stores

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["Services"]


class Services:
    """The use cases of one process, over one store client and (optionally) the job queue."""

    def __init__(
        self,
        redis: Redis,
        settings: Settings,
        policy: Policy | None,
        *,
        jobs: JobQueue | None = None,
        catalogs: Catalogs | None = None,
    ) -> None:
        self.stores = stores = Stores(redis, settings.key_prefix, replicas=settings.replicas())
        self.jobs = jobs
        planner = Planner(jobs) if jobs is not None else None
        self.planner = planner
        # `policy` (schedules/policy.toml) is in force only until the store holds one
        self.calendar = Calendar(stores.teams, stores.policy, stores.cases, policy)
        self.cases = CaseService(stores.cases, self.calendar, planner)
        self.helpdesks = HelpdeskService(self.cases, self.calendar, settings.intake_secrets())
        self.teams = TeamService(stores.teams, self.calendar, planner)
        self.policy = PolicyService(stores.policy, stores.teams, self.calendar, planner)
        self.handover = HandoverService(self.cases, stores.queues, stores.marks, planner)
        self.deadlines = DeadlineService(self.cases, stores.queues)
        catalogs = catalogs or Catalogs()
        channels = [WebhookChannel(settings), TeamChannel(self.calendar, catalogs, settings)]
        if settings.smtp_url:  # customer updates by e-mail
            channels.append(EmailChannel(settings))
        self.outbox = OutboxService(
            stores.outbox, stores.cases, catalogs, settings, jobs, channels=channels
        )
        self.links = StatusLinks(settings)
        self.reports = ReportService(stores.facts, self.calendar)
        self.feedback = FeedbackService(stores.cases, self.links)
        self.postmortems = PostmortemService(stores.cases)
        self.customers = CustomerService(stores.customers, stores.cases, self.calendar, jobs)
        self.api_keys = ApiKeyService(stores.api_keys, settings.secret)

    def close(self) -> None:
        if self.jobs is not None:
            self.jobs.close()
