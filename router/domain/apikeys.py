"""API keys: what followsun records of each bearer token it issues, and the rules of scope.

A key is the record of one signed token (`followsun token`): its id (the token's `jti`
claim), role, the one team it is limited to, whether it may only read, a label, who issued
it and when, until when it is valid and, once revoked, when and by whom. The token itself
is never recorded: it is shown once, at issue.

    role      team                              read_only
    ops       never (ops act on every team)     may be
    intake    never (the engine picks the team)  may be (then it can only read cases)
    viewer    may be: then it sees that team's cases only
    agent     always: its team's cases only

A read-only key may send only GET and HEAD; anything else is refused (403) before the
handler runs. Revoking a key makes every web process refuse its token at once (401);
tokens without a key id (issued before keys were recorded) are refused too, since nothing
could revoke them short of changing FOLLOWSUN_SECRET.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

from .errors import InputError
from .model import ROLES, Role

__all__ = ["READ_METHODS", "SCOPABLE", "ApiKey", "KeyStatus", "check_scope"]

SCOPABLE: frozenset[str] = frozenset({"agent", "viewer"})  # roles a key may limit to one team
READ_METHODS: frozenset[str] = frozenset({"GET", "HEAD"})  # all a read-only key may send
KeyStatus = Literal["active", "revoked", "expired"]


class ApiKey(msgspec.Struct, frozen=True, kw_only=True):
    """One issued key as recorded (store: router.store.tokens); never the token itself."""

    id: str
    role: Role
    team: str | None = None
    read_only: bool = False
    label: str = ""
    created_at: datetime
    expires_at: datetime
    created_by: str = ""
    revoked_at: datetime | None = None
    revoked_by: str = ""

    def status(self, now: datetime) -> KeyStatus:
        """Revoked wins over expired: the record says what someone did to it."""
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= now else "active"


def check_scope(role: str, team: str | None) -> None:
    """Refuse a key whose role and team do not go together (InputError naming the field)."""
    if role not in ROLES:
        raise InputError("role", f"must be one of {', '.join(ROLES)}")
    if role == "agent" and not team:
        raise InputError("team", "an agent key needs a team")
    if team and role not in SCOPABLE:
        raise InputError(
            "team", f"only {' and '.join(sorted(SCOPABLE))} keys can be limited to a team"
        )
