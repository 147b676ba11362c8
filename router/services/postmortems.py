"""P1 post-incident reports: ops write them on the resolved case; the Markdown export
carries the timeline generated from the case's events."""

from __future__ import annotations

from datetime import datetime

from ..domain.case import Case
from ..domain.postmortem import Draft, markdown, write_postmortem
from ..store import CaseStore

__all__ = ["PostmortemService"]


class PostmortemService:
    def __init__(self, cases: CaseStore) -> None:
        self._cases = cases

    async def write(self, case: Case, draft: Draft, *, now: datetime, actor: str) -> Case:
        """Save the report on the case (VersionConflict if the case moved meanwhile)."""
        new, event = write_postmortem(case, draft, now=now, actor=actor)
        return await self._cases.commit(case, new, [event])

    async def markdown(self, case: Case) -> str:
        """The report as Markdown, its timeline from the case's events as stored now."""
        return markdown(case, await self._cases.events(case.id))
