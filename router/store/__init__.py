"""Redis persistence: the only package that talks to Redis. Key names stay inside it.

`Stores` opens every store of one deployment (one key prefix) on one client.
"""

from __future__ import annotations

from redis.asyncio import Redis

from ..domain.errors import StaleVersion, VersionConflict
from .case_queues import CaseQueues
from .cases import CaseStore, Change, Created, Existing, new_case_id
from .client import connect, connect_sync
from .facts import FactStore
from .keys import Keys
from .marks import HandoverMarks
from .outbox import DeadLetters, OutboxStore
from .policy import PolicyRevision, PolicyStore, StoredPolicy
from .teams import StoredTeam, TeamStore

__all__ = [
    "CaseQueues",
    "CaseStore",
    "Change",
    "Created",
    "DeadLetters",
    "Existing",
    "FactStore",
    "HandoverMarks",
    "Keys",
    "OutboxStore",
    "PolicyRevision",
    "PolicyStore",
    "StaleVersion",
    "StoredPolicy",
    "StoredTeam",
    "Stores",
    "TeamStore",
    "VersionConflict",
    "connect",
    "connect_sync",
    "new_case_id",
]


class Stores:
    """Every store of one deployment on one client."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        keys = Keys(prefix)
        self._redis = redis
        self.cases = CaseStore(redis, keys)
        self.teams = TeamStore(redis, keys)
        self.policy = PolicyStore(redis, keys)
        self.queues = CaseQueues(redis, keys)
        self.marks = HandoverMarks(redis, keys)
        self.outbox = OutboxStore(redis, keys)
        self.facts = FactStore(redis, keys)

    async def ping(self) -> None:
        """Raises unless the store answers."""
        await self._redis.ping()
