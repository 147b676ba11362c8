"""Errors of the domain core, as types so callers can map them without parsing text.

    FollowsunError
    ├── InputError            a value from outside (CLI argument, request field) is wrong
    │   ├── UnknownTimezone
    │   ├── UnknownLanguage
    │   └── BadInstant
    ├── ScheduleError         schedules/ (or a team document) failed validation; carries problems
    └── RoutingError          the engine was asked something it cannot answer (e.g. out of horizon)

Status codes and exit codes live at the edges (`router.api`, `router.cli`), never here.
"""

from __future__ import annotations

from typing import Literal

import msgspec

Severity = Literal["error", "warning"]


class Problem(msgspec.Struct, frozen=True, kw_only=True):
    """One located finding of validation: the file, the field path and what is wrong."""

    source: str
    path: str
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        where = f"{self.source}: {self.path}" if self.path else self.source
        return f"{where}: {self.message}"


class FollowsunError(Exception):
    """Base of every error the project raises on purpose."""


class InputError(FollowsunError, ValueError):
    """A value that came from outside is not acceptable; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.reason = message


class UnknownTimezone(InputError):
    """Not an IANA timezone known to tzdata."""


class UnknownLanguage(InputError):
    """Not a well-formed BCP 47 tag of a language CLDR knows."""


class BadInstant(InputError):
    """Not an ISO 8601 instant we can place on the UTC time line."""


class ScheduleError(FollowsunError):
    """Validation found errors; `problems` lists every one of them, located."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        errors = [p for p in problems if p.severity == "error"]
        super().__init__("\n".join(str(p) for p in errors) or "invalid schedule")


class RoutingError(FollowsunError):
    """A routing or calendar question that cannot be answered as asked."""
