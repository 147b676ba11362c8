"""Every error followsun raises on purpose, in one tree, as types so the edges map them
without parsing text. It lives in the domain because the domain may import nothing else;
the store, services and edges raise these same types.

    FollowsunError
    ├── InputError            a value from outside (CLI argument, request field) is wrong
    │   ├── UnknownTimezone
    │   ├── UnknownLanguage
    │   ├── BadInstant
    │   └── BadTicket           an authentic helpdesk webhook whose body is no ticket we can take
    ├── ScheduleError         schedules/ (or a team document) failed validation; carries problems
    ├── RoutingError          the engine was asked something it cannot answer (e.g. out of horizon)
    ├── NotFound              no such case, team or dead letter
    ├── Forbidden             the caller's role or team may not do this
    ├── SignInRequired        no valid credential (the console sends the browser to sign in)
    ├── BadSignature          a helpdesk's signature, timestamp or shared secret did not verify
    ├── Conflict              someone else was first; nothing was written
    │   ├── IllegalTransition   the case's status does not allow the action
    │   └── VersionConflict     the case changed under the writer
    ├── StaleVersion          the document changed since the version the writer read (If-Match)
    ├── PreconditionRequired  a write that must say which version it edits did not
    ├── BadLink               a status link tampered with, incomplete or expired
    ├── Gone                  a genuine status link whose case's personal data was removed
    ├── StoreUnavailable      the store cannot be used (embedded store held, no answer)
    │   └── NotReplicated       a write no replica confirmed in time (the caller retries)
    ├── CatalogError          a message catalog is missing or does not compile
    └── DeliveryFailed        a receiver did not take a message (RQ retries the job)

Status codes and exit codes live at the edges (`router.http.problems`, `router.cli`).
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


class BadTicket(InputError):
    """A helpdesk's webhook verified but its body is not a ticket we can take: 422, not 400,
    because the helpdesk's request was well-formed and authentic, its content is not."""


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


class NotFound(FollowsunError):
    def __init__(self, what: str, ident: str) -> None:
        super().__init__(f"{what} {ident} does not exist")


class Forbidden(FollowsunError):
    """The caller is known but may not do this."""


class SignInRequired(FollowsunError):
    """No valid credential came with the request."""


class BadSignature(FollowsunError):
    """A signed request (a helpdesk's webhook) did not verify: signature or shared secret
    wrong or missing, timestamp stale, or no secret configured to check it with."""


class Conflict(FollowsunError):
    """Another writer was first; nothing was written."""


class IllegalTransition(Conflict):
    """The case's status does not allow this action."""

    def __init__(self, action: str, status: str) -> None:
        super().__init__(f"cannot {action} a case that is {status}")
        self.action, self.status = action, status


class VersionConflict(Conflict):
    """Someone else changed the case first."""

    def __init__(self, case_id: str, expected: int, found: int) -> None:
        super().__init__(f"case {case_id} is at version {found}, not {expected}")
        self.case_id, self.expected, self.found = case_id, expected, found


class StaleVersion(FollowsunError):
    """The document (a team, the policy) changed since the version the writer read."""

    def __init__(self, what: str, expected: int, found: int) -> None:
        super().__init__(
            f"{what} is at version {found}, not {expected}; fetch it again and reapply your change"
        )
        self.what, self.expected, self.found = what, expected, found


class PreconditionRequired(FollowsunError):
    """A write must say which version it edits (If-Match)."""


class BadLink(FollowsunError):
    """The link was tampered with, is incomplete, or has expired; `locale` says in which
    language to apologise when the link itself still tells (an expired but genuine link)."""

    def __init__(self, reason: str, locale: str | None = None) -> None:
        super().__init__(reason)
        self.locale = locale


class Gone(FollowsunError):
    """The case a genuine status link names has lost its customer's personal data (erased
    on request, or past retention): the link answers 410 for good."""

    def __init__(self, case_id: str) -> None:
        super().__init__(f"the status of case {case_id} is no longer available")


class StoreUnavailable(FollowsunError):
    """The store cannot be used: the data directory's embedded store is held but not
    answering, or (below) a write was not confirmed by the replicas it must reach."""


class NotReplicated(StoreUnavailable):
    """WAIT saw fewer replicas than required take a write before its timeout: the write is
    on the primary, but a failover now could lose it, so it is not acknowledged. Writes
    that can fail this way are idempotent (intake by source and external id), so the
    caller tries again."""

    def __init__(self, wanted: int, acked: int, timeout_ms: int) -> None:
        super().__init__(
            f"the write reached {acked} of {wanted} replica(s) within {timeout_ms} ms; try again"
        )
        self.wanted, self.acked = wanted, acked


class CatalogError(FollowsunError):
    """A catalog is missing or does not compile."""


class DeliveryFailed(FollowsunError):
    """The receiver did not take the message (status or network); RQ retries."""
