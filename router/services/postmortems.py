"""P1 post-incident reports: ops write them on the resolved case; the Markdown export
carries the timeline generated from the case's events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ..domain.case import Case
from ..domain.postmortem import markdown, write_postmortem
from ..store import CaseStore

__all__ = ["PostmortemService"]


class PostmortemService:
    def __init__(self, cases: CaseStore) -> None:
        self._cases = cases

    async def write(
        self,
        case: Case,
        *,
        root_cause: str,
        steps: Sequence[str],
        prevention: str,
        now: datetime,
        actor: str,
    ) -> Case:
        """Save the report on the case (VersionConflict if the case moved meanwhile)."""
        new, event = write_postmortem(
            case, root_cause=root_cause, steps=steps, prevention=prevention, now=now, actor=actor
        )
        return await self._cases.commit(case, new, [event])

    async def markdown(self, case: Case) -> str:
        """The report as Markdown, its timeline from the case's events as stored now."""
        return markdown(case, await self._cases.events(case.id))
