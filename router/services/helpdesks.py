"""Helpdesk intake: a verified ticket from Zendesk, Freshdesk or Jira Service Management
becomes a case, through the mapping the policy in force gives that helpdesk and the same
idempotent intake as POST /v1/escalations (source = the helpdesk, external id = the
ticket's id: a helpdesk's retry answers the case it already opened)."""

from __future__ import annotations

from datetime import datetime

from ..domain.case import Case
from ..domain.intake import Ticket, escalation_of, mapping_for
from ..domain.model import IntakeSource
from .calendar import Calendar
from .cases import CaseService

__all__ = ["HelpdeskService"]


class HelpdeskService:
    def __init__(self, cases: CaseService, calendar: Calendar, secrets: dict[str, str]) -> None:
        """`secrets`: helpdesk -> the secret its requests are verified with ('' = refuse)."""
        self._cases = cases
        self._calendar = calendar
        self._secrets = dict(secrets)

    def secret(self, source: IntakeSource) -> str:
        return self._secrets.get(source, "")

    async def intake(
        self, source: IntakeSource, ticket: Ticket, now: datetime
    ) -> tuple[Case, bool]:
        """(case, created): the ticket mapped by the policy in force, then taken in."""
        policy = (await self._calendar.schedules(now)).policy
        escalation = escalation_of(source, ticket, mapping_for(policy, source))
        return await self._cases.intake(escalation, now, actor=f"helpdesk:{source}")
