"""Customer feedback from the status page: the signed link names the case, the rating is
written once, atomically with its event."""

from __future__ import annotations

from datetime import datetime

from ..domain.case import Case
from ..domain.errors import BadLink, VersionConflict
from ..domain.feedback import give_feedback
from ..store import CaseStore
from .links import StatusLinks

__all__ = ["FeedbackService"]


class FeedbackService:
    def __init__(self, cases: CaseStore, links: StatusLinks) -> None:
        self._cases = cases
        self._links = links

    async def case_of(self, token: str, now: datetime) -> Case:
        """The case a status link grants, or BadLink (also for a case that no longer exists)."""
        case = await self._cases.get(self._links.read(token, now=now))
        if case is None:
            raise BadLink("unknown case")
        return case

    async def give(
        self, case: Case, rating: int | str, comment: str, *, now: datetime, locale: str = ""
    ) -> Case:
        """Store the customer's rating; FeedbackGiven if the case has one (also when another
        submission won the race), IllegalTransition before it is resolved."""
        for _ in range(3):
            new, event = give_feedback(case, rating, comment, now=now, locale=locale)
            try:
                return await self._cases.commit(case, new, [event])
            except VersionConflict:
                fresh = await self._cases.get(case.id)
                assert fresh is not None
                case = fresh  # another step (a close, a second submission): check again
        raise VersionConflict(case.id, case.version, case.version)
