"""Redis persistence: the only package that talks to Redis. Key names stay inside it.

`Stores` opens every store of one deployment (one key prefix) on one client.
"""

from __future__ import annotations

from redis.asyncio import Redis

from ..domain.errors import StaleVersion, VersionConflict
from .case_queues import CaseQueues
from .cases import CaseStore, Change, Created, Existing, new_case_id
from .client import UNREACHABLE, connect, connect_sync
from .customers import CustomerStore
from .facts import Backfill, FactStore
from .keys import Keys
from .marks import HandoverMarks
from .outbox import DeadLetters, OutboxStore
from .policy import PolicyRevision, PolicyStore, StoredPolicy
from .ratelimits import RateLimitStore
from .teams import StoredTeam, TeamStore
from .tokens import ApiKeyStore

__all__ = [
    "UNREACHABLE",
    "ApiKeyStore",
    "Backfill",
    "CaseQueues",
    "CaseStore",
    "Change",
    "Created",
    "CustomerStore",
    "DeadLetters",
    "Existing",
    "FactStore",
    "HandoverMarks",
    "Keys",
    "OutboxStore",
    "PolicyRevision",
    "PolicyStore",
    "RateLimitStore",
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

    def __init__(self, redis: Redis, prefix: str, *, replicas: int = 0) -> None:
        keys = Keys(prefix)
        self._redis = redis
        self.cases = CaseStore(redis, keys, replicas=replicas)
        self.teams = TeamStore(redis, keys)
        self.policy = PolicyStore(redis, keys)
        self.queues = CaseQueues(redis, keys)
        self.marks = HandoverMarks(redis, keys)
        self.outbox = OutboxStore(redis, keys)
        self.facts = FactStore(redis, keys)
        self.customers = CustomerStore(redis, keys)
        self.api_keys = ApiKeyStore(redis, keys)
        self.rate_limits = RateLimitStore(redis, namespace=keys.rate_limits, keys=keys)

    async def ping(self) -> None:
        """Raises unless the store answers."""
        await self._redis.ping()
