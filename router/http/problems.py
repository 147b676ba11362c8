"""The one place where errors become HTTP: RFC 9457 problem+json naming field and reason."""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec

from ..domain import errors as e
from ..store import UNREACHABLE

MEDIA = "application/problem+json"


def problem(status: int, title: str, detail: str = "", **extra: Any) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return Response(body, status_code=status, media_type=MEDIA)


class FieldProblem(msgspec.Struct):
    field: str
    reason: str


class Problem(msgspec.Struct, kw_only=True):
    """RFC 9457 problem details as every error answer carries them: the schema the OpenAPI
    document gives each documented error (`errors_of`), so clients and the fuzz check them."""

    type: str
    title: str
    status: int
    detail: str | None = None
    field: str | None = None  # the input it is about, if one: "customer.locale", "body"
    reason: str | None = None
    errors: list[FieldProblem] | None = None  # every field at fault, when a form has several
    status_was: str | None = None  # 409 on an illegal transition: the case's status
    current_version: int | None = None  # 412: the version stored now


_WHY = {
    400: "The input is malformed or invalid (`field` names it)",
    401: "No valid bearer token (or signature, for helpdesk webhooks)",
    403: "The caller's role or team may not do this",
    404: "No such resource (or not visible to the caller)",
    409: "The resource's state does not allow this",
    412: "The If-Match version is not the current one",
    413: "The request body is larger than FOLLOWSUN_MAX_BODY_BYTES",
    422: "Well-formed input that cannot be answered or stored",
    428: "If-Match (or If-None-Match: *) is required",
    429: "Over the rate limit; retry after Retry-After seconds",
    503: "The store did not answer; retry after Retry-After seconds",
}


def errors_of(*statuses: int) -> dict[int, ResponseSpec]:
    """An operation's documented error answers as problem+json: those any API request may
    get (400, 401, 403, 429, 503), and the `statuses` particular to it."""
    codes = sorted({400, 401, 403, 429, 503, *statuses})
    return {
        code: ResponseSpec(
            Problem, description=_WHY[code], media_type=MEDIA, generate_examples=False
        )
        for code in codes
    }


_MSGSPEC = re.compile(r"^(?P<msg>.*?)(?: - at `\$\.?(?P<path>[^`]*)`)?$")


def field_of(message: str) -> tuple[str, str]:
    """The body's field a msgspec message names (`ticket.requester.id`), and the reason."""
    m = _MSGSPEC.match(message)
    path, msg = (m.group("path") or "", m.group("msg")) if m else ("", message)
    unknown = re.match(r"Object contains unknown field `(.+)`", msg)
    if unknown:
        return (f"{path}.{unknown.group(1)}" if path else unknown.group(1)), "unknown field"
    missing = re.match(r"Object missing required field `(.+)`", msg)
    if missing:
        return (
            f"{path}.{missing.group(1)}" if path else missing.group(1)
        ), "required field is missing"
    return path, msg


def on_validation(_: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    errors = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        message = str(item.get("message", "")) if isinstance(item, dict) else str(item)
        key = str(item.get("key") or "") if isinstance(item, dict) else ""
        field, reason = field_of(message)
        if key == "data":  # Litestar's name for the body itself
            if not field:  # missing or unreadable
                field, reason = "body", "a JSON object is required"
        elif key and field and not field.startswith(key):
            field = f"{key}.{field}"  # a field named inside the object at `key`
        elif key and not field:
            field = key
        errors.append({"field": field or "body", "reason": reason})
    if not errors:
        field, reason = field_of(str(exc.detail))
        errors.append({"field": field or "body", "reason": reason})
    first = errors[0]
    return problem(
        400,
        "Invalid request",
        f"{first['field']}: {first['reason']}",
        field=first["field"],
        errors=errors,
    )


def on_http(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    extra: dict[str, Any] = {}
    if exc.status_code in (400, 413, 415):  # about the body as a whole
        extra = {"field": "body", "errors": [{"field": "body", "reason": str(exc.detail)}]}
    response = problem(
        exc.status_code, _TITLES.get(exc.status_code, "Error"), str(exc.detail), **extra
    )
    response.headers.update(exc.headers or {})  # 405's Allow, 429's Retry-After
    return response


def _input(exc: e.InputError) -> dict[str, Any]:
    """One field, or every field an error names in `errors` (a form checked as a whole)."""
    each = getattr(exc, "errors", None) or [(exc.field, exc.reason)]
    return {
        "field": exc.field,
        "reason": exc.reason,
        "errors": [{"field": field, "reason": reason} for field, reason in each],
    }


def _schedule(exc: e.ScheduleError) -> dict[str, Any]:
    errors = [
        {"field": p.path or "body", "reason": p.message}
        for p in exc.problems
        if p.severity == "error"
    ]
    return {"field": errors[0]["field"] if errors else "body", "errors": errors}


# Every error of the tree (router.domain.errors) and its answer: status, title, and what
# the body carries beyond the detail. The most specific class in an error's MRO wins.
ANSWERS: dict[type[e.FollowsunError], tuple[int, str, Any]] = {
    e.InputError: (400, "Invalid request", _input),
    e.BadTicket: (422, "Invalid ticket", _input),
    e.ScheduleError: (422, "Invalid schedule", _schedule),
    e.RoutingError: (422, "Cannot answer", None),
    e.NotFound: (404, "Not found", None),
    e.Forbidden: (403, "Forbidden", None),
    e.SignInRequired: (401, "Unauthorized", None),
    e.BadSignature: (401, "Unauthorized", None),
    e.IllegalTransition: (409, "Illegal transition", lambda x: {"status_was": x.status}),
    e.Conflict: (409, "Conflict", None),
    e.StaleVersion: (412, "Precondition failed", lambda x: {"current_version": x.found}),
    e.PreconditionRequired: (428, "Precondition required", None),
    e.BadLink: (404, "Not found", None),
    e.Gone: (410, "Gone", None),
    e.StoreUnavailable: (503, "Unavailable", None),  # NotReplicated: the write may be retried
}


def on_domain(_: Request[Any, Any, Any], exc: e.FollowsunError) -> Response[Any]:
    for cls in type(exc).__mro__:
        if cls in ANSWERS:
            status, title, extra = ANSWERS[cls]
            response = problem(status, title, str(exc), **(extra(exc) if extra else {}))
            if status == 503:
                response.headers["Retry-After"] = "1"
            return response
    return problem(500, "Internal error", type(exc).__name__)


_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type",
    500: "Internal error",
    503: "Unavailable",
}


def on_unreachable(_: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """The store did not answer (a failover under way, a cut network): 503 and Retry-After,
    so a helpdesk or client tries again (intake is idempotent) instead of giving up on a 500."""
    response = problem(503, "Unavailable", f"the store did not answer ({type(exc).__name__})")
    response.headers["Retry-After"] = "1"
    return response


HANDLERS: dict[Any, Any] = {
    ValidationException: on_validation,
    HTTPException: on_http,
    e.FollowsunError: on_domain,
    **dict.fromkeys(UNREACHABLE, on_unreachable),
}
