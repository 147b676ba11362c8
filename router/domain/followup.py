"""What a case gathers once it is resolved: the customer's feedback and, for a P1, the
post-incident report. Plain shapes only; the transitions that write them are in
`feedback.py` and `postmortem.py` (this module imports nothing of the case, so the case
can hold these without a cycle)."""

from __future__ import annotations

from datetime import datetime

import msgspec

__all__ = ["Feedback", "Postmortem"]


class Feedback(msgspec.Struct, frozen=True, kw_only=True):
    """The customer's rating (1 to 5) and optional comment, given once, on the status page."""

    rating: int
    comment: str = ""
    at: datetime
    locale: str = ""


class Postmortem(msgspec.Struct, frozen=True, kw_only=True):
    """A P1's post-incident report as ops wrote it; `revision` counts the saves."""

    root_cause: str
    steps: list[str]
    prevention: str
    written_by: str
    written_at: datetime
    revision: int = 1
