"""The policy in Redis: one document (the matrix, the targets, the flags), versioned and
revisioned like a team (see `documents`); its writes bump the same schedules counter, so
one check tells a process that teams or policy moved."""

from __future__ import annotations

from datetime import datetime

import msgspec
from redis.asyncio import Redis

from ..domain.model import Policy
from .documents import Documents
from .keys import Keys

__all__ = ["PolicyRevision", "PolicyStore", "StoredPolicy"]

_ID = "policy"  # the one document's id (its keys do not depend on it)


class StoredPolicy(msgspec.Struct, frozen=True):
    version: int
    policy: Policy


class PolicyRevision(msgspec.Struct, frozen=True, kw_only=True):
    version: int
    by: str
    at: datetime
    policy: Policy
    note: str = ""


class PolicyStore:
    def __init__(self, redis: Redis, keys: Keys) -> None:
        self._docs = Documents(
            redis,
            Policy,
            key=lambda _: keys.policy,
            revisions=lambda _: keys.policy_revisions,
            counter=keys.schedules_rev,
            what=lambda _: "policy",
        )

    async def get(self) -> StoredPolicy | None:
        """The stored policy with its version; None until one is loaded or PUT."""
        found = await self._docs.get(_ID)
        return StoredPolicy(*found) if found else None

    async def put(
        self, policy: Policy, *, expected: int | None, by: str, at: datetime, note: str = ""
    ) -> int:
        """Write the policy. expected=None: whatever is stored; 0: none may be stored yet;
        N: must be at version N; NEVER: refuse. Returns the new version; raises
        StaleVersion("policy", ...) on a lost race."""
        return await self._docs.put(_ID, policy, expected=expected, by=by, at=at, note=note)

    async def revisions(self) -> list[PolicyRevision]:
        return [
            PolicyRevision(version=e.version, by=e.by, at=e.at, policy=e.doc, note=e.note)
            for e in await self._docs.history(_ID)
            if e.doc is not None  # the policy is never deleted
        ]

    async def revision_counter(self) -> int:
        """The schedules counter: bumped by every team and policy write."""
        return await self._docs.counter()

    async def load(self, policy: Policy, *, by: str, at: datetime) -> bool:
        """Write the policy unless the stored one equals it (schedules load); changed?"""
        stored = await self.get()
        current = {_ID: (stored.version, stored.policy)} if stored else {}
        written = await self._docs.load({_ID: policy}, current, by=by, at=at, note="schedules load")
        return bool(written)
