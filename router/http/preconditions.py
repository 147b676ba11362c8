"""Conditional writes (RFC 9110): versions as ETags, If-Match / If-None-Match as the
version a write was based on. Teams and the policy are edited this one way."""

from __future__ import annotations

from typing import Any

from litestar import Request

from ..domain.errors import PreconditionRequired
from ..store.documents import NEVER

__all__ = ["etag", "expected_version"]


def etag(version: int) -> str:
    return f'"{version}"'


def expected_version(
    request: Request[Any, Any, Any], exists: bool, what: str, *, zero: bool = False
) -> int:
    """The version the client edits: from If-Match, or 0 with If-None-Match: * (create:
    fails as stale when `exists`). `zero`: the ETag "0" names "nothing stored yet" (the
    policy, which answers GET before any is stored); a team's never does. Without either
    header, PreconditionRequired (428)."""
    match = request.headers.get("if-match")
    if match is None:
        if request.headers.get("if-none-match", "").strip() == "*":
            return NEVER if exists else 0  # RFC 9110: * fails when the resource exists
        raise PreconditionRequired(
            f"send If-Match with the ETag of the {what} you edited (If-None-Match: * to create)"
        )
    tag = match.strip().removeprefix("W/").strip('"')
    if not tag.isdigit():
        return NEVER
    version = int(tag)
    return version if version > 0 or zero else NEVER
