"""The one place where errors become HTTP: RFC 9457 problem+json naming field and reason."""

from __future__ import annotations

import re
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from ..domain import errors as e

MEDIA = "application/problem+json"


def problem(status: int, title: str, detail: str = "", **extra: Any) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return Response(body, status_code=status, media_type=MEDIA)


_MSGSPEC = re.compile(r"^(?P<msg>.*?)(?: - at `\$\.?(?P<path>[^`]*)`)?$")


def _field_of(message: str) -> tuple[str, str]:
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
        field, reason = _field_of(message)
        if key == "data":  # Litestar's name for the body itself
            if not field:  # missing or unreadable
                field, reason = "body", "a JSON object is required"
        elif key and field and not field.startswith(key):
            field = f"{key}.{field}"  # a field named inside the object at `key`
        elif key and not field:
            field = key
        errors.append({"field": field or "body", "reason": reason})
    if not errors:
        field, reason = _field_of(str(exc.detail))
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
    return problem(exc.status_code, _TITLES.get(exc.status_code, "Error"), str(exc.detail), **extra)


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
}


def on_domain(_: Request[Any, Any, Any], exc: e.FollowsunError) -> Response[Any]:
    for cls in type(exc).__mro__:
        if cls in ANSWERS:
            status, title, extra = ANSWERS[cls]
            return problem(status, title, str(exc), **(extra(exc) if extra else {}))
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

HANDLERS: dict[Any, Any] = {
    ValidationException: on_validation,
    HTTPException: on_http,
    e.FollowsunError: on_domain,
}
