"""The asyncio Redis client every followsun process talks to the store through."""

from __future__ import annotations

import redis
from redis.asyncio import BlockingConnectionPool, Redis

__all__ = ["connect", "connect_sync"]


def connect(url: str, *, max_connections: int = 100, wait: float = 10.0) -> Redis:
    """A client whose callers queue for a free connection once `max_connections` commands
    are in flight. redis-py's default pool raises "Too many connections" there instead, so a
    burst of requests past that many would answer 500 rather than take a moment longer."""
    pool = BlockingConnectionPool.from_url(
        url, max_connections=max_connections, timeout=wait, health_check_interval=30
    )
    return Redis.from_pool(pool)


def connect_sync(url: str) -> redis.Redis:
    """A synchronous client, for RQ (its queues, workers and callbacks are synchronous)."""
    return redis.Redis.from_url(url)
